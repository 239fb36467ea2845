"""SIGKILL of a real ``dwf engine`` process while events flow to a listener: every event that
was acknowledged (202) before the kill reaches the listener exactly once after the restart."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from declarative_wf.engine.events_service import EventBusClient
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
from declarative_wf.interpreter.workflow import make_payload
from declarative_wf.ir.model import EventStrategy, ListenNode
from declarative_wf.worker import new_client, start_worker

from .conftest import graph, jq

pytestmark = [pytest.mark.integration, pytest.mark.slow]
SRC = Path(__file__).resolve().parents[2] / "src"
TOTAL = 40


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_engine(db: Path, port: int, events_port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(SRC), "GRPC_VERBOSITY": "ERROR"}
    command = [sys.executable, "-m", "declarative_wf.cli", "engine", "--db", str(db), "--port", str(port), "--events-port", str(events_port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if "engine listening on" in line:
            return process
        if not line and process.poll() is not None:
            raise RuntimeError("the engine exited")
    raise TimeoutError("the engine did not start")


def post(url: str, n: int) -> bool:
    event = {"specversion": "1.0", "id": f"crash-{n}", "source": "/crash", "type": "crash.test", "data": n}
    try:
        return httpx.post(url, json=event, timeout=5).status_code == 202
    except httpx.HTTPError:
        return False


def test_acknowledged_events_survive_sigkill(tmp_path: Path) -> None:
    db, port, events_port = tmp_path / "wf.db", free_port(), free_port()
    url = f"http://127.0.0.1:{events_port}/events"
    engine = start_engine(db, port, events_port)
    runtime = start_worker("127.0.0.1", port)
    client = new_client("127.0.0.1", port)
    listener = graph(ListenNode(id="listen", to=EventStrategy("any", ()), until=jq(f"length == {TOTAL}")))
    acknowledged: list[int] = []
    try:
        client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(listener, None), instance_id="crash-listener")
        with EventBusClient(f"127.0.0.1:{port}") as bus:
            deadline = time.monotonic() + 20
            while not bus.subscriptions() and time.monotonic() < deadline:
                time.sleep(0.05)
        # A producer that resends each event (same id) until it is acknowledged, while the
        # engine is killed under it: a commit whose answer was lost is resent and de-duplicated.
        def produce() -> None:
            for n in range(TOTAL):
                while not post(url, n):
                    time.sleep(0.05)
                acknowledged.append(n)

        producer = threading.Thread(target=produce, daemon=True)
        producer.start()
        while len(acknowledged) < TOTAL // 4:
            time.sleep(0.005)
        engine.send_signal(signal.SIGKILL)  # no cleanup of any kind, mid-stream
        engine.wait(timeout=10)
        engine = start_engine(db, port, events_port)
        producer.join(timeout=60)
        state = client.wait_for_workflow_completion("crash-listener", timeout_in_seconds=60)
        assert state is not None and state.runtime_status.name == "COMPLETED", state
        output: Any = json.loads(state.serialized_output)
        assert acknowledged == list(range(TOTAL))
        assert output == list(range(TOTAL)), "every acknowledged event once, in publication order"
    finally:
        client.close()
        runtime.shutdown()
        if engine.poll() is None:
            engine.send_signal(signal.SIGTERM)
            engine.wait(timeout=30)
