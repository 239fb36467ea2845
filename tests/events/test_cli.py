"""``dwf engine --events-port``: the CloudEvents endpoint beside a standalone engine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from declarative_wf.engine.events_service import EventBusClient

pytestmark = pytest.mark.integration
SRC = Path(__file__).resolve().parents[2] / "src"


def test_engine_command_serves_events(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(SRC), "GRPC_VERBOSITY": "ERROR"}
    command = [sys.executable, "-m", "declarative_wf.cli", "engine", "--db", str(tmp_path / "wf.db"), "--port", "0", "--events-port", "0"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        lines: list[str] = []
        deadline = time.monotonic() + 60
        while not any("engine listening on" in line for line in lines) and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            lines.append(line)
        url = next(line.split(" on ", 1)[1].strip() for line in lines if line.startswith("CloudEvents endpoint"))
        engine = next(line.split("listening on ", 1)[1].split()[0] for line in lines if "engine listening on" in line)
        with EventBusClient(engine) as bus:
            bus.subscribe("q", {"groups": {"main": []}})
            answer = httpx.post(url, json={"specversion": "1.0", "id": "1", "source": "/cli", "type": "t"})
            assert answer.status_code == 202 and answer.json()["results"][0]["deliveries"] == 1
            assert httpx.post(url, json={"id": "1"}).status_code == 400
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""
