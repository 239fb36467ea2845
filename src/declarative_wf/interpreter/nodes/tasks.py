"""Nodes that wait on the outside world: activities, child workflows, external events."""

from __future__ import annotations

from collections.abc import Generator
from datetime import timedelta
from typing import Any
from urllib.parse import urljoin

from declarative_wf.ir import ChildNode, EventNode, ResultNode, TaskNode

from ..blocks import NodeGen, run_guarded, runner
from ..commands import CallActivity, CallChild, Now, Race, Sleep, WaitEvent, WorkflowError
from ..runtime import RunContext, Step

#: Seconds between polls of an asynchronous HTTP operation that sends no Retry-After.
DEFAULT_POLL_SECONDS = 1.0
MAX_POLLS = 10_000
_NOT_CARRIED = frozenset({"method", "url", "body", "query", "form"})


def timeout_error(node: ResultNode, seconds: float) -> WorkflowError:
    return WorkflowError(
        "Timeout",
        f"{node.kind} {node.label or node.id!r} did not finish within {seconds:g} seconds",
        kinds=frozenset({"timeout"}),
        source=node.source,
    )


def _with_timeout(
    rt: RunContext, node: ResultNode, command: Any, data: Any, variables: dict[str, Any], step: Step | None = None
) -> Generator[Any, Any, Any]:
    rt.count_step()
    if node.timeout_seconds is None:
        return (yield command)
    seconds = float(rt.eval(node.timeout_seconds, data, variables, node, step or {}))
    now = yield Now()
    index, value = yield Race((command, Sleep(now + timedelta(seconds=seconds))))
    if index == 1:
        raise timeout_error(node, seconds)
    return value


def activity_envelope(arguments: Any, attempt: int, rt: RunContext, node: ResultNode) -> dict[str, Any]:
    """What our activity wrappers receive: the arguments plus the attempt number."""
    return {"dwf": 1, "input": arguments, "attempt": attempt, "node": node.id, "workflow": rt.workflow.name}


@runner("task")
def run_task(rt: RunContext, node: TaskNode, data: Any, variables: dict[str, Any]) -> NodeGen:
    def attempt(effective: Any, number: int, step: Step) -> Generator[Any, Any, Any]:
        arguments = rt.eval_optional(node.args, effective, variables, node, effective, step)
        call = CallActivity(node.activity, activity_envelope(arguments, number, rt, node))
        result = yield from _with_timeout(rt, node, call, effective, variables, step)
        if node.poll_async:
            result = yield from poll_until_done(rt, node, arguments, result)
        return result

    return (yield from run_guarded(rt, node, data, variables, attempt))


def poll_until_done(rt: RunContext, node: TaskNode, request: Any, response: Any) -> Generator[Any, Any, Any]:
    """The asynchronous request-reply pattern: ``202 Accepted`` + ``Location`` means "ask
    there later". Waits are durable timers, so a restart in the middle loses nothing."""
    url = request.get("url") if isinstance(request, dict) else None
    polls = 0
    while isinstance(response, dict) and response.get("status") == 202:
        headers = {str(k).lower(): v for k, v in (response.get("headers") or {}).items()}
        location = headers.get("location")
        if not location:
            return response
        polls += 1
        if polls > MAX_POLLS:
            raise WorkflowError("Timeout", f"gave up after {MAX_POLLS} polls of {location}", kinds=frozenset({"timeout"}))
        url = urljoin(url or "", location)
        wait = _retry_after(headers.get("retry-after"))
        now = yield Now()
        rt.count_step()
        yield Sleep(now + timedelta(seconds=wait))
        # Polls are GETs of the new location with the original request's credentials and
        # options (headers, auth, timeout, ...), but not its body.
        carried = {k: v for k, v in request.items() if k not in _NOT_CARRIED} if isinstance(request, dict) else {}
        poll = {**carried, "method": "GET", "url": url}
        rt.count_step()
        response = yield CallActivity(node.activity, activity_envelope(poll, 1, rt, node))
    return response


def _retry_after(value: Any) -> float:
    try:
        return max(0.0, min(float(value), 3600.0))
    except (TypeError, ValueError):
        return DEFAULT_POLL_SECONDS


@runner("child")
def run_child(rt: RunContext, node: ChildNode, data: Any, variables: dict[str, Any]) -> NodeGen:
    def attempt(effective: Any, number: int, step: Step) -> Generator[Any, Any, Any]:
        arguments = rt.eval_optional(node.args, effective, variables, node, effective, step)
        if node.graph is None:
            payload: dict[str, Any] = {"definition": node.workflow, "input": arguments}
        else:
            from declarative_wf.ir import Workflow, workflow_to_json

            child = Workflow(name=node.workflow, version=None, format=rt.workflow.format, body=node.graph)
            payload = {"ir": workflow_to_json(child), "input": arguments}
        call = CallChild(payload, rt.next_child_id(node))
        return (yield from _with_timeout(rt, node, call, effective, variables, step))

    return (yield from run_guarded(rt, node, data, variables, attempt))


@runner("event")
def run_event(rt: RunContext, node: EventNode, data: Any, variables: dict[str, Any]) -> NodeGen:
    def attempt(effective: Any, number: int, step: Step) -> Generator[Any, Any, Any]:
        while True:
            event = yield from _with_timeout(rt, node, WaitEvent(node.event), effective, variables, step)
            if node.correlate is None:
                return event
            if rt.eval(node.correlate, effective, {**variables, "event": event}, node) is True:
                return event
            # Not ours: keep waiting (the event is consumed; see docs/interpreter.md).

    return (yield from run_guarded(rt, node, data, variables, attempt))
