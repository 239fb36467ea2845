"""Serverless Workflow lifecycle CloudEvents on a real engine: every event type, payloads
field by field (dsl-reference.md "Lifecycle Events"), order per instance, no duplicates from
replays, suspend / resume / cancel of the tasks in flight, correlation events of ``listen``,
routing per engine, and ``DWF_LIFECYCLE_EVENTS``."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dapr.ext.workflow as wf
import pytest

import declarative_wf
from declarative_wf.activities.events import (
    LIFECYCLE_VARIABLE,
    lifecycle_event,
    lifecycle_events,
)
from declarative_wf.engine import Engine
from declarative_wf.engine.events_service import EventBusClient
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
from declarative_wf.interpreter.workflow import make_payload
from declarative_wf.worker import new_client, start_worker

from .conftest import (
    SW_ON_PAIR,
    Start,
    event,
    running_engine,
    wait_done,
    wait_subscribed,
)

pytestmark = pytest.mark.integration
PREFIX = "io.serverlessworkflow."

# -- payloads, field by field -------------------------------------------------------------------

RECORD = {"instance": "ix7", "workflow": "orderPet", "namespace": "samples", "version": "1.0.0",
          "reference": "/do/1/initialize", "time": "2024-07-26T21:59:57.000Z"}  # fmt: skip
#: The data keys of each event (dsl-reference.md), beyond what a record may add.
EXPECTED: dict[str, set[str]] = {
    "workflow.started": {"name", "definition", "startedAt"},
    "workflow.suspended": {"name", "suspendedAt"},
    "workflow.resumed": {"name", "resumedAt"},
    "workflow.correlation-started": {"name", "startedAt"},
    "workflow.correlation-completed": {"name", "completedAt", "correlationKeys"},
    "workflow.cancelled": {"name", "cancelledAt"},
    "workflow.faulted": {"name", "faultedAt", "error"},
    "workflow.completed": {"name", "completedAt", "output"},
    "workflow.status-changed": {"name", "updatedAt", "status"},
    "task.created": {"workflow", "task", "createdAt"},
    "task.started": {"workflow", "task", "startedAt"},
    "task.suspended": {"workflow", "task", "suspendedAt"},
    "task.resumed": {"workflow", "task", "resumedAt"},
    "task.retried": {"workflow", "task", "retriedAt"},
    "task.cancelled": {"workflow", "task", "cancelledAt"},
    "task.faulted": {"workflow", "task", "faultedAt", "error"},
    "task.completed": {"workflow", "task", "completedAt", "output"},
    "task.status-changed": {"workflow", "task", "updatedAt", "status"},
}


@pytest.mark.parametrize("kind", sorted(EXPECTED))
def test_payload_fields_follow_the_specification(kind: str) -> None:
    error = {"type": "https://serverlessworkflow.io/spec/1.0.0/errors/communication", "status": 503, "title": "Down"}
    extra = {"output": {"petId": 1}, "error": error, "correlation": {"petId": "x"}, "status": "running",
             "input": {"not": "published"}, "retry": 1}  # fmt: skip
    cloud_event = lifecycle_event(kind, {**RECORD, **extra})
    assert cloud_event["type"] == f"{PREFIX}{kind}.v1" and cloud_event["specversion"] == "1.0"
    assert cloud_event["source"] == "/dwf/orderPet/ix7" and cloud_event["subject"] == "ix7"
    data = cloud_event["data"]
    assert set(data) == EXPECTED[kind], data
    qualified = "orderPet-ix7.samples"  # the spec's example: orderPetWorkflow-ix7iryakiem8j.samples
    assert data.get("name", data.get("workflow")) == qualified
    if kind.startswith("task."):
        assert data["task"] == "/do/1/initialize"
    if kind == "workflow.started":
        assert data["definition"] == {"name": "orderPet", "namespace": "samples", "version": "1.0.0"}
    if "error" in data:
        assert data["error"] == error
    time_field = next(key for key in data if key.endswith("At"))
    assert data[time_field] == RECORD["time"]


def test_optional_fields_are_left_out_and_status_changed_follows_each_event() -> None:
    bare = lifecycle_event("task.completed", {**RECORD, "output": None})
    assert "output" not in bare["data"]
    assert "correlationKeys" not in lifecycle_event("workflow.correlation-completed", {**RECORD, "correlation": {}})["data"]
    started = [(e["type"].removeprefix(PREFIX), e["data"].get("status")) for e in lifecycle_events("task.started", RECORD)]
    assert started == [("task.created.v1", None), ("task.status-changed.v1", "pending"),
                       ("task.started.v1", None), ("task.status-changed.v1", "running")]  # fmt: skip
    assert [e["type"] for e in lifecycle_events("task.started", RECORD, "required")] == [
        f"{PREFIX}task.created.v1", f"{PREFIX}task.started.v1",
    ]
    assert len({e["id"] for e in lifecycle_events("workflow.completed", RECORD)}) == 2


# -- on the engine -----------------------------------------------------------------------------

FULL = """
document: {dsl: '1.0.0', namespace: test, name: full-cycle, version: '1.0.0'}
do:
  - prepare:
      set: {orderId: '${ .orderId }'}
  - attempt:
      try:
        - boom:
            raise:
              error: {type: https://example.com/errors/boom, status: 400, title: Boom}
      catch:
        errors: {with: {status: 400}}
        retry:
          delay: {milliseconds: 10}
          limit: {attempt: {count: 2}}
  - waitForPayment:
      listen:
        to:
          one:
            with: {type: com.shop.paid}
            correlate:
              order: {from: .data.orderId, expect: '${ .orderId }'}
  - pause:
      wait: {milliseconds: 20}
  - finish:
      set: {done: true}
"""

FAILING = """
document: {dsl: '1.0.0', namespace: test, name: failing, version: '0.1.0'}
do:
  - broken:
      raise:
        error: {type: https://serverlessworkflow.io/spec/1.0.0/errors/communication, status: 503, title: Down}
"""

QUICK = """
document: {dsl: '1.0.0', namespace: test, name: quick, version: '1.0.0'}
do:
  - broken:
      set: {x: 1}
"""

WAITER = """
document: {dsl: '1.0.0', namespace: test, name: long-wait, version: '1.0.0'}
do:
  - outer:
      do:
        - pause:
            wait: {minutes: 10}
"""


def lifecycle(bus: EventBusClient, subject: str) -> list[dict[str, Any]]:
    return [e for e in bus.recent(1000) if e.get("subject") == subject and e["type"].startswith(PREFIX)]


def wait_for(bus: EventBusClient, subject: str, kind: str, timeout: float = 15) -> list[dict[str, Any]]:
    """The instance's lifecycle events once ``kind`` is among them (publishing is asynchronous)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = lifecycle(bus, subject)
        if any(e["type"] == f"{PREFIX}{kind}.v1" for e in events):
            return events
        time.sleep(0.05)
    raise AssertionError(f"no {kind} for {subject}: {[short(e) for e in lifecycle(bus, subject)]}")


def short(e: dict[str, Any]) -> str:
    data = e["data"]
    return f"{e['type'].removeprefix(PREFIX).removesuffix('.v1')}{data.get('task') or ''}{'=' + data['status'] if 'status' in data else ''}"


def test_every_workflow_and_task_event_in_order_without_duplicates(
    client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start
) -> None:
    iid = start(declarative_wf.compile(FULL), {"orderId": 7})
    wait_subscribed(bus, iid)
    bus.publish(event("com.shop.paid", {"orderId": 6}))  # another order: not correlated
    bus.publish(event("com.shop.paid", {"orderId": 7}))
    assert wait_done(client, iid) == ("COMPLETED", {"done": True})  # set replaces the data
    events = wait_for(bus, iid, "workflow.completed")
    seen = [short(e) for e in events]
    required = [s for s in seen if "status-changed" not in s]
    assert required == [
        "workflow.started",
        "task.created/do/0/prepare", "task.started/do/0/prepare", "task.completed/do/0/prepare",
        "task.created/do/1/attempt", "task.started/do/1/attempt",
        "task.created/do/1/attempt/try/0/boom", "task.started/do/1/attempt/try/0/boom",
        "task.faulted/do/1/attempt/try/0/boom", "task.retried/do/1/attempt",
        "task.created/do/1/attempt/try/0/boom", "task.started/do/1/attempt/try/0/boom",
        "task.faulted/do/1/attempt/try/0/boom", "task.retried/do/1/attempt",
        "task.created/do/1/attempt/try/0/boom", "task.started/do/1/attempt/try/0/boom",
        "task.faulted/do/1/attempt/try/0/boom", "task.completed/do/1/attempt",
        "task.created/do/2/waitForPayment", "task.started/do/2/waitForPayment",
        "workflow.correlation-started", "workflow.correlation-completed", "task.completed/do/2/waitForPayment",
        "task.created/do/3/pause", "task.started/do/3/pause", "task.completed/do/3/pause",
        "task.created/do/4/finish", "task.started/do/4/finish", "task.completed/do/4/finish",
        "workflow.completed",
    ], seen  # fmt: skip
    # status-changed follows each event, with the phase it moved to.
    statuses = [s for s in seen if "status-changed" in s]
    assert statuses[:2] == ["workflow.status-changed=running", "task.status-changed/do/0/prepare=pending"]
    assert statuses[-1] == "workflow.status-changed=completed"
    listening = seen.index("workflow.correlation-started")
    assert seen[listening:listening + 3] == [
        "workflow.correlation-started", "workflow.status-changed=waiting", "task.status-changed/do/2/waitForPayment=waiting",
    ]
    assert "task.status-changed/do/2/waitForPayment=running" in seen
    assert len(statuses) == len(required) + 2  # one per event, and the listen task's waiting / running
    # No duplicates although the instance ran several turns (each replaying the earlier ones).
    assert len({e["id"] for e in events}) == len(events)
    assert Counter(seen)["task.completed/do/3/pause"] == 1 and Counter(seen)["workflow.started"] == 1
    by_type = {e["type"].removeprefix(PREFIX).removesuffix(".v1"): e["data"] for e in events}
    assert by_type["workflow.started"]["definition"] == {"name": "full-cycle", "namespace": "test", "version": "1.0.0"}
    assert by_type["workflow.started"]["name"] == f"full-cycle-{iid}.test"
    assert by_type["workflow.correlation-completed"]["correlationKeys"] == {"order": 7}
    fault = by_type["task.faulted"]["error"]
    assert fault["type"] == "https://example.com/errors/boom" and fault["status"] == 400
    assert fault["instance"] == "/do/1/attempt/try/0/boom"
    assert by_type["workflow.completed"]["output"] == {"done": True}
    assert by_type["task.completed"]["output"] == {"done": True}  # the last one: finish


def test_a_faulted_workflow_reports_problem_details(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    iid = start(declarative_wf.compile(FAILING), {})
    assert wait_done(client, iid)[0] == "FAILED"
    events = wait_for(bus, iid, "workflow.faulted")
    assert [short(e) for e in events if "status-changed" not in e["type"]] == [
        "workflow.started", "task.created/do/0/broken", "task.started/do/0/broken", "task.faulted/do/0/broken", "workflow.faulted",
    ]
    faulted = events[-2]["data"]
    assert events[-1]["data"]["status"] == "faulted"
    assert faulted["name"] == f"failing-{iid}.test" and faulted["faultedAt"].endswith("Z")
    assert faulted["error"]["type"] == "https://serverlessworkflow.io/spec/1.0.0/errors/communication"
    assert faulted["error"]["status"] == 503 and faulted["error"]["instance"] == "/do/0/broken"


def test_suspend_resume_cancel_reach_the_tasks_in_flight(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    from declarative_wf.ir import WaitNode

    from .conftest import graph, lit

    iid = start(declarative_wf.compile(WAITER), {})
    other = start(graph(WaitNode(id="w", seconds=lit(600))))  # not a Serverless Workflow: no events
    wait_for(bus, iid, "task.started")
    deadline = time.monotonic() + 10
    while "task.started/do/0/outer/do/0/pause" not in [short(e) for e in lifecycle(bus, iid)] and time.monotonic() < deadline:
        time.sleep(0.05)
    for target in (iid, other):
        client.wait_for_workflow_start(target, timeout_in_seconds=20)
        client.pause_workflow(target)
        client.resume_workflow(target)
        client.terminate_workflow(target)
        client.wait_for_workflow_completion(target, timeout_in_seconds=20)
    events = wait_for(bus, iid, "workflow.cancelled")
    seen = [short(e) for e in events]
    start_of_control = seen.index("workflow.suspended")
    assert seen[start_of_control:] == [
        "workflow.suspended", "workflow.status-changed=suspended",
        "task.suspended/do/0/outer", "task.status-changed/do/0/outer=suspended",
        "task.suspended/do/0/outer/do/0/pause", "task.status-changed/do/0/outer/do/0/pause=suspended",
        "workflow.resumed", "workflow.status-changed=running",
        "task.resumed/do/0/outer", "task.status-changed/do/0/outer=running",
        "task.resumed/do/0/outer/do/0/pause", "task.status-changed/do/0/outer/do/0/pause=running",
        "task.cancelled/do/0/outer/do/0/pause", "task.status-changed/do/0/outer/do/0/pause=cancelled",
        "task.cancelled/do/0/outer", "task.status-changed/do/0/outer=cancelled",
        "workflow.cancelled", "workflow.status-changed=cancelled",
    ], seen  # fmt: skip
    cancelled = events[-2]["data"]
    assert cancelled == {"name": f"long-wait-{iid}.test", "cancelledAt": cancelled["cancelledAt"]}
    assert cancelled["cancelledAt"].endswith("Z")
    assert lifecycle(bus, other) == []


def test_lifecycle_events_setting(
    client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = declarative_wf.compile(QUICK)
    monkeypatch.setenv(LIFECYCLE_VARIABLE, "required")
    iid = start(document, {})
    assert wait_done(client, iid)[0] == "COMPLETED"
    events = wait_for(bus, iid, "workflow.completed")
    assert [short(e) for e in events] == [
        "workflow.started", "task.created/do/0/broken", "task.started/do/0/broken", "task.completed/do/0/broken", "workflow.completed",
    ]
    monkeypatch.setenv(LIFECYCLE_VARIABLE, "0")
    quiet = start(document, {})
    assert wait_done(client, quiet)[0] == "COMPLETED"
    time.sleep(0.5)  # publishing is asynchronous: give a wrong event the time to arrive
    assert lifecycle(bus, quiet) == []


# -- several engines in one process -------------------------------------------------------------


@pytest.fixture
def second_engine(tmp_path: Path) -> Iterator[tuple[Engine, wf.DaprWorkflowClient]]:
    with running_engine(tmp_path / "second.db") as running:
        yield running


def test_each_engine_gets_the_events_of_its_own_instances(
    client: wf.DaprWorkflowClient,
    bus: EventBusClient,
    start: Start,
    second_engine: tuple[Engine, wf.DaprWorkflowClient],
) -> None:
    """The worker of the second engine started last: the first engine's instances must still
    report to the first engine (before: everything went to the last worker's engine)."""
    engine_b, client_b = second_engine
    document = declarative_wf.compile(FAILING.replace("failing", "routed"))
    here = start(document, {}, instance_id="routed-on-a")
    client_b.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(document, {}), instance_id="routed-on-b")
    assert wait_done(client, here)[0] == "FAILED"
    assert wait_done(client_b, "routed-on-b")[0] == "FAILED"
    with EventBusClient(engine_b.address) as bus_b:
        assert short(wait_for(bus, "routed-on-a", "workflow.faulted")[-2]) == "workflow.faulted"
        assert short(wait_for(bus_b, "routed-on-b", "workflow.faulted")[-2]) == "workflow.faulted"
        time.sleep(0.3)
        assert lifecycle(bus_b, "routed-on-a") == [] and lifecycle(bus, "routed-on-b") == []


# -- schedule.on correlation, worker restarts ----------------------------------------------------

def test_schedule_on_reports_its_correlation_before_the_start(tmp_path: Path) -> None:
    from declarative_wf.api.scheduler import embedded_scheduler

    with running_engine(tmp_path / "on.db") as (engine, workflow_client), \
            embedded_scheduler(engine.address, [declarative_wf.compile(SW_ON_PAIR)], tick=0.05, refresh=0.1) as scheduler, \
            EventBusClient(engine.address) as bus:  # fmt: skip
        deadline = time.monotonic() + 20
        while not any(s["id"] == "schedule:on-pair" for s in bus.subscriptions()) and time.monotonic() < deadline:
            time.sleep(0.05)
        bus.publish(event("pair.left", {"k": 2}, time="2026-01-01T00:00:00Z"))
        bus.publish(event("pair.right", {"k": 2}))
        while not scheduler.started and time.monotonic() < deadline:
            time.sleep(0.05)
        iid = scheduler.started[0]
        state = workflow_client.wait_for_workflow_completion(iid, timeout_in_seconds=20)
        assert state is not None and state.runtime_status.name == "COMPLETED"
        events = wait_for(bus, iid, "workflow.completed")
    seen = [short(e) for e in events if "status-changed" not in e["type"]]
    assert seen[:3] == ["workflow.correlation-started", "workflow.correlation-completed", "workflow.started"], seen
    started, completed = events[0]["data"], events[1]["data"]
    assert started == {"name": f"on-pair-{iid}.test", "startedAt": "2026-01-01T00:00:00Z"}
    assert completed["correlationKeys"] == {"k": 2} and completed["completedAt"].endswith("Z")


SLOW = """
document: {dsl: '1.0.0', namespace: test, name: slow, version: '1.0.0'}
do:
  - first:
      set: {a: 1}
  - pause:
      wait: {seconds: 2}
  - last:
      set: {b: 2}
"""


def test_a_new_worker_replaying_the_history_publishes_nothing_twice(tmp_path: Path) -> None:
    """The worker is shut down while the instance waits; a new worker replays the history
    (workflow.started, the first task...) and must publish only what is new."""
    with Engine(tmp_path / "replay.db") as engine, EventBusClient(engine.address) as bus:
        runtime = start_worker(engine.host, engine.port)
        workflow_client = new_client(engine.host, engine.port)
        try:
            workflow_client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(declarative_wf.compile(SLOW), {}), instance_id="replayed")
            wait_for(bus, "replayed", "task.started")
            deadline = time.monotonic() + 10
            while "task.started/do/1/pause" not in [short(e) for e in lifecycle(bus, "replayed")] and time.monotonic() < deadline:
                time.sleep(0.05)
            runtime.shutdown()
            runtime = start_worker(engine.host, engine.port)
            state = workflow_client.wait_for_workflow_completion("replayed", timeout_in_seconds=30)
            assert state is not None and state.runtime_status.name == "COMPLETED"
            events = wait_for(bus, "replayed", "workflow.completed")
        finally:
            workflow_client.close()
            runtime.shutdown()
    seen = [short(e) for e in events if "status-changed" not in e["type"]]
    assert seen == [
        "workflow.started",
        "task.created/do/0/first", "task.started/do/0/first", "task.completed/do/0/first",
        "task.created/do/1/pause", "task.started/do/1/pause", "task.completed/do/1/pause",
        "task.created/do/2/last", "task.started/do/2/last", "task.completed/do/2/last",
        "workflow.completed",
    ], seen  # fmt: skip
