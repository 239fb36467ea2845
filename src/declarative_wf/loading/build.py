"""A composed YAML node graph to plain data: limits first, then values, positions and problems.

:func:`_measure` rejects alias bombs, recursive aliases and deep nesting before any data is
built; :class:`_Builder` then resolves every node once, records where it is, and collects
duplicate keys, non-string keys and bad tags as diagnostics.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Literal

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from declarative_wf.diagnostics import (
    Diagnostic,
    DiagnosticError,
    Severity,
    SourcePosition,
    quote,
)

from .document import LoadedDocument, PositionMap, _error, _Limits
from .pointers import pointer_join
from .text import _SURROGATE, _Locator
from .yaml12 import (
    _BOOL,
    _FLOAT,
    _INT,
    _MAP,
    _NOT_SET,
    _NULL,
    _PLAIN,
    _SEQ,
    _STR,
    _resolve_plain,
    _resolve_tagged,
    _short_tag,
)  # fmt: skip


def _children(node: Node) -> Iterator[Node]:
    if isinstance(node, SequenceNode):
        yield from node.value
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            yield key
            yield value


def _measure(root: Node, locate: _Locator, limits: _Limits) -> None:
    """Reject recursive aliases, alias bombs and absurd nesting before building any data.

    In the composed graph an alias is the very node object of its anchor, so the expanded
    size of a billion-laughs document is computed (memoised per node) without expanding it.
    Iterative, so that no nesting depth can raise RecursionError.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, finished = stack.pop()
        ident = id(node)
        if finished:
            on_path.discard(ident)
            kids = [id(c) for c in _children(node)]
            size[ident] = 1 + sum(size[k] for k in kids)
            height[ident] = 1 + max((height[k] for k in kids), default=0)
            if size[ident] > limits.max_nodes:
                message = f"the document expands to more than {limits.max_nodes} nodes via aliases"
                where = locate(node.start_mark)
                raise _error("LOAD-E016", message, where, "an alias bomb? expand fewer aliases")
        elif ident in on_path:
            message = "an alias refers to a node that contains it (a recursive structure)"
            raise _error("LOAD-E015", message, locate(node.start_mark))
        elif ident not in size:  # not yet measured (an alias may have got there first)
            on_path.add(ident)
            stack.append((node, depth, True))
            stack.extend((child, depth + 1, False) for child in _children(node))
        # Checked on every visit: an aliased node may sit deeper than where it was measured.
        if ident in height and depth + height[ident] - 1 > limits.max_depth:
            message = f"the document is nested more than {limits.max_depth} levels deep"
            raise _error("LOAD-E017", message, locate(node.start_mark))


# (node or json value, pointer, container, slot): fill container[slot] with its data.
_Task = tuple[Any, str, Any, Any]


class _Builder:
    """Turns a composed node graph into plain data, recording positions and problems."""

    def __init__(self, locate: _Locator) -> None:
        self.locate = locate
        self.positions = PositionMap()
        self.problems: list[Diagnostic] = []
        self._scalars: dict[int, Any] = {}  # aliases revisit nodes: resolve (and complain) once

    def problem(self, code: str, message: str, pointer: str, node: Node, **extra: Any) -> None:
        position = self.locate(node.start_mark)
        self.problems.append(Diagnostic(code, message, pointer, position, **extra))

    def build(self, root: Node) -> Any:
        holder: list[Any] = [None]
        stack: list[_Task] = [(root, "", holder, 0)]
        while stack:
            node, pointer, container, slot = stack.pop()
            self.positions.nodes[pointer] = self.locate(node.start_mark)
            if isinstance(node, ScalarNode):
                container[slot] = self.scalar(node, pointer)
            elif isinstance(node, SequenceNode):
                self.check_tag(node, _SEQ, pointer)
                items: list[Any] = [None] * len(node.value)
                container[slot] = items
                tasks = [(n, pointer_join(pointer, i), items, i) for i, n in enumerate(node.value)]
                stack.extend(reversed(tasks))
            else:
                self.check_tag(node, _MAP, pointer)
                mapping: dict[str, Any] = {}
                container[slot] = mapping
                stack.extend(reversed(self.entries(node, pointer, mapping)))
        return holder[0]

    def entries(self, node: MappingNode, pointer: str, mapping: dict[str, Any]) -> list[_Task]:
        """The entries of one mapping in order; pre-fills ``mapping`` to keep the key order."""
        tasks: list[_Task] = []
        for key_node, value_node in node.value:
            key = self.key(key_node, pointer)
            if key is None:
                continue
            child = pointer_join(pointer, key)
            if key in mapping:
                hint = f"the first {quote(key)} is on line {self.positions.keys[child].line}"
                self.problem("LOAD-E012", f"duplicate key {quote(key)}", child, key_node, hint=hint)
                continue
            mapping[key] = None
            self.positions.keys[child] = self.locate(key_node.start_mark)
            if key == "<<" and key_node.tag == _PLAIN:
                message = "'<<' is an ordinary key in YAML 1.2: merge keys are not supported"
                hint = "write the keys out, or anchor and alias the whole mapping"
                extra = {"severity": Severity.WARNING, "hint": hint}
                self.problem("LOAD-W001", message, child, key_node, **extra)
            tasks.append((value_node, child, mapping, key))
        return tasks

    def key(self, node: Node, pointer: str) -> str | None:
        if not isinstance(node, ScalarNode):
            kind = "a list" if isinstance(node, SequenceNode) else "a mapping"
            self.problem("LOAD-E013", f"a mapping key must be a string, not {kind}", pointer, node)
            return None
        value = self.scalar(node, pointer)
        if isinstance(value, str):
            return value
        shown = f"the key {node.value}" if node.value else "an empty key"
        message = f"{shown} is read as {_kind(value)}; mapping keys must be strings"
        self.problem("LOAD-E013", message, pointer, node, hint=f"quote it: {quote(node.value)}")
        return None

    def check_tag(self, node: Node, expected: str, pointer: str) -> None:
        if node.tag != expected:
            kind = "list" if expected == _SEQ else "mapping"
            message = f"unsupported tag {quote(_short_tag(node.tag))} on a {kind}"
            self.problem("LOAD-E014", message, pointer, node)

    def scalar(self, node: ScalarNode, pointer: str) -> Any:
        ident = id(node)
        if ident not in self._scalars:
            self._scalars[ident] = self.resolve_scalar(node, pointer)
        return self._scalars[ident]

    def resolve_scalar(self, node: ScalarNode, pointer: str) -> Any:
        tag, value = node.tag, node.value
        if _SURROGATE.search(value):  # the pure-Python scanner lets "\ud800" escapes through
            self.problem("LOAD-E004", "invalid Unicode escape (a lone surrogate)", pointer, node)
            return value
        try:
            result = _resolve_plain(value) if tag == _PLAIN else _resolve_tagged(tag, value)
        except ValueError:  # int() refuses more than sys.get_int_max_str_digits() digits
            self.problem("LOAD-E014", "the number has too many digits", pointer, node)
            return value
        if result is _NOT_SET:
            if tag in (_STR, _INT, _FLOAT, _BOOL, _NULL):
                message = f"{quote(value)} is not a valid {_short_tag(tag)}"
            else:
                message = f"unsupported tag {quote(_short_tag(tag))}"
            self.problem("LOAD-E014", message, pointer, node)
            return value
        return result


_KINDS = {type(None): "null", bool: "a boolean", int: "a number", float: "a number",
          str: "a string", list: "a list", dict: "a mapping"}  # fmt: skip


def _kind(value: Any) -> str:
    return _KINDS.get(type(value), "a mapping")


def _finish(
    data: Any, problems: list[Diagnostic], positions: PositionMap, text: str, file: str,
    syntax: Literal["yaml", "json"],
) -> LoadedDocument:  # fmt: skip
    if not isinstance(data, dict):
        message = f"a workflow definition must be a mapping of keys to values, not {_kind(data)}"
        root = positions.at("") or SourcePosition(file, 1, 1)
        problems = [*problems, Diagnostic("LOAD-E011", message, "", root)]
    if any(p.is_error for p in problems):
        raise DiagnosticError(problems)
    return LoadedDocument(data, positions, text, file, syntax, problems)
