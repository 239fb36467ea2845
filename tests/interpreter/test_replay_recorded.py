"""Replay: histories recorded on the real engine, fed back turn by turn into the Dapr SDK's own
executor with the interpreter registered, must produce exactly the actions that were recorded."""

from __future__ import annotations

import json
import logging
from typing import Any

import dapr.ext.workflow as wf
import grpc
import pytest
from dapr.ext.workflow._durabletask.worker import _OrchestrationExecutor, _Registry
from dapr.ext.workflow.dapr_workflow_context import DaprWorkflowContext

from declarative_wf import Engine, compile
from declarative_wf.activities import Registry
from declarative_wf.engine.protocol import pb, pb_grpc
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME, interpreter_workflow
from declarative_wf.interpreter.workflow import make_payload
from declarative_wf.worker import start_worker

pytestmark = pytest.mark.integration

DEFINITION = """
dwf: 1
name: replayed
steps:
  - call: flaky
    retry: { attempts: 3, delay: 50ms }
  - parallel:
      - steps: [ { call: double, with: 1 }, { wait: 50ms } ]
      - steps: [ { call: double, with: 2 } ]
  - for_each: "${ input.items }"
    concurrency: 2
    steps: [ { call: double } ]
    save: doubled
  - wait_for: go
    timeout: 30s
  - set: "${ {doubled: doubled, event: result} }"
"""

# Events a turn is handed (the rest of the history is what the turn's actions produced).
_INCOMING = {
    "executionStarted", "taskCompleted", "taskFailed", "timerFired", "eventRaised",
    "childWorkflowInstanceCompleted", "childWorkflowInstanceFailed", "executionSuspended", "executionResumed",
}
_ACTION_TO_EVENT = {
    "scheduleTask": "taskScheduled", "createTimer": "timerCreated", "createChildWorkflow": "childWorkflowInstanceCreated",
    "sendEvent": "eventSent", "completeWorkflow": "executionCompleted",
}


def _turns(history: list[pb.HistoryEvent]) -> list[tuple[int, list[pb.HistoryEvent], list[pb.HistoryEvent]]]:
    """(index where the turn starts, the events it was handed, the events its actions made)."""
    starts = [i for i, event in enumerate(history) if event.WhichOneof("eventType") == "workflowStarted"]
    turns = []
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(history)
        events = history[start:end]
        handed = [e for e in events if e.WhichOneof("eventType") in _INCOMING or e is events[0]]
        made = [e for e in events[1:] if e.WhichOneof("eventType") not in _INCOMING]
        turns.append((start, handed, made))
    return turns


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[pb.HistoryEvent], Any, str]:
    calls = {"flaky": 0}

    def flaky(value: Any) -> str:
        calls["flaky"] += 1
        if calls["flaky"] < 3:
            raise ConnectionError("not yet")
        return "ok"

    registry = Registry()
    registry.add(flaky)
    registry.add(lambda value: value * 2, name="double")
    workflow = compile(DEFINITION)
    with Engine(tmp_path_factory.mktemp("replay") / "wf.db") as engine:
        runtime = start_worker(engine.host, engine.port, registry)
        client = wf.DaprWorkflowClient(host=engine.host, port=str(engine.port))
        try:
            instance_id = client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(workflow, {"items": [1, 2, 3]}))
            client.wait_for_workflow_start(instance_id, timeout_in_seconds=30)
            client.raise_workflow_event(instance_id, "go", data={"by": "test"})
            state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=60)
            assert state.runtime_status == wf.WorkflowStatus.COMPLETED, state.failure_details
            with grpc.insecure_channel(engine.address) as channel:
                history = list(pb_grpc.TaskHubSidecarServiceStub(channel).GetInstanceHistory(
                    pb.GetInstanceHistoryRequest(instanceId=instance_id)).events)
            return history, json.loads(state.serialized_output), instance_id
        finally:
            runtime.shutdown()
            client.close()


def _executor() -> _OrchestrationExecutor:
    registry = _Registry()

    def dwf(ctx: Any, payload: Any) -> Any:
        return interpreter_workflow(DaprWorkflowContext(ctx), payload)

    registry.add_named_orchestrator(WORKFLOW_NAME, dwf)
    return _OrchestrationExecutor(registry, logging.getLogger("replay-test"))


def test_the_recorded_run_did_what_the_definition_says(recorded) -> None:
    history, output, _ = recorded
    assert output == {"doubled": [2, 4, 6], "event": {"by": "test"}}
    assert len(_turns(history)) >= 5


def test_every_turn_replays_to_the_recorded_actions(recorded) -> None:
    history, _, instance_id = recorded
    for start, handed, made in _turns(history):
        result = _executor().execute(instance_id, history[:start], handed)
        produced = [(_ACTION_TO_EVENT[a.WhichOneof("workflowActionType")], a.id) for a in result.actions]
        expected = [(e.WhichOneof("eventType"), e.eventId) for e in made]
        assert produced == expected, f"turn at event {start}"
        for action, event in zip(result.actions, made):
            if event.HasField("taskScheduled"):
                assert action.scheduleTask.name == event.taskScheduled.name
                assert action.scheduleTask.input.value == event.taskScheduled.input.value
            if event.HasField("timerCreated"):
                assert action.createTimer.fireAt == event.timerCreated.fireAt
            if event.HasField("executionCompleted"):
                assert action.completeWorkflow.result.value == event.executionCompleted.result.value


def test_a_turn_leaves_no_reference_cycles_of_the_interpreter(recorded) -> None:
    """Every object a turn creates (fibers, frames, tasks: thousands in a large for-each) must be
    freed by reference counting once the SDK drops the turn's context: cycles would leave them
    all to the garbage collector, whose full passes then dominate a busy worker's time."""
    import gc

    history, _, instance_id = recorded
    gc.collect()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for start, handed, _made in _turns(history):
            _executor().execute(instance_id, history[:start], handed)
        gc.collect()
        ours = [
            obj for obj in gc.garbage
            if type(obj).__module__.startswith("declarative_wf")
            or (type(obj).__name__ in ("generator", "frame", "function") and "declarative_wf" in repr(getattr(obj, "gi_code", None) or getattr(obj, "f_code", None) or getattr(obj, "__code__", "")))
        ]  # fmt: skip
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    assert ours == [], f"{len(ours)} objects of the interpreter in reference cycles, e.g. {ours[:5]}"
