"""One execution of a workflow graph, from its payload to its output. Engine-independent.

The payload an instance starts with::

    {"ir": "<graph JSON, as text>", "ir_hash": "sha256:…", "input": <workflow input>,
     "resume": {...}?,          # set when the instance continued as new
     "foreach_chunk": {...}?,   # set for the children a large for-each runs in
     "generation": 0}
"""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any

from declarative_wf.ir import Workflow

from . import nodes  # noqa: F401 - registers the node runners
from .blocks import Resume, WorkflowSucceeded, run_block
from .commands import Cancel, Join, Now, Sleep, Spawn, WorkflowError
from .nodes.concurrent import run_chunk
from .payload import load_workflow, make_payload, pinned_graph
from .runtime import RunContext


def new_run_context(workflow: Workflow, payload: dict[str, Any], instance_id: str) -> RunContext:
    resume = payload.get("resume") or {}
    rt = RunContext(
        workflow=workflow,
        instance_id=instance_id,
        input=payload.get("input"),
        context={"instance_id": instance_id, "workflow": workflow.name, "version": workflow.version},
        generation=int(payload.get("generation", 0)),
        ir_json=payload.get("ir"),
        ir_hash=payload.get("ir_hash"),
    )
    if resume.get("state"):
        rt.resume_state[resume["node"]] = resume["state"]
    return rt


def run_workflow(rt: RunContext, payload: dict[str, Any]) -> Generator[Any, Any, Any]:
    """The main fiber: input filter, the top-level block (with the workflow timeout), output."""
    rt.started_at = yield Now()
    rt.profile.start(rt)
    if "foreach_chunk" in payload:
        return (yield from run_chunk(rt, payload["foreach_chunk"]))
    workflow = rt.workflow
    resume = None
    if payload.get("resume"):
        spec = payload["resume"]
        resume = Resume(spec["node"], spec.get("data"), spec.get("variables") or {}, spec.get("state") or {})
        data = resume.data
    else:
        data = rt.eval_optional(workflow.input, rt.input, {}, _root(workflow), rt.input) if workflow.input else rt.input
    body = run_block(rt, workflow.body, data, {}, top_level=True, resume=resume)
    if workflow.timeout_seconds is None:
        data, variables = yield from body
    else:
        data, variables = yield from _with_deadline(rt, body, workflow.timeout_seconds, workflow)
    return finish_workflow(rt, data, variables)


def finish_workflow(rt: RunContext, data: Any, variables: dict[str, Any] | None = None) -> Any:
    """The workflow's output expression sees the final data and the top-level variables."""
    workflow = rt.workflow
    if workflow.output is not None:
        data = rt.eval(workflow.output, data, variables or {})
    return rt.profile.finish(rt, data)


def _root(workflow: Workflow) -> Any:
    return next(iter(workflow.body.nodes.values()), None)


def _with_deadline(rt: RunContext, body: Generator[Any, Any, Any], seconds: float, workflow: Workflow) -> Generator[Any, Any, Any]:
    def wrapped() -> Generator[Any, Any, Any]:
        return (yield from body)

    def alarm() -> Generator[Any, Any, None]:
        now = yield Now()
        yield Sleep(now + timedelta(seconds=seconds))

    main = yield Spawn(wrapped(), "body")
    timer = yield Spawn(alarm(), "workflow-timeout")
    finished = yield Join((main, timer), "any")
    for handle, ok, value in finished:
        if handle is main:
            yield Cancel((timer,))
            if ok:
                return value
            raise value
    yield Cancel((main,))
    raise rt.profile.translate(rt, None, WorkflowError(
        "Timeout",
        f"workflow {workflow.name!r} did not finish within {seconds:g} seconds",
        kinds=frozenset({"timeout"}),
    ))


__all__ = [
    "WorkflowSucceeded", "finish_workflow", "load_workflow", "make_payload", "new_run_context", "pinned_graph", "run_workflow",
]
