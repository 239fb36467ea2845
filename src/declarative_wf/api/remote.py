"""A Python client of the HTTP API (what ``dwf submit``, ``dwf definitions`` and
``dwf workflow`` use against ``--server``).

    with ApiClient("http://127.0.0.1:3500") as api:
        api.submit(Path("order.dwf.yaml").read_text(), filename="order.dwf.yaml")
        started = api.start("order", {"id": 7})
        api.wait(started["instanceID"], timeout=60)["output"]

Every refusal raises :class:`ServerError` with the server's ``errorCode`` and message.
"""

from __future__ import annotations

import os
import time
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

DEFAULT_SERVER = "http://127.0.0.1:3500"
#: Statuses after which an instance never changes again.
FINISHED = frozenset({"COMPLETED", "FAILED", "TERMINATED", "CANCELED"})


class ServerError(Exception):
    """The server refused the request (``status`` 0: it could not be reached)."""

    def __init__(self, status: int, code: str, message: str, body: Any = None) -> None:
        super().__init__(f"{code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.body = body


def default_server() -> str:
    return os.environ.get("DWF_SERVER") or DEFAULT_SERVER


def _segment(value: str) -> str:
    return quote(value, safe="@:")


class ApiClient:
    """``ApiClient(url, token=None)``; the token defaults to ``$DAPR_API_TOKEN`` as in Dapr's SDKs."""

    def __init__(self, base_url: str | None = None, token: str | None = None, timeout: float = 30.0) -> None:
        self.base_url = (base_url or default_server()).rstrip("/")
        token = token if token is not None else os.environ.get("DAPR_API_TOKEN")
        headers = {"dapr-api-token": token} if token else {}
        self._http = httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as error:
            raise ServerError(0, "ERR_CONNECTION", f"cannot reach the server at {self.base_url}: {error}") from None
        if response.status_code >= 400:
            try:
                body = response.json()
            except ValueError:
                body = None
            if isinstance(body, dict) and "errorCode" in body:
                raise ServerError(response.status_code, str(body["errorCode"]), str(body.get("message", "")), body)
            raise ServerError(response.status_code, f"HTTP_{response.status_code}", response.text[:500], body)
        return response

    # -- definitions ------------------------------------------------------------------------------

    def submit(self, source: str | bytes, *, filename: str | None = None, name: str | None = None) -> dict[str, Any]:
        params = {key: value for key, value in (("filename", filename), ("name", name)) if value}
        body = source.encode("utf-8") if isinstance(source, str) else source
        result: dict[str, Any] = self.request(
            "POST", "/api/v1/definitions", params=params, content=body, headers={"content-type": "application/yaml"}
        ).json()
        return result

    def validate(self, source: str | bytes, *, filename: str | None = None) -> dict[str, Any]:
        params = {"filename": filename} if filename else {}
        body = source.encode("utf-8") if isinstance(source, str) else source
        result: dict[str, Any] = self.request("POST", "/api/v1/validate", params=params, content=body).json()
        return result

    def definitions(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", "/api/v1/definitions").json()["definitions"]
        return result

    def versions(self, name: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", f"/api/v1/definitions/{_segment(name)}/versions").json()["versions"]
        return result

    def definition(self, ref: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/api/v1/definitions/{_segment(ref)}").json()
        return result

    def delete_definition(self, ref: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("DELETE", f"/api/v1/definitions/{_segment(ref)}").json()["deleted"]
        return result

    # -- instances --------------------------------------------------------------------------------

    def start(
        self, definition: str, input: Any = None, *, instance_id: str | None = None, start_at: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"definition": definition, "input": input}
        if instance_id:
            body["instanceID"] = instance_id
        if start_at:
            body["startAt"] = start_at
        result: dict[str, Any] = self.request("POST", "/api/v1/instances", json=body).json()
        return result

    def get(self, instance_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.request("GET", f"/api/v1/instances/{_segment(instance_id)}").json()
        return result

    def list_instances(
        self,
        *,
        statuses: list[str] | None = None,
        definition: str | None = None,
        created_from: str | None = None,
        created_to: str | None = None,
        page_size: int | None = None,
        continuation_token: str | None = None,
    ) -> dict[str, Any]:
        params: list[tuple[str, str]] = [("status", status) for status in statuses or []]
        for key, value in (
            ("definition", definition),
            ("createdFrom", created_from),
            ("createdTo", created_to),
            ("pageSize", None if page_size is None else str(page_size)),
            ("continuationToken", continuation_token),
        ):
            if value:
                params.append((key, value))
        result: dict[str, Any] = self.request("GET", "/api/v1/instances", params=params).json()
        return result

    def history(self, instance_id: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.request("GET", f"/api/v1/instances/{_segment(instance_id)}/history").json()["events"]
        return result

    def suspend(self, instance_id: str, reason: str | None = None) -> None:
        self.request("POST", f"/api/v1/instances/{_segment(instance_id)}/suspend", json={"reason": reason} if reason else None)

    def resume(self, instance_id: str, reason: str | None = None) -> None:
        self.request("POST", f"/api/v1/instances/{_segment(instance_id)}/resume", json={"reason": reason} if reason else None)

    def terminate(self, instance_id: str, output: Any = None) -> None:
        self.request("POST", f"/api/v1/instances/{_segment(instance_id)}/terminate", json={"output": output} if output is not None else None)

    def purge(self, instance_id: str) -> None:
        self.request("POST", f"/api/v1/instances/{_segment(instance_id)}/purge")

    def raise_event(self, instance_id: str, name: str, data: Any = None) -> None:
        self.request("POST", f"/api/v1/instances/{_segment(instance_id)}/events/{_segment(name)}", json=data)

    def wait(self, instance_id: str, timeout: float | None = None, poll: float = 0.25) -> dict[str, Any]:
        """Polls until the instance finishes; raises TimeoutError after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            instance = self.get(instance_id)
            if instance["runtimeStatus"] in FINISHED:
                return instance
            if deadline is not None and time.monotonic() >= deadline:
                raise TimeoutError(f"instance {instance_id} is still {instance['runtimeStatus']} after {timeout:g} seconds")
            time.sleep(poll if deadline is None else max(0.0, min(poll, deadline - time.monotonic())))
