"""A Dapr SDK worker in its own process, for crash and multi-worker tests.

    python worker_process.py ADDRESS LOGFILE

Every activity execution appends ``start KEY PID`` and ``done KEY PID`` lines to LOGFILE (the
side-effect log the tests read); an orchestrator turn that is asked to be slow writes
``turn INSTANCE STEP PID`` first. Prints ``ready`` once connected.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import timedelta

import dapr.ext.workflow as wf

LOG_PATH = sys.argv[2] if len(sys.argv) > 2 else os.devnull


def _log(line: str) -> None:
    with open(LOG_PATH, "a") as log:
        log.write(f"{line} {os.getpid()}\n")
        log.flush()
        os.fsync(log.fileno())


def side_effect(ctx: wf.WorkflowActivityContext, spec: dict) -> str:
    _log(f"start {spec['key']}")
    time.sleep(spec.get("sleep", 0))
    _log(f"done {spec['key']}")
    return spec["key"]


def crash_chain(ctx: wf.DaprWorkflowContext, spec: dict):
    results = []
    for step in range(spec["steps"]):
        if spec.get("timer_ms"):
            yield ctx.create_timer(timedelta(milliseconds=spec["timer_ms"]))
        if spec.get("slow_turn_ms") and not ctx.is_replaying:
            _log(f"turn {ctx.instance_id}/{step}")
            time.sleep(spec["slow_turn_ms"] / 1000)
        key = f"{ctx.instance_id}/{step}"
        results.append((yield ctx.call_activity(side_effect, input={"key": key, "sleep": spec.get("sleep", 0)})))
    return results


def main() -> None:
    logging.basicConfig(level=logging.CRITICAL)
    host, port = sys.argv[1].rsplit(":", 1)
    runtime = wf.WorkflowRuntime(host=host, port=port)
    runtime.register_workflow(crash_chain)
    runtime.register_activity(side_effect)
    runtime.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        runtime.shutdown()


if __name__ == "__main__":
    main()
