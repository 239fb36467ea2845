"""Coalescing activity results (``EngineOptions.coalesce_seconds``): while other activities of
an instance still run, a result waits a moment for more, so one turn takes many of them; the
last one, and an instance with a single activity in flight, are dispatched at once.

A window far longer than the tests' timeouts makes both outcomes certain, not timing-dependent:
a fan-out needs exactly two turns (start, then every result at once), and a sequence that was
held back would time out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dapr.ext.workflow as wf
import pytest

from declarative_wf.engine import Engine, EngineOptions

pytestmark = pytest.mark.integration

WINDOW = 600.0


def plus_one(ctx: wf.WorkflowActivityContext, value: int) -> int:
    return value + 1


def fan(ctx: wf.DaprWorkflowContext, count: int):
    results = yield wf.when_all([ctx.call_activity(plus_one, input=i) for i in range(count)])
    return sum(results)


def steps(ctx: wf.DaprWorkflowContext, value: int):
    for _ in range(3):
        value = yield ctx.call_activity(plus_one, input=value)
    return value


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[wf.DaprWorkflowClient]:
    folder: Path = tmp_path_factory.mktemp("coalesce")
    with Engine(folder / "wf.db", options=EngineOptions(coalesce_seconds=WINDOW)) as engine:
        runtime = wf.WorkflowRuntime(host=engine.host, port=str(engine.port))
        runtime.register_workflow(fan)
        runtime.register_workflow(steps)
        runtime.register_activity(plus_one)
        runtime.start()
        workflow_client = wf.DaprWorkflowClient(host=engine.host, port=str(engine.port))
        try:
            yield workflow_client
        finally:
            workflow_client.close()
            runtime.shutdown()


def _turns(client: wf.DaprWorkflowClient, instance_id: str) -> int:
    return sum(event.event_type.value == "workflowStarted" for event in client.get_workflow_history(instance_id))


def test_a_fan_out_takes_all_its_results_in_one_turn(client: wf.DaprWorkflowClient) -> None:
    instance_id = client.schedule_new_workflow(fan, input=30)
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=60)
    assert state is not None and state.runtime_status == wf.WorkflowStatus.COMPLETED
    assert state.serialized_output == str(sum(range(1, 31)))
    assert _turns(client, instance_id) == 2  # the start, then the 30 results together


def test_a_single_activity_in_flight_is_not_held_back(client: wf.DaprWorkflowClient) -> None:
    instance_id = client.schedule_new_workflow(steps, input=0)
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=60)
    assert state is not None and state.runtime_status == wf.WorkflowStatus.COMPLETED, "held back by the window"
    assert state.serialized_output == "3" and _turns(client, instance_id) == 4
