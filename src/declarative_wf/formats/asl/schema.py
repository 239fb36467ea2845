"""ASL validation, first phase: the shape of a definition against ``schemas/asl.schema.json``.

:func:`_schema_errors` checks the top level, or one state against the schema definition of its
``Type``, and turns each jsonschema error into one ``ASL-E001`` diagnostic that names the field
in words ("unknown field 'Nxt' in a Task state", with a suggestion) rather than in schema
terms.  The semantic checks that follow are in :mod:`.validate` and :mod:`.field_checks`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonschema
from jsonschema import ValidationError

from declarative_wf.diagnostics import Diagnostic, Severity, quote, suggest
from declarative_wf.loading import LoadedDocument, pointer_join
from declarative_wf.formats.packaged import packaged_schema

__all__ = ["load_schema"]


def load_schema() -> dict[str, Any]:
    return packaged_schema("asl.schema.json")


@cache
def _validator(definition: str | None) -> jsonschema.Draft202012Validator:
    schema = load_schema()
    target = schema if definition is None else {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    return jsonschema.Draft202012Validator(target)


# --------------------------------------------------------------------------- reporting


@dataclass
class _Report:
    document: LoadedDocument
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, pointer: str, *, key: bool = False, hint: str | None = None) -> None:
        self.diagnostics.append(self.document.diagnostic(code, message, pointer, key=key, hint=hint))

    def warning(self, code: str, message: str, pointer: str, *, key: bool = False, hint: str | None = None) -> None:
        self.diagnostics.append(self.document.diagnostic(code, message, pointer, key=key, severity=Severity.WARNING, hint=hint))


def _pointer(base: str, parts: Any) -> str:
    for part in parts:
        base = pointer_join(base, part)
    return base


_TYPE_NAMES = {"object": "an object", "array": "an array", "string": "a string", "integer": "an integer",
               "number": "a number", "boolean": "true or false", "null": "null"}  # fmt: skip


def _describe_type(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(types)
    return " or ".join(_TYPE_NAMES.get(name, name) for name in names)


def _schema_errors(report: _Report, instance: Any, definition: str | None, pointer: str, what: str) -> bool:
    """Reports the schema errors of ``instance``; True when there were any."""
    errors = sorted(_validator(definition).iter_errors(instance), key=lambda e: (list(e.absolute_path), e.message))
    # State names: reported with their own code (ASL-E016) by the walk.
    errors = [error for error in errors if "propertyNames" not in error.schema_path]
    seen: set[tuple[str, str]] = set()
    for error in errors:
        for leaf in _leaves(error):
            where = _pointer(pointer, leaf.absolute_path)
            message, at_key, hint, where = _message(leaf, where, _what(leaf, what))
            if (where, message) in seen:
                continue
            seen.add((where, message))
            report.error("ASL-E001", message, where, key=at_key, hint=hint)
    return bool(errors)


_DEFINITION_NAMES = {
    "Retrier": "a retrier", "Catcher": "a catcher", "ChoiceRule": "a Choice rule", "Branch": "a Parallel branch",
    "ItemProcessor": "a Map ItemProcessor",
}  # fmt: skip


def _what(error: ValidationError, default: str) -> str:
    """What the failing object is, from the schema definition it was checked against."""
    defs = load_schema()["$defs"]
    for name, definition in defs.items():
        if definition is error.schema and name in _DEFINITION_NAMES:
            return _DEFINITION_NAMES[name]
    if error.schema is not None and error.absolute_path and error.validator in ("additionalProperties", "required"):
        last = error.absolute_path[-1]
        if isinstance(last, str) and last in ("ItemReader", "ItemBatcher", "ResultWriter", "ReaderConfig", "ProcessorConfig"):
            return last
    return default


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """For anyOf/oneOf: the errors of the alternative of the instance's JSON type (or the
    deepest ones); otherwise the error itself."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        branches: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else None, []).append(sub)
        typed = [subs for subs in branches.values() if not any(sub.validator == "type" and not sub.relative_path for sub in subs)]
        if len(typed) == 1:
            yield from typed[0]
            return
        best = max(len(sub.absolute_path) for sub in error.context)
        if best > len(error.absolute_path):
            yield from (sub for sub in error.context if len(sub.absolute_path) == best)
            return
    yield error


def _field_name(error: ValidationError, what: str) -> str:
    path = list(error.absolute_path)
    if not path:
        return what
    if isinstance(path[-1], int):
        parent = next((str(part) for part in reversed(path[:-1]) if isinstance(part, str)), "the list")
        return f"item {path[-1] + 1} of {parent}"
    return str(path[-1])


def _message(error: ValidationError, where: str, what: str) -> tuple[str, bool, str | None, str]:
    validator = error.validator
    field_name = _field_name(error, what)
    named = quote(field_name) if not field_name.startswith("item ") else field_name
    if validator == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - allowed) if isinstance(error.instance, dict) else []
        name = extra[0] if extra else "?"
        close = suggest(name, allowed)
        hint = close or f"allowed: {', '.join(sorted(allowed))}"
        return f"unknown field {quote(name)} in {what}", True, hint, pointer_join(where, name)
    if validator == "required":
        missing = str(error.message).split("'")[1] if "'" in error.message else "?"
        return f"{what} needs the field {quote(missing)}", False, None, where
    if validator == "type":
        return f"{named} must be {_describe_type(error.validator_value)}", False, None, where
    if validator in ("enum", "const"):
        values = error.validator_value if validator == "enum" else [error.validator_value]
        shown = ", ".join(json.dumps(value) for value in values)
        return f"{named} must be {'one of ' if len(values) > 1 else ''}{shown}", False, None, where
    if validator == "minimum":
        return f"{named} must be at least {error.validator_value}", False, None, where
    if validator == "maximum":
        return f"{named} must be at most {error.validator_value}", False, None, where
    if validator == "minItems":
        return f"{named} must have at least {error.validator_value} item(s)", False, None, where
    if validator in ("minProperties", "minLength"):
        return f"{named} must not be empty", False, None, where
    if validator == "maxLength":
        return f"{named} is longer than {error.validator_value} characters", False, None, where
    if validator == "maxProperties":
        return f"{named} must have at most {error.validator_value} field(s)", False, None, where
    return f"{named}: {error.message}", False, None, where
