"""Task token callbacks against a running ``dwf serve``: over HTTP (``/api/v1/tasks/…``), over
gRPC (``declarative_wf.api.v1.TaskCallbacks``) and with ``dwf task``, each completing a real
``.waitForTaskToken`` task; refusals carry our error codes and AWS's error names."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from declarative_wf.api.protos import definitions_pb2 as dpb
from declarative_wf.api.protos import definitions_pb2_grpc as dpb_grpc
from declarative_wf.cli import main
from declarative_wf.task_tokens import encode

from .helpers import submit, wait_for
from .servers import HERE, Served, start_serve

pytestmark = pytest.mark.integration

MACHINE = {
    "StartAt": "Approve",
    "States": {
        "Approve": {
            "Type": "Task",
            "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
            "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token", "order.$": "$.order"}},
            "HeartbeatSeconds": 30,
            "Catch": [{"ErrorEquals": ["Rejected"], "ResultPath": "$.rejected", "Next": "Rejected"}],
            "End": True,
        },
        "Rejected": {"Type": "Pass", "End": True},
    },
}


@pytest.fixture(scope="module")
def tokens_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tokens") / "tokens.jsonl"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, tokens_file: Path) -> Iterator[Served]:
    directory = tmp_path_factory.mktemp("serve-tokens")
    server = start_serve(
        directory / "state.db", "--activities", str(HERE / "token_activities.py"), extra_env={"DWF_TEST_TOKENS": str(tokens_file)}
    )
    try:
        yield server
    finally:
        server.terminate()


@pytest.fixture(scope="module")
def http(served: Served) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=served.url, timeout=30) as client:
        submit(client, json.dumps(MACHINE), filename="approval.asl.json", name="approval")
        yield client


def start(http: httpx.Client, instance_id: str, order: int) -> None:
    answer = http.post("/api/v1/instances", json={"definition": "approval", "input": {"order": order}, "instanceID": instance_id})
    assert answer.status_code == 202, answer.text


def token_for(tokens_file: Path, order: int, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tokens_file.exists():
            for line in tokens_file.read_text().splitlines():
                entry: dict[str, Any] = json.loads(line)
                if entry["order"] == order:
                    return str(entry["token"])
        time.sleep(0.05)
    raise AssertionError(f"no token for order {order}")


def test_http_success_failure_and_heartbeat(http: httpx.Client, tokens_file: Path) -> None:
    start(http, "http-ok", 1)
    token = token_for(tokens_file, 1)
    assert wait_for(http, "http-ok", {"RUNNING"})
    assert http.post("/api/v1/tasks/heartbeat", json={"taskToken": token}).json() == {}
    answer = http.post("/api/v1/tasks/success", json={"taskToken": token, "output": {"approved": True}})
    assert answer.status_code == 200 and answer.json() == {}
    assert wait_for(http, "http-ok", {"COMPLETED"})["output"] == {"approved": True}
    # The task has ended: every further callback is refused with 409 (AWS: TaskTimedOut).
    late = http.post("/api/v1/tasks/success", json={"taskToken": token, "output": 1})
    assert late.status_code == 409
    assert late.json()["errorCode"] == "ERR_TASK_TIMED_OUT" and late.json()["awsError"] == "TaskTimedOut"

    start(http, "http-no", 2)
    token = token_for(tokens_file, 2)
    answer = http.post("/api/v1/tasks/failure", json={"taskToken": token, "error": "Rejected", "cause": "too expensive"})
    assert answer.status_code == 200, answer.text
    done = wait_for(http, "http-no", {"COMPLETED"})
    assert done["output"] == {"order": 2, "rejected": {"Error": "Rejected", "Cause": "too expensive"}}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"taskToken": "nonsense"}, 400, "ERR_TASK_TOKEN_INVALID"),
        ({}, 400, "ERR_TASK_TOKEN_INVALID"),
        ({"taskToken": encode("no-such-instance", "a" * 32)}, 404, "ERR_TASK_DOES_NOT_EXIST"),
        ({"taskToken": "x", "extra": 1}, 400, "ERR_MALFORMED_REQUEST"),
    ],
)
def test_http_refusals(http: httpx.Client, body: dict[str, Any], status: int, code: str) -> None:
    answer = http.post("/api/v1/tasks/success", json=body)
    assert answer.status_code == status, answer.text
    assert answer.json()["errorCode"] == code


def test_http_refuses_a_token_its_instance_never_issued(http: httpx.Client, tokens_file: Path) -> None:
    start(http, "http-forged", 3)
    token_for(tokens_file, 3)
    forged = encode("http-forged", "b" * 32)
    answer = http.post("/api/v1/tasks/failure", json={"taskToken": forged, "error": "X"})
    assert answer.status_code == 400 and answer.json()["awsError"] == "InvalidToken"
    bad_error = http.post("/api/v1/tasks/failure", json={"taskToken": forged, "error": 5})
    assert bad_error.status_code == 400 and bad_error.json()["errorCode"] == "ERR_MALFORMED_REQUEST"
    http.post("/api/v1/instances/http-forged/terminate", json={})


def test_grpc_callbacks(served: Served, http: httpx.Client, tokens_file: Path) -> None:
    start(http, "grpc-ok", 4)
    token = token_for(tokens_file, 4)
    with grpc.insecure_channel(served.grpc) as channel:
        stub = dpb_grpc.TaskCallbacksStub(channel)  # type: ignore[no-untyped-call]
        stub.SendTaskHeartbeat(dpb.TaskHeartbeatRequest(task_token=token))
        stub.SendTaskSuccess(dpb.TaskSuccessRequest(task_token=token, output_json='{"via": "grpc"}'))
        assert wait_for(http, "grpc-ok", {"COMPLETED"})["output"] == {"via": "grpc"}
        with pytest.raises(grpc.RpcError) as refused:
            stub.SendTaskFailure(dpb.TaskFailureRequest(task_token=token, error="Late"))
        assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        with pytest.raises(grpc.RpcError) as refused:
            stub.SendTaskSuccess(dpb.TaskSuccessRequest(task_token="nonsense"))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        start(http, "grpc-bad-output", 5)
        token = token_for(tokens_file, 5)
        with pytest.raises(grpc.RpcError) as refused:
            stub.SendTaskSuccess(dpb.TaskSuccessRequest(task_token=token, output_json="{not json"))
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        stub.SendTaskFailure(dpb.TaskFailureRequest(task_token=token, error="Rejected"))
        assert wait_for(http, "grpc-bad-output", {"COMPLETED"})["output"]["rejected"] == {"Error": "Rejected", "Cause": ""}


def test_dwf_task_command(served: Served, http: httpx.Client, tokens_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    start(http, "cli-ok", 6)
    token = token_for(tokens_file, 6)
    assert main(["task", "heartbeat", token, "--server", served.url, "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"operation": "heartbeat", "delivered": True}
    assert main(["task", "success", token, "--result", '{"via": "cli"}', "--server", served.url, "-o", "json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"operation": "success", "delivered": True}
    assert wait_for(http, "cli-ok", {"COMPLETED"})["output"] == {"via": "cli"}
    assert main(["task", "failure", token, "--error", "Late", "--server", served.url]) == 1
    assert "ERR_TASK_TIMED_OUT (409)" in capsys.readouterr().err
    assert main(["task", "success", token, "--result", "{oops", "--server", served.url]) == 2
    assert "--result is not valid JSON" in capsys.readouterr().err


def test_openapi_documents_the_callbacks(http: httpx.Client) -> None:
    paths = http.get("/openapi.json").json()["paths"]
    for action in ("success", "failure", "heartbeat"):
        operation = paths[f"/api/v1/tasks/{action}"]["post"]
        assert {"200", "400", "404", "409"} <= set(operation["responses"])
