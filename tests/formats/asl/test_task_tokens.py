"""``.waitForTaskToken`` on the real embedded engine and a real worker, completed through the
Python API (``WorkflowClient.send_task_success / failure / heartbeat``): the task receives
``$$.Task.Token``, the state pauses until the callback, a failure callback is caught by Catch,
HeartbeatSeconds and TimeoutSeconds are enforced, and late or forged callbacks are refused
with AWS's error names."""

from __future__ import annotations

import itertools
import json
import queue
import time
from collections.abc import Iterator
from typing import Any

import pytest

from declarative_wf.activities import Registry
from declarative_wf.client import WorkflowClient
from declarative_wf.task_tokens import TaskTokenError, decode, encode

from .helpers import compile_definition, engine_client

pytestmark = pytest.mark.integration

#: Tokens the "notify" activity received, in order (the test plays the external worker).
TOKENS: queue.Queue[dict[str, Any]] = queue.Queue()


def notify(request: dict[str, Any]) -> dict[str, Any]:
    TOKENS.put(request)
    return {"queued": True}


def machine(resource: str = "arn:aws:states:::lambda:invoke.waitForTaskToken", **task: Any) -> dict[str, Any]:
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": resource,
        "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token", "order.$": "$.order"}},
        "End": True,
        **task,
    }
    if resource != "arn:aws:states:::lambda:invoke.waitForTaskToken":
        state["Parameters"] = {"token.$": "$$.Task.Token", "order.$": "$.order"}
    return {"StartAt": "Wait", "States": {"Wait": state}}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkflowClient]:
    registry = Registry()
    registry.add(notify, "notify")
    registry.add(notify, "arn:aws:states:::sqs:sendMessage")
    with engine_client(tmp_path_factory.mktemp("tokens") / "tokens.db", registry) as workflow_client:
        yield workflow_client


_ids = itertools.count()


def start(client: WorkflowClient, definition: dict[str, Any], data: Any) -> str:
    while not TOKENS.empty():  # a token left by an earlier test must not be taken for this one
        TOKENS.get_nowait()
    return client.start(compile_definition(definition), data, instance_id=f"tok-{next(_ids)}")


def next_token(timeout: float = 20.0) -> dict[str, Any]:
    return TOKENS.get(timeout=timeout)


def test_success_callback_completes_the_task(client: WorkflowClient) -> None:
    instance = start(client, machine(), {"order": 7})
    received = next_token()
    assert received["order"] == 7
    token = received["token"]
    assert decode(token).instance_id == instance
    time.sleep(0.3)
    state = client.get(instance)
    assert state is not None and state.status == "RUNNING"  # paused on the callback
    client.send_task_success(token, {"shipped": True})
    done = client.wait(instance, timeout=20)
    assert done is not None and done.status == "COMPLETED", done
    assert done.output == {"shipped": True}
    # The task is closed now: a second callback is refused as AWS refuses it.
    with pytest.raises(TaskTokenError) as refused:
        client.send_task_success(token, {"again": 1})
    assert refused.value.code == "TaskTimedOut"


def test_output_given_as_json_text_and_a_service_integration_resource(client: WorkflowClient) -> None:
    instance = start(client, machine("arn:aws:states:::sqs:sendMessage.waitForTaskToken"), {"order": 1})
    token = next_token()["token"]
    client.send_task_success(token, '{"n": 1}')
    done = client.wait(instance, timeout=20)
    assert done is not None and done.output == {"n": 1}


def test_failure_callback_is_caught_by_catch(client: WorkflowClient) -> None:
    definition = machine(Catch=[{"ErrorEquals": ["Rejected"], "ResultPath": "$.error", "Next": "Handled"}])
    definition["States"]["Wait"].pop("End")
    definition["States"]["Wait"]["Next"] = "Done"
    definition["States"]["Done"] = {"Type": "Succeed"}
    definition["States"]["Handled"] = {"Type": "Pass", "End": True}
    instance = start(client, definition, {"order": 2})
    client.send_task_failure(next_token()["token"], "Rejected", "the customer said no")
    done = client.wait(instance, timeout=20)
    assert done is not None and done.status == "COMPLETED", done
    assert done.output == {"order": 2, "error": {"Error": "Rejected", "Cause": "the customer said no"}}


def test_uncaught_failure_callback_fails_the_execution_with_its_error(client: WorkflowClient) -> None:
    instance = start(client, machine(), {"order": 3})
    client.send_task_failure(next_token()["token"], "Boom", "cause text")
    done = client.wait(instance, timeout=20)
    assert done is not None and done.status == "FAILED"
    assert done.error == {"Error": "Boom", "Cause": "cause text"}


def test_heartbeats_keep_the_task_alive_then_it_times_out_without_them(client: WorkflowClient) -> None:
    instance = start(client, machine(HeartbeatSeconds=2, TimeoutSeconds=60), {"order": 4})
    token = next_token()["token"]
    for _ in range(3):  # 3 × 1 s of heartbeats: longer than HeartbeatSeconds in total
        time.sleep(1.0)
        client.send_task_heartbeat(token)
    state = client.get(instance)
    assert state is not None and state.status == "RUNNING"
    done = client.wait(instance, timeout=20)  # no more heartbeats: States.HeartbeatTimeout
    assert done is not None and done.status == "FAILED"
    assert done.error is not None and done.error["Error"] == "States.HeartbeatTimeout"
    with pytest.raises(TaskTokenError) as refused:
        client.send_task_heartbeat(token)
    assert refused.value.code == "TaskTimedOut"


def test_heartbeat_timeout_is_caught_by_states_timeout_and_retried(client: WorkflowClient) -> None:
    definition = machine(
        HeartbeatSecondsPath="$.beat",
        Retry=[{"ErrorEquals": ["States.HeartbeatTimeout"], "MaxAttempts": 1, "IntervalSeconds": 1}],
        Catch=[{"ErrorEquals": ["States.Timeout"], "Next": "Late"}],
    )
    definition["States"]["Wait"].pop("End")
    definition["States"]["Wait"]["Next"] = "Late"
    definition["States"]["Late"] = {"Type": "Pass", "Result": "late", "End": True}
    instance = start(client, definition, {"order": 5, "beat": 1})
    first, second = next_token()["token"], next_token()["token"]  # a new token per attempt
    assert first != second and decode(first).instance_id == decode(second).instance_id
    done = client.wait(instance, timeout=20)
    assert done is not None and done.status == "COMPLETED" and done.output == "late"


def test_task_timeout_while_waiting(client: WorkflowClient) -> None:
    instance = start(client, machine(TimeoutSeconds=1), {"order": 6})
    token = next_token()["token"]
    done = client.wait(instance, timeout=20)
    assert done is not None and done.status == "FAILED"
    assert done.error is not None and done.error["Error"] == "States.Timeout"
    with pytest.raises(TaskTokenError) as refused:
        client.send_task_success(token, {})
    assert refused.value.code == "TaskTimedOut"


def test_forged_and_malformed_tokens_are_refused(client: WorkflowClient) -> None:
    instance = start(client, machine(), {"order": 8})
    token = next_token()["token"]
    forged = encode(instance, "0" * 32)  # the right instance, a nonce it never issued
    with pytest.raises(TaskTokenError) as refused:
        client.send_task_success(forged, {})
    assert refused.value.code == "InvalidToken"
    with pytest.raises(TaskTokenError) as refused:
        client.send_task_success("not-a-token", {})
    assert refused.value.code == "InvalidToken"
    with pytest.raises(TaskTokenError) as refused:
        client.send_task_success(encode("no-such-instance", "0" * 32), {})
    assert refused.value.code == "TaskDoesNotExist"
    with pytest.raises(TaskTokenError) as refused:
        client.send_task_success(token, "{not json")
    assert refused.value.code == "InvalidOutput"
    client.send_task_success(token, {"ok": 1})
    done = client.wait(instance, timeout=20)
    assert done is not None and done.output == {"ok": 1}


# -- the same rules on the in-memory host: exact timing, no engine ------------------------------------

NONCE = "ab" * 16


def _drive(definition: dict[str, Any], events: list[tuple[float, str, Any]], data: Any = None) -> Any:
    from ...interpreter.harness import FakeHost, drive

    host = FakeHost({"dwf.task_token": lambda request: None if "close" in request else NONCE, "notify": lambda request: request}, events)
    return drive(compile_definition(definition), data or {"order": 1}, host=host, instance_id="fake"), host


def test_heartbeats_restart_the_heartbeat_timer_exactly() -> None:
    event = f"dwf.task.{NONCE}"
    beats = [(t, event, {"kind": "heartbeat"}) for t in (4.0, 8.0, 12.0)]
    outcome, _ = _drive(machine(HeartbeatSeconds=5), [*beats, (16.0, event, {"kind": "success", "output": "ok"})])
    assert outcome.status == "completed" and outcome.value == "ok"
    outcome, host = _drive(machine(HeartbeatSeconds=5), [*beats, (18.0, event, {"kind": "success", "output": "ok"})])
    assert outcome.status == "failed" and outcome.value.type == "States.HeartbeatTimeout"
    assert outcome.clock.timestamp() - 1767225600 == 17.0  # the last heartbeat (12 s) + 5 s
    assert host.calls["dwf.task_token"] == 2  # the token, then the close marker for late callbacks


def test_timeout_seconds_bounds_the_whole_task_even_with_heartbeats() -> None:
    event = f"dwf.task.{NONCE}"
    beats = [(t, event, {"kind": "heartbeat"}) for t in (2.0, 4.0, 6.0, 8.0)]
    outcome, _ = _drive(machine(HeartbeatSeconds=3, TimeoutSeconds=7), beats)
    assert outcome.status == "failed" and outcome.value.type == "States.Timeout"
    assert outcome.clock.timestamp() - 1767225600 == 7.0


def test_the_token_reaches_the_activity_and_failure_is_verbatim() -> None:
    event = f"dwf.task.{NONCE}"
    outcome, _ = _drive(machine(), [(1.0, event, {"kind": "failure", "error": "Nope", "cause": '{"json": "kept as text"}'})])
    assert outcome.status == "failed"
    assert (outcome.value.type, outcome.value.message) == ("Nope", '{"json": "kept as text"}')
    notify = next(c for c in outcome.commands if getattr(c, "name", None) == "notify")
    assert notify.input["input"]["token"] == encode("fake", NONCE)


def test_jsonata_task_sees_the_token_in_states_context() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "W",
        "States": {"W": {"Type": "Task", "Resource": "notify.waitForTaskToken", "Arguments": {"t": "{% $states.context.Task.Token %}"}, "End": True}},
    }
    event = f"dwf.task.{NONCE}"
    outcome, _ = _drive(definition, [(1.0, event, {"kind": "success", "output": {"done": True}})])
    assert outcome.status == "completed" and outcome.value == {"done": True}
    notify = next(c for c in outcome.commands if getattr(c, "name", None) == "notify")
    assert notify.input["input"] == {"t": encode("fake", NONCE)}


# -- before anything runs --------------------------------------------------------------------------


def test_unsupported_callback_integrations_are_diagnostics(tmp_path: Any) -> None:
    from declarative_wf.diagnostics import DiagnosticError

    for resource in ("arn:aws:states:::states:startExecution.waitForTaskToken", "arn:aws:states:::http:invoke.waitForTaskToken"):
        definition = {"StartAt": "W", "States": {"W": {"Type": "Task", "Resource": resource, "Parameters": {"StateMachineArn": "x", "ApiEndpoint": "http://x", "Method": "GET"}, "End": True}}}
        with pytest.raises(DiagnosticError) as problem:
            compile_definition(definition)
        text = str(problem.value)
        assert "ASL-E040" in text and ".waitForTaskToken is not supported" in text and "machine.asl.json:" in text


def test_dwf_run_names_an_unregistered_callback_activity_before_running(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    from declarative_wf.cli import main

    path = tmp_path / "callback.asl.json"
    path.write_text(json.dumps(machine("arn:aws:states:::sqs:sendMessage.waitForTaskToken")))
    assert main(["run", str(path), "--input", '{"order": 1}']) == 2
    err = capsys.readouterr().err
    assert "'arn:aws:states:::sqs:sendMessage'" in err and "callback.asl.json:" in err


def test_frequent_heartbeats_add_events_but_no_timers() -> None:
    from declarative_wf.interpreter.commands import Sleep

    event = f"dwf.task.{NONCE}"
    beats = [(float(t), event, {"kind": "heartbeat"}) for t in range(1, 13)]
    outcome, _ = _drive(machine(HeartbeatSeconds=5), [*beats, (13.0, event, {"kind": "success", "output": "ok"})])
    assert outcome.status == "completed" and outcome.value == "ok"
    timers = [c for c in outcome.commands if isinstance(c, Sleep)]
    assert len(timers) <= 4  # one per heartbeat period, not one per heartbeat (12)


@pytest.mark.integration
def test_the_wait_survives_a_restart_of_engine_and_worker(tmp_path: Any) -> None:
    registry = Registry()
    registry.add(notify, "notify")
    db = tmp_path / "restart.db"
    while not TOKENS.empty():
        TOKENS.get_nowait()
    with engine_client(db, registry) as first:
        instance = first.start(compile_definition(machine(HeartbeatSeconds=600)), {"order": 99}, instance_id="tok-restart")
        token = next_token()["token"]
        time.sleep(0.3)  # the instance is now waiting for the callback
    with engine_client(db, registry) as second:  # a new engine over the same file, a new worker
        second.send_task_heartbeat(token)
        second.send_task_success(token, {"after": "restart"})
        done = second.wait(instance, timeout=20)
        assert done is not None and done.status == "COMPLETED" and done.output == {"after": "restart"}
