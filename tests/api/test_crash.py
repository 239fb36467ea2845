"""SIGKILL ``dwf serve`` with 50 instances in flight, start it again: all 50 finish, none is
lost, none runs twice (every step is committed exactly once)."""

from __future__ import annotations

import collections
import time
from pathlib import Path

import httpx
import pytest

from .definitions import RECORDER
from .helpers import submit, wait_for
from .servers import start_serve

pytestmark = [pytest.mark.integration, pytest.mark.slow]

COUNT = 50
STEPS = 3


def test_sigkill_with_50_instances_in_flight(tmp_path: Path) -> None:
    record = tmp_path / "record.txt"
    extra = {"DWF_TEST_RECORD": str(record)}
    served = start_serve(tmp_path / "state.db", "--workers", "2", extra_env=extra)
    with httpx.Client(base_url=served.url, timeout=30) as http:
        submit(http, RECORDER, "recorder.yaml")
        for number in range(COUNT):
            answer = http.post("/api/v1/instances", json={"definition": "recorder", "instanceID": f"crash-{number:02d}", "input": {"id": number, "step": 0, "pause": 0.6}})
            assert answer.status_code == 202
        time.sleep(1.0)
        before = http.get("/api/v1/instances", params={"definition": "recorder", "status": "COMPLETED"}).json()["instances"]
    served.kill()
    assert len(before) < COUNT, "every instance finished before the kill; the test proves nothing"
    lines_at_kill = len(record.read_text().splitlines()) if record.exists() else 0
    assert lines_at_kill > 0, "no step ran before the kill"

    again = start_serve(tmp_path / "state.db", "--workers", "2", extra_env=extra)
    try:
        with httpx.Client(base_url=again.url, timeout=30) as http:
            for number in range(COUNT):
                done = wait_for(http, f"crash-{number:02d}", {"COMPLETED", "FAILED"}, timeout=120)
                assert done["runtimeStatus"] == "COMPLETED", done
                assert done["output"] == {"id": number, "step": STEPS, "pause": 0.6}
                events = http.get(f"/api/v1/instances/crash-{number:02d}/history").json()["events"]
                kinds = collections.Counter(event["type"] for event in events)
                assert kinds["taskCompleted"] == STEPS and kinds["executionStarted"] == 1, kinds
            listed = http.get("/api/v1/instances", params={"definition": "recorder"}).json()["instances"]
            assert sorted(item["instanceID"] for item in listed) == [f"crash-{n:02d}" for n in range(COUNT)]
    finally:
        assert again.terminate() == 0
    executions = collections.Counter(tuple(line.split()) for line in record.read_text().splitlines())
    assert set(executions) == {(str(n), str(s)) for n in range(COUNT) for s in range(STEPS)}
    # Activities are at least once: only a step that was running when the process died may
    # have run again; every completed one was committed and never repeated.
    repeated = sum(count - 1 for count in executions.values())
    print(f"steps run before the kill: {lines_at_kill}, run again after it: {repeated}")
    assert repeated <= COUNT, executions.most_common(5)
