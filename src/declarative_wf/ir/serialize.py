"""IR <-> JSON, and the content hash that names a compiled definition.

The JSON form is what the orchestrator receives as its input (an instance carries the exact
graph it started with) and what `schemas/ir.schema.json` describes. Conversion is driven by
the dataclass type hints, so a new node field needs no code here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import types
import typing
from functools import cache
from typing import Any, Union

from . import model
from .model import IR_VERSION, NODE_TYPES, Block, Node, Workflow


class IRFormatError(ValueError):
    """The JSON is not a graph this version understands."""


def to_json(value: Any) -> Any:
    """Plain JSON data for an IR object (nodes carry their ``kind``; None fields are left out)."""
    if isinstance(value, Block):
        return {"start": value.start, "nodes": [to_json(node) for node in value.nodes.values()]}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out: dict[str, Any] = {}
        if isinstance(value, Node):
            out["kind"] = value.kind
        for spec in dataclasses.fields(value):
            item = getattr(value, spec.name)
            if item is None:
                continue
            # Empty collections are left out where they are the default; a required field
            # (an expression's literal value) keeps them: ``{}`` is not "no value".
            has_default = spec.default is not dataclasses.MISSING or spec.default_factory is not dataclasses.MISSING
            if has_default and (item == () or item == {}):
                continue
            out[spec.name] = to_json(item)
        return out
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    return value


def workflow_to_json(workflow: Workflow) -> dict[str, Any]:
    return {"ir_version": IR_VERSION, **to_json(workflow)}


def graph_json(value: Any) -> dict[str, Any] | None:
    """The graph of a start payload's ``"ir"``: an IR object, or (what payloads carry since the
    graph is pinned as text) its JSON text. None when it is neither."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return None
    return value if isinstance(value, dict) else None


def workflow_from_json(data: Any) -> Workflow:
    if not isinstance(data, dict) or data.get("ir_version") != IR_VERSION:
        raise IRFormatError(f"not an IR document of version {IR_VERSION}")
    body = {key: value for key, value in data.items() if key != "ir_version"}
    try:
        return _build(Workflow, body)
    except (KeyError, TypeError, ValueError) as error:
        raise IRFormatError(f"malformed IR: {error}") from error


def content_hash(workflow: Workflow) -> str:
    """``sha256:<hex>`` of the canonical JSON of the graph."""
    return json_content_hash(workflow_to_json(workflow))


def json_content_hash(data: dict[str, Any]) -> str:
    """:func:`content_hash` of a graph already in its JSON form (``workflow_to_json``)."""
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"))
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(model))


def _build(cls: type, data: dict[str, Any]) -> Any:
    hints = _hints(cls)
    kwargs = {}
    for spec in dataclasses.fields(cls):
        if spec.name in data:
            kwargs[spec.name] = _convert(hints[spec.name], data[spec.name])
        elif spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING:
            kwargs[spec.name] = None  # a required field that was None, left out by to_json
    return cls(**kwargs)


def _node(data: dict[str, Any]) -> Node:
    kind = data.get("kind")
    if kind not in NODE_TYPES:
        raise ValueError(f"unknown node kind {kind!r}")
    return typing.cast(Node, _build(NODE_TYPES[kind], {k: v for k, v in data.items() if k != "kind"}))


def _convert(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        options = [arg for arg in typing.get_args(hint) if arg is not type(None)]
        if len(options) == 1:
            return _convert(options[0], value)
        for option in options:  # str | int path elements and the like: keep as is
            if isinstance(option, type) and isinstance(value, option):
                return value
        return value
    if origin is tuple:
        element = typing.get_args(hint)[0]
        return tuple(_convert(element, item) for item in value)
    if origin is dict:
        _, element = typing.get_args(hint)
        return {key: _convert(element, item) for key, item in value.items()}
    if origin is typing.Literal or hint is Any:
        return value
    if hint is model.Expr and not isinstance(value, dict):
        # A bare number where an expression is expected: graphs of earlier versions (a loop's
        # timeout_seconds was a plain float).
        return model.Expr.literal(value)
    if hint is Block:
        nodes = [_node(item) for item in value.get("nodes", [])]
        return Block(start=value.get("start"), nodes={node.id: node for node in nodes})
    if isinstance(hint, type) and issubclass(hint, Node):
        return _node(value)
    if dataclasses.is_dataclass(hint):
        return _build(typing.cast(type, hint), value)
    return value
