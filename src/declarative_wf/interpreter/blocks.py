"""Running a block: follow ``next`` edges from the start node, one node runner per kind."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from declarative_wf.ir import Block, CatchRule, Node, ResultNode

from .commands import Cancel, ContinueAsNew, Join, Now, SetStatus, Sleep, Spawn, WorkflowError, runtime_error
from .errors import RetryState, matches, with_retries
from .runtime import RunContext, Step, Variables, assign, error_object, finish, merge, node_input

NodeGen = Generator[Any, Any, "NodeResult"]
Runner = Callable[[RunContext, Any, Any, dict[str, Any]], NodeGen]

#: The variable holding the compensations registered in the current scope, oldest first.
COMPENSATIONS = "__compensations__"

#: ``next`` value meaning "leave the block" (as opposed to None: follow the node's own next).
END = "\x00end"

#: Result nodes whose runners do not enforce ``timeout_seconds`` themselves (task, child, event
#: and listen nodes time their durable call): the block races these against a durable timer.
RACED_TIMEOUT = frozenset({"try", "parallel", "foreach"})


@dataclass
class NodeResult:
    data: Any
    variables: dict[str, Any]
    #: Where to go instead of the node's ``next`` (END leaves the block).
    jump: str | None = None
    #: Stop more than this node: the enclosing block, or the whole workflow.
    stop: Literal["block", "workflow"] | None = None


class WorkflowSucceeded(Exception):
    """Unwinds every block when a node ends the whole workflow successfully."""

    def __init__(self, data: Any, variables: dict[str, Any] | None = None) -> None:
        super().__init__("succeeded")
        self.data = data
        #: The variables where it ended, for the workflow's output expression.
        self.variables = variables


RUNNERS: dict[str, Runner] = {}


def runner(kind: str) -> Callable[[Runner], Runner]:
    def register(fn: Runner) -> Runner:
        RUNNERS[kind] = fn
        return fn

    return register


@dataclass
class Resume:
    """Where a continued-as-new execution picks up: a node of the top-level block."""

    node: str
    data: Any
    variables: dict[str, Any] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=dict)  # node-specific (e.g. loop rounds)


def run_block(
    rt: RunContext,
    block: Block,
    data: Any,
    variables: Variables,
    *,
    top_level: bool = False,
    resume: Resume | None = None,
    shared_scope: dict[str, Any] | None = None,
) -> Generator[Any, Any, tuple[Any, dict[str, Any]]]:
    """Runs the block; returns its final data and variables. With ``shared_scope`` the block
    writes its variables through to that dict after every node, so the caller still sees them
    when a node fails (a try body and its catch handlers share one scope)."""
    current = dict(variables)
    node_id = block.start
    if resume is not None:
        node_id, data, current = resume.node, resume.data, dict(resume.variables)
    profile = rt.profile
    visited: set[str] = set()  # of the top-level block only: where a loop continues as new
    while node_id is not None and node_id != END:
        node = block.nodes.get(node_id)
        if node is None:
            raise runtime_error(f"jump to {node_id!r}, which is not in this block")
        if top_level:
            if node_id in visited and rt.over_budget:
                # A loop in the top-level block: restart with a fresh history to keep it bounded.
                yield ContinueAsNew({"resume": {"node": node_id, "data": data, "variables": current}})
            visited.add(node_id)
            # Progress of the main path (branches would only overwrite each other). A replayed
            # turn would set statuses that are already stored, so it skips the command.
            if not (rt.replaying is not None and rt.replaying()):
                yield SetStatus({"node": node.id, "label": node.label or node.id})
        profile.enter(rt, node, data)
        run = RUNNERS.get(node.kind)
        if run is None:
            raise runtime_error(f"this interpreter cannot run {node.kind} nodes", node.source)
        try:
            if isinstance(node, ResultNode) and node.kind in RACED_TIMEOUT and node.timeout_seconds is not None:
                result = yield from run_with_deadline(rt, node, run(rt, node, data, current), data, current)
            else:
                result = yield from run(rt, node, data, current)
        except WorkflowError as error:
            located = node_failed(rt, node, error)
            if located is error:
                raise
            raise located from None
        try:
            profile.leave(rt, node, result.data)
        except WorkflowError as error:
            raise node_failed(rt, node, error) from None
        data, current = result.data, result.variables
        if shared_scope is not None:
            shared_scope.clear()
            shared_scope.update(current)
        if result.stop == "block":
            break
        node_id = result.jump if result.jump is not None else node.next
    return data, current


def node_failed(rt: RunContext, node: Node, error: WorkflowError) -> WorkflowError:
    """The error as it leaves ``node``: tied to it (once, see ``RunContext.locate``) and
    reported to the format profile."""
    located = rt.locate(error, node)
    rt.profile.fault(rt, node, located)
    return located


def run_with_deadline(
    rt: RunContext, node: ResultNode, body: NodeGen, data: Any, variables: dict[str, Any]
) -> NodeGen:
    """Runs ``body`` (the node) as a fiber raced against a durable timer of the node's
    ``timeout_seconds``; the timer winning cancels the node and raises a timeout error."""
    assert node.timeout_seconds is not None
    seconds = float(rt.eval(node.timeout_seconds, data, variables, node, {"input": data}))

    def wrapped() -> NodeGen:
        return (yield from body)

    def alarm() -> Generator[Any, Any, None]:
        now = yield Now()
        rt.count_step()
        yield Sleep(now + timedelta(seconds=seconds))

    main = yield Spawn(wrapped(), node.id)
    timer = yield Spawn(alarm(), f"{node.id}#timeout")
    for handle, ok, value in (yield Join((main, timer), "any")):
        if handle is main:
            yield Cancel((timer,))
            if ok:
                return value  # type: ignore[no-any-return]
            raise value
    yield Cancel((main,))
    raise WorkflowError(
        "Timeout",
        f"{node.kind} {node.label or node.id!r} did not finish within {seconds:g} seconds",
        kinds=frozenset({"timeout"}),
        source=node.source,
    )


def run_guarded(
    rt: RunContext,
    node: ResultNode,
    data: Any,
    variables: dict[str, Any],
    attempt: Callable[[Any, int, Step], Generator[Any, Any, Any]],
    retry_state: RetryState | None = None,
) -> NodeGen:
    """The life of every node that produces a result: input filter, attempts with retries,
    catch rules on failure, then result selection, assignment, merge and output filter.
    ``attempt(effective_input, attempt_number, step)`` runs the node once; ``retry_state``
    (given by nodes that continue as new mid-attempt) is where its retries stand."""
    effective = node_input(rt, node, data, variables)
    step: dict[str, Any] = {"input": data, "effective": effective}

    def once(number: int) -> Generator[Any, Any, Any]:
        return attempt(effective, number, {**step, "attempt": number})

    try:
        if node.retry:
            raw = yield from with_retries(rt, node, variables, once, retry_state)
        else:  # one generator layer less on the hot path of every plain step
            raw = yield from once(retry_state.attempt if retry_state else 1)
    except WorkflowError as error:
        # Without its traceback, which would hold this frame while a handler runs (a cycle).
        error = rt.locate(error.with_traceback(None), node)
        for rule in node.catch:
            if matches(rt, rule.match, error, variables, node):
                return (yield from handle_caught(rt, node, rule, error, data, variables))
        raise error from None
    new_data, new_variables = finish(rt, node, data, raw, variables, step)
    if node.compensation is not None:
        registered = list(new_variables.get(COMPENSATIONS, []))
        registered.append({"node": node.id, "input": effective, "result": raw})
        new_variables[COMPENSATIONS] = registered
    return NodeResult(new_data, new_variables)


def handle_caught(
    rt: RunContext, node: ResultNode, rule: CatchRule, error: WorkflowError, data: Any, variables: dict[str, Any]
) -> NodeGen:
    caught = error_object(error)
    step = {"input": data, "error": caught}
    value = rt.eval_optional(rule.result, caught, variables, node, caught, step)
    new_variables = assign(rt, node, rule.assign, value, variables, step)
    new_data = merge(data, value, rule.merge, node)
    if rule.handler is not None:
        new_data, new_variables = yield from run_block(rt, rule.handler, new_data, new_variables)
    new_data = rt.eval_optional(rule.output, new_data, new_variables, node, new_data, {**step, "prior_variables": variables})
    if rule.then == "end":
        return NodeResult(new_data, new_variables, jump=END)
    if rule.then == "jump":
        return NodeResult(new_data, new_variables, jump=rule.next if rule.next is not None else END)
    return NodeResult(new_data, new_variables)
