"""A Dapr workflow written with the official Dapr Python SDK, run on the embedded engine.

Task chaining, fan-out/fan-in and a durable timer; all state is kept in quickstart.db, so you
can stop this script at any point and run it again: the instance picks up where it was.

    python3 dev.py demo            # or: .venv/bin/python samples/sdk-quickstart/workflow.py
"""

from __future__ import annotations

import logging
import sys
from datetime import timedelta
from pathlib import Path

import dapr.ext.workflow as wf

from declarative_wf import Engine

HERE = Path(__file__).resolve().parent


def price(ctx: wf.WorkflowActivityContext, item: str) -> int:
    return {"apple": 3, "pear": 4, "fig": 7}.get(item, 1)


def charge(ctx: wf.WorkflowActivityContext, order: dict) -> str:
    return f"charged {order['total']} for {len(order['items'])} item(s)"


def ship(ctx: wf.WorkflowActivityContext, receipt: str) -> str:
    return f"shipped ({receipt})"


def order_workflow(ctx: wf.DaprWorkflowContext, items: list[str]):
    # Fan out: price every item in parallel, then fan in.
    prices = yield wf.when_all([ctx.call_activity(price, input=item) for item in items])
    # A durable timer: survives restarts of this process and of the engine.
    yield ctx.create_timer(timedelta(milliseconds=200))
    # Chain: each step's output is the next step's input.
    receipt = yield ctx.call_activity(charge, input={"items": items, "total": sum(prices)})
    return (yield ctx.call_activity(ship, input=receipt))


def main() -> int:
    logging.basicConfig(level=logging.ERROR)
    with Engine(HERE / "quickstart.db") as engine:
        runtime = wf.WorkflowRuntime(host=engine.host, port=str(engine.port))
        runtime.register_workflow(order_workflow)
        for activity in (price, charge, ship):
            runtime.register_activity(activity)
        runtime.start()
        try:
            client = wf.DaprWorkflowClient(host=engine.host, port=str(engine.port))
            instance_id = client.schedule_new_workflow(order_workflow, input=["apple", "pear", "fig"])
            print(f"started order_workflow as {instance_id} on the embedded engine at {engine.address}")
            state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=30)
            if state is None:
                print("the instance vanished", file=sys.stderr)
                return 1
            print(f"{state.runtime_status.name}: {state.serialized_output}")
            return 0 if state.runtime_status == wf.WorkflowStatus.COMPLETED else 1
        finally:
            runtime.shutdown()


if __name__ == "__main__":
    sys.exit(main())
