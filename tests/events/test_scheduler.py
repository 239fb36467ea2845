"""schedule: every, cron, after and on — deterministic with a fake clock, then for real on an
embedded engine and in ``dwf serve``."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import declarative_wf
from declarative_wf.api.scheduler import (
    Schedule,
    Scheduled,
    ScheduleError,
    Scheduler,
    embedded_scheduler,
    instance_id,
    parse_schedule,
)
from declarative_wf.engine import Engine
from declarative_wf.engine.events_service import EventBusClient

from .conftest import SW_ON_PAIR, event, running_engine

T0 = 1_800_000_000.0  # 2027-01-15T08:00:00Z


def test_parse_schedule() -> None:
    assert parse_schedule({"every": {"seconds": 30}}) == Schedule(every=30.0)
    assert parse_schedule({"after": "PT1M"}) == Schedule(after=60.0)
    assert parse_schedule({"cron": "0 0 * * *"}) == Schedule(cron="0 0 * * *")
    on = parse_schedule({"on": {"all": [{"with": {"type": "a"}}, {"with": {"type": "b", "data": "${ .x > 1 }"}}]}})
    assert on.on_mode == "all" and on.on_filters == 2
    assert on.on_spec == {"groups": {"main": [{"with": {"type": {"regex": "a"}}, "correlate": {}},
                                              {"with": {"type": {"regex": "b"}, "data": {"jq": ".x > 1"}}, "correlate": {}}]}}


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({}, "needs one of every, cron, after or on"),
        ({"every": "soon"}, "schedule.every: 'soon' is not an ISO 8601 duration"),
        ({"every": {"seconds": 0}}, "must be a positive duration"),
        ({"cron": "every day"}, "is not a cron expression"),
        ({"on": {"one": {}}}, "schedule.on: /schedule/on/one/with: an event filter needs 'with'"),
        ("daily", "must be an object"),
    ],
)
def test_bad_schedules_say_what_is_wrong(raw: Any, words: str) -> None:
    with pytest.raises(ScheduleError) as caught:
        parse_schedule(raw)
    assert words in str(caught.value)


def test_instance_ids_follow_dapr_rules() -> None:
    assert instance_id("nightly backup", "cron-20270115T000000000Z") == "nightly-backup-cron-20270115T000000000Z"
    long = instance_id("x" * 80, "after-1")
    assert len(long) <= 64 and long != instance_id("x" * 79 + "y", "after-1")


class Fake:
    """A clock, an instance store and a starter that refuses ids that exist (like the engine)."""

    def __init__(self) -> None:
        self.now = T0
        self.instances: dict[str, tuple[str, float | None]] = {}
        self.inputs: dict[str, Any] = {}

    def starter(self, scheduled: Scheduled, iid: str, value: Any) -> bool:
        if iid in self.instances:
            return False
        self.instances[iid] = ("RUNNING", None)
        self.inputs[iid] = value
        return True

    def scheduler(self, schedule: Schedule, name: str = "job") -> Scheduler:
        item = Scheduled(name, f"{name}@1", schedule)
        made = Scheduler("127.0.0.1:1", lambda: [item], self.starter, self.instances.get, clock=lambda: self.now)
        made.refresh()
        return made


def test_every_fires_on_interval_boundaries_once_per_slot() -> None:
    fake = Fake()
    first = fake.scheduler(Schedule(every=60.0))
    for step in range(0, 181, 10):  # three minutes in 10-second ticks
        fake.now = T0 + step + 5
        first.run_once()
    assert first.started == [instance_id("job", f"every-20270115T08{m:02d}00000Z") for m in (1, 2, 3)]
    # A restarted scheduler in the same slot starts nothing twice.
    second = fake.scheduler(Schedule(every=60.0))
    fake.now = T0 + 175
    second.run_once()
    fake.now = T0 + 185
    second.run_once()
    assert second.started == [] and len(fake.instances) == 3


def test_cron_fires_at_its_times() -> None:
    fake = Fake()
    scheduler = fake.scheduler(Schedule(cron="*/15 * * * *"))
    for minute in range(61):
        fake.now = T0 + minute * 60 + 1
        scheduler.run_once()
    assert scheduler.started == [instance_id("job", s) for s in
                                 ("cron-20270115T081500000Z", "cron-20270115T083000000Z", "cron-20270115T084500000Z", "cron-20270115T090000000Z")]


def test_after_waits_for_the_previous_run_to_finish() -> None:
    fake = Fake()
    scheduler = fake.scheduler(Schedule(after=30.0))
    scheduler.run_once()
    assert scheduler.started == ["job-after-1"]
    fake.now += 100
    scheduler.run_once()
    assert scheduler.started == ["job-after-1"], "still running: no new run"
    fake.instances["job-after-1"] = ("COMPLETED", fake.now)
    fake.now += 29
    scheduler.run_once()
    assert scheduler.started == ["job-after-1"]
    fake.now += 2
    scheduler.run_once()
    assert scheduler.started == ["job-after-1", "job-after-2"]
    # A new scheduler (restart) finds run 2 and waits for it.
    again = fake.scheduler(Schedule(after=30.0))
    again.run_once()
    assert again.started == []


SW_EVERY = """
document: {dsl: '1.0.0', namespace: test, name: ticker, version: '1.0.0'}
schedule:
  every: {milliseconds: 400}
do:
  - tick:
      set: {ticked: true}
"""

def wait_for(condition: Callable[[], Any], timeout: float = 20) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


@pytest.mark.integration
def test_embedded_every_and_on(tmp_path: Path) -> None:
    workflows = [declarative_wf.compile(SW_EVERY), declarative_wf.compile(SW_ON_PAIR)]
    with running_engine(tmp_path / "wf.db") as (engine, client), \
            embedded_scheduler(engine.address, workflows, tick=0.05, refresh=0.1) as scheduler, EventBusClient(engine.address) as bus:
        ticks = wait_for(lambda: [i for i in scheduler.started if i.startswith("ticker-every-")][:2])
        for iid in ticks:
            state = client.wait_for_workflow_completion(iid, timeout_in_seconds=20)
            assert state is not None and state.runtime_status.name == "COMPLETED"
        wait_for(lambda: any(s["id"] == "schedule:on-pair" for s in bus.subscriptions()))
        bus.publish(event("pair.left", {"k": 1}))
        bus.publish(event("pair.left", {"k": 2}))
        bus.publish(event("pair.right", {"k": 2}))
        started = wait_for(lambda: [i for i in scheduler.started if i.startswith("on-pair-on-")])
        state = client.wait_for_workflow_completion(started[0], timeout_in_seconds=20)
        assert state is not None and state.runtime_status.name == "COMPLETED", state
        import json

        assert json.loads(state.serialized_output) == {"keys": [2, 2], "types": ["pair.left", "pair.right"]}
        assert len([i for i in scheduler.started if i.startswith("on-pair-on-")]) == 1, "k=1 has no right event yet"


@pytest.mark.integration
def test_dwf_serve_starts_instances_on_events(tmp_path: Path) -> None:
    from declarative_wf.api.server import ServeOptions, Server

    text = """
document: {dsl: '1.0.0', namespace: test, name: on-alert, version: '1.0.0'}
schedule:
  on:
    one:
      with: {type: com.example.heartbeat.low}
do:
  - note:
      set:
        patient: '${ $workflow.input[0].data.patient }'
"""
    server = Server(ServeOptions(db=tmp_path / "state.db", http_port=0, grpc_port=0)).start()
    try:
        base = f"http://127.0.0.1:{server.http_port}"
        answer = httpx.post(f"{base}/api/v1/definitions", content=text, headers={"content-type": "application/yaml"})
        assert answer.status_code in (200, 201), answer.text
        assert server.engine is not None
        with EventBusClient(server.engine.address) as bus:
            wait_for(lambda: any(s["id"] == "schedule:on-alert" for s in bus.subscriptions()))
        sent = httpx.post(f"{base}/events", json=event("com.example.heartbeat.low", {"patient": "p-7"}),
                          headers={"content-type": "application/cloudevents+json"})  # fmt: skip
        assert sent.status_code == 202
        scheduler = server.scheduler
        started = wait_for(lambda: list(scheduler.started))
        def done() -> Any:
            got = httpx.get(f"{base}/api/v1/instances/{started[0]}").json()
            return got if got.get("runtimeStatus") == "COMPLETED" else None
        assert wait_for(done)["output"] == {"patient": "p-7"}
    finally:
        server.stop()


@pytest.mark.integration
def test_serve_scheduler_drops_queues_of_deleted_definitions(tmp_path: Path) -> None:
    from declarative_wf.api.scheduler import registry_scheduler

    class NoDefinitions:
        def names(self) -> list[Any]:
            return []

    with Engine(tmp_path / "wf.db") as engine, EventBusClient(engine.address) as bus:
        bus.subscribe("schedule:gone", {"groups": {"main": []}})
        bus.subscribe("other-queue", {"groups": {"main": []}})
        with registry_scheduler(NoDefinitions(), None, engine.address, tick=0.05, refresh=0.05):
            wait_for(lambda: not any(s["id"] == "schedule:gone" for s in bus.subscriptions()))
        assert [s["id"] for s in bus.subscriptions()] == ["other-queue"]
