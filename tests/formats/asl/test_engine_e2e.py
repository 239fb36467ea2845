"""ASL state machines with Task states against registered activities, on the real embedded
engine and a real worker: Retry with backoff, Catch of activity errors, Map of activities with
MaxConcurrency, a Task timeout and a machine-level timeout."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import dapr.ext.workflow as wf
import pytest

from declarative_wf.activities import Registry
from declarative_wf.engine import Engine
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
from declarative_wf.interpreter.workflow import make_payload
from declarative_wf.worker import start_worker

from .helpers import compile_definition

pytestmark = pytest.mark.integration


class OutOfStock(Exception):
    pass


_lock = threading.Lock()
_attempts: dict[str, int] = {}
_running = {"now": 0, "most": 0}


def reserve(order: dict[str, Any]) -> dict[str, Any]:
    """Fails with OutOfStock ``order["fail"]`` times per order key, then succeeds."""
    with _lock:
        _attempts[order["key"]] = _attempts.get(order["key"], 0) + 1
        attempt = _attempts[order["key"]]
    if attempt <= order.get("fail", 0):
        raise OutOfStock(f"no stock for {order['key']} (attempt {attempt})")
    return {"reserved": order["key"], "attempt": attempt}


def slow_square(n: int) -> int:
    with _lock:
        _running["now"] += 1
        _running["most"] = max(_running["most"], _running["now"])
    time.sleep(0.2)
    with _lock:
        _running["now"] -= 1
    return n * n


def sleepy(seconds: float) -> str:
    time.sleep(seconds)
    return "done"


@pytest.fixture(scope="module")
def engine_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[wf.DaprWorkflowClient]:
    registry = Registry()
    registry.add(reserve, "reserve")
    registry.add(slow_square, "slow_square")
    registry.add(sleepy, "sleepy")
    with Engine(tmp_path_factory.mktemp("asl-e2e") / "e2e.db") as engine:
        runtime = start_worker(engine.host, engine.port, registry)
        client = wf.DaprWorkflowClient(host=engine.host, port=str(engine.port))
        try:
            yield client
        finally:
            client.close()
            runtime.shutdown()


_ids = itertools.count()


def run(client: wf.DaprWorkflowClient, definition: dict[str, Any], data: Any, timeout: int = 60) -> Any:
    workflow = compile_definition(definition)
    iid = client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(workflow, data), instance_id=f"asl-e2e-{next(_ids)}-{time.time_ns()}")
    state = client.wait_for_workflow_completion(iid, fetch_payloads=True, timeout_in_seconds=timeout)
    assert state is not None
    return state


def test_task_calls_the_registered_activity(engine_client: wf.DaprWorkflowClient) -> None:
    definition = {
        "StartAt": "Reserve",
        "States": {"Reserve": {"Type": "Task", "Resource": "arn:aws:lambda:us-east-1:123456789012:function:reserve", "Parameters": {"key.$": "$.order"}, "ResultPath": "$.reservation", "End": True}},
    }
    state = run(engine_client, definition, {"order": "o-1"})
    assert state.runtime_status.name == "COMPLETED"
    assert json.loads(state.serialized_output) == {"order": "o-1", "reservation": {"reserved": "o-1", "attempt": 1}}


def test_retry_with_backoff_until_the_activity_succeeds(engine_client: wf.DaprWorkflowClient) -> None:
    definition = {
        "StartAt": "Reserve",
        "States": {
            "Reserve": {
                "Type": "Task", "Resource": "reserve", "Parameters": {"key": "o-retry", "fail": 2},
                "Retry": [{"ErrorEquals": ["OutOfStock"], "IntervalSeconds": 1, "BackoffRate": 1.5, "MaxAttempts": 3}],
                "End": True,
            },
        },
    }  # fmt: skip
    started = time.monotonic()
    state = run(engine_client, definition, {})
    assert state.runtime_status.name == "COMPLETED"
    assert json.loads(state.serialized_output) == {"reserved": "o-retry", "attempt": 3}
    assert time.monotonic() - started >= 2.5  # 1 s, then 1.5 s, on durable timers


def test_catch_of_an_activity_error(engine_client: wf.DaprWorkflowClient) -> None:
    definition = {
        "StartAt": "Reserve",
        "States": {
            "Reserve": {
                "Type": "Task", "Resource": "reserve", "Parameters": {"key": "o-catch", "fail": 99},
                "Retry": [{"ErrorEquals": ["OutOfStock"], "IntervalSeconds": 1, "MaxAttempts": 1}],
                "Catch": [{"ErrorEquals": ["States.TaskFailed"], "ResultPath": "$.error", "Next": "Apologise"}],
                "End": True,
            },
            "Apologise": {"Type": "Pass", "Parameters": {"error.$": "$.error.Error", "cause.$": "States.StringToJson($.error.Cause)"}, "End": True},
        },
    }  # fmt: skip
    state = run(engine_client, definition, {})
    assert state.runtime_status.name == "COMPLETED"
    output = json.loads(state.serialized_output)
    assert output["error"] == "OutOfStock"
    assert output["cause"]["errorType"] == "OutOfStock"
    assert output["cause"]["errorMessage"].startswith("no stock for o-catch")


def test_uncaught_activity_error_fails_the_execution_with_its_name(engine_client: wf.DaprWorkflowClient) -> None:
    definition = {"StartAt": "R", "States": {"R": {"Type": "Task", "Resource": "reserve", "Parameters": {"key": "o-fail", "fail": 99}, "End": True}}}
    state = run(engine_client, definition, {})
    assert state.runtime_status.name == "FAILED"
    assert state.failure_details.error_type == "OutOfStock"
    assert json.loads(state.failure_details.message)["errorType"] == "OutOfStock"


def test_map_of_activities_with_max_concurrency(engine_client: wf.DaprWorkflowClient) -> None:
    definition = {
        "StartAt": "Squares",
        "States": {
            "Squares": {
                "Type": "Map", "ItemsPath": "$.numbers", "MaxConcurrency": 2,
                "ItemProcessor": {"StartAt": "Square", "States": {"Square": {"Type": "Task", "Resource": "slow_square", "End": True}}},
                "End": True,
            },
        },
    }  # fmt: skip
    _running["most"] = 0
    state = run(engine_client, definition, {"numbers": [1, 2, 3, 4, 5, 6]})
    assert state.runtime_status.name == "COMPLETED"
    assert json.loads(state.serialized_output) == [1, 4, 9, 16, 25, 36]
    assert 1 <= _running["most"] <= 2


def test_task_timeout(engine_client: wf.DaprWorkflowClient) -> None:
    definition = {
        "StartAt": "Slow",
        "States": {
            "Slow": {"Type": "Task", "Resource": "sleepy", "TimeoutSeconds": 1, "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "TimedOut"}], "End": True},
            "TimedOut": {"Type": "Pass", "Result": "timed out", "End": True},
        },
    }
    state = run(engine_client, definition, 5)
    assert state.runtime_status.name == "COMPLETED"
    assert json.loads(state.serialized_output) == "timed out"


def test_machine_timeout(engine_client: wf.DaprWorkflowClient) -> None:
    definition = {"TimeoutSeconds": 1, "StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 30, "End": True}}}
    started = time.monotonic()
    state = run(engine_client, definition, {})
    assert state.runtime_status.name == "FAILED"
    assert state.failure_details.error_type == "States.Timeout"
    assert time.monotonic() - started < 15
