"""Crash tests: SIGKILL the worker or the engine at the worst moments, restart, and check that
every instance completes, no committed activity ran again, and an activity in flight ran at most
twice. Real processes, a real SQLite file, the real Dapr SDK."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import dapr.ext.workflow as wf
import pytest

from .processes import Process, SideEffects, free_port, start_engine, start_worker

pytestmark = [pytest.mark.integration, pytest.mark.slow]

INSTANCES = 3
STEPS = 3

SPECS = {
    # A slow activity is running when the victim dies.
    "activity": {"steps": STEPS, "sleep": 1.0},
    # The orchestrator function itself is running (slow on purpose) when the victim dies.
    "turn": {"steps": STEPS, "slow_turn_ms": 1500},
    # Only durable timers are pending when the victim dies.
    "timer": {"steps": STEPS, "timer_ms": 1500},
}


class Cluster:
    def __init__(self, tmp: Path) -> None:
        self.db = tmp / "crash.db"
        self.log = tmp / "effects.log"
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.engine: Process = start_engine(self.db, self.port)
        self.worker: Process = start_worker(self.address, self.log)
        self.client = wf.DaprWorkflowClient(host="127.0.0.1", port=str(self.port))

    def effects(self) -> SideEffects:
        return SideEffects.read(self.log)

    def committed_steps(self, instance_ids: list[str]) -> set[str]:
        """Activities whose completion is in the stored history right now."""
        committed = set()
        for instance_id in instance_ids:
            done = sum(
                1 for event in self.client.get_workflow_history(instance_id) if event.event_type.value == "taskCompleted"
            )
            committed |= {f"{instance_id}/{step}" for step in range(done)}
        return committed

    def close(self) -> None:
        self.client.close()
        for process in (self.worker, self.engine):
            process.kill()


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    running = Cluster(tmp_path)
    yield running
    running.close()


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def reach_the_moment(cluster: Cluster, moment: str, instance_ids: list[str]) -> None:
    if moment == "activity":
        # At least one activity committed somewhere and another one running right now.
        wait_until(
            lambda: cluster.effects().dones and cluster.effects().in_flight(), 30, "an activity in flight"
        )
    elif moment == "turn":
        wait_until(lambda: len(cluster.effects().turns) >= 2, 30, "a second orchestrator turn")
    else:
        def timers_pending() -> bool:
            return all(
                any(e.event_type.value == "timerCreated" for e in cluster.client.get_workflow_history(i))
                for i in instance_ids
            )

        wait_until(timers_pending, 30, "timers pending")
        assert not cluster.effects().in_flight()


@pytest.mark.parametrize("victim", ["worker", "engine"])
@pytest.mark.parametrize("moment", ["activity", "turn", "timer"])
def test_kill_and_recover(cluster: Cluster, victim: str, moment: str) -> None:
    instance_ids = [
        cluster.client.schedule_new_workflow("crash_chain", input=SPECS[moment], instance_id=f"{moment}-{victim}-{n}")
        for n in range(INSTANCES)
    ]
    reach_the_moment(cluster, moment, instance_ids)
    committed = cluster.committed_steps(instance_ids)

    if victim == "worker":
        cluster.worker.kill()
        cluster.worker = start_worker(cluster.address, cluster.log)
    else:
        cluster.engine.kill()
        cluster.engine = start_engine(cluster.db, cluster.port)

    for instance_id in instance_ids:
        state = cluster.client.wait_for_workflow_completion(instance_id, timeout_in_seconds=90)
        assert state.runtime_status == wf.WorkflowStatus.COMPLETED, state.failure_details
        assert json.loads(state.serialized_output) == [f"{instance_id}/{step}" for step in range(STEPS)]

    effects = cluster.effects()
    every_step = {f"{instance_id}/{step}" for instance_id in instance_ids for step in range(STEPS)}
    assert set(effects.starts) == every_step
    for key in committed:
        assert effects.starts[key] == 1, f"{key} was committed before the crash but ran again"
    for key in every_step:
        assert 1 <= effects.starts[key] <= 2, f"{key} ran {effects.starts[key]} times"
    with sqlite3.connect(cluster.db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_second_engine_on_the_same_file_refuses(cluster: Cluster) -> None:
    with pytest.raises(RuntimeError, match="exited with 2"):
        start_engine(cluster.db, free_port())


def test_sigterm_shuts_the_engine_down_cleanly(cluster: Cluster) -> None:
    instance_id = cluster.client.schedule_new_workflow("crash_chain", input={"steps": 1})
    cluster.client.wait_for_workflow_completion(instance_id, timeout_in_seconds=30)
    assert cluster.engine.terminate() == 0
    cluster.engine = start_engine(cluster.db, cluster.port)
    state = cluster.client.get_workflow_state(instance_id)
    assert state is not None and state.runtime_status == wf.WorkflowStatus.COMPLETED


def test_two_workers_share_the_work_and_run_each_activity_once(tmp_path: Path) -> None:
    cluster = Cluster(tmp_path)
    try:
        second = start_worker(cluster.address, cluster.log)
        try:
            ids = [
                cluster.client.schedule_new_workflow("crash_chain", input={"steps": 2}, instance_id=f"pair-{n}")
                for n in range(200)
            ]
            for instance_id in ids:
                state = cluster.client.wait_for_workflow_completion(instance_id, timeout_in_seconds=120)
                assert state.runtime_status == wf.WorkflowStatus.COMPLETED
            effects = cluster.effects()
            assert len(effects.starts) == 400
            assert set(effects.starts.values()) == {1}, "an activity ran more than once"
            assert len(effects.pids) == 2, "both workers should have executed activities"
        finally:
            second.kill()
    finally:
        cluster.close()
