"""Real engine and worker processes for crash tests: started, waited for, killed."""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for_line(process: subprocess.Popen[str], marker: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if marker in line:
            return
        if not line and process.poll() is not None:
            raise RuntimeError(f"process exited with {process.returncode} before printing {marker!r}")
    raise TimeoutError(f"no {marker!r} within {timeout}s")


@dataclass
class Process:
    popen: subprocess.Popen[str]

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind runs."""
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def terminate(self, timeout: float = 15) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout=timeout)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["GRPC_VERBOSITY"] = "ERROR"
    env["PYTHONPATH"] = os.pathsep.join([str(HERE.parent.parent / "src"), env.get("PYTHONPATH", "")])
    return env


def start_engine(db: Path, port: int) -> Process:
    popen = subprocess.Popen(
        [sys.executable, "-m", "declarative_wf.cli", "engine", "--db", str(db), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_env(),
    )
    _wait_for_line(popen, "listening", 30)
    return Process(popen)


def start_worker(address: str, log: Path) -> Process:
    popen = subprocess.Popen(
        [sys.executable, str(HERE / "worker_process.py"), address, str(log)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=_env(),
    )
    _wait_for_line(popen, "ready", 60)
    return Process(popen)


@dataclass
class SideEffects:
    """The worker processes' side-effect log, parsed."""

    starts: collections.Counter[str]
    dones: collections.Counter[str]
    turns: list[str]
    pids: set[str]

    @classmethod
    def read(cls, path: Path) -> SideEffects:
        starts: collections.Counter[str] = collections.Counter()
        dones: collections.Counter[str] = collections.Counter()
        turns: list[str] = []
        pids: set[str] = set()
        if path.exists():
            for line in path.read_text().splitlines():
                kind, key, pid = line.split(" ")
                if kind == "start":
                    starts[key] += 1
                    pids.add(pid)
                elif kind == "done":
                    dones[key] += 1
                else:
                    turns.append(key)
        return cls(starts, dones, turns, pids)

    def in_flight(self) -> set[str]:
        return {key for key, count in self.starts.items() if self.dones[key] < count}
