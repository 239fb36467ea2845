"""Dapr's workflow HTTP API against a running ``dwf serve``: paths, status codes, fields, errors."""

from __future__ import annotations

import json

import httpx
import pytest

from .definitions import DOUBLER, FAILER, WAITER_V1
from .helpers import error_of, submit, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", autouse=True)
def definitions(http: httpx.Client) -> None:
    submit(http, WAITER_V1, "waiter.yaml")
    submit(http, DOUBLER, "doubler.yaml")
    submit(http, FAILER, "failer.yaml")


@pytest.mark.parametrize("version", ["v1.0", "v1.0-beta1", "v1.0-alpha1"])
def test_start_and_get_on_every_version(http: httpx.Client, version: str) -> None:
    instance = f"dapr-start-{version.replace('.', '')}"
    answer = http.post(f"/{version}/workflows/dapr/doubler/start", params={"instanceID": instance}, content=b'{"n": 21}')
    assert answer.status_code == 202
    assert answer.json() == {"instanceID": instance}
    assert answer.headers["location"] == f"/{version}/workflows/dapr/{instance}"
    assert answer.headers["retry-after"] == "1"
    wait_for(http, instance, {"COMPLETED"})
    state = http.get(f"/{version}/workflows/dapr/{instance}")
    assert state.status_code == 200
    body = state.json()
    assert set(body) == {"instanceID", "workflowName", "createdAt", "lastUpdatedAt", "runtimeStatus", "properties"}
    assert body["instanceID"] == instance
    assert body["workflowName"] == "doubler"
    assert body["runtimeStatus"] == "COMPLETED"
    assert body["createdAt"].endswith("Z") and body["lastUpdatedAt"] >= body["createdAt"]
    assert json.loads(body["properties"]["dapr.workflow.input"]) == {"n": 21}
    assert json.loads(body["properties"]["dapr.workflow.output"]) == {"n": 42}
    assert not any(key.startswith("dapr.workflow.failure") for key in body["properties"])


def test_start_without_instance_id_makes_a_uuid(http: httpx.Client) -> None:
    answer = http.post("/v1.0/workflows/dapr/doubler/start", json={"n": 1})
    assert answer.status_code == 202
    instance = answer.json()["instanceID"]
    assert len(instance) == 36 and instance.count("-") == 4
    assert wait_for(http, instance, {"COMPLETED"})["output"] == {"n": 2}


def test_start_by_version_and_by_hash(http: httpx.Client) -> None:
    digest = http.get("/api/v1/definitions/doubler").json()["hash"]
    for ref, instance in (("doubler@1.0", "by-version"), (digest, "by-hash")):
        answer = http.post(f"/v1.0/workflows/dapr/{ref}/start", params={"instanceID": instance}, json={"n": 2})
        assert answer.status_code == 202, answer.text
        done = wait_for(http, instance, {"COMPLETED"})
        assert (done["workflowName"], done["version"], done["hash"]) == ("doubler", "1.0", digest)


def test_failure_properties(http: httpx.Client) -> None:
    assert http.post("/v1.0/workflows/dapr/failer/start", params={"instanceID": "fails"}).status_code == 202
    wait_for(http, "fails", {"FAILED"})
    body = http.get("/v1.0/workflows/dapr/fails").json()
    assert body["runtimeStatus"] == "FAILED"
    properties = body["properties"]
    assert properties["dapr.workflow.failure.error_type"] == "OutOfStock"
    assert properties["dapr.workflow.failure.error_message"] == "no stock"
    assert "dapr.workflow.output" not in properties
    ours = http.get("/api/v1/instances/fails").json()
    assert ours["error"] == {"type": "OutOfStock", "message": "no stock"}


def test_raise_event_pause_resume_terminate_purge(http: httpx.Client) -> None:
    base = "/v1.0/workflows/dapr"
    assert http.post(f"{base}/waiter/start", params={"instanceID": "ops-1"}, json={"x": 1}).status_code == 202
    wait_for(http, "ops-1", {"RUNNING"})
    assert http.post(f"{base}/ops-1/pause").status_code == 202
    assert http.get(f"{base}/ops-1").json()["runtimeStatus"] == "SUSPENDED"
    assert http.post(f"{base}/ops-1/resume").status_code == 202
    assert http.get(f"{base}/ops-1").json()["runtimeStatus"] == "RUNNING"
    answer = http.post(f"{base}/ops-1/raiseEvent/go", json={"approved": True})
    assert answer.status_code == 202 and answer.content == b""
    done = wait_for(http, "ops-1", {"COMPLETED"})
    assert done["output"] == {"got": {"approved": True}, "logic": "v1"}
    assert http.post(f"{base}/ops-1/purge").status_code == 202
    error_of(http.get(f"{base}/ops-1"), 404, "ERR_INSTANCE_ID_NOT_FOUND")

    assert http.post(f"{base}/waiter/start", params={"instanceID": "ops-2"}).status_code == 202
    wait_for(http, "ops-2", {"RUNNING"})
    assert http.post(f"{base}/ops-2/terminate").status_code == 202
    assert wait_for(http, "ops-2", {"TERMINATED"})["runtimeStatus"] == "TERMINATED"
    assert http.post(f"{base}/ops-2/terminate").status_code == 202  # a finished instance: no-op


def test_errors(http: httpx.Client) -> None:
    base = "/v1.0/workflows/dapr"
    error_of(http.get(f"{base}/no-such-instance"), 404, "ERR_INSTANCE_ID_NOT_FOUND")
    error_of(http.post(f"{base}/waiter/start", params={"instanceID": "has.dot"}), 400, "ERR_INSTANCE_ID_INVALID")
    error_of(http.post(f"{base}/waiter/start", params={"instanceID": "x" * 65}), 400, "ERR_INSTANCE_ID_TOO_LONG")
    error_of(http.post(f"{base}/no-such-definition/start"), 404, "ERR_DEFINITION_NOT_FOUND")
    error_of(http.post(f"{base}/waiter/start", content=b"{not json"), 400, "ERR_MALFORMED_REQUEST")
    error_of(http.post("/v1.0/workflows/other/waiter/start"), 400, "ERR_WORKFLOW_COMPONENT_NOT_FOUND")
    error_of(http.get("/v1.0/workflows/other/some-id"), 400, "ERR_WORKFLOW_COMPONENT_NOT_FOUND")
    error_of(http.get(f"{base}/some-id", params={"appID": "other-app"}), 400, "ERR_WORKFLOW_APP_ID_INVALID")
    error_of(http.post(f"{base}/waiter/start", params={"instanceId": "wrong-case"}), 400, "ERR_MALFORMED_REQUEST")
    error_of(http.post(f"{base}/doubler/start", json={"n": "two"}), 400, "ERR_WORKFLOW_INPUT_INVALID")
    # Dapr's rule counts bytes of letters and digits in any script, like Go's unicode package.
    assert http.post(f"{base}/waiter/start", params={"instanceID": "çé_日本-1"}).status_code == 202
    error_of(http.post(f"{base}/waiter/start", params={"instanceID": "é" * 33}), 400, "ERR_INSTANCE_ID_TOO_LONG")
    # A running id cannot be started again: Dapr answers 500 ERR_START_WORKFLOW, we 409.
    error_of(http.post(f"{base}/waiter/start", params={"instanceID": "çé_日本-1"}), 409, "ERR_START_WORKFLOW")
    for operation in ("terminate", "pause", "resume", "purge", "raiseEvent/go"):
        error_of(http.post(f"{base}/no-such-instance/{operation}"), 404, "ERR_INSTANCE_ID_NOT_FOUND")
    error_of(http.post(f"{base}/çé_日本-1/raiseEvent"), 400, "ERR_WORKFLOW_EVENT_NAME_MISSING")
    error_of(http.post(f"{base}/çé_日本-1/raiseEvent/"), 400, "ERR_WORKFLOW_EVENT_NAME_MISSING")
    error_of(http.post(f"{base}/çé_日本-1/purge"), 409, "ERR_PURGE_WORKFLOW")
    http.post(f"{base}/çé_日本-1/terminate")
    wait_for(http, "çé_日本-1", {"TERMINATED"})
    error_of(http.post(f"{base}/çé_日本-1/raiseEvent/go"), 409, "ERR_RAISE_EVENT_WORKFLOW")
    error_of(http.post(f"{base}/çé_日本-1/pause"), 409, "ERR_PAUSE_WORKFLOW")


def test_unknown_routes_and_methods_answer_dapr_errors(http: httpx.Client) -> None:
    error_of(http.get("/v1.0/nothing-here"), 404, "ERR_NOT_FOUND")
    error_of(http.delete("/v1.0/workflows/dapr/x"), 405, "ERR_METHOD_NOT_ALLOWED")


def test_health(http: httpx.Client) -> None:
    assert http.get("/v1.0/healthz").status_code == 204
    assert http.get("/v1.0/healthz/outbound").status_code == 204
