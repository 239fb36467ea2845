"""What the parts of the 0.8 compiler share: the compiler's state, small helpers, and the
functions that shape node chains (linking, skipping, renaming)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from itertools import pairwise
from typing import Any, Protocol

from declarative_wf.diagnostics import quote
from declarative_wf.ir import (
    Block,
    ChoiceCase,
    ChoiceNode,
    EventNode,
    Expr,
    FailNode,
    Node,
    SourceRef,
)
from declarative_wf.loading import LoadedDocument, pointer_join

from .definitions import Definitions, is_undefined, parse_duration
from .expressions import Expressions
from .schema import Report

__all__ = [
    "SKIP",
    "UNDEFINED_ERROR",
    "Chain",
    "CompilerBase",
    "CompilerParts",
    "join",
    "link",
    "param_name",
    "prefixed",
    "sequence",
    "to_json",
]

Chain = list[Node]
#: The case target of an action's ``condition`` until :func:`sequence` knows what follows it.
SKIP = "\x00skip"
#: The error a node raises when it reaches a reference to a missing definition (SW08-W007).
UNDEFINED_ERROR = "UndefinedReference"


class CompilerParts(Protocol):
    """What the parts of the compiler provide each other, whichever module implements it.

    ``events.py`` (:class:`EventsMixin`) implements :meth:`wait_event` and :meth:`subscribed`,
    ``actions.py`` (:class:`ActionsMixin`) :meth:`actions`, :meth:`action` and
    :meth:`action_timeout`, ``compile.py`` (:class:`Compiler`) :meth:`flow` and :meth:`subflow`.
    :class:`CompilerBase` subclasses this protocol, so every part may call all of them on
    ``self``; the type checker refuses to instantiate a compiler that lacks one.
    """

    def actions(
        self,
        actions: list[dict[str, Any]],
        pointer: str,
        mode: str | None,
        timeout: float | None,
    ) -> Chain: ...

    def action(
        self,
        action: dict[str, Any],
        pointer: str,
        timeout: float | None,
        raw: bool = False,
    ) -> Chain: ...

    def action_timeout(self, holder: Mapping[str, Any]) -> float | None: ...

    def wait_event(
        self, event_name: str, filters: Any, pointer: str, timeout: Any
    ) -> EventNode: ...

    def subscribed(self, wait: EventNode) -> Chain: ...

    def subflow(self, workflow_id: str, pointer: str) -> Block | None: ...

    def flow(
        self,
        pointer: str,
        transition: Any,
        end: Any,
        into: dict[str, Node],
        ids: Mapping[str, str],
    ) -> str | None: ...


@dataclass
class CompilerBase(CompilerParts):
    document: LoadedDocument
    report: Report
    defs: Definitions
    expr: Expressions
    #: Files of the workflows being compiled (subflow cycles are refused).
    stack: tuple[str, ...] = ()
    #: State name → node id (the state's JSON Pointer).
    ids: dict[str, str] = field(default_factory=dict)
    top: dict[str, Node] = field(default_factory=dict)
    states: dict[str, tuple[dict[str, Any], str]] = field(default_factory=dict)
    compensations: dict[str, Block] = field(default_factory=dict)

    def source(self, pointer: str) -> SourceRef | None:
        position = self.document.position(pointer)
        return (
            None
            if position is None
            else SourceRef(position.file, position.line, position.column, pointer)
        )

    def warn(
        self,
        message: str,
        pointer: str,
        code: str = "SW08-W001",
        hint: str | None = None,
    ) -> None:
        self.report.warning(code, message, pointer, hint=hint)

    def undefined(self, kind: str, name: str) -> bool:
        """``name`` is not a ``kind`` ("functions", "events") definition (see :func:`is_undefined`)."""
        return is_undefined(self.defs, self.document.data, kind, name)

    def fail_undefined(
        self,
        what: str,
        name: str,
        pointer: str,
        node_id: str | None = None,
        label: str | None = None,
    ) -> FailNode:
        """The node that stands for a reference to a missing definition: validation only warned
        (SW08-W007), so the error comes when — and only when — an instance reaches it."""
        position = self.document.position(pointer)
        where = (
            f" ({position.file}:{position.line}:{position.column})"
            if position is not None
            else ""
        )
        message = f"{what} {quote(name)} is not defined in the workflow{where}"
        return FailNode(
            id=node_id or f"{pointer}#undefined", label=label or f"undefined {what} {name}", source=self.source(pointer),
            error=Expr.literal(UNDEFINED_ERROR), message=Expr.literal(message),
        )  # fmt: skip

    def seconds(self, text: Any) -> float:
        return parse_duration(text) or 0.0

    def jq(self, text: str | None) -> Expr | None:
        return None if text is None else self.expr.jq(text)


def link(nodes: Chain, after: str | None) -> Chain:
    """Chains nodes in order; the last goes to ``after``."""
    for node, following in pairwise(nodes):
        node.next = following.id
    if nodes:
        nodes[-1].next = after
    return nodes


def block_of(nodes: Chain) -> Block:
    """A block running ``nodes`` in order."""
    return Block(
        nodes[0].id if nodes else None, {node.id: node for node in link(nodes, None)}
    )


def sequence(chains: list[Chain], after: str | None = None) -> Chain:
    """Flattens action chains; a skipped action (its ``condition`` is false) jumps to the first
    node of the next chain (``after`` for the last one; None ends the block)."""
    for index, chain in enumerate(chains):
        if (
            chain
            and isinstance(chain[0], ChoiceNode)
            and chain[0].cases
            and chain[0].cases[0].next == SKIP
        ):
            following = next((c[0].id for c in chains[index + 1 :] if c), after)
            chain[0].cases = (ChoiceCase(chain[0].cases[0].condition, following),)
    return [node for chain in chains for node in chain]


def prefixed(block: Block, prefix: str) -> Block:
    """A copy of a graph whose node ids start with ``prefix``: ids stay unique in the whole
    graph (the interpreter indexes every nested block) when a graph is embedded twice."""

    def rename(node_id: str | None) -> str | None:
        return None if node_id is None else f"{prefix}{node_id}"

    nodes: dict[str, Node] = {}
    for node in block.nodes.values():
        changes: dict[str, Any] = {"id": rename(node.id), "next": rename(node.next)}
        for item in fields(node):
            value = getattr(node, item.name)
            if isinstance(value, Block):
                changes[item.name] = prefixed(value, prefix)
            elif isinstance(value, tuple) and value and isinstance(value[0], Block):
                changes[item.name] = tuple(prefixed(b, prefix) for b in value)
            elif item.name == "cases":
                changes["cases"] = tuple(replace(c, next=rename(c.next)) for c in value)
            elif item.name == "catch":
                changes["catch"] = tuple(
                    replace(
                        c,
                        next=rename(c.next),
                        handler=prefixed(c.handler, prefix) if c.handler else None,
                    )
                    for c in value
                )
        renamed = replace(node, **changes)
        nodes[str(renamed.id)] = renamed
    return Block(rename(block.start), nodes)


def param_name(value: Any) -> str:
    """``iterationParam`` as a name: ``item``, ``${ .tx }`` and ``.tx`` all work."""
    text = str(value).strip()
    if text.startswith("${") and text.endswith("}"):
        text = text[2:-1].strip()
    return text.lstrip(".$") or "item"


def to_json(value: Any) -> str:
    return json.dumps(value)


def join(base: str, *parts: Any) -> str:
    for part in parts:
        base = pointer_join(base, part)
    return base
