"""The event bus on its own (SQLite, no engine), its gRPC service, and restarts."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any, ClassVar

import pytest

from declarative_wf.engine import Engine, EngineOptions
from declarative_wf.engine.eventbus import (
    EventBus,
    EventValidationError,
    SubscriptionGone,
    SubscriptionSpec,
    validate_event,
)
from declarative_wf.engine.events_service import EventBusClient, EventBusError
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
from declarative_wf.interpreter.workflow import make_payload
from declarative_wf.ir.model import EventFilter, EventStrategy, ListenNode
from declarative_wf.worker import new_client, start_worker

from ..httpserver import LocalServer, QuietHandler, serving
from .conftest import event, graph, lit, wait_done, wait_subscribed


class Recorder:
    def __init__(self) -> None:
        self.delivered: list[tuple[str, str, dict[str, Any]]] = []
        self.gone: set[str] = set()

    def __call__(self, instance_id: str, name: str, payload: str) -> None:
        if instance_id in self.gone:
            raise SubscriptionGone(f"{instance_id} finished")
        self.delivered.append((instance_id, name, json.loads(payload)))


def spec(**groups: Any) -> SubscriptionSpec:
    return SubscriptionSpec.from_json({"groups": groups})


@pytest.fixture
def bus(tmp_path: Path) -> Any:
    recorder = Recorder()
    opened = EventBus(tmp_path / "bus.db", recorder)
    opened.start()
    yield opened, recorder
    opened.close()


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ([], "must be a JSON object"),
        ({"id": "1", "source": "s", "type": "t"}, "has no 'specversion'"),
        ({"specversion": "1.0", "source": "s", "type": "t"}, "has no 'id'"),
        ({"specversion": "1.0", "id": "", "source": "s", "type": "t"}, "'id' must be a non-empty string"),
        ({"specversion": "0.3", "id": "1", "source": "s", "type": "t"}, "use \"1.0\""),
        ({"specversion": "1.0", "id": "1", "source": "s", "type": "t", "Bad-Name": 1}, "attribute name 'Bad-Name'"),
        ({"specversion": "1.0", "id": "1", "source": "s", "type": "t", "time": "yesterday"}, "RFC 3339"),
        ({"specversion": "1.0", "id": "1", "source": "s", "type": "t", "data": 1, "data_base64": "AA=="}, "both 'data' and 'data_base64'"),
    ],
)
def test_invalid_events_are_rejected_with_the_reason(value: Any, words: str) -> None:
    with pytest.raises(EventValidationError, match=None) as caught:
        validate_event(value)
    assert words in str(caught.value)


def test_matching_groups_filters_and_delivery(bus: Any) -> None:
    opened, recorder = bus
    opened.subscribe("s1", spec(main=[{"with": {"type": {"regex": "a\\..*"}}, "correlate": {"k": {"from": ".data.k", "expect": 1}}}]),
                     instance_id="i1", event_name="e1")
    opened.subscribe("s2", spec(until=[{"with": {"type": {"equals": "stop"}}}], main=[]), instance_id="i2", event_name="e2")
    assert opened.publish(event("a.x", {"k": 2})).deliveries == 1  # only s2 (any event)
    assert opened.publish(event("a.x", {"k": 1})).deliveries == 2
    assert opened.publish(event("stop")).deliveries == 1
    got = [(iid, name, d["group"], d["filter"], d["correlation"]) for iid, name, d in recorder.delivered]
    assert got == [
        ("i2", "e2", "main", None, {}),
        ("i1", "e1", "main", 0, {"k": 1}),
        ("i2", "e2", "main", None, {}),
        ("i2", "e2", "until", 0, {}),
    ]
    assert [d["seq"] for _, _, d in recorder.delivered] == sorted(d["seq"] for _, _, d in recorder.delivered)


def test_events_before_a_subscription_are_not_delivered(bus: Any) -> None:
    opened, recorder = bus
    assert opened.publish(event("early")).deliveries == 0
    assert [e["type"] for e in opened.recent()] == ["early"]
    opened.subscribe("late", spec(main=[]), instance_id="i", event_name="e")
    assert not recorder.delivered
    assert opened.subscribe("late", spec(main=[]), instance_id="i", event_name="e") is False  # idempotent


def test_a_finished_subscriber_loses_its_subscription(bus: Any) -> None:
    opened, recorder = bus
    recorder.gone.add("done")
    opened.subscribe("s", spec(main=[]), instance_id="done", event_name="e")
    opened.publish(event("x"))
    assert opened.subscriptions() == []


def test_a_failing_jq_filter_is_a_non_match(bus: Any) -> None:
    opened, _ = bus
    opened.subscribe("s", spec(main=[{"with": {"data": {"jq": ".temperature > 38"}}}]), instance_id="i", event_name="e")
    assert opened.publish(event("x", "not an object")).deliveries == 0
    assert opened.publish(event("x", {"temperature": 40})).deliveries == 1


def test_queue_subscription_poll_and_ack(bus: Any) -> None:
    opened, _ = bus
    opened.subscribe("q", spec(main=[{"with": {"type": {"equals": "tick"}}}]))
    opened.publish(event("tick", 1))
    opened.publish(event("tock", 2))
    opened.publish(event("tick", 3))
    polled = opened.poll("q")
    assert [d["event"]["data"] for d in polled] == [1, 3]
    assert opened.ack("q", [polled[0]["seq"]]) == 1
    assert [d["event"]["data"] for d in opened.poll("q")] == [3]
    with pytest.raises(EventValidationError, match="no subscription"):
        opened.poll("nope")


def test_undelivered_events_survive_a_restart(tmp_path: Path) -> None:
    failing = Recorder()

    def crash(instance_id: str, name: str, payload: str) -> None:
        raise KeyboardInterrupt  # the process dies between commit and delivery

    first = EventBus(tmp_path / "bus.db", crash)
    first.subscribe("s", spec(main=[]), instance_id="i", event_name="e")
    with pytest.raises(KeyboardInterrupt):
        first.publish(event("kept", 1))
    first.close()
    second = EventBus(tmp_path / "bus.db", failing)
    second.start()
    assert [(d[0], d[2]["event"]["type"]) for d in failing.delivered] == [("i", "kept")]
    assert second.subscriptions()[0]["id"] == "s"
    second.close()


def test_grpc_service_and_client_errors(tmp_path: Path) -> None:
    with Engine(tmp_path / "wf.db") as engine, EventBusClient(engine.address) as client:
        assert client.publish(event("x")) == {"seq": 1, "deliveries": 0}
        with pytest.raises(EventBusError) as caught:
            client.publish({"specversion": "1.0", "id": "1", "type": "t"})
        assert caught.value.invalid and "has no 'source'" in caught.value.message
        with pytest.raises(EventBusError, match="needs 'groups'"):
            client.subscribe("s", {"nope": 1})
        client.subscribe("q", {"groups": {"main": []}})
        client.publish_many([event("a"), event("b")])
        assert [d["event"]["type"] for d in client.poll("q", wait_seconds=1)] == ["a", "b"]
        assert [e["type"] for e in client.recent()] == ["x", "a", "b"]
    with EventBusClient("127.0.0.1:1", timeout=2) as nowhere, pytest.raises(EventBusError, match="not reachable"):
        nowhere.publish(event("x"))


def test_listen_survives_an_engine_restart(tmp_path: Path) -> None:
    """The subscription lives in the engine's file: a listener that subscribed before the
    engine stopped receives an event published after it started again."""
    db = tmp_path / "wf.db"
    workflow = graph(ListenNode(id="listen", to=EventStrategy("one", (EventFilter({"type": lit("after.restart")}),))))
    with Engine(db) as engine:
        runtime = start_worker(engine.host, engine.port)
        client = new_client(engine.host, engine.port)
        client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(workflow, None), instance_id="restarted")
        with EventBusClient(engine.address) as bus:
            wait_subscribed(bus, "restarted")
        client.close()
        runtime.shutdown()
    with Engine(db) as engine:
        with EventBusClient(engine.address) as bus:
            assert [s["instance_id"] for s in bus.subscriptions()] == ["restarted"]
            assert bus.publish(event("after.restart", "hello"))["deliveries"] == 1
        runtime = start_worker(engine.host, engine.port)
        client = new_client(engine.host, engine.port)
        try:
            assert wait_done(client, "restarted") == ("COMPLETED", ["hello"])
        finally:
            client.close()
            runtime.shutdown()


class _Sink(QuietHandler):
    received: ClassVar[list[dict[str, Any]]] = []
    failures_left = 2

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        if _Sink.failures_left > 0:
            _Sink.failures_left -= 1
            self.send_response(503)
        else:
            _Sink.received.append({"type": self.headers["content-type"], "event": json.loads(body)})
            self.send_response(202)
        self.end_headers()


def test_events_are_forwarded_to_a_sink_with_retries(tmp_path: Path) -> None:
    with serving(LocalServer(_Sink)) as server:
        url = f"{server.url}/events"
        with Engine(tmp_path / "wf.db", options=EngineOptions(event_sink_url=url)) as engine, EventBusClient(engine.address) as client:
            client.publish(event("to.sink", {"n": 1}, id="fwd-1"))
            deadline = time.monotonic() + 15
            while not _Sink.received and time.monotonic() < deadline:
                time.sleep(0.05)
        assert _Sink.received == [{"type": "application/cloudevents+json", "event": event("to.sink", {"n": 1}, id="fwd-1")}]


def test_subscriptions_of_finished_instances_are_pruned(bus: Any) -> None:
    opened, _ = bus
    opened.subscribe("a", spec(main=[]), instance_id="running", event_name="e")
    opened.subscribe("b", spec(main=[]), instance_id="finished", event_name="e")
    opened.subscribe("q", spec(main=[]))  # queues belong to no instance
    assert opened.prune(lambda iid: iid == "running") == 1
    assert sorted(s["id"] for s in opened.subscriptions()) == ["a", "q"]


@pytest.mark.parametrize(
    ("spec_json", "words"),
    [
        ({"groups": []}, "needs 'groups'"),
        ({"groups": {"main": {}}}, "must be a list of filters"),
        ({"groups": {"main": [1]}}, "must be an object with 'with'"),
        ({"groups": {"main": [{"with": []}]}}, "'with' must be an object"),
        ({"groups": {"main": [{"with": {"type": "t"}}]}}, "needs one of equals / regex / jq"),
        ({"groups": {"main": [{"correlate": {"k": {}}}]}}, "needs 'from'"),
    ],
)
def test_bad_subscriptions_are_rejected(spec_json: Any, words: str) -> None:
    with pytest.raises(EventValidationError) as caught:
        SubscriptionSpec.from_json(spec_json)
    assert words in str(caught.value)


def test_start_prunes_subscriptions_of_ended_instances(tmp_path: Path) -> None:
    first = EventBus(tmp_path / "bus.db", Recorder())
    first.subscribe("old", spec(main=[]), instance_id="ended", event_name="e")
    first.subscribe("live", spec(main=[]), instance_id="running", event_name="e")
    first.close()
    second = EventBus(tmp_path / "bus.db", Recorder(), alive=lambda iid: iid == "running")
    second.start()
    assert [s["id"] for s in second.subscriptions()] == ["live"]
    second.close()
