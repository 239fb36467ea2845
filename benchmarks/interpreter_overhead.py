#!/usr/bin/env python3
"""What the generic interpreter costs, and how a large for-each scales.

1. Chaining (200 instances x 5 activities) and fan-out (10 instances x 200 activities), each as
   a DSL definition run by the interpreter and as the same workflow hand-written with the Dapr
   SDK, on the same engine (`dwf engine`, its own process) in the same run. The two alternate
   round by round; prints activities/s for both and the median ratio of the rounds (target:
   interpreted >= 0.9x hand-written).
2. A DSL for-each over 1,000 and over 10,000 items (median of 3 runs each): time per item at
   each size and their ratio (target: <= 1.2), and the peak memory of the worker process and
   of the engine.

    .venv/bin/python benchmarks/interpreter_overhead.py [--repeat 7] [--quick]
"""

from __future__ import annotations

import argparse
import logging
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import dapr.ext.workflow as wf

from declarative_wf import compile as compile_dsl
from declarative_wf.activities import Registry
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
from declarative_wf.interpreter.workflow import make_payload
from declarative_wf.worker import start_worker

CHAIN_DSL = """
dwf: 1
name: bench-chain
steps:
  - call: inc
  - call: inc
  - call: inc
  - call: inc
  - call: inc
"""

FAN_OUT_DSL = """
dwf: 1
name: bench-fan-out
steps:
  - for_each: "${ input }"
    steps:
      - call: inc
"""


def inc(value: int) -> int:
    return value + 1


def sdk_inc(ctx: wf.WorkflowActivityContext, value: int) -> int:
    return value + 1


def sdk_chain(ctx: wf.DaprWorkflowContext, value: int):
    for _ in range(5):
        value = yield ctx.call_activity(sdk_inc, input=value)
    return value


def sdk_fan_out(ctx: wf.DaprWorkflowContext, items: list[int]):
    return (yield wf.when_all([ctx.call_activity(sdk_inc, input=item) for item in items]))


class Bench:
    def __init__(self, folder: Path) -> None:
        command = [sys.executable, "-m", "declarative_wf.cli", "engine", "--db", str(folder / "bench.db"), "--port", "0"]
        self.engine = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.engine.stdout is not None
        line = self.engine.stdout.readline()
        if "listening on" not in line:
            raise SystemExit(f"the engine did not start: {line!r}")
        self.host, self.port = line.split("listening on ")[1].split()[0].rsplit(":", 1)
        registry = Registry()
        registry.add(inc)
        self.runtime = start_worker(self.host, self.port, registry)
        self.runtime.register_workflow(sdk_chain)
        self.runtime.register_workflow(sdk_fan_out)
        self.runtime.register_activity(sdk_inc)
        self.client = wf.DaprWorkflowClient(host=self.host, port=self.port)
        self.counter = 0

    def close(self) -> None:
        self.runtime.shutdown()
        self.client.close()
        self.engine.terminate()
        self.engine.wait(timeout=30)

    def engine_rss_mb(self) -> float:
        with open(f"/proc/{self.engine.pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        return 0.0

    def timed(self, starts: list[tuple[object, object]]) -> float:
        """Starts every (workflow, input) at once and waits for all; returns seconds."""
        began = time.perf_counter()
        ids = []
        for workflow, value in starts:
            self.counter += 1
            ids.append(self.client.schedule_new_workflow(workflow, input=value, instance_id=f"b{self.counter}"))
        for instance_id in ids:
            state = self.client.wait_for_workflow_completion(instance_id, timeout_in_seconds=600)
            if state is None or state.runtime_status != wf.WorkflowStatus.COMPLETED:
                raise SystemExit(f"{instance_id} did not complete: {state and state.failure_details}")
        return time.perf_counter() - began


def compare(bench: Bench, chain: dict, fan_out_graph: object, instances: int, fans: int, fan: int, repeat: int) -> None:
    """Hand-written and interpreted runs alternate, round after round, so a slow moment of the
    machine hits both; the ratio is the median of the rounds' ratios."""
    items = list(range(fan))
    shapes = [
        ("chain", f"{instances} x 5", instances * 5,
         [(sdk_chain, 0)] * instances, [(WORKFLOW_NAME, chain)] * instances),
        ("fan-out", f"{fans} x {fan}", fans * fan,
         [(sdk_fan_out, items)] * fans, [(WORKFLOW_NAME, make_payload(fan_out_graph, items))] * fans),
    ]
    print(f"{'shape':8} {'size':10} {'hand-written':>22} {'interpreted (DSL)':>22} {'ratio':>7}  (rounds)")
    for shape, size, count, hand_starts, our_starts in shapes:
        hand_times, our_times = [], []
        for _ in range(repeat):
            hand_times.append(bench.timed(hand_starts))
            our_times.append(bench.timed(our_starts))
        ratios = sorted(hand / ours for hand, ours in zip(hand_times, our_times))
        hand, ours = statistics.median(hand_times), statistics.median(our_times)
        print(f"{shape:8} {size:10} {hand:8.3f} s {count / hand:7.1f} act/s {ours:8.3f} s {count / ours:7.1f} act/s"
              f" {statistics.median(ratios):6.2f}x  ({' '.join(f'{r:.2f}' for r in ratios)})")
    print("ratio = interpreted throughput / hand-written throughput, median of the rounds (target >= 0.9)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="rounds of each comparison (default 7)")
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat (a smoke run)")
    parser.add_argument("--foreach-only", action="store_true", help="only the for-each scaling part")
    args = parser.parse_args()
    logging.disable(logging.CRITICAL)
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    instances, fans, fan, sizes, repeat, foreach_runs = (200, 10, 200, (1_000, 10_000), args.repeat, 3)
    if args.quick:
        instances, fans, fan, sizes, repeat, foreach_runs = (20, 2, 20, (50, 200), 1, 1)
    chain = make_payload(compile_dsl(CHAIN_DSL), 0)
    fan_out_graph = compile_dsl(FAN_OUT_DSL)
    with tempfile.TemporaryDirectory() as folder:
        bench = Bench(Path(folder))
        try:
            bench.timed([(sdk_chain, 0), (WORKFLOW_NAME, chain)])  # warm-up
            if not args.foreach_only:
                compare(bench, chain, fan_out_graph, instances, fans, fan, repeat)
            per_item = {}
            for size in sizes:
                # Median of a few runs: one run of 1,000 items lasts about a second, and a
                # single slow moment of the machine would move the ratio by 0.1.
                payload = make_payload(fan_out_graph, list(range(size)))
                runs = sorted(bench.timed([(WORKFLOW_NAME, payload)]) for _ in range(foreach_runs))
                seconds = statistics.median(runs)
                per_item[size] = seconds / size
                worker_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
                print(f"for-each over {size:6} items: {seconds:7.2f} s, {per_item[size] * 1000:6.2f} ms/item "
                      f"(median of {foreach_runs}: {' '.join(f'{run:.2f}' for run in runs)}); "
                      f"peak RSS worker {worker_mb:6.0f} MB, engine {bench.engine_rss_mb():6.0f} MB")
            small, large = sizes
            print(f"time per item at {large} / at {small}: {per_item[large] / per_item[small]:.2f} (target <= 1.2)")
        finally:
            bench.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
