"""JSON definitions: exact values from :mod:`json`, positions from a YAML pass over the same text.

``json.loads`` gives the values and exact syntax-error positions; PyYAML composes a copy of
the text (escapes padded, so columns stay put) only to learn where each node starts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

from declarative_wf.diagnostics import Diagnostic, SourcePosition, quote

from .build import _finish
from .document import LoadedDocument, PositionMap, _error, _Limits
from .pointers import pointer_join
from .text import _NON_PRINTABLE, _Locator

# The loader's composer (libyaml or pure Python, as it chose): text → root node or None.
Compose = Callable[[str], Node | None]


class _Pairs(list):  # type: ignore[type-arg]
    """A JSON object as json.loads saw it: (key, value) pairs, duplicates included."""


# For the positions pass every escape becomes an escaped backslash padded to the same length
# ("\u00e9" → "\\    ") and tabs, and characters PyYAML dislikes or counts as line breaks,
# become spaces: columns stay put and PyYAML can follow any valid JSON.  Values come from
# json.loads, never from this pass.
_JSON_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|.)", re.DOTALL)
_YAML_UNSAFE = re.compile("[\t\x85\u2028\u2029]|" + _NON_PRINTABLE.pattern)


def _json_skeleton(text: str, compose: Compose) -> Node | None:
    """The YAML node graph of a *valid* JSON text, or None if PyYAML still cannot read it."""
    safe = _JSON_ESCAPE.sub(lambda m: "\\\\" + " " * (len(m.group()) - 2), text)
    safe = _YAML_UNSAFE.sub(" ", safe)
    try:
        return compose(safe)
    except (yaml.YAMLError, RecursionError):
        return None  # e.g. a key longer than 1024 characters: keep the data, lose positions


def _load_json(text: str, file: str, limits: _Limits, compose: Compose) -> LoadedDocument:
    try:
        raw = json.loads(text, object_pairs_hook=_Pairs)
    except json.JSONDecodeError as exc:
        where = SourcePosition(file, exc.lineno, exc.colno)
        raise _error("LOAD-E009", f"invalid JSON: {exc.msg}", where) from None
    except RecursionError:
        raise _error("LOAD-E017", "the document is nested too deeply", file) from None
    except ValueError as exc:  # an integer with more digits than int() accepts
        raise _error("LOAD-E009", f"invalid JSON: {exc}", file) from None
    positions = PositionMap({"": SourcePosition(file, 1, 1)})
    locate = _Locator(text, file)
    problems: list[Diagnostic] = []
    stack: list[tuple[Any, Node | None, str, Any, Any]] = []
    holder: list[Any] = [None]
    stack.append((raw, _json_skeleton(text, compose), "", holder, 0))
    while stack:
        value, node, pointer, container, slot = stack.pop()
        if node is not None:
            positions.nodes[pointer] = locate(node.start_mark)
        if pointer.count("/") >= limits.max_depth:
            message = f"the document is nested more than {limits.max_depth} levels deep"
            raise _error("LOAD-E017", message, positions.at(pointer) or file)
        if isinstance(value, _Pairs):
            mapping: dict[str, Any] = {}
            container[slot] = mapping
            tasks = _json_entries(value, node, pointer, mapping, positions, problems, locate)
            stack.extend(reversed(tasks))
        elif isinstance(value, list):
            container[slot] = items = [None] * len(value)
            same = isinstance(node, SequenceNode) and len(node.value) == len(value)
            nodes = node.value if same else [None] * len(value)  # type: ignore[union-attr]
            numbered = enumerate(zip(value, nodes))
            tasks = [(v, n, pointer_join(pointer, i), items, i) for i, (v, n) in numbered]
            stack.extend(reversed(tasks))
        else:
            container[slot] = value
    return _finish(holder[0], problems, positions, text, file, "json")


def _json_entries(
    pairs: _Pairs, node: Node | None, pointer: str, mapping: dict[str, Any],
    positions: PositionMap, problems: list[Diagnostic], locate: _Locator,
) -> list[tuple[Any, Node | None, str, Any, Any]]:  # fmt: skip
    """Like _Builder.entries, for one JSON object; ``node`` is its skeleton (or None)."""
    same = isinstance(node, MappingNode) and len(node.value) == len(pairs)
    nodes = node.value if same else [(None, None)] * len(pairs)  # type: ignore[union-attr]
    tasks = []
    for (key, value), (key_node, value_node) in zip(pairs, nodes):
        child = pointer_join(pointer, key)
        key_position = locate(key_node.start_mark) if key_node else None
        if key in mapping:
            where = key_position or positions.at(pointer)
            problems.append(Diagnostic("LOAD-E012", f"duplicate key {quote(key)}", child, where))
            continue
        mapping[key] = None
        if key_position is not None:
            positions.keys[child] = key_position
        tasks.append((value, value_node, child, mapping, key))
    return tasks
