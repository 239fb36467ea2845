"""Load on the HTTP API of ``dwf serve``: starts per second and completion latency, against
starting the same instances directly on the engine's sidecar protocol, in one run.

    .venv/bin/python benchmarks/api_load.py [--count 1000] [--concurrency 32] [--workers 1] [--quick] [--json]

One ``dwf serve`` process (fresh SQLite file in a temporary directory, loopback ports) runs a
one-step definition (``call: double``, an activity that returns at once), so the figures are
the API's and the engine's overhead, not the work's. Two phases, each ``--count`` instances:

* ``http``   - ``POST /api/v1/instances`` from ``--concurrency`` concurrent asyncio requests
               (httpx, one keep-alive connection each): what a client of the server sees;
* ``direct`` - the baseline: the same starts (same pinned payload) through the Dapr SDK's
               ``DaprWorkflowClient`` on the sidecar port, from as many threads.

``starts/s`` is count / time from the first start request to the last answer. Completion
latency is per instance, from the engine's own timestamps: ``completedAt - createdAt``. ``drain``
is the time from the first start to the last completion. ``ratio`` is http / direct starts/s.
Exit status 0 on success, 1 when the server or an instance fails.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

import argparse
import asyncio
import json
import platform
import re
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
DEFINITION = """\
dwf: 1
name: load
steps:
  - call: double
"""
ACTIVITIES = "def double(value):\n    return {'n': value['n'] * 2}\n"
READY = re.compile(r"http=(\S+) grpc=(\S+) engine=(\S+)")


@dataclass
class Phase:
    name: str
    count: int
    starts_per_s: float
    start_p50_ms: float
    start_p99_ms: float
    completion_p50_ms: float
    completion_p90_ms: float
    completion_p99_ms: float
    completion_max_ms: float
    drain_s: float


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def start_server(directory: Path, workers: int) -> tuple[subprocess.Popen[str], str, str]:
    activities = directory / "load_activities.py"
    activities.write_text(ACTIVITIES)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    command = [
        sys.executable, "-m", "declarative_wf.cli", "serve", "--db", str(directory / "state.db"),
        "--http-port", "0", "--grpc-port", "0", "--workers", str(workers), "--activities", str(activities),
    ]  # fmt: skip
    popen = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env, cwd=directory)
    assert popen.stdout is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = popen.stdout.readline()
        found = READY.search(line)
        if found:
            return popen, found.group(1), found.group(3)
        if not line and popen.poll() is not None:
            break
    popen.kill()
    raise SystemExit("api_load: dwf serve did not start")


async def http_starts(url: str, prefix: str, count: int, concurrency: int) -> tuple[float, list[float]]:
    """Starts ``count`` instances; returns (seconds, per-request latencies in ms)."""
    latencies: list[float] = []
    queue: asyncio.Queue[int] = asyncio.Queue()
    for number in range(count):
        queue.put_nowait(number)

    async def client() -> None:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            while not queue.empty():
                number = queue.get_nowait()
                body = {"definition": "load", "instanceID": f"{prefix}-{number}", "input": {"n": number}}
                began = time.perf_counter()
                answer = await http.post("/api/v1/instances", json=body)
                latencies.append((time.perf_counter() - began) * 1000)
                if answer.status_code != 202:
                    raise SystemExit(f"api_load: start answered {answer.status_code}: {answer.text}")

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    return time.perf_counter() - began, latencies


def direct_starts(engine: str, url: str, prefix: str, count: int, concurrency: int) -> tuple[float, list[float]]:
    import dapr.ext.workflow as wf

    sys.path.insert(0, str(ROOT / "src"))
    from declarative_wf.interpreter.workflow import make_payload
    from declarative_wf.ir import workflow_from_json

    graph = httpx.get(f"{url}/api/v1/definitions/load").json()["graph"]
    workflow = workflow_from_json(graph)
    host, port = engine.rsplit(":", 1)
    clients = [wf.DaprWorkflowClient(host=host, port=port) for _ in range(concurrency)]
    latencies: list[float] = []

    def start(number: int) -> None:
        began = time.perf_counter()
        clients[number % concurrency].schedule_new_workflow(
            "load", input=make_payload(workflow, {"n": number}), instance_id=f"{prefix}-{number}"
        )
        latencies.append((time.perf_counter() - began) * 1000)

    began = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(start, range(count)))
    seconds = time.perf_counter() - began
    for client in clients:
        client.close()
    return seconds, latencies


def wait_completed(url: str, since: str, count: int, timeout: float = 600) -> list[dict[str, Any]]:
    """Every instance of ``load`` created at or after ``since``, once all have finished."""
    deadline = time.monotonic() + timeout
    with httpx.Client(base_url=url, timeout=60) as http:
        while True:
            found: list[dict[str, Any]] = []
            token = None
            while True:
                params: dict[str, Any] = {"definition": "load", "createdFrom": since, "pageSize": 1000}
                if token:
                    params["continuationToken"] = token
                page = http.get("/api/v1/instances", params=params).json()
                found += page["instances"]
                token = page["continuationToken"]
                if not token:
                    break
            finished = [item for item in found if item["runtimeStatus"] in ("COMPLETED", "FAILED", "TERMINATED")]
            if len(finished) >= count:
                failed = [item["instanceID"] for item in finished if item["runtimeStatus"] != "COMPLETED"]
                if failed:
                    raise SystemExit(f"api_load: {len(failed)} instances did not complete, e.g. {failed[0]}")
                return finished
            if time.monotonic() > deadline:
                raise SystemExit(f"api_load: only {len(finished)} of {count} finished in {timeout:g}s")
            time.sleep(0.2)


def measure(name: str, seconds: float, latencies: list[float], finished: list[dict[str, Any]]) -> Phase:
    completion = [(_time(i["completedAt"]) - _time(i["createdAt"])).total_seconds() * 1000 for i in finished]
    first = min(_time(i["createdAt"]) for i in finished)
    last = max(_time(i["completedAt"]) for i in finished)
    return Phase(
        name=name,
        count=len(finished),
        starts_per_s=len(latencies) / seconds,
        start_p50_ms=_percentile(latencies, 0.5),
        start_p99_ms=_percentile(latencies, 0.99),
        completion_p50_ms=_percentile(completion, 0.5),
        completion_p90_ms=_percentile(completion, 0.9),
        completion_p99_ms=_percentile(completion, 0.99),
        completion_max_ms=max(completion),
        drain_s=(last - first).total_seconds(),
    )


def now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="instances per phase (default 1000)")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent starts (default 32)")
    parser.add_argument("--workers", type=int, default=1, help="interpreter workers in dwf serve (default 1)")
    parser.add_argument("--quick", action="store_true", help="50 instances, for a smoke test")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)
    count = 50 if args.quick else args.count
    with tempfile.TemporaryDirectory(prefix="dwf-api-load-") as directory:
        popen, url, engine = start_server(Path(directory), args.workers)
        try:
            with httpx.Client(base_url=url) as http:
                http.post("/api/v1/definitions", content=DEFINITION, params={"filename": "load.yaml"}).raise_for_status()
            since = now()  # warm-up: connections, graph caches, the first turns
            asyncio.run(http_starts(url, "warm", 20, min(args.concurrency, 20)))
            wait_completed(url, since, 20)
            since = now()
            seconds, latencies = asyncio.run(http_starts(url, "http", count, args.concurrency))
            http_phase = measure("http", seconds, latencies, wait_completed(url, since, count))
            since = now()
            seconds, latencies = direct_starts(engine, url, "direct", count, args.concurrency)
            direct_phase = measure("direct", seconds, latencies, wait_completed(url, since, count))
        finally:
            popen.terminate()
            popen.wait(timeout=60)
    ratio = http_phase.starts_per_s / direct_phase.starts_per_s
    if args.json:
        print(json.dumps({"phases": [asdict(http_phase), asdict(direct_phase)], "ratio": ratio}, indent=2))
        return 0
    cpus = os.cpu_count()
    print(f"api_load: {count} instances per phase, concurrency {args.concurrency}, {args.workers} worker(s), "
          f"Python {platform.python_version()}, {cpus} CPUs")  # fmt: skip
    header = f"{'phase':<8}{'starts/s':>10}{'start p50':>11}{'p99':>8}{'done p50':>10}{'p90':>8}{'p99':>8}{'max':>8}{'drain':>8}"
    print(header)
    for phase in (http_phase, direct_phase):
        print(
            f"{phase.name:<8}{phase.starts_per_s:>10.0f}{phase.start_p50_ms:>9.1f}ms{phase.start_p99_ms:>6.0f}ms"
            f"{phase.completion_p50_ms:>8.0f}ms{phase.completion_p90_ms:>6.0f}ms{phase.completion_p99_ms:>6.0f}ms"
            f"{phase.completion_max_ms:>6.0f}ms{phase.drain_s:>7.1f}s"
        )
    print(f"ratio (http / direct starts/s): {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
