from __future__ import annotations

import time
from typing import Any

import httpx


def wait_for(http: httpx.Client, instance_id: str, statuses: set[str], timeout: float = 30) -> dict[str, Any]:
    """Polls our instance view until its status is one of ``statuses``."""
    deadline = time.monotonic() + timeout
    while True:
        answer = http.get(f"/api/v1/instances/{instance_id}")
        if answer.status_code == 200 and answer.json()["runtimeStatus"] in statuses:
            return dict(answer.json())
        if time.monotonic() > deadline:
            raise AssertionError(f"{instance_id} did not reach {statuses}: {answer.status_code} {answer.text}")
        time.sleep(0.05)


def submit(http: httpx.Client, text: str, filename: str = "def.yaml", **params: str) -> dict[str, Any]:
    answer = http.post("/api/v1/definitions", content=text, params={"filename": filename, **params})
    assert answer.status_code in (200, 201), answer.text
    return dict(answer.json())


def error_of(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["errorCode"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    return dict(body)
