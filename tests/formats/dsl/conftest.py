"""One embedded engine and one worker for every end-to-end test of the DSL (the Dapr SDK
refuses to register a function in two runtimes, so the worker lives for the whole session)."""

from __future__ import annotations

import json
import logging
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import Any

import dapr.ext.workflow as wf
import pytest

from declarative_wf.engine import Engine
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME, interpreter_workflow
from declarative_wf.interpreter.workflow import make_payload
from declarative_wf.ir import Workflow

from . import activities

logging.getLogger("durabletask-worker").setLevel(logging.ERROR)
logging.getLogger("durabletask-client").setLevel(logging.ERROR)


def dsl_interpreter(ctx: wf.DaprWorkflowContext, payload: dict[str, Any]) -> Generator[Any, Any, Any]:
    # Our own function object, so that other test packages can register interpreter_workflow
    # in their runtimes in the same session.
    return (yield from interpreter_workflow(ctx, payload))


@dataclass
class Outcome:
    status: str
    output: Any
    error_type: str | None
    error_message: str | None


@dataclass
class Runner:
    client: wf.DaprWorkflowClient

    def start(self, workflow: Workflow, value: Any = None, instance_id: str | None = None) -> str:
        return self.client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(workflow, value), instance_id=instance_id)

    def wait(self, instance_id: str, timeout: float = 15) -> Outcome:
        state = self.client.wait_for_workflow_completion(instance_id, timeout_in_seconds=int(timeout))
        assert state is not None, "the instance did not finish in time"
        output = json.loads(state.serialized_output) if state.serialized_output else None
        failure = state.failure_details
        return Outcome(
            state.runtime_status.name, output,
            failure.error_type if failure else None, failure.message if failure else None,
        )  # fmt: skip

    def run(self, workflow: Workflow, value: Any = None) -> Outcome:
        return self.wait(self.start(workflow, value))


@pytest.fixture(scope="session")
def dsl_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with Engine(tmp_path_factory.mktemp("dsl-engine") / "wf.db") as running:
        yield running


@pytest.fixture(scope="session")
def runner(dsl_engine: Engine) -> Iterator[Runner]:
    runtime = wf.WorkflowRuntime(host=dsl_engine.host, port=str(dsl_engine.port))
    runtime.register_workflow(dsl_interpreter, name=WORKFLOW_NAME)
    for activity in activities.ALL:
        runtime.register_activity(activity, name=activity.__name__)
    runtime.start()
    client = wf.DaprWorkflowClient(host=dsl_engine.host, port=str(dsl_engine.port))
    try:
        yield Runner(client)
    finally:
        client.close()
        runtime.shutdown()
