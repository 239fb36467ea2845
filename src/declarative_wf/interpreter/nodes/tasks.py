"""Nodes that wait on the outside world: activities, child workflows, external events."""

from __future__ import annotations

from collections.abc import Callable, Generator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from declarative_wf.input_schema import input_problems
from declarative_wf.ir import ChildNode, EventNode, ResultNode, TaskNode, Workflow, workflow_to_json
from declarative_wf.task_tokens import TOKEN_ACTIVITY, TaskToken

from ..blocks import NodeGen, NodeResult, run_guarded, run_with_deadline, runner
from ..commands import (
    CallActivity,
    CallChild,
    Cancel,
    Join,
    Now,
    Race,
    Sleep,
    Spawn,
    WaitEvent,
    WorkflowError,
)
from ..payload import make_payload
from ..runtime import RunContext, Step, finish, node_input

#: Seconds between polls of an asynchronous HTTP operation that sends no Retry-After.
DEFAULT_POLL_SECONDS = 1.0
MAX_POLLS = 10_000
_NOT_CARRIED = frozenset({"method", "url", "body", "query", "form"})
#: The built-in activity that ends a child workflow whose step timed out (activities/children.py).
TERMINATE_CHILD_ACTIVITY = "dwf.terminate_child"


def timeout_error(node: ResultNode, seconds: float) -> WorkflowError:
    return WorkflowError(
        "Timeout",
        f"{node.kind} {node.label or node.id!r} did not finish within {seconds:g} seconds",
        kinds=frozenset({"timeout"}),
        source=node.source,
    )


def _with_timeout(
    rt: RunContext, node: ResultNode, command: Any, data: Any, variables: dict[str, Any], step: Step | None = None,
    on_timeout: Callable[[WorkflowError], Generator[Any, Any, None]] | None = None,
) -> Generator[Any, Any, Any]:
    """``command``, raced against the node's timeout; ``on_timeout`` runs before the timeout
    error is raised (a child workflow step ends the child there)."""
    rt.count_step()
    if node.timeout_seconds is None:
        return (yield command)
    seconds = float(rt.eval(node.timeout_seconds, data, variables, node, step or {}))
    now = yield Now()
    index, value = yield Race((command, Sleep(now + timedelta(seconds=seconds))))
    if index == 1:
        error = timeout_error(node, seconds)
        if on_timeout is not None:
            yield from on_timeout(error)
        raise error
    return value


def activity_envelope(arguments: Any, attempt: int, rt: RunContext, node: ResultNode) -> dict[str, Any]:
    """What our activity wrappers receive: the arguments plus the attempt number."""
    return {"dwf": 1, "input": arguments, "attempt": attempt, "node": node.id, "workflow": rt.workflow.name}


@runner("task")
def run_task(rt: RunContext, node: TaskNode, data: Any, variables: dict[str, Any]) -> NodeGen:
    if node.plain:
        return (yield from _run_plain_task(rt, node, data, variables))
    if node.callback:
        return (yield from run_guarded(rt, node, data, variables, _callback_attempt(rt, node, variables)))

    def attempt(effective: Any, number: int, step: Step) -> Generator[Any, Any, Any]:
        arguments = rt.eval_optional(node.args, effective, variables, node, effective, step)
        call = CallActivity(node.activity, activity_envelope(arguments, number, rt, node))
        if node.poll_async:
            operation = _call_and_poll(rt, node, call, arguments)
            if node.timeout_seconds is None:
                return (yield from operation)
            # The timeout bounds the whole operation: the request and every poll after it.
            return (yield from run_with_deadline(rt, node, operation, effective, variables))
        if node.timeout_seconds is None:  # the hot path of every plain step: one generator less
            rt.count_step()
            return (yield call)
        return (yield from _with_timeout(rt, node, call, effective, variables, step))

    return (yield from run_guarded(rt, node, data, variables, attempt))


def _run_plain_task(rt: RunContext, node: TaskNode, data: Any, variables: dict[str, Any]) -> NodeGen:
    """:func:`run_guarded` for a task with nothing to guard (no retry, catch, timeout,
    callback, polling or compensation): the same data flow in one generator instead of three.
    Most steps are like this, and every replayed turn runs them all again."""
    effective = node_input(rt, node, data, variables)
    step: dict[str, Any] = {"input": data, "effective": effective}
    arguments = rt.eval_optional(node.args, effective, variables, node, effective, {**step, "attempt": 1})
    rt.count_step()
    raw = yield CallActivity(node.activity, activity_envelope(arguments, 1, rt, node))
    return NodeResult(*finish(rt, node, data, raw, variables, step))


def _call_and_poll(rt: RunContext, node: TaskNode, call: CallActivity, request: Any) -> Generator[Any, Any, Any]:
    rt.count_step()
    response = yield call
    return (yield from poll_until_done(rt, node, request, response))


def _callback_attempt(rt: RunContext, node: TaskNode, variables: dict[str, Any]) -> Any:
    """One attempt of a task that waits for a callback (see :mod:`declarative_wf.task_tokens`):
    draw a token, call the activity with it (as the step's ``task_token``), then wait for the
    token's event. ``timeout_seconds`` bounds the whole attempt (``Timeout``);
    ``heartbeat_seconds`` bounds every pause between callbacks (``HeartbeatTimeout``). The
    wait is an external event, never a blocked activity (see :func:`_wait_for_callback`)."""

    def attempt(effective: Any, number: int, step: Step) -> Generator[Any, Any, Any]:
        now = yield Now()
        total = _seconds(rt, node, node.timeout_seconds, effective, variables, step)
        heartbeat = _seconds(rt, node, node.heartbeat_seconds, effective, variables, step)
        deadline = None if total is None else now + timedelta(seconds=total)
        rt.count_step()
        nonce = yield CallActivity(TOKEN_ACTIVITY, activity_envelope({"instance": rt.instance_id}, number, rt, node))
        token = TaskToken(rt.instance_id, str(nonce))
        step = {**step, "task_token": str(token)}
        arguments = rt.eval_optional(node.args, effective, variables, node, effective, step)
        call = CallActivity(node.activity, activity_envelope(arguments, number, rt, node))
        rt.count_step()
        if deadline is None:
            yield call
        else:
            index, _ = yield Race((call, Sleep(deadline)))
            if index == 1:
                yield from _close(rt, node, token, number)
                raise timeout_error(node, total or 0)
        message = yield from _wait_for_callback(rt, node, token, number, deadline, total, heartbeat)
        kind = message.get("kind") if isinstance(message, dict) else None
        if kind == "failure":
            # Error and cause exactly as the callback sent them ("callback": formats keep them
            # verbatim instead of wrapping them as an activity's exception).
            error = message.get("error")
            raise WorkflowError(
                str(error) if error is not None else "",
                str(message.get("cause") or ""),
                kinds=frozenset({"task", "callback"}),
                source=node.source,
            )
        return message.get("output") if isinstance(message, dict) else None

    return attempt


def _wait_for_callback(
    rt: RunContext, node: TaskNode, token: TaskToken, number: int, deadline: datetime | None, total: float | None, heartbeat: float | None
) -> Generator[Any, Any, Any]:
    """The success or failure message of ``token``'s wait. Two fibers: one waits for the
    token's events (a heartbeat only starts it again), one sleeps until the nearer of the task's
    deadline and the heartbeat deadline. A heartbeat adds one event to the history and no
    timer: when the timer fires and a heartbeat came meanwhile, a new timer is set for the
    rest of the period."""
    last_beat = yield Now()
    if deadline is None and heartbeat is None:
        rt.count_step()
        while True:
            message = yield WaitEvent(token.event)
            if not (isinstance(message, dict) and message.get("kind") == "heartbeat"):
                return message
    waiter = yield Spawn(_next_event(rt, token), f"{node.id}:callback")
    alarm = yield Spawn(_alarm(rt, _due(deadline, last_beat, heartbeat)), f"{node.id}:deadline")
    while True:
        for handle, ok, value in (yield Join((waiter, alarm), "any")):
            if not ok:
                raise value
            if handle is waiter:
                if isinstance(value, dict) and value.get("kind") == "heartbeat":
                    last_beat = yield Now()
                    waiter = yield Spawn(_next_event(rt, token), f"{node.id}:callback")
                    continue
                yield Cancel((alarm,))
                return value
            now = yield Now()  # the timer fired: a deadline passed, unless heartbeats moved it
            if deadline is not None and now >= deadline:
                yield Cancel((waiter,))
                yield from _close(rt, node, token, number)
                raise timeout_error(node, total or 0)
            if heartbeat is not None and now >= last_beat + timedelta(seconds=heartbeat):
                yield Cancel((waiter,))
                yield from _close(rt, node, token, number)
                raise WorkflowError(
                    "HeartbeatTimeout",
                    f"{node.kind} {node.label or node.id!r} received no heartbeat within {heartbeat:g} seconds",
                    kinds=frozenset({"timeout", "heartbeat"}),
                    source=node.source,
                )
            alarm = yield Spawn(_alarm(rt, _due(deadline, last_beat, heartbeat)), f"{node.id}:deadline")


def _due(deadline: datetime | None, last_beat: datetime, heartbeat: float | None) -> datetime:
    moments = [moment for moment in (deadline, None if heartbeat is None else last_beat + timedelta(seconds=heartbeat)) if moment is not None]
    return min(moments)


def _next_event(rt: RunContext, token: TaskToken) -> Generator[Any, Any, Any]:
    rt.count_step()
    return (yield WaitEvent(token.event))


def _alarm(rt: RunContext, until: datetime) -> Generator[Any, Any, None]:
    rt.count_step()
    yield Sleep(until)


def _seconds(rt: RunContext, node: TaskNode, expr: Any, effective: Any, variables: dict[str, Any], step: Step) -> float | None:
    if expr is None:
        return None
    value = rt.eval(expr, effective, variables, node, step)
    return None if value is None else float(value)


def _close(rt: RunContext, node: TaskNode, token: TaskToken, number: int) -> Generator[Any, Any, None]:
    """Records in the history that the wait of ``token`` ended without a callback, so a late
    callback is refused (``TaskTimedOut``) instead of being delivered to nobody."""
    rt.count_step()
    yield CallActivity(TOKEN_ACTIVITY, activity_envelope({"close": token.nonce}, number, rt, node))


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
        if node.definition is not None:
            _check_child_input(node, node.definition, arguments)
            payload: dict[str, Any] = make_payload(node.definition, arguments)
        elif node.graph is not None:
            # An embedded graph runs with its parent's format options; ``embedded_at`` names
            # the call site, so a format profile can find the child's own facts there.
            options = {**rt.workflow.options, "embedded_at": node.id}
            child = Workflow(name=node.workflow, version=None, format=rt.workflow.format, body=node.graph, options=options)
            payload = {"ir": workflow_to_json(child), "input": arguments}
        else:
            payload = {"definition": node.workflow, "input": arguments}
        call = CallChild(payload, rt.next_child_id(node))

        def end_child(error: WorkflowError) -> Generator[Any, Any, None]:
            return _terminate_child(rt, node, call.instance_id, number, error)

        return (yield from _with_timeout(rt, node, call, effective, variables, step, on_timeout=end_child))

    return (yield from run_guarded(rt, node, data, variables, attempt))


def _terminate_child(rt: RunContext, node: ChildNode, instance_id: str, number: int, error: WorkflowError) -> Generator[Any, Any, None]:
    """The step gave up waiting: end the child too, rather than leave it running for nobody.
    Best effort: the step fails with its timeout whether or not the child could be ended."""
    rt.count_step()
    request = {"instance": instance_id, "reason": {"type": error.type, "message": error.message}}
    try:
        yield CallActivity(TERMINATE_CHILD_ACTIVITY, activity_envelope(request, number, rt, node))
    except WorkflowError:
        pass


def _check_child_input(node: ChildNode, child: Workflow, arguments: Any) -> None:
    """An embedded child's input schema, checked before the child starts (as the API checks
    a top-level input): a bad input fails the step, and no child instance is created."""
    problems = input_problems(child, arguments)
    if problems:
        listed = "; ".join(problems[:10]) + ("; ..." if len(problems) > 10 else "")
        raise WorkflowError(
            "InvalidInput",
            f"the input of child workflow {child.name!r} does not match its input schema: {listed}",
            kinds=frozenset({"runtime", "input"}),
            source=node.source,
        )


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
