"""The JSON Schema of the IR, derived from the dataclasses so it cannot drift.

``schemas/ir.schema.json`` is this schema, written out; ``tests/ir`` checks the file matches.
Regenerate it with ``python -m declarative_wf.ir.jsonschema > schemas/ir.schema.json``.
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from typing import Any

from . import model
from .model import IR_VERSION, NODE_TYPES, Block, Node, Workflow

_PLAIN = {str: {"type": "string"}, bool: {"type": "boolean"}, int: {"type": "integer"}, float: {"type": "number"}}


def _type(hint: Any) -> dict[str, Any]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [_type(arg) for arg in typing.get_args(hint) if arg is not type(None)]
        return options[0] if len(options) == 1 else {"anyOf": options}
    if origin is tuple:
        return {"type": "array", "items": _type(typing.get_args(hint)[0])}
    if origin is dict:
        return {"type": "object", "additionalProperties": _type(typing.get_args(hint)[1])}
    if origin is typing.Literal:
        return {"enum": list(typing.get_args(hint))}
    if hint is Any:
        return {}
    if hint in _PLAIN:
        return dict(_PLAIN[hint])
    if hint is Block:
        return {"$ref": "#/$defs/Block"}
    if isinstance(hint, type) and issubclass(hint, Node):
        return {"$ref": "#/$defs/Node"}
    return {"$ref": f"#/$defs/{hint.__name__}"}


def _optional(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in typing.get_args(hint)


def _object(cls: type, kind: str | None = None) -> dict[str, Any]:
    hints = typing.get_type_hints(cls, vars(model))
    properties: dict[str, Any] = {"kind": {"const": kind}} if kind else {}
    required = ["kind"] if kind else []
    for spec in dataclasses.fields(cls):
        properties[spec.name] = _type(hints[spec.name])
        no_default = spec.default is dataclasses.MISSING and spec.default_factory is dataclasses.MISSING
        if no_default and not _optional(hints[spec.name]):
            required.append(spec.name)
    summary = " ".join((cls.__doc__ or "").strip().split("\n\n")[0].split())
    return {"type": "object", "description": summary, "properties": properties, "required": required, "additionalProperties": False}


def ir_json_schema() -> dict[str, Any]:
    defs: dict[str, Any] = {}
    for cls in (model.SourceRef, model.Expr, model.Merge, model.ErrorMatch, model.RetryRule, model.CatchRule, model.ChoiceCase):
        defs[cls.__name__] = _object(cls)
    defs["Expr"]["properties"]["value"] = {"description": "source text, a literal value, or a template structure"}
    defs["Block"] = {
        "type": "object",
        "description": "Nodes with one entry point; a node's next names another node of the same block.",
        "properties": {"start": {"type": ["string", "null"]}, "nodes": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
        "required": ["nodes"],
        "additionalProperties": False,
    }
    for kind, cls in NODE_TYPES.items():
        defs[cls.__name__] = _object(cls, kind)
    defs["Node"] = {"oneOf": [{"$ref": f"#/$defs/{cls.__name__}"} for cls in NODE_TYPES.values()]}
    workflow = _object(Workflow)
    defs["Workflow"] = {**workflow, "description": "A child workflow embedded in its parent's graph."}
    workflow["properties"] = {"ir_version": {"const": IR_VERSION}, **workflow["properties"]}
    workflow["required"] = ["ir_version", *workflow["required"]]
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://declarative-wf.dev/schemas/ir.schema.json",
        "title": "declarative_wf intermediate graph (IR)",
        **workflow,
        "description": "The JSON form of a compiled workflow; see docs/interpreter.md.",
        "$defs": defs,
    }


if __name__ == "__main__":
    print(json.dumps(ir_json_schema(), indent=2))
