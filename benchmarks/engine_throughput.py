"""Throughput of the embedded engine against Microsoft's in-memory reference backend, in one run.

    .venv/bin/python benchmarks/engine_throughput.py [--repeat N] [--quick] [--json]

Three workload shapes whose activities do nothing (``x + 1``), so the figures are engine overhead:

* chain    - 200 instances x 5 sequential activities, all started at once, then wait for all;
* fan-out  - one instance fanning out to 200 activities, then when_all;
* timers   - one instance looping over 100 durable timers of 1 ms each.

Backends, each served by its own child process (a fresh one, with fresh state, per measurement):

* ours      - ``dwf engine`` on a SQLite file (WAL) in a temporary directory, driven by the Dapr
              SDK (``WorkflowRuntime`` + ``DaprWorkflowClient``);
* reference - ``durabletask.testing.InMemoryOrchestrationBackend`` (``durabletask`` 1.12.0),
              driven by Microsoft's SDK (``TaskHubGrpcWorker`` + ``TaskHubGrpcClient``).

The two SDKs cannot share a process: both register their unpackaged protobuf messages in the
default descriptor pool ("duplicate symbol 'OrchestrationStatus'"). So for both backends alike,
the worker and client run in a *driver* child process (this script with ``--drive``), with each
SDK's default concurrency (100 x CPU work items, CPU + 4 threads) and its loggers at ERROR. The
driver runs one short warm-up instance, then times the shape from the first schedule call to
the last completion. Every measurement is repeated (default 3, interleaving the backends) and
the median is reported. ``speed`` is ours / reference in throughput: above 1 means ours is faster.
Exit status 0 on success, 1 when a backend or a driver fails (the message says which).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")  # before grpc is imported, here and in children

import argparse
import json
import logging
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

SCRIPT = str(Path(__file__).resolve())
BACKENDS = ("ours", "reference")
QUIET = logging.ERROR
START_TIMEOUT_S = 30.0


class BenchmarkError(RuntimeError):
    """A backend did not start or stop cleanly, or a workflow did not complete as expected."""


@dataclass(frozen=True)
class Sizes:
    chain_instances: int = 200
    chain_length: int = 5
    fan_out: int = 200
    timers: int = 100
    repeat: int = 3
    wait_timeout_s: int = 300


QUICK = Sizes(chain_instances=20, chain_length=3, fan_out=20, timers=10, repeat=1, wait_timeout_s=60)


@dataclass(frozen=True)
class Driver:
    """One SDK's worker and client, connected to a backend; workflows are chosen by name."""

    schedule: Callable[[str, Any, str], None]  # (workflow, input, instance id)
    wait: Callable[[str, int], tuple[str, str | None]]  # (instance id, timeout) -> (status, output)
    close: Callable[[], None]


@dataclass(frozen=True)
class Shape:
    name: str
    description: str
    unit: str  # what the rate counts
    work: int  # how many of ``unit`` one run does
    run: Callable[[Driver, Sizes], None]


@dataclass
class Result:
    runs_s: list[float] = field(default_factory=list)

    @property
    def median_s(self) -> float:
        return statistics.median(self.runs_s)


# ---------------------------------------------------------------- drivers (one SDK each)


def silence_sdk_loggers() -> None:
    for name in ("durabletask", "durabletask-worker", "durabletask-client", "WorkflowRuntime",
                 "DaprWorkflowClient"):
        logging.getLogger(name).setLevel(QUIET)


def dapr_driver(address: str) -> Driver:
    """Our engine's driver: the Dapr SDK, as an application would use it."""
    import dapr.ext.workflow as wf
    from dapr.ext.workflow.logger import LoggerOptions

    def add_one(ctx: wf.WorkflowActivityContext, x: int) -> int:
        return x + 1

    def chain(ctx: wf.DaprWorkflowContext, spec: list[int]):
        value, length = spec
        for _ in range(length):
            value = yield ctx.call_activity(add_one, input=value)
        return value

    def fan_out(ctx: wf.DaprWorkflowContext, count: int):
        results = yield wf.when_all([ctx.call_activity(add_one, input=i) for i in range(count)])
        return sum(results)

    def timers(ctx: wf.DaprWorkflowContext, count: int):
        for _ in range(count):
            yield ctx.create_timer(timedelta(milliseconds=1))
        return count

    host, port = address.rsplit(":", 1)
    quiet = LoggerOptions(log_level=logging.getLevelName(QUIET))
    workflows: dict[str, Any] = {"chain": chain, "fan_out": fan_out, "timers": timers}
    runtime = wf.WorkflowRuntime(host=host, port=port, logger_options=quiet)
    for workflow in workflows.values():
        runtime.register_workflow(workflow)
    runtime.register_activity(add_one)
    runtime.start()
    client = wf.DaprWorkflowClient(host=host, port=port, logger_options=quiet)

    def schedule(name: str, value: Any, instance_id: str) -> None:
        client.schedule_new_workflow(workflows[name], input=value, instance_id=instance_id)

    def wait(instance_id: str, timeout_s: int) -> tuple[str, str | None]:
        state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=timeout_s)
        return ("MISSING", None) if state is None else (state.runtime_status.name, state.serialized_output)

    def close() -> None:
        client.close()
        runtime.shutdown()

    return Driver(schedule, wait, close)


def microsoft_driver(address: str) -> Driver:
    """The reference backend's driver: Microsoft's own SDK, with equivalent workflows."""
    from durabletask import client as dt_client
    from durabletask import task as dt_task
    from durabletask import worker as dt_worker

    def add_one(ctx: dt_task.ActivityContext, x: int) -> int:
        return x + 1

    def chain(ctx: dt_task.OrchestrationContext, spec: list[int]):
        value, length = spec
        for _ in range(length):
            value = yield ctx.call_activity(add_one, input=value)
        return value

    def fan_out(ctx: dt_task.OrchestrationContext, count: int):
        results = yield dt_task.when_all([ctx.call_activity(add_one, input=i) for i in range(count)])
        return sum(results)

    def timers(ctx: dt_task.OrchestrationContext, count: int):
        for _ in range(count):
            yield ctx.create_timer(timedelta(milliseconds=1))
        return count

    quiet = logging.getLogger("durabletask-benchmark")  # the SDK makes INFO loggers unless given one
    quiet.setLevel(QUIET)
    workflows: dict[str, Any] = {"chain": chain, "fan_out": fan_out, "timers": timers}
    worker = dt_worker.TaskHubGrpcWorker(host_address=address, logger=quiet)
    for workflow in workflows.values():
        worker.add_orchestrator(workflow)
    worker.add_activity(add_one)
    worker.start()
    client = dt_client.TaskHubGrpcClient(host_address=address, logger=quiet)

    def schedule(name: str, value: Any, instance_id: str) -> None:
        client.schedule_new_orchestration(workflows[name], input=value, instance_id=instance_id)

    def wait(instance_id: str, timeout_s: int) -> tuple[str, str | None]:
        state = client.wait_for_orchestration_completion(instance_id, timeout=timeout_s)
        return ("MISSING", None) if state is None else (state.runtime_status.name, state.serialized_output)

    def close() -> None:
        client.close()
        worker.stop()

    return Driver(schedule, wait, close)


DRIVERS: dict[str, Callable[[str], Driver]] = {"ours": dapr_driver, "reference": microsoft_driver}


# ---------------------------------------------------------------- shapes


def expect(driver: Driver, instance_id: str, output: Any, timeout_s: int) -> None:
    try:
        status, serialized = driver.wait(instance_id, timeout_s)
    except TimeoutError:
        raise BenchmarkError(f"instance {instance_id} did not complete within {timeout_s} s") from None
    if status != "COMPLETED" or serialized is None or json.loads(serialized) != output:
        raise BenchmarkError(
            f"instance {instance_id} ended {status} with output {serialized!r}, expected {output!r}"
        )


def run_chain(driver: Driver, sizes: Sizes) -> None:
    ids = [f"chain-{i}" for i in range(sizes.chain_instances)]
    for i, instance_id in enumerate(ids):
        driver.schedule("chain", [i, sizes.chain_length], instance_id)
    for i, instance_id in enumerate(ids):
        expect(driver, instance_id, i + sizes.chain_length, sizes.wait_timeout_s)


def run_fan_out(driver: Driver, sizes: Sizes) -> None:
    driver.schedule("fan_out", sizes.fan_out, "fan-out")
    expect(driver, "fan-out", sum(range(1, sizes.fan_out + 1)), sizes.wait_timeout_s)


def run_timers(driver: Driver, sizes: Sizes) -> None:
    driver.schedule("timers", sizes.timers, "timers")
    expect(driver, "timers", sizes.timers, sizes.wait_timeout_s)


def shapes(sizes: Sizes) -> list[Shape]:
    chain_size = f"{sizes.chain_instances} inst x {sizes.chain_length} act"
    return [
        Shape("chain", chain_size, "act/s", sizes.chain_instances * sizes.chain_length, run_chain),
        Shape("fan-out", f"1 inst x {sizes.fan_out} act", "act/s", sizes.fan_out, run_fan_out),
        Shape("timers", f"1 inst x {sizes.timers} timers", "timers/s", sizes.timers, run_timers),
    ]


def drive(backend: str, shape_name: str, address: str, sizes: Sizes) -> int:
    """Driver child process: warm up, time one shape, print ``{"seconds": ...}`` on stdout."""
    silence_sdk_loggers()
    shape = next(shape for shape in shapes(sizes) if shape.name == shape_name)
    driver = DRIVERS[backend](address)
    try:
        driver.schedule("chain", [0, 1], "warm-up")  # connections and streams stay out of the timing
        expect(driver, "warm-up", 1, sizes.wait_timeout_s)
        started = time.perf_counter()
        shape.run(driver, sizes)
        seconds = time.perf_counter() - started
    finally:
        driver.close()
    print(json.dumps({"seconds": seconds}), flush=True)
    return 0


# ---------------------------------------------------------------- backend child processes


def serve_reference() -> int:
    """Backend child process: the in-memory reference backend, until SIGTERM."""
    logging.basicConfig(level=logging.WARNING)
    from durabletask.testing import create_test_backend

    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:  # it binds [::]:PORT
        probe.bind(("::", 0))
        port = int(probe.getsockname()[1])  # start() cannot report the port chosen for port=0
    backend = create_test_backend(port=port)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    print(f"reference listening on localhost:{port}", flush=True)
    stop.wait()
    backend.stop(grace=1)
    return 0


def backend_command(backend: str, workdir: Path) -> list[str]:
    if backend == "ours":  # `dwf engine`, WAL mode is the engine's only mode
        db = str(workdir / "engine.db")
        return [sys.executable, "-m", "declarative_wf.cli", "engine", "--db", db, "--port", "0"]
    return [sys.executable, SCRIPT, "--serve-reference"]


@contextmanager
def backend_process(backend: str) -> Iterator[str]:
    """Starts a backend in a child process; yields its ``host:port``; stops it with SIGTERM."""
    with tempfile.TemporaryDirectory(prefix=f"dwf-bench-{backend}-") as tmp:
        command = backend_command(backend, Path(tmp))
        log_path = Path(tmp) / "stderr.log"  # a file, not a pipe: a chatty backend must not block
        with open(log_path, "w") as log:
            child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, preexec_fn=_pinned(BACKEND_CPU))
        watchdog = threading.Timer(START_TIMEOUT_S, child.kill)
        watchdog.start()
        line = child.stdout.readline() if child.stdout else ""
        watchdog.cancel()
        if " listening on " not in line:
            child.kill()
            child.communicate()
            output = line + log_path.read_text()
            raise BenchmarkError(f"{backend} backend did not start ({' '.join(command)}):\n{output}")
        try:
            yield line.split(" listening on ", 1)[1].split()[0]
        finally:
            child.send_signal(signal.SIGTERM)
            try:
                child.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.communicate()
                raise BenchmarkError(f"{backend} backend did not stop within 30 s of SIGTERM") from None
            if child.returncode != 0:
                output = log_path.read_text()
                raise BenchmarkError(f"{backend} backend exited {child.returncode} on SIGTERM:\n{output}")


# With --pin the backend runs on one CPU and the driver on another, for both backends alike.
# The drivers are GIL-bound Python with several threads: spread over both cores they contend
# with each other and with the backend, and results vary much more.
PIN = False
DRIVER_CPU, BACKEND_CPU = 0, 1


def _pinned(cpu: int) -> Any:
    if not PIN or len(os.sched_getaffinity(0)) < 2:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


def measure(backend: str, shape: Shape, sizes: Sizes) -> float:
    """Seconds for one run of ``shape``: a fresh backend process and a fresh driver process."""
    with backend_process(backend) as address:
        command = [sys.executable, SCRIPT, "--drive", backend, "--shape", shape.name,
                   "--address", address, "--sizes", json.dumps(asdict(sizes))]
        try:
            timeout = sizes.wait_timeout_s + 60
            done = subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout,
                                  preexec_fn=_pinned(DRIVER_CPU))
        except subprocess.TimeoutExpired:
            raise BenchmarkError(f"{shape.name} on {backend}: the driver did not finish in time") from None
        if done.returncode != 0:
            error = done.stderr[-3000:]
            raise BenchmarkError(f"{shape.name} on {backend}: driver exited {done.returncode}:\n{error}")
        return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])


# ---------------------------------------------------------------- report


def run_all(sizes: Sizes) -> dict[str, dict[str, Result]]:
    results = {shape.name: {backend: Result() for backend in BACKENDS} for shape in shapes(sizes)}
    for attempt in range(1, sizes.repeat + 1):
        for shape in shapes(sizes):
            for backend in BACKENDS:
                seconds = measure(backend, shape, sizes)
                results[shape.name][backend].runs_s.append(seconds)
                progress = f"  run {attempt}/{sizes.repeat} {shape.name:8} {backend:10} {seconds:7.3f} s"
                print(progress, file=sys.stderr, flush=True)
    return results


def summarise(sizes: Sizes, results: dict[str, dict[str, Result]]) -> dict[str, Any]:
    rows = []
    for shape in shapes(sizes):
        per_backend: dict[str, dict[str, Any]] = {
            backend: {"median_s": run.median_s, "rate": shape.work / run.median_s, "runs_s": run.runs_s}
            for backend, run in results[shape.name].items()
        }
        ratio = per_backend["reference"]["median_s"] / per_backend["ours"]["median_s"]
        rows.append({"shape": shape.name, "size": shape.description, "work": shape.work, "unit": shape.unit,
                     **per_backend, "speed_ours_vs_reference": ratio})
    return {
        "benchmark": "engine_throughput",
        "sizes": asdict(sizes),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "backends": {
            "ours": "declarative_wf engine (dwf engine, SQLite WAL file) + Dapr SDK worker/client",
            "reference": "durabletask 1.12.0 InMemoryOrchestrationBackend + durabletask worker/client",
        },
        "results": rows,
    }


def print_table(summary: dict[str, Any]) -> None:
    header = ("shape", "size", "ours s", "ours rate", "ref s", "ref rate", "speed")
    print("{:8} {:20} {:>8} {:>16} {:>8} {:>16} {:>8}".format(*header))
    for row in summary["results"]:
        ours, ref, unit = row["ours"], row["reference"], row["unit"]
        print(f"{row['shape']:8} {row['size']:20} {ours['median_s']:8.3f} {ours['rate']:7.1f} {unit:>8}"
              f" {ref['median_s']:8.3f} {ref['rate']:7.1f} {unit:>8} {row['speed_ours_vs_reference']:7.2f}x")
    print(f"median of {summary['sizes']['repeat']} run(s); speed = our throughput / the reference throughput (above 1: ours is faster)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--repeat", type=int, help="runs per measurement; the median is shown (default 3)")
    parser.add_argument("--quick", action="store_true", help="small sizes and 1 repeat: a smoke run")
    parser.add_argument("--json", action="store_true", help="print a JSON object instead of the table")
    parser.add_argument("--pin", action="store_true", help="run each backend on CPU 1 and each driver on CPU 0")
    parser.add_argument("--serve-reference", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--drive", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--shape", help=argparse.SUPPRESS)
    parser.add_argument("--address", help=argparse.SUPPRESS)
    parser.add_argument("--sizes", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        if args.serve_reference:
            return serve_reference()
        if args.drive:
            return drive(args.drive, args.shape, args.address, Sizes(**json.loads(args.sizes)))
        global PIN
        PIN = args.pin
        sizes = QUICK if args.quick else Sizes()
        if args.repeat is not None:
            if args.repeat < 1:
                parser.error("--repeat must be at least 1")
            sizes = Sizes(**{**asdict(sizes), "repeat": args.repeat})
        summary = summarise(sizes, run_all(sizes))
    except BenchmarkError as error:
        print(f"engine_throughput: FAILED: {error}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print_table(summary)
    return 0


if __name__ == "__main__":
    sys.exit(main())
