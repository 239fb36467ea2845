"""Validating a DSL document against ``schemas/dsl.schema.json`` and turning JSON Schema errors
into messages people can act on ("unknown key 'cal' in step (did you mean 'call'?)").

The schema is written for editors: a step is an ``anyOf`` of its kinds. Validating that as
written would report every kind's complaints about every step (and evaluate nested steps once
per kind). We validate with one change that keeps the same meaning for every document: an
``anyOf`` whose branches can be told apart (by JSON type, then by required keys, in order)
validates only the branch that applies, so its errors are the ones reported.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import jsonschema
from jsonschema import ValidationError
from jsonschema.protocols import Validator

from declarative_wf.diagnostics import Diagnostic, quote, suggest
from declarative_wf.loading import LoadedDocument, json_pointer, pointer_join
from declarative_wf.formats.packaged import packaged_schema

from .durations import DurationError, parse_duration

__all__ = ["KINDS", "STEP_KEYS", "load_schema", "schema_diagnostics"]

#: Step kinds, in the order that decides a step's kind (the schema's ``anyOf`` has this order).
KINDS = ("call", "workflow", "set", "switch", "parallel", "for_each", "repeat", "try", "wait", "wait_for", "goto", "succeed", "fail")


def load_schema() -> dict[str, Any]:
    return packaged_schema("dsl.schema.json")


def _resolve(schema: Any) -> Any:
    """Follows local ``#/$defs/...`` references (the only kind the DSL schema uses)."""
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 20:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        schema = load_schema()["$defs"].get(name, {})
        seen += 1
    return schema


def _step_keys() -> dict[str, set[str]]:
    defs = load_schema()["$defs"]
    return {kind: set(defs[f"{kind}_step"]["properties"]) for kind in KINDS}


STEP_KEYS: dict[str, set[str]] = _step_keys()
_ALL_STEP_KEYS = set().union(*STEP_KEYS.values())

_JSON_TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "integer": lambda v: isinstance(v, int) and not isinstance(v, bool) or (isinstance(v, float) and v.is_integer()),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
}


def _type_ok(schema: Any, instance: Any) -> bool:
    schema = _resolve(schema)
    if not isinstance(schema, dict):
        return True
    if "anyOf" in schema and "type" not in schema:
        return any(_type_ok(branch, instance) for branch in schema["anyOf"])
    types = schema.get("type")
    if types is None:
        return True
    types = [types] if isinstance(types, str) else types
    return any(_JSON_TYPES[name](instance) for name in types if name in _JSON_TYPES)


def _required_ok(schema: Any, instance: Any) -> bool:
    """Does the branch's discriminating key (its first required key) occur in ``instance``?"""
    schema = _resolve(schema)
    if not isinstance(schema, dict) or not isinstance(instance, dict):
        return True
    if "anyOf" in schema and "required" not in schema:
        return any(_required_ok(branch, instance) for branch in schema["anyOf"])
    required = schema.get("required", [])
    return not required or required[0] in instance


def _pick(branches: list[Any], instance: Any) -> int | None:
    """The branch that applies to ``instance``: the first of the right JSON type whose
    discriminating key is present; else the only one of the right type; else None."""
    typed = [index for index, branch in enumerate(branches) if _type_ok(branch, instance)]
    for index in typed:
        if _required_ok(branches[index], instance):
            return index
    return typed[0] if len(typed) == 1 else None


def _discriminated_any_of(validator: Validator, any_of: list[Any], instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    index = _pick(any_of, instance)
    if index is None:
        yield ValidationError("no branch applies", validator="anyOf", validator_value=any_of, instance=instance, schema=schema)
        return
    yield from validator.descend(instance, any_of[index], schema_path=index)


@cache
def _validator() -> Validator:
    cls = jsonschema.validators.extend(jsonschema.Draft202012Validator, {"anyOf": _discriminated_any_of})
    validator: Validator = cls(load_schema())
    return validator


# -- messages ----------------------------------------------------------------------------------


def schema_diagnostics(document: LoadedDocument) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    try:
        errors = list(_validator().iter_errors(document.data))
    except RecursionError:
        return [document.diagnostic("DSL-E003", "the document is nested too deeply to validate", "")]
    for error in errors:
        out.extend(_explain(error, document))
    return out


def _what(path: list[Any], instance: Any = None) -> str:
    """How a message names the object at ``path``: "step", "call step", "retry", "the workflow"."""
    if not path:
        return "the workflow"
    last = path[-1]
    parent = path[-2] if len(path) > 1 else None
    if isinstance(instance, dict) and (isinstance(last, int) or last in ("compensate",)):
        kind = next((k for k in KINDS if k in instance), None)
        if kind is not None:
            return f"{kind} step"
        if parent in ("switch",):
            return "case"
        return "step"
    if isinstance(last, int):
        if parent == "switch":
            return "case"
        if parent == "catch":
            return "catch rule"
        if parent == "retry":
            return "retry rule"
        return f"item {last} of '{parent}'" if parent is not None else f"item {last}"
    return f"'{last}'"


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


_TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "a string", "boolean": "true or false",
               "integer": "an integer", "number": "a number", "null": "null"}  # fmt: skip


def _explain(error: ValidationError, document: LoadedDocument) -> list[Diagnostic]:
    path = list(error.absolute_path)
    pointer = json_pointer(*path)
    instance = error.instance
    schema = error.schema if isinstance(error.schema, dict) else {}
    kind = error.validator

    def at(code: str, message: str, where: str = pointer, *, key: bool = False, hint: str | None = None) -> Diagnostic:
        return document.diagnostic(code, message, where, key=key, hint=hint)

    if kind == "additionalProperties" and isinstance(instance, dict):
        allowed = set(schema.get("properties", {}))
        out = []
        is_step = any(k in instance for k in KINDS) and allowed <= _ALL_STEP_KEYS and len(path) > 0
        for extra in [k for k in instance if k not in allowed]:
            child = pointer_join(pointer, extra)
            present = next((k for k in KINDS if k in instance), None)
            if is_step and extra in KINDS and present is not None:
                out.append(at("DSL-E004", f"a step has exactly one kind: {quote(extra)} cannot be combined with {quote(present)}", child, key=True,
                              hint="split it into two steps"))
                continue
            where = _what(path, instance)
            hint = suggest(extra, allowed)
            if hint is None and is_step and extra in _ALL_STEP_KEYS:
                users = sorted(k for k in KINDS if extra in STEP_KEYS[k])
                hint = f"{quote(extra)} is for {', '.join(users)} steps"
            message = f"unknown key {quote(extra)} in {where}" + (f" ({hint})" if hint and hint.startswith("did") else "")
            extra_hint = hint if hint and not hint.startswith("did") else f"allowed here: {', '.join(sorted(allowed))}"
            out.append(at("DSL-E001", message, child, key=True, hint=extra_hint))
        return out
    if kind == "required" and isinstance(instance, dict):
        missing = [key for key in error.validator_value if key not in instance]
        return [at("DSL-E002", f"{_what(path, instance)} needs {quote(key)}", hint=_required_hint(key)) for key in missing]
    if kind == "anyOf":
        return _explain_union(error, document, path, pointer)
    if kind == "oneOf":
        choices = [str(b.get("required", [""])[0]) for b in error.validator_value if isinstance(b, dict)]
        both = [key for key in choices if isinstance(instance, dict) and key in instance]
        names = " or ".join(quote(key) for key in choices)
        if both:
            return [at("DSL-E003", f"{_what(path, instance)} has both {' and '.join(quote(k) for k in both)}; keep one")]
        return [at("DSL-E002", f"{_what(path, instance)} needs {names}")]
    if kind == "type":
        value = error.validator_value
        expected: list[str] = [value] if isinstance(value, str) else list(value)
        words = " or ".join(_TYPE_WORDS.get(name, name) for name in expected)
        return [at("DSL-E003", f"{_what(path)} must be {words}, not {_json_type(instance)}", hint=_type_hint(path, instance))]
    if kind == "const" and path == ["dwf"]:
        return [at("DSL-E003", f"unsupported DSL version {json.dumps(instance)}: this release reads 'dwf: 1'")]
    if kind == "pattern":
        return [_explain_pattern(error, document, path, pointer)]
    if kind in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        bound = {"minimum": "at least", "maximum": "at most", "exclusiveMinimum": "more than", "exclusiveMaximum": "less than"}[kind]
        if schema.get("title") == "Duration":
            return [at("DSL-E020", f"{_what(path)} must not be negative")]
        return [at("DSL-E003", f"{_what(path)} must be {bound} {error.validator_value}, not {instance}")]
    if kind == "minItems":
        noun = "step" if path and path[-1] in ("steps", "try", "else") else "item"
        return [at("DSL-E003", f"{_what(path)} needs at least {error.validator_value} {noun}")]
    if kind == "minLength":
        return [at("DSL-E003", f"{_what(path)} must not be empty")]
    if kind == "maxLength":
        return [at("DSL-E003", f"{_what(path)} is longer than {error.validator_value} characters")]
    if kind == "minProperties":
        wanted = " or ".join(quote(k) for k in schema.get("properties", {}))
        return [at("DSL-E002", f"{_what(path)} needs {wanted}")]
    if kind in ("enum", "const"):
        options = error.validator_value if kind == "enum" else [error.validator_value]
        return [at("DSL-E003", f"{_what(path)} must be {' or '.join(json.dumps(v) for v in options)}")]
    return [at("DSL-E003", f"{_what(path)}: {error.message[:200]}")]


def _type_hint(path: list[Any], instance: Any) -> str | None:
    last = path[-1] if path else None
    if last == "version" and isinstance(instance, float):
        return 'quote it: version: "1.2"'
    if last == "parallel" and isinstance(instance, dict):
        return "list the branches, 'parallel: [...]'; 'first: true' goes beside 'parallel'"
    return None


def _required_hint(key: str) -> str | None:
    return {
        "steps": "add 'steps:' with a list of steps",
        "dwf": "a DSL workflow starts with 'dwf: 1'",
        "name": "give the workflow a name: 'name: my-workflow'",
    }.get(key)


def _explain_union(error: ValidationError, document: LoadedDocument, path: list[Any], pointer: str) -> list[Diagnostic]:
    """No branch of an ``anyOf`` applies: most often a step without a (known) kind."""
    instance = error.instance
    branches = [_resolve(b) for b in error.validator_value] if isinstance(error.validator_value, list) else []
    titles = [b.get("title", "") for b in branches if isinstance(b, dict)]
    if "Step" in titles or any(title.endswith(" step") for title in titles):
        if isinstance(instance, dict):
            return _explain_kindless(instance, document, path, pointer)
        hint = f"write '{instance}:' with a colon" if isinstance(instance, str) and instance in KINDS else None
        return [document.diagnostic("DSL-E003", f"a step must be a mapping such as 'call: name', not {_json_type(instance)}", pointer, hint=hint)]
    if "Case" in titles and isinstance(instance, dict):
        return [document.diagnostic("DSL-E002", "a case needs 'if' (with 'goto' or 'steps'), or 'else'", pointer)]
    words = " or ".join(dict.fromkeys(_TYPE_WORDS.get(t, t) for b in branches for t in _types(b)))
    return [document.diagnostic("DSL-E003", f"{_what(path)} must be {words or 'something else'}, not {_json_type(instance)}", pointer)]


def _types(schema: Any) -> list[str]:
    schema = _resolve(schema)
    if not isinstance(schema, dict):
        return []
    if "anyOf" in schema and "type" not in schema:
        return [t for branch in schema["anyOf"] for t in _types(branch)]
    types = schema.get("type", [])
    return [types] if isinstance(types, str) else list(types)


def _explain_kindless(instance: dict[str, Any], document: LoadedDocument, path: list[Any], pointer: str) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    kinds = ", ".join(KINDS)
    close_to_kind = False
    for key in instance:
        if key in _ALL_STEP_KEYS:
            continue
        hint = suggest(key, _ALL_STEP_KEYS)
        if hint is not None and any(hint == f"did you mean {quote(kind)}?" for kind in KINDS):
            close_to_kind = True
        message = f"unknown key {quote(key)} in step" + (f" ({hint})" if hint else "")
        out.append(document.diagnostic("DSL-E001", message, pointer_join(pointer, key), key=True, hint=f"a step is one of: {kinds}"))
    if not close_to_kind:
        message = "this step has no kind: it needs one of " + kinds
        out.append(document.diagnostic("DSL-E004", message, pointer, hint="for example 'call: my_activity' or 'set: {...}'"))
    return out


_PATTERN_MESSAGES = {
    "Step id": ("is not a valid step id: use letters, digits, '_', '-' and '.'", None),
    "Variable name": ("is not a valid variable name: start with a letter or '_', then letters, digits or '_'", None),
}


def _explain_pattern(error: ValidationError, document: LoadedDocument, path: list[Any], pointer: str) -> Diagnostic:
    schema = error.schema if isinstance(error.schema, dict) else {}
    title = schema.get("title", "")
    instance = error.instance
    what = _what(path)
    if title == "Duration":
        if isinstance(instance, str) and "${" in instance:
            return document.diagnostic("DSL-E013", f"{what} must be a duration, or exactly one expression \"${{ ... }}\"", pointer)
        try:
            parse_duration(instance)
        except DurationError as problem:
            return document.diagnostic("DSL-E020", f"{what}: {problem}", pointer)
        return document.diagnostic("DSL-E020", f"{what}: {quote(str(instance))} is not a duration", pointer)
    if title == "Expression" or (path and path[-1] in ("if", "until", "where", "for_each")):
        example = f'"${{ {instance} }}"' if isinstance(instance, str) and "${" not in instance else '"${ ... }"'
        return document.diagnostic("DSL-E013", f"{what} must be one expression written as \"${{ ... }}\"", pointer, hint=f"write {example}")
    if title in _PATTERN_MESSAGES:
        text, hint = _PATTERN_MESSAGES[title]
        return document.diagnostic("DSL-E003", f"{quote(str(instance))} {text}", pointer, hint=hint)
    if path and path[-1] == "wait":
        return document.diagnostic("DSL-E020", f"'wait': {_duration_problem(instance)}", pointer)
    if path and path[-1] == "name":
        return document.diagnostic("DSL-E003", f"{quote(str(instance))} is not a valid workflow name: use letters, digits, '_', '-' and '.'", pointer)
    if path and path[-1] == "call":
        return document.diagnostic("DSL-E003", f"{quote(str(instance))} is not a valid activity name: letters, digits, '_', '.', ':' and '-', starting with a letter or '_'", pointer)
    return document.diagnostic("DSL-E003", f"{what} does not have the expected form", pointer)


def _duration_problem(value: Any) -> str:
    if isinstance(value, str) and "${" in value:
        return "an expression must be the whole value, \"${ ... }\""
    try:
        parse_duration(value)
    except DurationError as problem:
        return str(problem)
    return f"{quote(str(value))} is not a duration"
