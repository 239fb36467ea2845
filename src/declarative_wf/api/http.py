"""The HTTP API: Dapr's workflow paths and ours, a thin adapter over :class:`WorkflowService`.

* ``/v1.0/workflows/dapr/…`` (and the ``v1.0-beta1`` / ``v1.0-alpha1`` aliases): Dapr's
  workflow API with Dapr's paths, status codes, JSON field names and ``{"errorCode",
  "message"}`` error bodies. ``{name}`` in ``…/{name}/start`` is a registered definition:
  ``name`` (latest), ``name@version`` or ``sha256:…``.
* ``/api/v1/…``: definitions (submit, list, get, versions, delete), ``validate``, instances
  (start with ``Location`` + ``Retry-After``, filtered paged listing, get, history, suspend,
  resume, terminate, events, purge).

Blocking service calls run in Starlette's thread pool. Security (optional API token, body size
limit) is one ASGI middleware in front of everything; no endpoint reads files or runs commands.
docs/api.md documents every endpoint, and ``/openapi.json`` describes them (``api.openapi``).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import quote

import grpc
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from declarative_wf.diagnostics import to_json as diagnostics_json

from . import errors
from .errors import ServiceError
from .events_http import bus_publisher, event_routes
from .openapi import openapi_document
from .service import WorkflowService

DAPR_VERSIONS = ("v1.0", "v1.0-beta1", "v1.0-alpha1")
DAPR_COMPONENT = "dapr"
TOKEN_HEADER = "dapr-api-token"
#: Paths that never need the token (Dapr exempts its health endpoint the same way).
PUBLIC_PATHS = frozenset({"/v1.0/healthz", "/v1.0/healthz/outbound"})
#: Default largest request body: the engine's payload limit.
DEFAULT_MAX_BODY = 4 * 1024 * 1024
#: Seconds a client should wait before polling a started instance's status URL.
RETRY_AFTER_SECONDS = "1"

Handler = Callable[[Request], Awaitable[Response]]


def error_response(error: ServiceError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.http_status)


def _json_error(status: int, code: str, message: str) -> dict[str, Any]:
    return {"status": status, "body": json.dumps({"errorCode": code, "message": message}).encode()}


class GuardMiddleware:
    """API token (``dapr-api-token`` header → 401) and request body size (→ 413)."""

    def __init__(self, app: ASGIApp, token: str | None, max_body: int) -> None:
        self.app = app
        self.token = token.encode() if token else None
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        if self.token is not None and scope["path"] not in PUBLIC_PATHS:
            given = headers.get(TOKEN_HEADER.encode(), b"")
            if not hmac.compare_digest(given, self.token):
                await _send(send, _json_error(401, errors.UNAUTHORIZED, "authentication error: missing or invalid dapr-api-token header"))
                return
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body:
            await _send(send, _json_error(413, errors.REQUEST_TOO_LARGE, f"the request body is larger than {self.max_body} bytes"))
            return
        received = 0

        async def counted_receive() -> Message:
            # A chunked body without a length: count it. Handlers read the whole body before
            # answering, so the error surfaces in the handler, which answers 413.
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:
                    raise ServiceError(
                        errors.REQUEST_TOO_LARGE, f"the request body is larger than {self.max_body} bytes", 413,
                        grpc.StatusCode.RESOURCE_EXHAUSTED,
                    )
            return message

        await self.app(scope, counted_receive, send)


async def _send(send: Send, answer: dict[str, Any]) -> None:
    body = answer["body"]
    await send(
        {
            "type": "http.response.start",
            "status": answer["status"],
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


# -- request helpers ----------------------------------------------------------------------------


async def _json_body(request: Request, *, empty: Any = None) -> Any:
    raw = await request.body()
    if not raw.strip():
        return empty
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise errors.bad_request(errors.MALFORMED_REQUEST, f"the request body is not JSON: {error}") from None


def _object(value: Any, allowed: set[str]) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise errors.bad_request(errors.MALFORMED_REQUEST, "the request body must be a JSON object")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise errors.bad_request(errors.MALFORMED_REQUEST, f"unknown field {unknown[0]!r}; allowed: {', '.join(sorted(allowed))}")
    return value


def _string(value: Any, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise errors.bad_request(errors.MALFORMED_REQUEST, f"{field!r} must be a string")


def _time(value: str | None, field: str) -> datetime | None:
    if value is None:
        return None
    if not value:
        raise errors.bad_request(errors.MALFORMED_REQUEST, f"{field!r} is empty")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise errors.bad_request(errors.MALFORMED_REQUEST, f"{field!r} is not an RFC 3339 time such as 2026-01-31T12:00:00Z") from None
    if moment.tzinfo is None:
        raise errors.bad_request(errors.MALFORMED_REQUEST, f"{field!r} needs a time zone (Z or +01:00)")
    return moment


def _check_component(request: Request) -> None:
    component = request.path_params.get("component")
    if component != DAPR_COMPONENT:
        raise errors.bad_request(errors.COMPONENT_NOT_FOUND, f"workflow component {component!r} does not exist")
    if request.query_params.get("appID"):
        # Dapr routes the call to another app of the namespace; a server has one app.
        raise errors.bad_request(errors.APP_ID_INVALID, "appID is not supported: this server runs one app's workflows")


def _accepted(body: Any = None, headers: dict[str, str] | None = None) -> Response:
    if body is None:
        return Response(status_code=202, headers=headers)
    return JSONResponse(body, status_code=202, headers=headers)


#: Query parameters each handler reads; any other is refused (a typo such as ``?stauts=``
#: must not silently list everything). Dapr's paths also take ``appID`` (refused when set).
QUERY_PARAMETERS: dict[str, frozenset[str]] = {
    "dapr_start": frozenset({"instanceID", "appID"}),
    "submit": frozenset({"filename", "name"}),
    "validate": frozenset({"filename"}),
    "list_instances": frozenset({"status", "definition", "createdFrom", "createdTo", "pageSize", "continuationToken"}),
}


def _check_query(request: Request, allowed: frozenset[str]) -> None:
    unknown = sorted(set(request.query_params.keys()) - allowed)
    if unknown:
        hint = f"; allowed: {', '.join(sorted(allowed))}" if allowed else ""
        raise errors.bad_request(errors.MALFORMED_REQUEST, f"unknown query parameter {unknown[0]!r}{hint}")


def _guarded(handler: Handler) -> Handler:
    name = getattr(handler, "__name__", "")
    allowed = QUERY_PARAMETERS.get(name, frozenset({"appID"}) if name.startswith("dapr_") else frozenset())

    async def run(request: Request) -> Response:
        try:
            _check_query(request, allowed)
            return await handler(request)
        except ServiceError as error:
            return error_response(error)

    return run


def _by_method(**handlers: Handler) -> Handler:
    """One route per path, so a 405 lists every method of the path in ``Allow``."""
    guarded = {method: _guarded(handler) for method, handler in handlers.items()}
    if "GET" in guarded:
        guarded["HEAD"] = guarded["GET"]

    async def run(request: Request) -> Response:
        return await guarded[request.method](request)

    return run


class HttpApi:
    """The routes, bound to one service."""

    def __init__(self, service: WorkflowService) -> None:
        self.service = service

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Awaitable[Any]:
        return run_in_threadpool(fn, *args, **kwargs)

    # -- Dapr ---------------------------------------------------------------------------------------

    async def dapr_start(self, request: Request) -> Response:
        _check_component(request)
        value = await _json_body(request)
        instance_id = request.query_params.get("instanceID") or None
        started = await self._call(self.service.start, request.path_params["name"], value, instance_id=instance_id)
        version = request.url.path.split("/")[1]
        location = f"/{version}/workflows/{DAPR_COMPONENT}/{quote(started.instance_id, safe='')}"
        return _accepted({"instanceID": started.instance_id}, {"Location": location, "Retry-After": RETRY_AFTER_SECONDS})

    async def dapr_get(self, request: Request) -> Response:
        _check_component(request)
        view = await self._call(self.service.get, request.path_params["instance_id"])
        return JSONResponse(view.dapr_json())

    async def dapr_terminate(self, request: Request) -> Response:
        _check_component(request)
        await self._call(self.service.terminate, request.path_params["instance_id"])
        return _accepted()

    async def dapr_raise_event(self, request: Request) -> Response:
        _check_component(request)
        data = await _json_body(request)
        await self._call(self.service.raise_event, request.path_params["instance_id"], request.path_params.get("event_name"), data)
        return _accepted()

    async def dapr_pause(self, request: Request) -> Response:
        _check_component(request)
        await self._call(self.service.suspend, request.path_params["instance_id"])
        return _accepted()

    async def dapr_resume(self, request: Request) -> Response:
        _check_component(request)
        await self._call(self.service.resume, request.path_params["instance_id"])
        return _accepted()

    async def dapr_purge(self, request: Request) -> Response:
        _check_component(request)
        await self._call(self.service.purge, request.path_params["instance_id"])
        return _accepted()

    # -- definitions --------------------------------------------------------------------------------

    async def submit(self, request: Request) -> Response:
        source = await request.body()
        submitted = await self._call(
            self.service.submit, source, request.query_params.get("filename"), request.query_params.get("name") or None
        )
        body = {
            "definition": submitted.definition.to_json(),
            "created": submitted.created,
            "warnings": diagnostics_json(submitted.warnings),
        }
        location = f"/api/v1/definitions/{quote(submitted.definition.ref, safe='@')}"
        return JSONResponse(body, status_code=201 if submitted.created else 200, headers={"Location": location})

    async def validate(self, request: Request) -> Response:
        found = await self._call(self.service.validate, await request.body(), request.query_params.get("filename"))
        return JSONResponse({"valid": not any(d.is_error for d in found), "diagnostics": diagnostics_json(found)})

    async def definitions(self, request: Request) -> Response:
        names = await self._call(self.service.definitions)
        return JSONResponse({"definitions": [item.to_json() for item in names]})

    async def definition(self, request: Request) -> Response:
        record = await self._call(self.service.definition, request.path_params["ref"])
        return JSONResponse(record.to_json(full=True))

    async def versions(self, request: Request) -> Response:
        records = await self._call(self.service.versions, request.path_params["name"])
        return JSONResponse({"versions": [record.to_json() for record in records]})

    async def delete_definition(self, request: Request) -> Response:
        records = await self._call(self.service.delete_definition, request.path_params["ref"])
        return JSONResponse({"deleted": [record.to_json() for record in records]})

    # -- instances ----------------------------------------------------------------------------------

    async def start(self, request: Request) -> Response:
        body = _object(await _json_body(request, empty={}), {"definition", "input", "instanceID", "startAt"})
        started = await self._call(
            self.service.start,
            _string(body.get("definition"), "definition"),
            body.get("input"),
            instance_id=_string(body.get("instanceID"), "instanceID") or None,
            start_at=_time(_string(body.get("startAt"), "startAt"), "startAt"),
        )
        location = f"/api/v1/instances/{quote(started.instance_id, safe='')}"
        return _accepted(started.to_json(), {"Location": location, "Retry-After": RETRY_AFTER_SECONDS})

    async def list_instances(self, request: Request) -> Response:
        query = request.query_params
        size = query.get("pageSize")
        if size is not None and not (size.isdigit() and len(size) < 10):
            raise errors.bad_request(errors.LIST, f"pageSize {size!r} is not a positive integer")
        for field in ("createdFrom", "createdTo"):
            if field in query:
                _time(query[field], field)
        page = await self._call(
            self.service.list_instances,
            statuses=[part for value in query.getlist("status") for part in value.split(",")],
            definition=query.get("definition") or None,
            created_from=query.get("createdFrom") or None,
            created_to=query.get("createdTo") or None,
            page_size=None if size is None else int(size),
            continuation_token=query.get("continuationToken") or None,
        )
        return JSONResponse(page.to_json())

    async def get_instance(self, request: Request) -> Response:
        view = await self._call(self.service.get, request.path_params["instance_id"])
        return JSONResponse(view.to_json())

    async def history(self, request: Request) -> Response:
        events = await self._call(self.service.history, request.path_params["instance_id"])
        return JSONResponse({"events": events})

    async def suspend(self, request: Request) -> Response:
        body = _object(await _json_body(request), {"reason"})
        await self._call(self.service.suspend, request.path_params["instance_id"], _string(body.get("reason"), "reason"))
        return _accepted()

    async def resume(self, request: Request) -> Response:
        body = _object(await _json_body(request), {"reason"})
        await self._call(self.service.resume, request.path_params["instance_id"], _string(body.get("reason"), "reason"))
        return _accepted()

    async def terminate(self, request: Request) -> Response:
        body = _object(await _json_body(request), {"output"})
        await self._call(self.service.terminate, request.path_params["instance_id"], body.get("output"))
        return _accepted()

    async def purge(self, request: Request) -> Response:
        await self._call(self.service.purge, request.path_params["instance_id"])
        return _accepted()

    async def raise_event(self, request: Request) -> Response:
        data = await _json_body(request)
        await self._call(self.service.raise_event, request.path_params["instance_id"], request.path_params.get("event_name"), data)
        return _accepted()

    # -- task token callbacks (ASL .waitForTaskToken) ----------------------------------------------

    async def task_success(self, request: Request) -> Response:
        body = _object(await _json_body(request, empty={}), {"taskToken", "output"})
        await self._call(self.service.send_task_success, body.get("taskToken"), body.get("output"))
        return JSONResponse({})

    async def task_failure(self, request: Request) -> Response:
        body = _object(await _json_body(request, empty={}), {"taskToken", "error", "cause"})
        await self._call(
            self.service.send_task_failure, body.get("taskToken"), _string(body.get("error"), "error"), _string(body.get("cause"), "cause")
        )
        return JSONResponse({})

    async def task_heartbeat(self, request: Request) -> Response:
        body = _object(await _json_body(request, empty={}), {"taskToken"})
        await self._call(self.service.send_task_heartbeat, body.get("taskToken"))
        return JSONResponse({})

    # -- routes -------------------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        routes: list[Route] = []
        for version in DAPR_VERSIONS:
            base = f"/{version}/workflows/{{component}}"
            routes += [
                Route(f"{base}/{{name}}/start", _guarded(self.dapr_start), methods=["POST"]),
                Route(f"{base}/{{instance_id}}", _guarded(self.dapr_get), methods=["GET"]),
                Route(f"{base}/{{instance_id}}/terminate", _guarded(self.dapr_terminate), methods=["POST"]),
                Route(f"{base}/{{instance_id}}/raiseEvent/{{event_name}}", _guarded(self.dapr_raise_event), methods=["POST"]),
                Route(f"{base}/{{instance_id}}/raiseEvent", _guarded(self.dapr_raise_event), methods=["POST"]),
                Route(f"{base}/{{instance_id}}/raiseEvent/", _guarded(self.dapr_raise_event), methods=["POST"]),
                Route(f"{base}/{{instance_id}}/pause", _guarded(self.dapr_pause), methods=["POST"]),
                Route(f"{base}/{{instance_id}}/resume", _guarded(self.dapr_resume), methods=["POST"]),
                Route(f"{base}/{{instance_id}}/purge", _guarded(self.dapr_purge), methods=["POST"]),
            ]
        api = "/api/v1"
        routes += [
            Route(f"{api}/definitions", _by_method(POST=self.submit, GET=self.definitions), methods=["GET", "POST"]),
            Route(f"{api}/definitions/{{name}}/versions", _guarded(self.versions), methods=["GET"]),
            Route(f"{api}/definitions/{{ref}}", _by_method(GET=self.definition, DELETE=self.delete_definition), methods=["GET", "DELETE"]),
            Route(f"{api}/validate", _guarded(self.validate), methods=["POST"]),
            Route(f"{api}/instances", _by_method(POST=self.start, GET=self.list_instances), methods=["GET", "POST"]),
            Route(f"{api}/instances/{{instance_id}}", _guarded(self.get_instance), methods=["GET"]),
            Route(f"{api}/instances/{{instance_id}}/history", _guarded(self.history), methods=["GET"]),
            Route(f"{api}/instances/{{instance_id}}/suspend", _guarded(self.suspend), methods=["POST"]),
            Route(f"{api}/instances/{{instance_id}}/resume", _guarded(self.resume), methods=["POST"]),
            Route(f"{api}/instances/{{instance_id}}/terminate", _guarded(self.terminate), methods=["POST"]),
            Route(f"{api}/instances/{{instance_id}}/purge", _guarded(self.purge), methods=["POST"]),
            Route(f"{api}/instances/{{instance_id}}/events/{{event_name}}", _guarded(self.raise_event), methods=["POST"]),
            Route(f"{api}/tasks/success", _guarded(self.task_success), methods=["POST"]),
            Route(f"{api}/tasks/failure", _guarded(self.task_failure), methods=["POST"]),
            Route(f"{api}/tasks/heartbeat", _guarded(self.task_heartbeat), methods=["POST"]),
        ]
        return routes


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    if error.status_code == 405:
        return JSONResponse({"errorCode": errors.METHOD_NOT_ALLOWED, "message": f"{request.method} is not allowed here"}, status_code=405, headers=error.headers)
    return JSONResponse({"errorCode": errors.NOT_FOUND, "message": f"no endpoint {request.url.path}"}, status_code=error.status_code)


async def _unexpected(request: Request, error: Exception) -> Response:
    # A bug: still Dapr's error shape, without internals in the body.
    import logging

    logging.getLogger("declarative_wf.api").exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse({"errorCode": "ERR_INTERNAL", "message": f"internal error ({type(error).__name__})"}, status_code=500)


def create_app(service: WorkflowService, *, api_token: str | None = None, max_body: int = DEFAULT_MAX_BODY) -> ASGIApp:
    """The ASGI application (serve it with uvicorn)."""
    api = HttpApi(service)
    document = openapi_document()

    async def openapi(request: Request) -> Response:
        return JSONResponse(document)

    async def healthz(request: Request) -> Response:
        return Response(status_code=204)

    routes = [
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/v1.0/healthz", healthz, methods=["GET"]),
        # Dapr's SDK clients (DaprClient) wait for this one before their first call.
        Route("/v1.0/healthz/outbound", healthz, methods=["GET"]),
        *api.routes(),
        # POST /events: the CloudEvents endpoint of the engine's event bus (docs/events.md).
        *event_routes(bus_publisher(service.engine_address)),
    ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_error, Exception: _unexpected})
    app.router.redirect_slashes = False  # Dapr answers /x/ itself; a redirect would surprise clients
    return GuardMiddleware(app, api_token, max_body)
