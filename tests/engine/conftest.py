from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from pathlib import Path

import dapr.ext.workflow as wf
import pytest

from declarative_wf.engine import Engine

from . import sdk_workflows

logging.getLogger("durabletask-worker").setLevel(logging.ERROR)
logging.getLogger("durabletask-client").setLevel(logging.ERROR)


@pytest.fixture(scope="session")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with Engine(tmp_path_factory.mktemp("engine") / "wf.db") as running:
        yield running


def start_runtime(engine: Engine) -> wf.WorkflowRuntime:
    runtime = wf.WorkflowRuntime(host=engine.host, port=str(engine.port))
    for workflow in sdk_workflows.ALL_WORKFLOWS:
        runtime.register_workflow(workflow)
    for activity in sdk_workflows.ALL_ACTIVITIES:
        runtime.register_activity(activity)
    runtime.start()
    return runtime


@pytest.fixture(scope="session")
def runtime(engine: Engine) -> Iterator[wf.WorkflowRuntime]:
    running = start_runtime(engine)
    yield running
    running.shutdown()


@pytest.fixture(scope="session")
def client(engine: Engine, runtime: wf.WorkflowRuntime) -> Iterator[wf.DaprWorkflowClient]:
    workflow_client = wf.DaprWorkflowClient(host=engine.host, port=str(engine.port))
    yield workflow_client
    workflow_client.close()


_ids = itertools.count()


@pytest.fixture
def new_id(request: pytest.FixtureRequest):
    """Unique, readable instance ids per test."""

    def make(label: str = "") -> str:
        return f"{request.node.name[:40]}-{label}{next(_ids)}".replace("[", "-").replace("]", "")

    return make


def db_path(engine: Engine) -> Path:
    return engine._runtime.db_path  # noqa: SLF001 - tests look at the file directly
