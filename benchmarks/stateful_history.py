#!/usr/bin/env python3
"""Measures what sending only new history events ("stateful history") buys.

One instance runs a long sequential chain (its history grows with every step, so a worker that
gets the full history on every turn parses O(n^2) events in total). The same workload runs on
`dwf engine` twice in this run, with stateful history on and off, and the ratio is printed.

    .venv/bin/python benchmarks/stateful_history.py [--steps 400] [--repeat 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dapr.ext.workflow as wf


def step(ctx: wf.WorkflowActivityContext, value: int) -> int:
    return value + 1


def long_chain(ctx: wf.DaprWorkflowContext, steps: int):
    value = 0
    for _ in range(steps):
        value = yield ctx.call_activity(step, input=value)
    return value


def start_engine(db: Path, stateful: bool) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "declarative_wf.cli", "engine", "--db", str(db), "--port", "0"]
    if not stateful:
        command.append("--no-stateful-history")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if "listening on" not in line:
        process.kill()
        raise SystemExit(f"the engine did not start: {line!r}")
    return process, line.split("listening on ")[1].split()[0]


def measure(steps: int, stateful: bool) -> float:
    with tempfile.TemporaryDirectory() as folder:
        engine, address = start_engine(Path(folder) / "bench.db", stateful)
        host, port = address.rsplit(":", 1)
        runtime = wf.WorkflowRuntime(host=host, port=port)
        runtime.register_workflow(long_chain)
        runtime.register_activity(step)
        runtime.start()
        client = wf.DaprWorkflowClient(host=host, port=port)
        try:
            started = time.perf_counter()
            instance_id = client.schedule_new_workflow(long_chain, input=steps)
            state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=600)
            elapsed = time.perf_counter() - started
            if state is None or state.serialized_output != str(steps):
                raise SystemExit(f"wrong result: {state}")
            return elapsed
        finally:
            runtime.shutdown()
            client.close()
            engine.terminate()
            engine.wait(timeout=30)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    # Registering the same functions in a second runtime is refused by the SDK: one measurement
    # per process keeps each run independent.
    if os.environ.get("_DWF_BENCH_ONE"):
        mode = os.environ["_DWF_BENCH_ONE"] == "on"
        print(f"{measure(args.steps, mode):.4f}")
        return 0
    results: dict[str, list[float]] = {"on": [], "off": []}
    for _ in range(args.repeat):
        for mode in ("on", "off"):
            env = {**os.environ, "_DWF_BENCH_ONE": mode}
            out = subprocess.run([sys.executable, __file__, "--steps", str(args.steps)], env=env, capture_output=True, text=True, check=True)
            results[mode].append(float(out.stdout.strip()))
    on, off = statistics.median(results["on"]), statistics.median(results["off"])
    print(f"{args.steps}-step chain, one instance, median of {args.repeat}:")
    print(f"  stateful history on : {on:7.3f} s  ({args.steps / on:6.1f} steps/s)")
    print(f"  stateful history off: {off:7.3f} s  ({args.steps / off:6.1f} steps/s)")
    print(f"  speed-up: {off / on:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
