"""Activity heartbeats on the embedded engine: progress kept for the next attempt of a step,
cancellation once the instance is terminated, and no effect outside a worker."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import dapr.ext.workflow as wf
import pytest

from declarative_wf.activities import ActivityCancelled, ActivityContext, Registry
from declarative_wf.activities.heartbeat import step_key
from declarative_wf.engine import Engine
from declarative_wf.engine.admin import EngineAdminClient
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
from declarative_wf.interpreter.workflow import make_payload
from declarative_wf.ir import Block, ErrorMatch, RetryRule, TaskNode, Workflow
from declarative_wf.worker import start_worker

pytestmark = pytest.mark.integration


class Interrupted(Exception):
    """The first attempt of ``resumable_count`` stops half-way (as a crash would)."""


def resumable_count(limit: int, context: ActivityContext) -> dict[str, Any]:
    """Counts to ``limit``, heartbeating its position; a retry resumes where the last one was."""
    start = context.last_heartbeat_details() or 0
    for position in range(start, limit):
        context.heartbeat(position)
        if context.attempt == 1 and position == limit // 2:
            raise Interrupted(f"stopped at {position}")
    return {"started_at": start, "attempt": context.attempt, "address": context.engine_address is not None}


cancelled: list[str] = []
long_running_started = threading.Event()


def long_running(_: Any, context: ActivityContext) -> None:
    long_running_started.set()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            context.heartbeat({"alive": True})
        except ActivityCancelled as error:
            cancelled.append(str(error))
            raise
        time.sleep(0.1)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with Engine(tmp_path_factory.mktemp("heartbeat") / "wf.db") as running:
        yield running


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[wf.DaprWorkflowClient]:
    runtime = start_worker(engine.host, engine.port, Registry([resumable_count, long_running]))
    workflow_client = wf.DaprWorkflowClient(host=engine.host, port=str(engine.port))
    yield workflow_client
    workflow_client.close()
    runtime.shutdown()


_ids = itertools.count()


def one_task(activity: str, **fields: Any) -> Workflow:
    return Workflow(activity, "1", "dsl", Block("t", {"t": TaskNode(id="t", activity=activity, **fields)}))


def test_a_retry_resumes_from_the_last_heartbeat(client: wf.DaprWorkflowClient, engine: Engine) -> None:
    workflow = one_task("resumable_count", retry=(RetryRule(ErrorMatch(("Interrupted",)), max_retries=1, interval_seconds=0),))
    instance_id = f"count-{next(_ids)}"
    client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(workflow, 10), instance_id=instance_id)
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=30)
    assert state is not None and state.runtime_status.name == "COMPLETED"
    # The first attempt heartbeat 0 (sent) and 1..5 (throttled, flushed when it failed at 5).
    assert json.loads(state.serialized_output) == {"started_at": 5, "attempt": 2, "address": True}
    with EngineAdminClient(engine.address) as admin:
        details, at = admin.last_heartbeat(instance_id, step_key("t", "resumable_count", 10)) or (None, 0)
    # The second attempt sent its first heartbeat (5); the rest were throttled and, as it
    # succeeded, never needed.
    assert details == 5 and at > 0


def test_terminating_the_instance_cancels_the_activity(client: wf.DaprWorkflowClient) -> None:
    instance_id = f"long-{next(_ids)}"
    client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(one_task("long_running"), None), instance_id=instance_id)
    assert long_running_started.wait(15)
    client.terminate_workflow(instance_id)
    deadline = time.monotonic() + 10
    while not cancelled and time.monotonic() < deadline:
        time.sleep(0.05)
    assert cancelled and instance_id in cancelled[0]


def test_heartbeats_of_unknown_instances_report_cancelled(engine: Engine) -> None:
    with EngineAdminClient(engine.address) as admin:
        assert admin.heartbeat("no-such-instance", "step", {"x": 1}) is False
        assert admin.last_heartbeat("no-such-instance", "step") is None


def test_bad_heartbeat_requests_are_invalid_argument(engine: Engine) -> None:
    import grpc

    with EngineAdminClient(engine.address) as admin:
        with pytest.raises(grpc.RpcError) as raised:
            admin.call("Heartbeat", {"instance_id": 3})
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_outside_a_worker_heartbeats_do_nothing() -> None:
    context = ActivityContext(instance_id="i", activity="a", task_id=1)
    context.heartbeat({"progress": 1})  # no engine: accepted and ignored
    assert context.last_heartbeat_details() is None


def test_step_keys_tell_iterations_apart_but_not_attempts() -> None:
    assert step_key("n", "a", {"x": 1}) == step_key("n", "a", {"x": 1})
    assert step_key("n", "a", {"x": 1}) != step_key("n", "a", {"x": 2})
    assert step_key(None, "a", 1).startswith("a:")
