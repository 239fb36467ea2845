"""A real embedded engine and worker shared by the event tests; helpers to run hand-built graphs."""

from __future__ import annotations

import itertools
import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dapr.ext.workflow as wf
import pytest

from declarative_wf.activities import Registry
from declarative_wf.engine import Engine
from declarative_wf.engine.events_service import EventBusClient
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
from declarative_wf.interpreter.workflow import make_payload
from declarative_wf.ir import Block, Expr, Node, Workflow
from declarative_wf.worker import new_client, start_worker

logging.getLogger("durabletask-worker").setLevel(logging.ERROR)
logging.getLogger("durabletask-client").setLevel(logging.ERROR)

_ids = itertools.count()


def record(value: Any) -> Any:
    """A user activity the tests call from foreach bodies."""
    return {"seen": value}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with Engine(tmp_path_factory.mktemp("events") / "wf.db") as running:
        yield running


@pytest.fixture(scope="module")
def worker(engine: Engine) -> Iterator[wf.WorkflowRuntime]:
    runtime = start_worker(engine.host, engine.port, Registry([record]))
    yield runtime
    runtime.shutdown()


@pytest.fixture(scope="module")
def client(engine: Engine, worker: wf.WorkflowRuntime) -> Iterator[wf.DaprWorkflowClient]:
    workflow_client = new_client(engine.host, engine.port)
    yield workflow_client
    workflow_client.close()


@pytest.fixture(scope="module")
def bus(engine: Engine) -> Iterator[EventBusClient]:
    with EventBusClient(engine.address) as client:
        yield client


@contextmanager
def running_engine(db: Path) -> Iterator[tuple[Engine, wf.DaprWorkflowClient]]:
    """An engine of its own over ``db``, a worker (built-in activities) and a client, for the
    length of the block: for tests that must not share the module's engine."""
    with Engine(db) as engine:
        runtime = start_worker(engine.host, engine.port)
        workflow_client = new_client(engine.host, engine.port)
        try:
            yield engine, workflow_client
        finally:
            workflow_client.close()
            runtime.shutdown()


#: A Serverless Workflow started by the scheduler once a left and a right event with the same
#: ``k`` arrived (schedule.on with correlation); it outputs the keys and types it started on.
SW_ON_PAIR = """
document: {dsl: '1.0.0', namespace: test, name: on-pair, version: '1.0.0'}
schedule:
  on:
    all:
      - with: {type: pair.left}
        correlate: {k: {from: .data.k}}
      - with: {type: pair.right}
        correlate: {k: {from: .data.k}}
do:
  - collect:
      set:
        keys: '${ [ $workflow.input[].data.k ] }'
        types: '${ [ $workflow.input[].type ] }'
"""


def graph(*nodes: Node, name: str = "events-test") -> Workflow:
    """A workflow whose nodes run in the order given."""
    chained = list(nodes)
    for current, following in itertools.pairwise(chained):
        current.next = following.id
    return Workflow(name=name, version=None, format="dsl", body=Block(start=chained[0].id, nodes={n.id: n for n in chained}))


def jq(text: str) -> Expr:
    return Expr("jq", text)


def lit(value: Any) -> Expr:
    return Expr("literal", value)


Start = Callable[..., str]


@pytest.fixture
def start(client: wf.DaprWorkflowClient, request: pytest.FixtureRequest) -> Start:
    def run(workflow: Workflow, value: Any = None, instance_id: str | None = None) -> str:
        iid = instance_id or f"{request.node.name[:40]}-{next(_ids)}".replace("[", "-").replace("]", "")
        client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(workflow, value), instance_id=iid)
        return iid

    return run


def wait_done(client: wf.DaprWorkflowClient, iid: str, timeout: float = 30) -> tuple[str, Any]:
    state = client.wait_for_workflow_completion(iid, timeout_in_seconds=int(timeout))
    assert state is not None, f"{iid} did not finish"
    status = state.runtime_status.name
    if status == "FAILED":
        return status, state.failure_details.message if state.failure_details else None
    return status, json.loads(state.serialized_output) if state.serialized_output else None


def wait_subscribed(bus: EventBusClient, instance_id: str, count: int = 1, timeout: float = 15) -> None:
    """Waits until ``instance_id`` has ``count`` subscriptions in the bus (its listen started)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sum(1 for s in bus.subscriptions() if s["instance_id"] == instance_id) >= count:
            return
        time.sleep(0.05)
    raise AssertionError(f"{instance_id} never subscribed; subscriptions: {bus.subscriptions()}")


def event(type_: str, data: Any = None, *, id: str | None = None, source: str = "/tests", **extra: Any) -> dict[str, Any]:
    out = {"specversion": "1.0", "id": id or f"ev-{next(_ids)}", "source": source, "type": type_, **extra}
    if data is not None:
        out["data"] = data
    return out
