"""Registered activities and the http built-in, called by the interpreter on the embedded
engine through a real worker: envelopes, contexts, error types, and the asynchronous
request-reply pattern with durable timers."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dapr.ext.workflow as wf
import pytest

from declarative_wf.activities import Registry
from declarative_wf.engine import Engine
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
from declarative_wf.interpreter.workflow import make_payload
from declarative_wf.ir import (
    Block,
    CatchRule,
    ErrorMatch,
    Expr,
    Merge,
    RetryRule,
    TaskNode,
    Workflow,
)
from declarative_wf.worker import start_worker, worker_registry

from .server import Server

pytestmark = pytest.mark.integration


class CardDeclined(Exception):
    pass


def add_one(x: int) -> int:
    return x + 1


async def describe_call(x: Any, context: Any) -> dict[str, Any]:
    await asyncio.sleep(0)
    return {"input": x, "node": context.node, "attempt": context.attempt, "instance": context.instance_id}


def decline(order: Any) -> None:
    raise CardDeclined(f"card for order {order} declined")


def plain_dapr_workflow(ctx: wf.DaprWorkflowContext, value: int):  # type: ignore[no-untyped-def]
    # A plain Dapr workflow (no envelope) calling a registered activity.
    return (yield ctx.call_activity("add_one", input=value))


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with Engine(tmp_path_factory.mktemp("worker") / "wf.db") as running:
        yield running


@pytest.fixture(scope="module")
def client(engine: Engine) -> Iterator[wf.DaprWorkflowClient]:
    runtime = start_worker(engine.host, engine.port, Registry([add_one, describe_call, decline]))
    runtime.register_workflow(plain_dapr_workflow)
    workflow_client = wf.DaprWorkflowClient(host=engine.host, port=str(engine.port))
    yield workflow_client
    workflow_client.close()
    runtime.shutdown()


_ids = itertools.count()


def run_graph(client: wf.DaprWorkflowClient, workflow: Workflow, value: Any) -> tuple[str, Any]:
    instance_id = f"{workflow.name}-{next(_ids)}"
    client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(workflow, value), instance_id=instance_id)
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=30)
    assert state is not None
    return instance_id, state


def one_task(name: str, **fields: Any) -> Workflow:
    return Workflow(name, "1", "dsl", Block("t", {"t": TaskNode(id="t", **fields)}))


def test_sync_async_and_context(client: wf.DaprWorkflowClient) -> None:
    workflow = Workflow(
        "chain",
        "1",
        "dsl",
        Block(
            "a",
            {
                "a": TaskNode(id="a", next="b", activity="add_one"),
                "b": TaskNode(id="b", activity="describe_call"),
            },
        ),
    )
    instance_id, state = run_graph(client, workflow, 1)
    assert state.runtime_status.name == "COMPLETED"
    assert json.loads(state.serialized_output) == {"input": 2, "node": "b", "attempt": 1, "instance": instance_id}


def test_exception_class_name_is_the_error_type(client: wf.DaprWorkflowClient) -> None:
    failing = one_task("declined", activity="decline")
    _, state = run_graph(client, failing, 7)
    assert state.runtime_status.name == "FAILED"
    assert state.failure_details.error_type == "CardDeclined"
    assert state.failure_details.message == "card for order 7 declined"
    # ... and catch rules match on it, with the attempt number counting retries.
    caught = one_task(
        "caught",
        activity="decline",
        retry=(RetryRule(ErrorMatch(("CardDeclined",)), max_retries=1, interval_seconds=0),),
        catch=(CatchRule(ErrorMatch(("CardDeclined",)), merge=Merge("replace")),),
    )
    _, state = run_graph(client, caught, 7)
    assert json.loads(state.serialized_output) == {"type": "CardDeclined", "message": "card for order 7 declined"}


def test_plain_dapr_workflows_call_registered_activities(client: wf.DaprWorkflowClient) -> None:
    instance_id = client.schedule_new_workflow(plain_dapr_workflow, input=41)
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=30)
    assert json.loads(state.serialized_output) == 42


def test_http_builtin(client: wf.DaprWorkflowClient, server: Server) -> None:
    workflow = one_task(
        "http-get",
        activity="http",
        args=Expr.literal({"method": "GET", "url": f"{server.url}/status/418"}),
    )
    _, state = run_graph(client, workflow, None)
    output = json.loads(state.serialized_output)
    assert output["status"] == 418 and output["body"] == {"error": "status 418"}
    raising = one_task(
        "http-raise",
        activity="http",
        args=Expr.literal({"url": f"{server.url}/status/500", "raise_for_status": True}),
    )
    _, state = run_graph(client, raising, None)
    assert state.failure_details.error_type == "HTTPError"
    assert "500" in state.failure_details.message


def test_async_request_reply_polls_on_durable_timers(client: wf.DaprWorkflowClient, server: Server) -> None:
    workflow = one_task(
        "http-async",
        activity="http",
        poll_async=True,
        args=Expr.literal({"method": "POST", "url": f"{server.url}/jobs", "body": {"n": 1}, "headers": {"Authorization": "Bearer t"}}),
        result=Expr("jmespath", "result.body"),
    )
    before = len(server.state.requests)
    instance_id, state = run_graph(client, workflow, None)
    assert state.runtime_status.name == "COMPLETED", state.failure_details
    output = json.loads(state.serialized_output)
    assert output["result"] == 42 and output["auth"] == "Bearer t"
    job = output["job"]
    requests = server.state.requests[before:]
    assert requests == [("POST", "/jobs"), ("GET", f"/jobs/{job}"), ("GET", f"/jobs/{job}"), ("GET", f"/jobs/{job}")]
    kinds = [event.event_type.name for event in client.get_workflow_history(instance_id)]
    # One durable timer before each of the three polls, one activity per request.
    assert kinds.count("TIMER_CREATED") == 3 and kinds.count("TIMER_FIRED") == 3
    assert kinds.count("TASK_SCHEDULED") == 4 and kinds.count("TASK_COMPLETED") == 4


def test_user_activities_cannot_take_builtin_names() -> None:
    def http(x: Any) -> Any:
        return x

    with pytest.raises(ValueError, match="'http' .* is reserved for the built-in"):
        worker_registry(Registry([http]))


def test_two_workers_in_one_process(tmp_path: Path) -> None:
    # The interpreter registers in every new runtime, not only the first of the process.
    with Engine(tmp_path / "two.db") as engine:
        for _ in range(2):
            start_worker(engine.host, engine.port, Registry([add_one])).shutdown()


def test_a_child_step_that_times_out_terminates_the_child(client: wf.DaprWorkflowClient, tmp_path: Path) -> None:
    from declarative_wf.formats import load_definition

    (tmp_path / "slow.dwf.yaml").write_text("dwf: 1\nname: slow\nsteps: [ { wait: 1h } ]\n")
    (tmp_path / "parent.dwf.yaml").write_text(
        "dwf: 1\nname: impatient\nsteps:\n  - workflow: slow.dwf.yaml\n    timeout: 1s\n"
        "    catch: { on: Timeout, steps: [ { set: '${ error.message }' } ] }\n"
    )
    instance_id, state = run_graph(client, load_definition(tmp_path / "parent.dwf.yaml").workflow, None)
    assert state.runtime_status == wf.WorkflowStatus.COMPLETED, state.failure_details
    assert "did not finish within 1 seconds" in json.loads(state.serialized_output)
    child = client.get_workflow_state(f"{instance_id}:0001")
    assert child is not None and child.runtime_status == wf.WorkflowStatus.TERMINATED
    assert json.loads(child.serialized_output)["type"] == "Timeout"  # why it was ended


def test_a_child_that_ends_in_time_is_left_alone(client: wf.DaprWorkflowClient, tmp_path: Path) -> None:
    from declarative_wf.formats import load_definition

    (tmp_path / "quick.dwf.yaml").write_text("dwf: 1\nname: quick\nsteps: [ { call: add_one, with: 1 } ]\n")
    (tmp_path / "parent.dwf.yaml").write_text("dwf: 1\nname: patient\nsteps:\n  - workflow: quick.dwf.yaml\n    timeout: 30s\n")
    instance_id, state = run_graph(client, load_definition(tmp_path / "parent.dwf.yaml").workflow, None)
    assert (state.runtime_status, json.loads(state.serialized_output)) == (wf.WorkflowStatus.COMPLETED, 2)
    history = [event.event_type.value for event in client.get_workflow_history(instance_id)]
    assert "taskScheduled" not in history  # no terminate call
    assert client.get_workflow_state(f"{instance_id}:0001").runtime_status == wf.WorkflowStatus.COMPLETED
