"""Serverless Workflow documents with emit / listen, and lifecycle CloudEvents, on a real
engine (compiled by the SW compiler, run by the interpreter)."""

from __future__ import annotations

from pathlib import Path

import dapr.ext.workflow as wf
import pytest

import declarative_wf
from declarative_wf.engine.events_service import EventBusClient

from .conftest import Start, event, wait_done, wait_subscribed

pytestmark = pytest.mark.integration

LISTENER = """
document: {dsl: '1.0.0', namespace: test, name: order-listener, version: '1.0.0'}
do:
  - waitForPayment:
      listen:
        to:
          one:
            with: {type: com.shop.payment.received.v1}
            correlate:
              order: {from: .data.orderId, expect: '${ .orderId }'}
        read: envelope
      output:
        as: '${ {paidBy: .[0].data.payer, source: .[0].source} }'
"""

EMITTER = """
document: {dsl: '1.0.0', namespace: test, name: payer, version: '1.0.0'}
do:
  - pay:
      emit:
        event:
          with:
            source: https://payments.example
            type: com.shop.payment.received.v1
            data:
              orderId: '${ .orderId }'
              payer: '${ .name }'
"""


def test_emit_to_listen_between_two_sw_instances(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    listener = start(declarative_wf.compile(LISTENER), {"orderId": 42})
    wait_subscribed(bus, listener)
    other = start(declarative_wf.compile(EMITTER), {"orderId": 41, "name": "nobody"})
    emitter = start(declarative_wf.compile(EMITTER), {"orderId": 42, "name": "Ada"})
    status, emitted = wait_done(client, emitter)
    assert status == "COMPLETED", emitted
    assert {"id", "specversion", "time", "source", "type", "data"} <= set(emitted)
    assert emitted["data"] == {"orderId": 42, "payer": "Ada"} and emitted["specversion"] == "1.0"
    assert wait_done(client, other)[0] == "COMPLETED"
    assert wait_done(client, listener) == ("COMPLETED", {"paidBy": "Ada", "source": "https://payments.example"})


ANY_UNTIL = """
document: {dsl: '1.0.0', namespace: test, name: vitals, version: '1.0.0'}
do:
  - watch:
      listen:
        to:
          any:
            - with: {type: temperature, data: '${ .value > 38 }'}
          until:
            one: {with: {type: checked-out}}
      foreach:
        item: reading
        at: i
        do:
          - note:
              set:
                at: '${ $i }'
                value: '${ $reading.value }'
"""


def test_sw_listen_any_until_with_foreach(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    iid = start(declarative_wf.compile(ANY_UNTIL), {})
    wait_subscribed(bus, iid)
    for value in (37, 39, 40):
        bus.publish(event("temperature", {"value": value}))
    bus.publish(event("checked-out"))
    status, output = wait_done(client, iid)
    assert (status, output) == ("COMPLETED", [{"at": 0, "value": 39}, {"at": 1, "value": 40}])


SIMPLE = """
document: {dsl: '1.0.0', namespace: test, name: observed, version: '1.0.0'}
do:
  - first:
      set: {a: 1}
  - second:
      set: {b: '${ .a + 1 }'}
"""


def test_lifecycle_events_reach_a_listener(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    from declarative_wf.ir.model import (
        EventCorrelation,
        EventFilter,
        EventStrategy,
        ListenNode,
    )

    from .conftest import graph, jq, lit

    observed_id = "lifecycle-observed-1"
    subject = {"who": EventCorrelation(jq(".subject"), expect=lit(observed_id))}
    watcher = graph(ListenNode(
        id="watch",
        to=EventStrategy("any", (EventFilter({"type": lit(r"io\.serverlessworkflow\..*")}, subject),)),
        until=jq('any(.[]; .type == "io.serverlessworkflow.workflow.completed.v1")'),
        read="envelope",
    ))  # fmt: skip
    watcher_id = start(watcher)
    wait_subscribed(bus, watcher_id)
    start(declarative_wf.compile(SIMPLE), {}, instance_id=observed_id)
    assert wait_done(client, observed_id) == ("COMPLETED", {"b": 2})
    status, events = wait_done(client, watcher_id)
    assert status == "COMPLETED"
    types = [e["type"].removeprefix("io.serverlessworkflow.") for e in events]
    assert types[0] == "workflow.started.v1" and types[-1] == "workflow.completed.v1"
    assert "task.started.v1" in types and "task.completed.v1" in types
    completed = [e["data"] for e in events if e["type"].endswith("task.completed.v1")]
    assert [d["task"] for d in completed] == ["/do/0/first", "/do/1/second"]
    assert completed[1]["workflow"] == f"observed-{observed_id}.test" and completed[1]["completedAt"]
    assert events[-1]["data"]["output"] == {"b": 2}  # the workflow's output
    assert len({e["id"] for e in events}) == len(events), "no duplicates from replays"


def test_run_api_emits(tmp_path: Path) -> None:
    """``declarative_wf.run`` (what ``dwf run`` uses) knows the event activities."""
    result = declarative_wf.run(declarative_wf.compile(EMITTER), {"orderId": 1, "name": "Bo"}, db=tmp_path / "run.db")
    assert result.status == "COMPLETED" and result.output["data"] == {"orderId": 1, "payer": "Bo"}


def test_event_activities_without_an_engine_address_say_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from declarative_wf.activities.events import (
        ADDRESS_VARIABLE,
        EventBusUnavailable,
        event_activities,
    )

    monkeypatch.delenv(ADDRESS_VARIABLE, raising=False)
    emit = event_activities(None).get("dwf.events.emit")
    assert emit is not None
    with pytest.raises(EventBusUnavailable, match="DWF_EVENT_BUS=host:port"):
        emit.fn({"event": {"type": "t"}}, None)
