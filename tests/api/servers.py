"""``dwf serve`` and ``dwf worker`` as real processes for the API tests."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ACTIVITIES = HERE / "activities.py"
_READY = re.compile(r"http=(\S+) grpc=(\S+) engine=(\S+)")


def env(extra: dict[str, str] | None = None) -> dict[str, str]:
    values = dict(os.environ)
    values["GRPC_VERBOSITY"] = "ERROR"
    values["PYTHONPATH"] = os.pathsep.join([str(HERE.parent.parent / "src"), values.get("PYTHONPATH", "")])
    for name in ("DAPR_API_TOKEN", "DAPR_GRPC_ENDPOINT", "DAPR_GRPC_PORT", "DWF_SERVER"):
        values.pop(name, None)
    values.update(extra or {})
    return values


def _wait_ready(process: subprocess.Popen[str], marker: str, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if marker in line:
            return line
        if not line and process.poll() is not None:
            raise RuntimeError(f"the process exited with {process.returncode} before printing {marker!r}")
    raise TimeoutError(f"no {marker!r} within {timeout}s")


@dataclass
class Served:
    """A running ``dwf serve``."""

    popen: subprocess.Popen[str]
    url: str
    grpc: str
    engine: str

    def kill(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def terminate(self, timeout: float = 30) -> int:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
        return self.popen.wait(timeout=timeout)


def start_serve(db: Path, *args: str, extra_env: dict[str, str] | None = None, http_port: int = 0) -> Served:
    command = [
        sys.executable, "-m", "declarative_wf.cli", "serve", "--db", str(db),
        "--http-port", str(http_port), "--grpc-port", "0", "--activities", str(ACTIVITIES), *args,
    ]  # fmt: skip
    popen = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env(extra_env), cwd=db.parent)
    try:
        line = _wait_ready(popen, "dwf serve ready", 60)
    except BaseException:
        popen.kill()
        popen.wait()
        raise
    found = _READY.search(line)
    assert found is not None, line
    return Served(popen, found.group(1), found.group(2), found.group(3))


def start_worker(endpoint: str, *args: str, extra_env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    command = [
        sys.executable, "-m", "declarative_wf.cli", "worker", "--dapr-grpc-endpoint", endpoint,
        "--activities", str(ACTIVITIES), *args,
    ]  # fmt: skip
    popen = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env(extra_env))
    _wait_ready(popen, "dwf worker ready", 60)
    return popen
