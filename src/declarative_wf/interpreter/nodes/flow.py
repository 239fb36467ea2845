"""Control-flow nodes: choice, wait, fail, succeed, set, try and loop."""

from __future__ import annotations

from collections.abc import Generator
from datetime import datetime, timedelta, timezone
from typing import Any

from declarative_wf.ir import ChoiceNode, CompensateNode, FailNode, LoopNode, SetNode, SucceedNode, TryNode, WaitNode

from ..blocks import COMPENSATIONS, END, NodeGen, NodeResult, WorkflowSucceeded, run_block, run_guarded, runner
from ..commands import ContinueAsNew, Now, Sleep, WorkflowError, runtime_error
from ..errors import RetryState
from ..runtime import RunContext, Step, assign, merge, node_input


@runner("choice")
def run_choice(rt: RunContext, node: ChoiceNode, data: Any, variables: dict[str, Any]) -> NodeGen:
    effective = node_input(rt, node, data, variables)
    step = {"input": data, "effective": effective}
    for case in node.cases:
        if rt.eval(case.condition, effective, variables, node, step) is True:
            taken_output, taken_assign, jump = case.output, case.assign, case.next or END
            break
        yield from ()
    else:
        if node.no_default_is_error:
            raise WorkflowError("NoChoiceMatched", f"no case of {node.label or node.id!r} matched", kinds=frozenset({"runtime"}))
        taken_output, taken_assign, jump = node.default_output, node.default_assign, None
    value = rt.eval_optional(taken_output, effective, variables, node, effective, step)
    output = rt.eval_optional(node.output, value, variables, node, value, step)
    assignments = {**node.assign, **taken_assign} if taken_assign else node.assign
    return NodeResult(output, assign(rt, node, assignments, output, variables, step), jump=jump)


def parse_timestamp(value: Any, node: WaitNode) -> datetime:
    if not isinstance(value, str):
        raise runtime_error(f"'until' must be an RFC 3339 timestamp string, got {value!r}", node.source)
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise runtime_error(f"'until' is not an RFC 3339 timestamp: {value!r}", node.source) from error
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@runner("wait")
def run_wait(rt: RunContext, node: WaitNode, data: Any, variables: dict[str, Any]) -> NodeGen:
    effective = node_input(rt, node, data, variables)
    step = {"input": data, "effective": effective}
    now: datetime = yield Now()
    if node.until is not None:
        target = parse_timestamp(rt.eval(node.until, effective, variables, node, step), node)
    else:
        seconds = rt.eval_optional(node.seconds, effective, variables, node, 0, step)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise runtime_error(f"a wait needs a non-negative number of seconds, got {seconds!r}", node.source)
        target = now + timedelta(seconds=seconds)
    if target.tzinfo is None:
        target = target.replace(tzinfo=timezone.utc)
    if target > (now if now.tzinfo else now.replace(tzinfo=timezone.utc)):
        rt.count_step()
        yield Sleep(target)
    output = rt.eval_optional(node.output, effective, variables, node, effective, step)
    return NodeResult(output, assign(rt, node, node.assign, output, variables, step))


@runner("fail")
def run_fail(rt: RunContext, node: FailNode, data: Any, variables: dict[str, Any]) -> NodeGen:
    effective = node_input(rt, node, data, variables)
    step = {"input": data, "effective": effective}
    error_type = rt.eval(node.error, effective, variables, node, step)
    message = rt.eval_optional(node.message, effective, variables, node, "", step)
    yield from ()
    raise WorkflowError(
        "" if error_type is None else str(error_type),  # None: a fail node that names no error
        "" if message is None else str(message),
        status=node.status,
        source=node.source,
    )


@runner("succeed")
def run_succeed(rt: RunContext, node: SucceedNode, data: Any, variables: dict[str, Any]) -> NodeGen:
    effective = node_input(rt, node, data, variables)
    step = {"input": data, "effective": effective}
    output = rt.eval_optional(node.output, effective, variables, node, effective, step)
    yield from ()
    if node.scope == "workflow":
        raise WorkflowSucceeded(output, variables)
    return NodeResult(output, assign(rt, node, node.assign, output, variables, step), stop="block")


@runner("set")
def run_set(rt: RunContext, node: SetNode, data: Any, variables: dict[str, Any]) -> NodeGen:
    effective = node_input(rt, node, data, variables)
    step: dict[str, Any] = {"input": data, "effective": effective}
    value = rt.eval_optional(node.value, effective, variables, node, effective, step)
    step["result"] = step["selected"] = value
    new_variables = assign(rt, node, node.assign, value, variables, step)
    merged = merge(data, value, node.merge, node)
    yield from ()
    step["prior_variables"] = variables
    return NodeResult(rt.eval_optional(node.output, merged, new_variables, node, merged, step), new_variables)


@runner("try")
def run_try(rt: RunContext, node: TryNode, data: Any, variables: dict[str, Any]) -> NodeGen:
    def attempt(effective: Any, number: int, step: Step) -> Generator[Any, Any, Any]:
        if node.body is None:
            return effective
        # A try body shares the enclosing scope: its variables (and registered compensations)
        # stay visible to the catch handlers and after the try.
        result, _ = yield from run_block(rt, node.body, effective, variables, shared_scope=variables)
        return result

    return (yield from run_guarded(rt, node, data, variables, attempt))


@runner("loop")
def run_loop(rt: RunContext, node: LoopNode, data: Any, variables: dict[str, Any]) -> NodeGen:
    """A monitor: run the body, stop when ``until`` holds, else wait ``every`` and repeat.

    The rounds are one attempt of a result node, so retry rules restart the whole loop and
    catch rules handle its failures. The body shares the enclosing scope (as a try body does):
    what it assigns stays visible to ``until``, the handlers and the steps after the loop."""
    resumed = rt.take_resume_state(node.id)
    retry_state = RetryState.from_json(resumed.get("retry")) if resumed else RetryState()
    top_level = node.id in rt.workflow.body.nodes

    def attempt(effective: Any, number: int, step: Step) -> Generator[Any, Any, Any]:
        nonlocal resumed
        if resumed is not None:  # continued as new in the middle of this loop
            # Loops of earlier versions saved no "current": their resume data was the round's.
            current = resumed["current"] if "current" in resumed else data
            started = datetime.fromisoformat(resumed["started"])
            rounds = int(resumed["rounds"])
            resumed = None
        else:
            current = effective
            started = yield Now()
            rounds = 0
        timeout = None if node.timeout_seconds is None else float(rt.eval(node.timeout_seconds, effective, variables, node, step))
        while True:
            if top_level and rt.over_budget:
                state = {"started": started.isoformat(), "rounds": rounds, "current": current, "retry": retry_state.to_json()}
                yield ContinueAsNew({"resume": {"node": node.id, "data": data, "variables": dict(variables), "state": state}})
            if node.body is not None:
                current, _ = yield from run_block(rt, node.body, current, variables, shared_scope=variables)
            rounds += 1
            if node.until is not None and rt.eval(node.until, current, variables, node) is True:
                return current
            if node.max_rounds is not None and rounds >= node.max_rounds:
                return current
            now: datetime = yield Now()
            elapsed = (now - started).total_seconds()
            if timeout is not None and elapsed >= timeout:
                raise WorkflowError(
                    node.timeout_error,
                    f"{node.label or node.id!r} did not finish within {timeout:g} seconds ({rounds} rounds)",
                    kinds=frozenset({"timeout"}),
                )
            every = float(rt.eval_optional(node.every_seconds, current, variables, node, 0))
            if timeout is not None:
                every = min(every, max(0.0, timeout - elapsed))
            if every > 0:
                rt.count_step()
                yield Sleep(now + timedelta(seconds=every))

    return (yield from run_guarded(rt, node, data, variables, attempt, retry_state))


@runner("compensate")
def run_compensate(rt: RunContext, node: CompensateNode, data: Any, variables: dict[str, Any]) -> NodeGen:
    """Undo what succeeded, most recent first (the saga pattern)."""
    registered = list(variables.get(COMPENSATIONS, []))
    remaining = {**variables, COMPENSATIONS: []}
    for entry in reversed(registered):
        compensated = rt.node(entry["node"])
        block = getattr(compensated, "compensation", None)
        if block is None:
            continue
        scope = {**remaining, "compensating": {"input": entry["input"], "result": entry["result"]}}
        yield from run_block(rt, block, entry["result"], scope)
    return NodeResult(data, remaining)
