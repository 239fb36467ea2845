"""The intermediate graph: one model every definition format compiles into.

A workflow is a :class:`Block`: a set of nodes with one start node, where each node names the
node that runs after it (``next``; ``None`` ends the block). Jumps — loops included — are
just ``next`` edges, so they stay inside their block. Compound nodes (parallel, for-each, try)
own sub-blocks. Every node records where it came from (:class:`SourceRef`), so runtime errors
point at the definition.

Data flows as in Amazon States Language, which is the most general of our formats: a node
receives the current *data*, may filter it (``input``), build activity arguments (``args``),
select from the result (``result``), assign variables (``assign``), merge the result into the
data (``merge``) and filter what it passes on (``output``). Every expression is tagged with its
language so the same graph can carry JMESPath (our DSL), jq (Serverless Workflow), JSONPath and
JSONata (ASL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

ExprLanguage = Literal["literal", "template", "jmespath", "jq", "jsonpath", "jsonata"]

IR_VERSION = 1


@dataclass(frozen=True)
class SourceRef:
    """Where a node was defined: file, 1-based line and column, and JSON Pointer."""

    file: str
    line: int
    column: int
    pointer: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Expr:
    """An expression in one language.

    ``literal``: ``value`` is the result. ``template``: ``value`` is a JSON structure whose
    leaves may be ``{"$expr": <Expr as JSON>}`` objects, evaluated in place. Otherwise
    ``value`` is the expression's source text in that language."""

    lang: ExprLanguage
    value: Any

    @staticmethod
    def literal(value: Any) -> Expr:
        return Expr("literal", value)


@dataclass(frozen=True)
class Merge:
    """How a node's (selected) result combines with the data it received.

    ``replace``: the result becomes the data. ``set``: the result is stored at ``path`` inside
    a copy of the data. ``discard``: the data passes through unchanged."""

    mode: Literal["replace", "set", "discard"] = "replace"
    path: tuple[str | int, ...] = ()


@dataclass(frozen=True)
class ErrorMatch:
    """Which errors a retry or catch rule applies to.

    ``names`` are error type names; ``*`` matches every error, ``@task`` every failure of an
    activity or child workflow, ``@timeout`` every timeout. ``when`` further filters with an
    expression over the error object (``{"type", "message", "cause"}``)."""

    names: tuple[str, ...] = ("*",)
    when: Expr | None = None
    except_when: Expr | None = None


@dataclass(frozen=True)
class RetryRule:
    """Durable retries: waits are engine timers. The delay before retry *n* (1-based) is
    ``min(max_delay, interval * backoff_rate**(n-1) + increment*(n-1))``, then jittered."""

    match: ErrorMatch = field(default_factory=ErrorMatch)
    max_retries: int = 3  # retries after the first attempt; 0 never retries
    interval_seconds: float = 1.0
    backoff_rate: float = 2.0
    increment_seconds: float = 0.0
    max_delay_seconds: float | None = None
    jitter: Literal["none", "full"] = "none"
    #: A random amount in [min, max] seconds added to every delay (after ``jitter``); stable
    #: under replay. Serverless Workflow's ``jitter: {from, to}``.
    jitter_min_seconds: float = 0.0
    jitter_max_seconds: float = 0.0
    #: Give up once this much time has passed since the first attempt.
    max_duration_seconds: float | None = None


@dataclass(frozen=True)
class CatchRule:
    """Handle an error: optionally store it (``assign`` / ``merge`` of the error object), run
    ``handler`` (a block) and continue at ``next`` of the enclosing block."""

    match: ErrorMatch = field(default_factory=ErrorMatch)
    #: Turns the error object ``{"type", "message", "cause"}`` into the value that is merged.
    result: Expr | None = None
    merge: Merge = field(default_factory=Merge)
    assign: dict[str, Expr] = field(default_factory=dict)
    output: Expr | None = None
    handler: Block | None = None
    next: str | None = None
    #: Where ``next`` goes when None: "end" ends the block, "continue" goes on with the node's
    #: own ``next``.
    then: Literal["end", "continue", "jump"] = "continue"


@dataclass
class Node:
    """Fields every node has. Subclasses set ``kind``."""

    kind: ClassVar[str] = "node"
    id: str
    next: str | None = None
    label: str | None = None
    source: SourceRef | None = None
    input: Expr | None = None
    output: Expr | None = None
    assign: dict[str, Expr] = field(default_factory=dict)


@dataclass
class ResultNode(Node):
    """A node that produces a result: it may select from it and merge it into the data."""

    result: Expr | None = None
    merge: Merge = field(default_factory=Merge)
    retry: tuple[RetryRule, ...] = ()
    catch: tuple[CatchRule, ...] = ()
    timeout_seconds: Expr | None = None
    #: Undo steps (a saga): registered when the node succeeds, run by a compensate node. The
    #: block receives the node's result as data and ``{"input", "result"}`` as ``compensating``.
    compensation: Block | None = None


@dataclass
class TaskNode(ResultNode):
    """Call an activity (a registered function, or a built-in such as ``http``)."""

    kind: ClassVar[str] = "task"
    activity: str = ""
    args: Expr | None = None
    #: For HTTP calls: follow ``202 Accepted`` + ``Location`` with durable timers until done.
    poll_async: bool = False
    #: The longest pause between heartbeats of the activity (kept for the formats that declare
    #: it, such as ASL's HeartbeatSeconds; enforced only on callback waits).
    heartbeat_seconds: Expr | None = None
    #: True: after the activity returns, wait (durably, as an external event) for a callback
    #: with the task token the activity received (ASL's ``.waitForTaskToken``); the callback's
    #: output is the node's result. None (the default) keeps graphs without callbacks unchanged.
    callback: bool | None = None

    @property
    def plain(self) -> bool:
        """Nothing to guard: no retry, catch, timeout, callback, polling or compensation."""
        return not (self.retry or self.catch or self.callback or self.poll_async
                    or self.timeout_seconds is not None or self.compensation is not None)  # fmt: skip


@dataclass
class ChildNode(ResultNode):
    """Run another workflow definition as a child workflow."""

    kind: ClassVar[str] = "child"
    workflow: str = ""
    args: Expr | None = None
    #: The child's body, resolved at compile time, to run with the *parent's* options (formats
    #: whose children read their facts from the parent's options; see ``embedded_at``).
    graph: Block | None = None
    #: The whole child workflow, compiled with the parent: it runs as its own definition, with
    #: its own input/output expressions, input schema, timeout and options.
    definition: Workflow | None = None


@dataclass
class ParallelNode(ResultNode):
    """Run branches concurrently. ``all``: the result is the list of branch outputs; ``any``:
    the first branch to finish wins and the others are abandoned."""

    kind: ClassVar[str] = "parallel"
    branches: tuple[Block, ...] = ()
    mode: Literal["all", "any"] = "all"
    #: The input every branch receives, computed from the node's input (default: that input).
    args: Expr | None = None


@dataclass
class ForEachNode(ResultNode):
    """Run ``body`` once per item of ``items``; the result is the list of outputs, in order."""

    kind: ClassVar[str] = "foreach"
    items: Expr = field(default_factory=lambda: Expr("literal", []))
    body: Block | None = None
    item_var: str = "item"
    index_var: str | None = None
    #: Expression over each item and its index giving the body's input; default: the item.
    item_input: Expr | None = None
    max_concurrency: int | None = None
    tolerated_failure_count: int | None = None
    tolerated_failure_percent: float | None = None
    #: Limits known only at run time: evaluated on the node's input at every attempt, giving an
    #: object whose keys ``max_concurrency``, ``tolerated_failure_count`` and
    #: ``tolerated_failure_percent`` override the fields of the same name.
    limits: Expr | None = None
    #: Items read from outside (a file, a URL): the arguments of the built-in activity
    #: ``dwf.read_items``, evaluated on the node's input; ``items`` then sees the list it
    #: returns as its step's ``read``.
    reader: Expr | None = None
    #: Results written out (to a file): the arguments of the built-in activity
    #: ``dwf.write_results``, evaluated on the node's input; the activity also receives every
    #: item's outcome, and what it returns is the node's result.
    writer: Expr | None = None


@dataclass(frozen=True)
class ChoiceCase:
    condition: Expr
    next: str | None  # None ends the block
    #: Applied when this case is taken, before the node's own ``output`` and ``assign``: a
    #: transformation of the node's input, and assignments (which win over the node's).
    output: Expr | None = None
    assign: dict[str, Expr] = field(default_factory=dict)


@dataclass
class ChoiceNode(Node):
    """Go to the first case whose condition holds, else to ``default`` (``next``).

    The node's ``output`` and ``assign`` apply whichever way it goes; a case's own ``output``
    and ``assign`` apply when it is taken, ``default_output`` / ``default_assign`` when none
    is."""

    kind: ClassVar[str] = "choice"
    cases: tuple[ChoiceCase, ...] = ()
    #: True when no default exists: falling through is an error (ASL's States.NoChoiceMatched).
    no_default_is_error: bool = False
    default_output: Expr | None = None
    default_assign: dict[str, Expr] = field(default_factory=dict)


@dataclass
class WaitNode(Node):
    """Wait for a duration (seconds) or until a timestamp (RFC 3339), on a durable timer."""

    kind: ClassVar[str] = "wait"
    seconds: Expr | None = None
    until: Expr | None = None


@dataclass
class EventNode(ResultNode):
    """Wait for an external event, optionally only one matching ``correlate``: an expression
    evaluated on the current data with the event's data as variable ``event``, that must be
    true. Optional timeout."""

    kind: ClassVar[str] = "event"
    event: str = ""
    correlate: Expr | None = None


@dataclass(frozen=True)
class EventCorrelation:
    """Correlate events with data: ``extract`` (jq on the CloudEvent envelope) gives the
    event's value; ``expect`` (evaluated on the node's input when it starts) is the value it
    must equal. Without ``expect`` the first accepted event fixes the value for the others."""

    extract: Expr
    expect: Expr | None = None


@dataclass(frozen=True)
class EventFilter:
    """Which CloudEvents pass: every attribute of ``attributes`` must match (a literal string
    is a regular expression matched in full, or equal; other literals must be equal; a jq
    expression is a predicate over the attribute's value, ``$event`` being the whole event),
    and every correlation must hold."""

    attributes: dict[str, Expr] = field(default_factory=dict)
    correlate: dict[str, EventCorrelation] = field(default_factory=dict)


@dataclass(frozen=True)
class EventStrategy:
    """``one`` event of one filter, ``all`` filters once each, or ``any`` filter (an empty
    list of filters means any event)."""

    mode: Literal["one", "all", "any"] = "any"
    filters: tuple[EventFilter, ...] = ()


@dataclass
class ListenNode(ResultNode):
    """Consume CloudEvents from the engine's event bus (docs/events.md). The result is the
    list of consumed events (read as ``read`` says), or of ``foreach`` outputs, in order.
    With ``any``, listening goes on until ``until`` (an expression over the list consumed so
    far) holds or the ``until_events`` strategy is satisfied; events consumed by
    ``until_events`` are not part of the result."""

    kind: ClassVar[str] = "listen"
    to: EventStrategy = field(default_factory=EventStrategy)
    until: Expr | None = None
    until_events: EventStrategy | None = None
    read: Literal["data", "envelope", "raw"] = "data"
    #: Run per consumed event, with the event as data and as variable ``item_var``.
    foreach: Block | None = None
    item_var: str = "item"
    index_var: str = "index"
    #: Transforms each foreach output (evaluated on it) before it joins the result.
    item_output: Expr | None = None


@dataclass
class FailNode(Node):
    """Raise an error: ends the enclosing scope unless a catch rule handles it."""

    kind: ClassVar[str] = "fail"
    error: Expr = field(default_factory=lambda: Expr("literal", "Failed"))
    message: Expr | None = None
    status: int | None = None  # for formats whose errors carry an HTTP-like status


@dataclass
class SucceedNode(Node):
    """End successfully: the block (``scope="block"``) or the whole workflow."""

    kind: ClassVar[str] = "succeed"
    scope: Literal["block", "workflow"] = "block"


@dataclass
class SetNode(Node):
    """Compute new data from an expression (a pure transformation, no activity)."""

    kind: ClassVar[str] = "set"
    value: Expr | None = None
    #: How the computed value combines with the data the node received (default: replaces it).
    merge: Merge = field(default_factory=Merge)


@dataclass
class TryNode(ResultNode):
    """Run ``body``; its errors are matched against ``retry`` then ``catch`` rules."""

    kind: ClassVar[str] = "try"
    body: Block | None = None


@dataclass
class CompensateNode(Node):
    """Run the compensations registered so far in this scope, most recent first, then forget
    them. Typically the first node of a catch handler."""

    kind: ClassVar[str] = "compensate"


@dataclass
class LoopNode(ResultNode):
    """Run ``body`` repeatedly: ``every`` seconds between rounds, until ``until`` holds on the
    data, at most ``max_rounds`` times or ``timeout_seconds`` in total (checked between rounds:
    the round in progress is never cut short). A monitor. The loop's result is the last round's
    data; retry rules restart the whole loop, catch rules handle its failures. Long loops in the
    top-level block continue as new so the history stays bounded."""

    kind: ClassVar[str] = "loop"
    body: Block | None = None
    every_seconds: Expr | None = None
    until: Expr | None = None
    max_rounds: int | None = None
    timeout_error: str = "Timeout"


@dataclass
class Block:
    """Nodes with one entry point. ``nodes`` keeps definition order (for graphs and errors)."""

    start: str | None
    nodes: dict[str, Node] = field(default_factory=dict)

    def __getitem__(self, node_id: str) -> Node:
        return self.nodes[node_id]


@dataclass
class Workflow:
    """A compiled definition."""

    name: str
    version: str | None
    format: str  # "dsl", "asl", "sw1", "sw08"
    body: Block
    source_file: str | None = None
    #: Expressions evaluated once at the start and at the end: input filter, output transform.
    input: Expr | None = None
    output: Expr | None = None
    timeout_seconds: float | None = None
    #: Settings a format needs at run time (e.g. ASL query language); opaque to the core.
    options: dict[str, Any] = field(default_factory=dict)


NODE_TYPES: dict[str, type[Node]] = {
    cls.kind: cls
    for cls in (
        TaskNode, ChildNode, ParallelNode, ForEachNode, ChoiceNode, WaitNode, EventNode,
        FailNode, SucceedNode, SetNode, TryNode, LoopNode, CompensateNode, ListenNode,
    )
}
