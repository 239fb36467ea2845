"""Our HTTP API (``/api/v1``) against a running ``dwf serve``: definitions, validate, instances."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from .definitions import BROKEN, DOUBLER, WAITER_V1, WAITER_V2
from .helpers import error_of, submit, wait_for
from .servers import env

pytestmark = pytest.mark.integration


def test_submit_is_validated_versioned_and_idempotent(http: httpx.Client) -> None:
    first = http.post("/api/v1/definitions", content=WAITER_V1, params={"filename": "dir/waiter.yaml"})
    assert first.status_code == 201
    body = first.json()
    assert body["created"] is True and body["warnings"] == []
    definition = body["definition"]
    assert (definition["name"], definition["version"], definition["ref"]) == ("waiter", "1", "waiter@1")
    assert definition["autoVersion"] is True and definition["format"] == "dsl"
    assert definition["filename"] == "waiter.yaml"  # only the last component is kept
    assert definition["hash"].startswith("sha256:") and len(definition["hash"]) == 71
    assert first.headers["location"] == "/api/v1/definitions/waiter@1"
    again = http.post("/api/v1/definitions", content=WAITER_V1, params={"filename": "dir/waiter.yaml"})
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["definition"] == definition
    second = submit(http, WAITER_V2, "waiter.yaml")["definition"]
    assert second["version"] == "2"
    versions = http.get("/api/v1/definitions/waiter/versions").json()["versions"]
    assert [v["version"] for v in versions] == ["1", "2"]
    names = {d["name"]: d for d in http.get("/api/v1/definitions").json()["definitions"]}
    assert names["waiter"]["versions"] == 2 and names["waiter"]["latest"]["version"] == "2"


def test_get_by_name_version_and_hash(http: httpx.Client) -> None:
    submit(http, DOUBLER, "doubler.yaml")
    latest = http.get("/api/v1/definitions/doubler").json()
    assert latest["version"] == "1.0" and latest["autoVersion"] is False
    assert latest["source"] == DOUBLER
    assert latest["graph"]["ir_version"] == 1 and latest["graph"]["name"] == "doubler"
    assert http.get("/api/v1/definitions/doubler@1.0").json() == latest
    assert http.get(f"/api/v1/definitions/{latest['hash']}").json() == latest
    error_of(http.get("/api/v1/definitions/doubler@9"), 404, "ERR_DEFINITION_NOT_FOUND")
    error_of(http.get("/api/v1/definitions/nothing/versions"), 404, "ERR_DEFINITION_NOT_FOUND")


def test_same_version_with_other_content_is_a_conflict(http: httpx.Client) -> None:
    submit(http, DOUBLER, "doubler.yaml")
    changed = DOUBLER.replace("call: double", "call: double\n    timeout: 5s")
    error_of(http.post("/api/v1/definitions", content=changed), 409, "ERR_DEFINITION_VERSION_EXISTS")


def test_invalid_definition_has_the_diagnostics_of_dwf_validate(http: httpx.Client, tmp_path: Path) -> None:
    answer = http.post("/api/v1/definitions", content=BROKEN, params={"filename": "broken.yaml"})
    body = error_of(answer, 422, "ERR_DEFINITION_INVALID")
    file = tmp_path / "broken.yaml"
    file.write_text(BROKEN)
    local = subprocess.run(
        [sys.executable, "-m", "declarative_wf.cli", "validate", "-o", "json", "broken.yaml"],
        cwd=tmp_path, capture_output=True, text=True, env=env(), check=False,
    )  # fmt: skip
    assert local.returncode == 1
    assert body["diagnostics"] == json.loads(local.stdout)
    assert len(body["diagnostics"]) == 2
    validated = http.post("/api/v1/validate", content=BROKEN, params={"filename": "broken.yaml"}).json()
    assert validated == {"valid": False, "diagnostics": body["diagnostics"]}
    assert http.post("/api/v1/validate", content=WAITER_V1).json() == {"valid": True, "diagnostics": []}
    error_of(http.get("/api/v1/definitions/broken"), 404, "ERR_DEFINITION_NOT_FOUND")


def test_submission_errors(http: httpx.Client) -> None:
    error_of(http.post("/api/v1/definitions", content=b"\xff\xfe not utf-8"), 400, "ERR_MALFORMED_REQUEST")
    error_of(http.post("/api/v1/definitions", content=WAITER_V1, params={"name": "bad name"}), 400, "ERR_DEFINITION_NAME_INVALID")
    error_of(http.post("/api/v1/definitions", content=b""), 422, "ERR_DEFINITION_INVALID")


def test_submitted_text_cannot_read_server_files(http: httpx.Client, tmp_path: Path) -> None:
    secret = tmp_path / "child.dwf.yaml"
    secret.write_text("dwf: 1\nname: child\nsteps:\n  - set: secret\n")
    parent = f"dwf: 1\nname: parent\nsteps:\n  - workflow: {secret}\n"
    body = error_of(http.post("/api/v1/definitions", content=parent), 422, "ERR_DEFINITION_INVALID")
    assert "cannot refer to other files" in json.dumps(body["diagnostics"])
    assert "secret" not in json.dumps(body)


def test_compiled_graph_can_be_submitted(http: httpx.Client) -> None:
    graph = http.get("/api/v1/definitions/doubler").json()["graph"]
    answer = http.post("/api/v1/definitions", json=graph)
    assert answer.status_code == 200  # same graph, same hash: already registered
    renamed = http.post("/api/v1/definitions", json=graph, params={"name": "doubler-copy"})
    assert renamed.status_code == 201
    assert renamed.json()["definition"]["format"] == "ir"
    assert renamed.json()["definition"]["name"] == "doubler-copy"


def test_delete_versions_and_names(http: httpx.Client) -> None:
    submit(http, WAITER_V1.replace("name: waiter", "name: deleteme"))
    submit(http, WAITER_V2.replace("name: waiter", "name: deleteme"))
    deleted = http.delete("/api/v1/definitions/deleteme@1").json()["deleted"]
    assert [d["ref"] for d in deleted] == ["deleteme@1"]
    third = submit(http, WAITER_V1.replace("name: waiter", "name: deleteme").replace("v1", "v3"))
    assert third["definition"]["version"] == "3"  # numbers are never reused
    deleted = http.delete("/api/v1/definitions/deleteme").json()["deleted"]
    assert [d["ref"] for d in deleted] == ["deleteme@2", "deleteme@3"]
    error_of(http.delete("/api/v1/definitions/deleteme"), 404, "ERR_DEFINITION_NOT_FOUND")


def test_start_answers_202_with_location_and_retry_after(http: httpx.Client) -> None:
    submit(http, DOUBLER, "doubler.yaml")
    answer = http.post("/api/v1/instances", json={"definition": "doubler", "input": {"n": 4}, "instanceID": "ours-1"})
    assert answer.status_code == 202
    assert answer.headers["location"] == "/api/v1/instances/ours-1"
    assert answer.headers["retry-after"] == "1"
    started = answer.json()
    assert started == {"instanceID": "ours-1", "workflowName": "doubler", "version": "1.0", "hash": started["hash"]}
    done = wait_for(http, "ours-1", {"COMPLETED"})
    assert done["output"] == {"n": 8} and done["input"] == {"n": 4} and done["error"] is None
    status = http.get(answer.headers["location"])
    assert status.status_code == 200 and status.json()["runtimeStatus"] == "COMPLETED"


def test_start_errors(http: httpx.Client) -> None:
    error_of(http.post("/api/v1/instances", json={"input": 1}), 400, "ERR_WORKFLOW_NAME_MISSING")
    error_of(http.post("/api/v1/instances", json={"definition": "doubler", "inptu": 1}), 400, "ERR_MALFORMED_REQUEST")
    error_of(http.post("/api/v1/instances", json=["doubler"]), 400, "ERR_MALFORMED_REQUEST")
    error_of(http.post("/api/v1/instances", json={"definition": 5}), 400, "ERR_MALFORMED_REQUEST")
    error_of(http.post("/api/v1/instances", json={"definition": "doubler", "startAt": "soon"}), 400, "ERR_MALFORMED_REQUEST")
    error_of(http.post("/api/v1/instances", json={"definition": "nope"}), 404, "ERR_DEFINITION_NOT_FOUND")
    error_of(http.post("/api/v1/instances", json={"definition": "doubler", "input": {}}), 400, "ERR_WORKFLOW_INPUT_INVALID")
    error_of(http.post("/api/v1/instances", json={"definition": "doubler", "instanceID": "a b"}), 400, "ERR_INSTANCE_ID_INVALID")


def test_delayed_start_stays_pending(http: httpx.Client) -> None:
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    answer = http.post("/api/v1/instances", json={"definition": "doubler", "input": {"n": 1}, "instanceID": "later", "startAt": later})
    assert answer.status_code == 202
    assert http.get("/api/v1/instances/later").json()["runtimeStatus"] == "PENDING"
    http.post("/api/v1/instances/later/terminate")


def test_list_filters_and_pages(http: httpx.Client) -> None:
    submit(http, WAITER_V1.replace("name: waiter", "name: lister"))
    before = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    for number in range(3):
        http.post("/api/v1/instances", json={"definition": "lister", "instanceID": f"list-{number}"})
    http.post("/api/v1/instances/list-0/events/go", json=1)
    wait_for(http, "list-0", {"COMPLETED"})
    mine = http.get("/api/v1/instances", params={"definition": "lister"}).json()
    assert [i["instanceID"] for i in mine["instances"]] == ["list-0", "list-1", "list-2"]
    assert mine["continuationToken"] is None
    item = mine["instances"][0]
    assert set(item) == {"instanceID", "workflowName", "runtimeStatus", "createdAt", "lastUpdatedAt", "completedAt", "parentInstanceID", "customStatus"}
    running = http.get("/api/v1/instances", params=[("definition", "lister"), ("status", "RUNNING")]).json()["instances"]
    assert [i["instanceID"] for i in running] == ["list-1", "list-2"]
    both = http.get("/api/v1/instances", params={"definition": "lister", "status": "running,completed"}).json()["instances"]
    assert len(both) == 3
    recent = http.get("/api/v1/instances", params={"definition": "lister", "createdFrom": before}).json()["instances"]
    assert len(recent) == 3
    old = http.get("/api/v1/instances", params={"definition": "lister", "createdTo": before}).json()["instances"]
    assert old == []
    page = http.get("/api/v1/instances", params={"definition": "lister", "pageSize": 2}).json()
    assert len(page["instances"]) == 2 and page["continuationToken"]
    rest = http.get("/api/v1/instances", params={"definition": "lister", "pageSize": 2, "continuationToken": page["continuationToken"]}).json()
    assert [i["instanceID"] for i in rest["instances"]] == ["list-2"] and rest["continuationToken"] is None
    error_of(http.get("/api/v1/instances", params={"status": "SLEEPING"}), 400, "ERR_LIST_WORKFLOWS")
    error_of(http.get("/api/v1/instances", params={"pageSize": "0"}), 400, "ERR_LIST_WORKFLOWS")
    error_of(http.get("/api/v1/instances", params={"pageSize": "many"}), 400, "ERR_LIST_WORKFLOWS")
    error_of(http.get("/api/v1/instances", params={"continuationToken": "garbage"}), 400, "ERR_LIST_WORKFLOWS")
    error_of(http.get("/api/v1/instances", params={"createdFrom": "yesterday"}), 400, "ERR_MALFORMED_REQUEST")
    error_of(http.get("/api/v1/instances", params={"definition": "lister@1"}), 400, "ERR_LIST_WORKFLOWS")
    for number in (1, 2):
        http.post(f"/api/v1/instances/list-{number}/terminate")


def test_manage_an_instance(http: httpx.Client) -> None:
    submit(http, WAITER_V1.replace("name: waiter", "name: managed"))
    http.post("/api/v1/instances", json={"definition": "managed", "instanceID": "managed-1", "input": {"a": 1}})
    wait_for(http, "managed-1", {"RUNNING"})
    assert http.post("/api/v1/instances/managed-1/suspend", json={"reason": "maintenance"}).status_code == 202
    assert http.get("/api/v1/instances/managed-1").json()["runtimeStatus"] == "SUSPENDED"
    assert http.post("/api/v1/instances/managed-1/resume").status_code == 202
    assert http.post("/api/v1/instances/managed-1/events/go", json={"ok": 1}).status_code == 202
    assert wait_for(http, "managed-1", {"COMPLETED"})["output"] == {"got": {"ok": 1}, "logic": "v1"}
    events = http.get("/api/v1/instances/managed-1/history").json()["events"]
    kinds = [event["type"] for event in events]
    assert "executionStarted" in kinds and "executionSuspended" in kinds and kinds[-1] == "executionCompleted"
    started = next(event for event in events if event["type"] == "executionStarted")["executionStarted"]
    assert json.loads(started["input"]) == {"a": 1} and started["irHash"].startswith("sha256:")
    error_of(http.post("/api/v1/instances/managed-1/suspend"), 409, "ERR_PAUSE_WORKFLOW")
    error_of(http.post("/api/v1/instances/managed-1/events/go"), 409, "ERR_RAISE_EVENT_WORKFLOW")
    assert http.post("/api/v1/instances/managed-1/purge").status_code == 202
    error_of(http.get("/api/v1/instances/managed-1"), 404, "ERR_INSTANCE_ID_NOT_FOUND")
    error_of(http.get("/api/v1/instances/managed-1/history"), 404, "ERR_INSTANCE_ID_NOT_FOUND")
    error_of(http.post("/api/v1/instances/managed-1/purge"), 404, "ERR_INSTANCE_ID_NOT_FOUND")

    http.post("/api/v1/instances", json={"definition": "managed", "instanceID": "managed-2"})
    wait_for(http, "managed-2", {"RUNNING"})
    assert http.post("/api/v1/instances/managed-2/terminate", json={"output": {"why": "test"}}).status_code == 202
    done = wait_for(http, "managed-2", {"TERMINATED"})
    assert done["output"] == {"why": "test"}
    error_of(http.post("/api/v1/instances/managed-2/terminate", json={"outptu": 1}), 400, "ERR_MALFORMED_REQUEST")
    error_of(http.post("/api/v1/instances/managed-2/resume", json={"reason": 3}), 400, "ERR_MALFORMED_REQUEST")
    for operation in ("suspend", "resume", "terminate", "events/go"):
        error_of(http.post(f"/api/v1/instances/nobody/{operation}"), 404, "ERR_INSTANCE_ID_NOT_FOUND")


def test_openapi_lists_every_route(http: httpx.Client) -> None:
    document = http.get("/openapi.json").json()
    assert document["openapi"].startswith("3.1")
    paths = set(document["paths"])
    for version in ("v1.0", "v1.0-beta1", "v1.0-alpha1"):
        for suffix in ("{name}/start", "{instanceID}", "{instanceID}/terminate", "{instanceID}/raiseEvent/{eventName}",
                       "{instanceID}/pause", "{instanceID}/resume", "{instanceID}/purge"):  # fmt: skip
            assert f"/{version}/workflows/{{component}}/{suffix}" in paths
    for path in ("/api/v1/definitions", "/api/v1/definitions/{ref}", "/api/v1/definitions/{name}/versions", "/api/v1/validate",
                 "/api/v1/instances", "/api/v1/instances/{instanceID}", "/api/v1/instances/{instanceID}/history",
                 "/api/v1/instances/{instanceID}/events/{eventName}"):  # fmt: skip
        assert path in paths
