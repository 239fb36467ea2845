"""listen / emit on a real engine and worker: strategies, until, correlation, foreach, read."""

from __future__ import annotations

from typing import Any

import dapr.ext.workflow as wf
import pytest

from declarative_wf.engine.events_service import EventBusClient
from declarative_wf.ir import Block, SetNode, TaskNode
from declarative_wf.ir.model import (
    EventCorrelation,
    EventFilter,
    EventStrategy,
    ListenNode,
)

from .conftest import Start, event, graph, jq, lit, wait_done, wait_subscribed

pytestmark = pytest.mark.integration


def listen(to: EventStrategy, **fields: Any) -> ListenNode:
    return ListenNode(id="listen", to=to, **fields)


def one(**attributes: Any) -> EventStrategy:
    return EventStrategy("one", (EventFilter({k: v for k, v in attributes.items()}),))


def test_listen_one_returns_the_event_data(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    iid = start(graph(listen(one(type=lit("test.one.v1")))))
    wait_subscribed(bus, iid)
    assert bus.publish(event("test.other.v1", {"n": 0}))["deliveries"] == 0
    assert bus.publish(event("test.one.v1", {"n": 1}))["deliveries"] == 1
    assert wait_done(client, iid) == ("COMPLETED", [{"n": 1}])
    assert not [s for s in bus.subscriptions() if s["instance_id"] == iid], "unsubscribed at the end"


def test_filters_regex_and_jq_predicate_on_data(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    node = listen(one(type=lit(r"com\.hospital\.(temp|bpm)"), data=jq(".temperature > 38")), read="envelope")
    iid = start(graph(node))
    wait_subscribed(bus, iid)
    bus.publish(event("com.hospital.temp", {"temperature": 37}))
    bus.publish(event("com.hospital.other", {"temperature": 40}))
    hot = event("com.hospital.temp", {"temperature": 39.5}, id="hot")
    bus.publish(hot)
    status, output = wait_done(client, iid)
    assert status == "COMPLETED"
    assert [e["id"] for e in output] == ["hot"] and output[0]["data"] == {"temperature": 39.5}


def test_listen_all_waits_for_every_filter(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    strategy = EventStrategy("all", (EventFilter({"type": lit("t.a")}), EventFilter({"type": lit("t.b")})))
    iid = start(graph(listen(strategy)))
    wait_subscribed(bus, iid)
    bus.publish(event("t.b", "b1"))
    bus.publish(event("t.b", "b2"))  # that filter already has its event
    bus.publish(event("t.a", "a1"))
    assert wait_done(client, iid) == ("COMPLETED", ["b1", "a1"])


def test_any_empty_until_expression(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    iid = start(graph(listen(EventStrategy("any", ()), until=jq("length >= 3"))))
    wait_subscribed(bus, iid)
    for n in range(5):
        bus.publish(event(f"anything.{n}", n))
    assert wait_done(client, iid) == ("COMPLETED", [0, 1, 2])


def test_any_until_events_are_not_in_the_output(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    node = listen(
        EventStrategy("any", (EventFilter({"type": lit("vitals")}),)),
        until_events=EventStrategy("one", (EventFilter({"type": lit("checked-out")}),)),
    )
    iid = start(graph(node))
    wait_subscribed(bus, iid)
    bus.publish(event("vitals", 1))
    bus.publish(event("vitals", 2))
    bus.publish(event("checked-out", "bye"))
    bus.publish(event("vitals", 3))
    assert wait_done(client, iid) == ("COMPLETED", [1, 2])


def test_correlation_with_expect_from_input(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    correlate = {"order": EventCorrelation(jq(".data.order"), expect=jq(".order"))}
    node = listen(EventStrategy("one", (EventFilter({"type": lit("paid")}, correlate),)))
    first, second = start(graph(node), {"order": 1}), start(graph(node), {"order": 2})
    wait_subscribed(bus, first)
    wait_subscribed(bus, second)
    assert bus.publish(event("paid", {"order": 2, "n": "for two"}))["deliveries"] == 1
    assert bus.publish(event("paid", {"order": 1, "n": "for one"}))["deliveries"] == 1
    assert wait_done(client, first) == ("COMPLETED", [{"order": 1, "n": "for one"}])
    assert wait_done(client, second) == ("COMPLETED", [{"order": 2, "n": "for two"}])


def test_correlation_without_expect_fixes_the_first_value(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    # accumulate-room-readings: a temperature and a humidity reading of the same room.
    room = {"roomId": EventCorrelation(jq(".roomid"))}
    strategy = EventStrategy("all", (EventFilter({"type": lit("temperature")}, room), EventFilter({"type": lit("humidity")}, room)))
    iid = start(graph(listen(strategy)))
    wait_subscribed(bus, iid)
    bus.publish(event("temperature", 21, roomid="kitchen"))
    bus.publish(event("humidity", 80, roomid="bathroom"))  # another room: skipped
    bus.publish(event("humidity", 40, roomid="kitchen"))
    assert wait_done(client, iid) == ("COMPLETED", [21, 40])


def test_foreach_runs_per_event(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    body = Block("call", {"call": TaskNode(id="call", activity="record", args=jq("{event: $ev, at: $i}"))})
    node = listen(EventStrategy("any", ()), until=jq("length == 2"), foreach=body, item_var="ev", index_var="i", item_output=jq(".seen"))
    iid = start(graph(node))
    wait_subscribed(bus, iid)
    bus.publish(event("x", "first"))
    bus.publish(event("x", "second"))
    assert wait_done(client, iid) == ("COMPLETED", [{"event": "first", "at": 0}, {"event": "second", "at": 1}])


def test_duplicate_event_ids_are_consumed_once(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    iid = start(graph(listen(EventStrategy("any", ()), until=jq("length == 2"))))
    wait_subscribed(bus, iid)
    bus.publish(event("dup", "a", id="same"))
    bus.publish(event("dup", "a again", id="same"))
    bus.publish(event("dup", "b", id="other"))
    assert wait_done(client, iid) == ("COMPLETED", ["a", "b"])


def test_listen_timeout_fails_and_unsubscribes(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    iid = start(graph(listen(one(type=lit("never")), timeout_seconds=lit(0.5))))
    status, message = wait_done(client, iid)
    assert status == "FAILED" and "did not finish within 0.5 seconds" in message
    assert not [s for s in bus.subscriptions() if s["instance_id"] == iid]


def test_emit_to_listen_between_two_instances(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    listener = start(graph(listen(one(type=lit("order.placed")), read="envelope")))
    wait_subscribed(bus, listener)
    emit = TaskNode(
        id="emit",
        activity="dwf.events.emit",
        args=Expr_template({"event": {"type": "order.placed", "source": "https://shop", "data": {"order": {"$expr": {"lang": "jq", "value": ".order"}}}}}),
    )
    emitter = start(graph(emit), {"order": 7})
    status, emitted = wait_done(client, emitter)
    assert status == "COMPLETED"
    assert emitted["specversion"] == "1.0" and emitted["type"] == "order.placed" and emitted["source"] == "https://shop"
    assert emitted["id"] and emitted["time"].endswith("Z") and emitted["data"] == {"order": 7}
    status, received = wait_done(client, listener)
    assert status == "COMPLETED" and received == [emitted]


def test_emit_fills_source_and_rejects_a_missing_type(client: wf.DaprWorkflowClient, start: Start) -> None:
    ok = start(graph(TaskNode(id="emit", activity="dwf.events.emit", args=lit({"event": {"type": "t.x"}})), name="emitter"))
    status, emitted = wait_done(client, ok)
    assert status == "COMPLETED" and emitted["source"] == f"/dwf/emitter/{ok}"
    bad = start(graph(TaskNode(id="emit", activity="dwf.events.emit", args=lit({"event": {"source": "x"}}))))
    status, message = wait_done(client, bad)
    assert status == "FAILED" and "has no 'type'" in message


def Expr_template(value: Any):
    from declarative_wf.ir import Expr

    return Expr("template", value)


def test_set_then_listen_sees_transformed_input(client: wf.DaprWorkflowClient, bus: EventBusClient, start: Start) -> None:
    correlate = {"k": EventCorrelation(jq(".data"), expect=jq(".key"))}
    nodes = graph(SetNode(id="set", value=jq("{key: (.n * 2)}")), listen(EventStrategy("one", (EventFilter({}, correlate),))))
    iid = start(nodes, {"n": 21})
    wait_subscribed(bus, iid)
    bus.publish(event("any", 41))
    bus.publish(event("any", 42))
    assert wait_done(client, iid) == ("COMPLETED", [42])
