"""Per-execution state of the interpreter and the data-flow steps every node shares."""

from __future__ import annotations

import copy
import hashlib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from declarative_wf.expressions.evaluate import ExpressionError, Scope, evaluate
from declarative_wf.ir import Block, Expr, Merge, Node, ResultNode, Workflow

from .commands import WorkflowError, runtime_error
from .profiles import FormatProfile, profile_for

#: Durable steps (activities, timers, events, children) one execution may take before a loop
#: continues as new, keeping the history bounded.
DEFAULT_STEP_BUDGET = 400

Variables = Mapping[str, Any]
#: What a node has seen so far of its own data flow (see ``Scope.step``).
Step = Mapping[str, Any]
_NO_STEP: Step = {}


class OrchestrationRandom:
    """Deterministic entropy for expressions: the n-th draw of an execution is derived from the
    instance id, the continue-as-new generation and n, so every replay draws the same values."""

    def __init__(self, instance_id: str, generation: int) -> None:
        self._seed = f"{instance_id}|{generation}"
        self._draws = 0

    def _digest(self) -> bytes:
        self._draws += 1
        return hashlib.sha256(f"{self._seed}|{self._draws}".encode()).digest()

    def random(self) -> float:
        return int.from_bytes(self._digest()[:7], "big") / 2**56

    def uuid(self) -> str:
        return str(uuid.UUID(bytes=self._digest()[:16], version=4))


@dataclass(slots=True)
class RunContext:
    workflow: Workflow
    instance_id: str
    input: Any
    context: dict[str, Any] = field(default_factory=dict)
    step_budget: int = DEFAULT_STEP_BUDGET
    steps: int = 0  # durable steps issued in this execution
    generation: int = 0  # how many times this instance continued as new
    #: The graph as the payload carries it (JSON text; an object in older payloads), handed on
    #: to for-each chunk children.
    ir_json: dict[str, Any] | str | None = None
    #: The graph's content hash from the payload (chunk children carry it on, so the worker
    #: parses their graph once, not on every turn).
    ir_hash: str | None = None
    #: Node-specific state of a continued-as-new execution, handed to that node once.
    resume_state: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The workflow clock (the engine's replayed time); set by the driver.
    clock: Callable[[], datetime] | None = None
    #: True while the engine replays history already recorded (set by the driver): observers
    #: of format profiles use it to report each event once.
    replaying: Callable[[], bool] | None = None
    #: When this execution started, by the workflow clock.
    started_at: datetime | None = None
    #: Scratch space of the format profile for this execution (e.g. ASL's event counter).
    format_state: dict[str, Any] = field(default_factory=dict)
    #: ``host:port`` of the engine this execution runs on (set by the driver; lifecycle events go there).
    engine_address: str | None = None
    _children: int = 0
    _nodes: dict[str, Node] | None = None
    _profile: FormatProfile | None = None
    _random: OrchestrationRandom | None = None

    def take_resume_state(self, node_id: str) -> dict[str, Any] | None:
        return self.resume_state.pop(node_id, None)

    @property
    def profile(self) -> FormatProfile:
        if self._profile is None:
            self._profile = profile_for(self.workflow.format)
        return self._profile

    @property
    def random(self) -> OrchestrationRandom:
        if self._random is None:
            self._random = OrchestrationRandom(self.instance_id, self.generation)
        return self._random

    # -- expressions ----------------------------------------------------------------------

    def scope(self, data: Any, variables: Variables, node: Node | None = None, step: Step = _NO_STEP) -> Scope:
        context = self.profile.context(self, node, variables, step)
        return Scope(data, variables, self.input, context, step, self.random, self.clock)

    def eval(self, expr: Expr, data: Any, variables: Variables, node: Node | None = None, step: Step = _NO_STEP) -> Any:
        try:
            return evaluate(expr, self.scope(data, variables, node, step))
        except ExpressionError as error:
            if error.error_type is None:
                failure = runtime_error(error.message, node.source if node else None)
            else:
                failure = WorkflowError(error.error_type, error.message, kinds=frozenset({"runtime", "expression"}))
            failure.kinds = failure.kinds | {"expression"}
            raise self.locate(failure, node) from error

    def eval_optional(
        self, expr: Expr | None, data: Any, variables: Variables, node: Node, default: Any, step: Step = _NO_STEP
    ) -> Any:
        return default if expr is None else self.eval(expr, data, variables, node, step)

    # -- errors -------------------------------------------------------------------------------

    def locate(self, error: WorkflowError, node: Node | None) -> WorkflowError:
        """Ties an error to the node where it arose (once) and lets the format rename it."""
        if error.node is not None or node is None:
            return error
        error.node = node.id
        if error.source is None:
            error.source = node.source
        return self.profile.translate(self, node, error)

    # -- identities ---------------------------------------------------------------------------

    def next_child_id(self, node: Node) -> str:
        """Child instance ids derived from the parent's id: stable under replay."""
        self._children += 1
        if self.generation:  # ids stay unique across continue-as-new executions
            return f"{self.instance_id}:{self.generation}:{self._children:04d}"
        return f"{self.instance_id}:{self._children:04d}"

    def jitter(self, key: str) -> float:
        """A number in [0, 1) that is the same on every replay of this instance."""
        digest = hashlib.sha256(f"{self.instance_id}|{key}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64

    def node(self, node_id: str) -> Node:
        if self._nodes is None:
            self._nodes = {}
            _index(self.workflow.body, self._nodes)
        return self._nodes[node_id]

    def count_step(self) -> None:
        self.steps += 1

    @property
    def over_budget(self) -> bool:
        return self.steps >= self.step_budget


def _index(block: Block, into: dict[str, Node]) -> None:
    for node in block.nodes.values():
        into[node.id] = node
        for value in vars(node).values():
            if isinstance(value, Block):
                _index(value, into)
            elif isinstance(value, tuple):
                for item in value:
                    if isinstance(item, Block):
                        _index(item, into)
                    handler = getattr(item, "handler", None)
                    if isinstance(handler, Block):
                        _index(handler, into)


# -- data flow --------------------------------------------------------------------------------


def node_input(rt: RunContext, node: Node, data: Any, variables: Variables) -> Any:
    if node.input is None:
        return data
    effective = rt.eval(node.input, data, variables, node, {"input": data})
    rt.profile.transformed(rt, node, effective)  # formats that expose the transformed input later
    return effective


def assign(
    rt: RunContext, node: Node, assignments: Mapping[str, Expr], data: Any, variables: Variables, step: Step = _NO_STEP
) -> dict[str, Any]:
    """Evaluates every assignment against the same scope, then applies them together."""
    if not assignments:
        return dict(variables)
    values = {name: rt.eval(expr, data, variables, node, step) for name, expr in assignments.items()}
    return {**variables, **values}


def merge(data: Any, value: Any, how: Merge, node: Node) -> Any:
    if how.mode == "replace":
        return value
    if how.mode == "discard":
        return data
    return set_path(data, how.path, value, node)


def set_path(data: Any, path: tuple[str | int, ...], value: Any, node: Node) -> Any:
    if not path:
        return value
    target = copy.deepcopy(data) if isinstance(data, (dict, list)) else {}
    cursor = target
    for index, key in enumerate(path):
        last = index == len(path) - 1
        if isinstance(key, int):
            if not isinstance(cursor, list) or not -len(cursor) <= key < len(cursor):
                raise _merge_error(f"cannot set index {key} of the data: no such element", node)
            if last:
                cursor[key] = value
            else:
                cursor = cursor[key]
            continue
        if not isinstance(cursor, dict):
            raise _merge_error(f"cannot set field {key!r}: the data there is not an object", node)
        if last:
            cursor[key] = value
        else:
            nested = cursor.get(key)
            if not isinstance(nested, (dict, list)):
                nested = cursor[key] = {}
            cursor = nested
    return target


def _merge_error(message: str, node: Node) -> WorkflowError:
    """A result that cannot be placed in the data (kind ``merge``: ASL's ResultPathMatchFailure)."""
    return WorkflowError("Runtime", message, kinds=frozenset({"runtime", "merge"}), source=node.source)


def finish(
    rt: RunContext, node: ResultNode, data: Any, raw: Any, variables: Variables, step: Step = _NO_STEP
) -> tuple[Any, dict[str, Any]]:
    """Result selection, variable assignment, merge into the data, output filter."""
    step = {**step, "input": data, "result": raw}
    selected = rt.eval_optional(node.result, raw, variables, node, raw, step)
    step["selected"] = selected
    new_variables = assign(rt, node, node.assign, selected, variables, step)
    merged = merge(data, selected, node.merge, node)
    step["prior_variables"] = variables
    return rt.eval_optional(node.output, merged, new_variables, node, merged, step), new_variables


def error_object(error: WorkflowError) -> dict[str, Any]:
    """What expressions, catch handlers and outputs see of an error."""
    out: dict[str, Any] = {"type": error.type, "message": error.message}
    if error.cause is not None:
        out["cause"] = error.cause
    if error.status is not None:
        out["status"] = error.status
    return out
