"""Workflows and activities written with the Dapr SDK, used by the engine's end-to-end tests.

Activities record their executions in ``CALLS`` so tests can check how often they ran.
"""

from __future__ import annotations

import collections
import threading
from datetime import timedelta

import dapr.ext.workflow as wf

CALLS: collections.Counter[str] = collections.Counter()
_LOCK = threading.Lock()


def _count(key: str) -> int:
    with _LOCK:
        CALLS[key] += 1
        return CALLS[key]


def echo(ctx: wf.WorkflowActivityContext, value):
    return value


def add_one(ctx: wf.WorkflowActivityContext, value: int) -> int:
    return value + 1


def flaky(ctx: wf.WorkflowActivityContext, spec: dict):
    """Fails the first ``spec['failures']`` times it runs for ``spec['key']``."""
    attempt = _count(spec["key"])
    if attempt <= spec["failures"]:
        raise ValueError(f"attempt {attempt} failed on purpose")
    return attempt


def boom(ctx: wf.WorkflowActivityContext, message: str):
    raise RuntimeError(message)


def counted(ctx: wf.WorkflowActivityContext, key: str) -> str:
    _count(key)
    return key


def big(ctx: wf.WorkflowActivityContext, size: int) -> str:
    return "z" * size


def make_big(ctx: wf.DaprWorkflowContext, size: int):
    try:
        return len((yield ctx.call_activity(big, input=size)))
    except Exception as error:
        return f"caught: {error}"


def chain(ctx: wf.DaprWorkflowContext, value: int):
    for _ in range(5):
        value = yield ctx.call_activity(add_one, input=value)
    return value


def fan_out(ctx: wf.DaprWorkflowContext, count: int):
    results = yield wf.when_all([ctx.call_activity(add_one, input=i) for i in range(count)])
    return sum(results)


def first_wins(ctx: wf.DaprWorkflowContext, _):
    timer = ctx.create_timer(timedelta(seconds=30))
    event = ctx.wait_for_external_event("approve")
    winner = yield wf.when_any([timer, event])
    return "approved" if winner == event else "timed out"


def retried(ctx: wf.DaprWorkflowContext, spec: dict):
    policy = wf.RetryPolicy(
        first_retry_interval=timedelta(milliseconds=50),
        max_number_of_attempts=spec["max_attempts"],
        backoff_coefficient=2.0,
    )
    try:
        return (yield ctx.call_activity(flaky, input=spec, retry_policy=policy))
    except wf.TaskFailedError as error:  # type: ignore[attr-defined]
        return f"gave up: {error}"


def failing(ctx: wf.DaprWorkflowContext, message: str):
    yield ctx.call_activity(boom, input=message)


def catching(ctx: wf.DaprWorkflowContext, message: str):
    try:
        yield ctx.call_activity(boom, input=message)
    except Exception as error:  # the SDK raises TaskFailedError
        return f"caught: {error}"


def sleeper(ctx: wf.DaprWorkflowContext, milliseconds: int):
    yield ctx.create_timer(timedelta(milliseconds=milliseconds))
    return milliseconds


def waiter(ctx: wf.DaprWorkflowContext, spec: dict):
    """Waits for ``spec['count']`` events named ``spec['name']`` (optionally with a timeout)."""
    timeout = spec.get("timeout_ms")
    received = []
    for _ in range(spec.get("count", 1)):
        try:
            if timeout is None:
                received.append((yield ctx.wait_for_external_event(spec["name"])))
            else:
                received.append(
                    (yield ctx.wait_for_external_event(spec["name"], timeout=timedelta(milliseconds=timeout)))
                )
        except TimeoutError:
            received.append("timeout")
    return received


def status_setter(ctx: wf.DaprWorkflowContext, _):
    ctx.set_custom_status("step 1")
    yield ctx.wait_for_external_event("next")
    ctx.set_custom_status("step 2")
    yield ctx.wait_for_external_event("next")
    return "done"


def child(ctx: wf.DaprWorkflowContext, value):
    if value == "fail":
        yield ctx.call_activity(boom, input="child failed")
    if value == "wait":
        yield ctx.wait_for_external_event("never")
    result = yield ctx.call_activity(add_one, input=value)
    return result


def parent(ctx: wf.DaprWorkflowContext, values: list):
    results = []
    for index, value in enumerate(values):
        try:
            results.append(
                (yield ctx.call_child_workflow(child, input=value, instance_id=f"{ctx.instance_id}-child-{index}"))
            )
        except Exception as error:
            results.append(f"child error: {error}")
    return results


def parent_of_waiters(ctx: wf.DaprWorkflowContext, count: int):
    tasks = [
        ctx.call_child_workflow(child, input="wait", instance_id=f"{ctx.instance_id}-c{index}")
        for index in range(count)
    ]
    yield wf.when_all(tasks)


def counter(ctx: wf.DaprWorkflowContext, state: dict):
    """Continues as new until ``n`` reaches ``until``; keeps raised events with save_events."""
    if state["n"] >= state["until"]:
        return state
    if state.get("wait_event"):
        value = yield ctx.wait_for_external_event("tick")
        state = {**state, "seen": [*state.get("seen", []), value]}
    else:
        yield ctx.call_activity(echo, input=state["n"])
    ctx.continue_as_new({**state, "n": state["n"] + 1}, save_events=state.get("save_events", False))


ALL_WORKFLOWS = [
    chain, fan_out, first_wins, retried, failing, catching, sleeper, waiter, status_setter,
    child, parent, parent_of_waiters, counter, make_big,
]
ALL_ACTIVITIES = [echo, add_one, flaky, boom, counted, big]
