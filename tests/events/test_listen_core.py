"""The listen node on the interpreter's in-memory host (no engine): the commands it issues,
replay determinism, timeouts, and what it ignores."""

from __future__ import annotations

from typing import Any

from declarative_wf.interpreter.commands import CallActivity, Sleep, WaitEvent
from declarative_wf.ir.model import EventFilter, EventStrategy, ListenNode

from ..interpreter.harness import EPOCH, FakeHost, drive
from .conftest import graph, jq, lit

NAME = "dwf.listen/listen/0/1"


def delivery(data: Any, id: str, group: str = "main", filter: int | None = 0, **correlation: Any) -> dict[str, Any]:
    event = {"specversion": "1.0", "id": id, "source": "/t", "type": "t", "data": data}
    return {"event": event, "seq": 1, "group": group, "filter": filter, "correlation": correlation}


def host(events: list[tuple[float, str, Any]]) -> FakeHost:
    return FakeHost({"dwf.events.subscribe": lambda request: {"created": True}, "dwf.events.unsubscribe": lambda request: {"removed": True}}, events)


def listen_any_until(text: str) -> Any:
    return graph(ListenNode(id="listen", to=EventStrategy("any", (EventFilter({"type": lit("t")}),)), until=jq(text)))


def test_subscribe_wait_unsubscribe_and_replay() -> None:
    events = [(1, NAME, delivery(1, "a")), (2, NAME, delivery(2, "a")), (3, NAME, delivery(3, "b"))]
    first = drive(listen_any_until("length == 2"), {"x": 1}, host=host(list(events)), instance_id="i-1")
    assert first.status == "completed" and first.value == [1, 3]
    subscribe = first.commands[0]
    assert isinstance(subscribe, CallActivity) and subscribe.name == "dwf.events.subscribe"
    assert subscribe.input["input"] == {
        "id": "i-1/listen/0/1", "event_name": NAME,
        "spec": {"groups": {"main": [{"with": {"type": {"regex": "t"}}, "correlate": {}}]}, "input": {"x": 1}},
    }  # fmt: skip
    assert [type(c).__name__ for c in first.commands[1:]] == ["WaitEvent"] * 3 + ["CallActivity"]
    assert first.commands[-1].name == "dwf.events.unsubscribe"
    second = drive(listen_any_until("length == 2"), {"x": 1}, host=host(list(events)), instance_id="i-1")
    assert second.commands == first.commands and second.completions == first.completions


def test_timeout_unsubscribes_and_fails() -> None:
    node = ListenNode(id="listen", to=EventStrategy("one", (EventFilter({"type": lit("t")}),)), timeout_seconds=lit(30))
    out = drive(graph(node), host=host([]))
    assert out.status == "failed" and out.value.type == "Timeout"
    assert out.clock == EPOCH.replace(second=30)
    assert isinstance(out.commands[-1], CallActivity) and out.commands[-1].name == "dwf.events.unsubscribe"
    assert any(isinstance(c, Sleep) for c in out.commands) and any(isinstance(c, WaitEvent) for c in out.commands)


def test_events_not_from_the_bus_are_ignored() -> None:
    out = drive(listen_any_until("length == 1"), host=host([(1, NAME, "raised by hand"), (2, NAME, delivery("ok", "x"))]))
    assert out.value == ["ok"]


def test_two_listens_get_distinct_event_names() -> None:
    first = ListenNode(id="listen", to=EventStrategy("any", ()))
    again = ListenNode(id="again", to=EventStrategy("any", ()))
    out = drive(graph(first, again), host=host([(1, NAME, delivery(1, "a")), (2, "dwf.listen/again/0/2", delivery(2, "b"))]))
    assert out.status == "completed" and out.value == [2]
    assert [c.name for c in out.commands if isinstance(c, WaitEvent)] == [NAME, "dwf.listen/again/0/2"]
