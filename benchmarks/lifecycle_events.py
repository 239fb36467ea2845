"""Cost of Serverless Workflow lifecycle CloudEvents: the same Serverless Workflow instances
(each a sequence of ``set`` tasks) run on an embedded engine with ``DWF_LIFECYCLE_EVENTS`` set
to ``0`` (none), ``required`` (the events the specification requires) and ``1`` (all, with
``status-changed``). Prints, per setting, the instances/s and tasks/s until every instance
completed, the time until the bus stored the last lifecycle event (publishing is asynchronous),
the number of events and the ratio to ``0``.

    python benchmarks/lifecycle_events.py [--instances 40] [--tasks 10] [--rounds 2] [--task set|wait]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import declarative_wf
from declarative_wf.engine import Engine
from declarative_wf.engine.events_service import EventBusClient
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
from declarative_wf.interpreter.workflow import make_payload
from declarative_wf.worker import new_client, start_worker


def definition(tasks: int, kind: str = "set") -> str:
    """``set`` tasks run in one turn (the worst case: lifecycle events are all the work);
    ``wait`` tasks (1 ms timers) take one engine turn each, like tasks that call activities."""
    body = "set: {{n: {n}}}" if kind == "set" else "wait: {{milliseconds: 1}}"
    steps = "\n".join(f"  - step{n}:\n      " + body.format(n=n) for n in range(tasks))
    return f"document: {{dsl: '1.0.0', namespace: bench, name: lifecycle-bench, version: '1.0.0'}}\ndo:\n{steps}\n"


def run(setting: str, instances: int, tasks: int, engine: Engine, tag: str, kind: str = "set") -> tuple[float, float, int]:
    """(seconds until all completed, seconds until the last lifecycle event was stored, events)."""
    os.environ["DWF_LIFECYCLE_EVENTS"] = setting  # read per event by the publisher
    workflow = declarative_wf.compile(definition(tasks, kind))
    client = new_client(engine.host, engine.port)
    ids = [f"{tag}-{n}" for n in range(instances)]
    # A queue subscription collects this round's lifecycle events (recent() keeps only 1000).
    spec = {"groups": {"main": [{"with": {"subject": {"regex": f"{tag}-[0-9]+"}}}]}}
    with EventBusClient(engine.address) as bus:
        bus.subscribe(f"bench-{tag}", spec)
        started = time.perf_counter()
        for iid in ids:
            client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(workflow, {}), instance_id=iid)
        for iid in ids:
            state = client.wait_for_workflow_completion(iid, timeout_in_seconds=120)
            assert state is not None and state.runtime_status.name == "COMPLETED", state
        completed = time.perf_counter() - started
        client.close()
        count = finished = 0
        while setting != "0" and finished < instances and time.perf_counter() - started < 120:
            deliveries = bus.poll(f"bench-{tag}", limit=1000, wait_seconds=0.05)
            count += len(deliveries)
            finished += sum(1 for d in deliveries if d["event"]["type"] == "io.serverlessworkflow.workflow.completed.v1")
            if deliveries:
                bus.ack(f"bench-{tag}", [d["seq"] for d in deliveries])
        drained = time.perf_counter() - started
        bus.unsubscribe(f"bench-{tag}")
    return completed, drained, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--instances", type=int, default=40)
    parser.add_argument("--tasks", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds per setting (the best is kept)")
    parser.add_argument("--task", choices=("set", "wait"), default="set", help="set: one turn per instance; wait: one turn per task")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, Engine(Path(tmp) / "bench.db") as engine:
        runtime = start_worker(engine.host, engine.port)
        try:
            run("1", 5, args.tasks, engine, "warmup")
            best: dict[str, tuple[float, float, int]] = {}
            for round_number in range(args.rounds):
                for setting in ("0", "required", "1"):
                    result = run(setting, args.instances, args.tasks, engine, f"r{round_number}-{setting}", args.task)
                    if setting not in best or result[1] < best[setting][1]:
                        best[setting] = result
        finally:
            runtime.shutdown()
    base = best["0"][1]
    tasks = args.instances * args.tasks
    print(f"{args.instances} instances x {args.tasks} {args.task} tasks, best of {args.rounds} rounds")
    print(f"{'DWF_LIFECYCLE_EVENTS':>20} {'completed s':>12} {'+events s':>10} {'tasks/s':>8} {'events':>7} {'ratio':>6}")
    for setting, (completed, drained, count) in best.items():
        print(f"{setting:>20} {completed:12.2f} {drained:10.2f} {tasks / drained:8.0f} {count:7d} {drained / base:6.2f}")
    per_task_ms = (best["1"][1] - base) / tasks * 1000
    print(f"per-task overhead of all lifecycle events: {per_task_ms:.2f} ms ({(best['required'][1] - base) / tasks * 1000:.2f} ms required only)")


if __name__ == "__main__":
    main()
