"""The shape of a 0.8 definition: ``schemas/sw08.schema.json`` (written from the specification
text), and its errors as diagnostics that name the field and the fix."""

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

__all__ = ["Report", "join_all", "load_schema", "schema_errors"]


def load_schema() -> dict[str, Any]:
    return packaged_schema("sw08.schema.json")


@cache
def _validator(definition: str | None) -> jsonschema.Draft202012Validator:
    schema = load_schema()
    if definition is None:  # the top level; states are checked one by one
        top = {
            **schema,
            "properties": {
                **schema["properties"],
                "states": {"type": "array", "minItems": 1},
            },
        }
        return jsonschema.Draft202012Validator(top)
    return jsonschema.Draft202012Validator(
        {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    )


@dataclass
class Report:
    document: LoadedDocument
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(
        self,
        code: str,
        message: str,
        pointer: str,
        *,
        key: bool = False,
        hint: str | None = None,
    ) -> None:
        self.diagnostics.append(
            self.document.diagnostic(code, message, pointer, key=key, hint=hint)
        )

    def warning(
        self,
        code: str,
        message: str,
        pointer: str,
        *,
        key: bool = False,
        hint: str | None = None,
    ) -> None:
        self.diagnostics.append(
            self.document.diagnostic(
                code, message, pointer, key=key, severity=Severity.WARNING, hint=hint
            )
        )

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)


def join_all(base: str, parts: Any) -> str:
    for part in parts:
        base = pointer_join(base, part)
    return base


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """For anyOf/oneOf: the errors of the alternative that fits the instance's JSON type best."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        groups: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            groups.setdefault(
                sub.relative_schema_path[0] if sub.relative_schema_path else None, []
            ).append(sub)
        typed = [
            subs
            for subs in groups.values()
            if not any(
                s.validator in ("type", "const") and not s.relative_path for s in subs
            )
        ]
        if len(typed) == 1:
            for sub in typed[0]:
                yield from _leaves(sub)
            return
    yield error


def _message(
    error: ValidationError, where: str, what: str
) -> tuple[str, bool, str | None, str]:
    path = list(error.absolute_path)
    name = (
        quote(str(path[-1]))
        if path and isinstance(path[-1], str)
        else (f"item {path[-1] + 1}" if path else what)
    )
    validator = error.validator
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(error.schema.get("properties", {}))
        extra = sorted(set(error.instance) - allowed)
        unknown = extra[0] if extra else "?"
        hint = (
            suggest(unknown, allowed) or f"allowed here: {', '.join(sorted(allowed))}"
        )
        if unknown == "eventTimeout" and "timeouts" in allowed:
            hint = "0.8 moved it under 'timeouts': write timeouts: {eventTimeout: ...} (the state-level field is the 0.7 layout)"
        return (
            f"unknown field {quote(unknown)} in {what}",
            True,
            hint,
            pointer_join(where, unknown),
        )
    if validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else "?"
        return f"{what} needs the field {quote(missing)}", False, None, where
    if validator == "oneOf" and isinstance(error.instance, dict):
        options = [
            next(iter(s.get("required", ["?"])))
            for s in error.validator_value
            if isinstance(s, dict)
        ]
        present = [o for o in options if o in error.instance]
        listed = " or ".join(quote(o) for o in options)
        if present:
            return (
                f"{what} has {' and '.join(quote(p) for p in present)}: give only one of {listed}",
                False,
                None,
                where,
            )
        return f"{what} needs one of {listed}", False, None, where
    if validator == "type":
        return f"{name} must be of type {error.validator_value}", False, None, where
    if validator in ("enum", "const"):
        values = (
            error.validator_value if validator == "enum" else [error.validator_value]
        )
        return (
            f"{name} must be {'one of ' if len(values) > 1 else ''}{', '.join(json.dumps(v) for v in values)}",
            False,
            None,
            where,
        )
    if validator in ("minItems", "minLength", "minProperties"):
        return f"{name} must not be empty", False, None, where
    return f"{name}: {error.message}", False, None, where


def schema_errors(
    report: Report, instance: Any, definition: str | None, pointer: str, what: str
) -> bool:
    """Reports the schema errors of ``instance``; True when there were any."""
    errors = sorted(
        _validator(definition).iter_errors(instance),
        key=lambda e: ([str(p) for p in e.absolute_path], e.message),
    )
    seen: set[tuple[str, str]] = set()
    for error in errors:
        for leaf in _leaves(error):
            where = join_all(pointer, leaf.absolute_path)
            message, at_key, hint, where = _message(leaf, where, what)
            if (where, message) not in seen:
                seen.add((where, message))
                report.error("SW08-E001", message, where, key=at_key, hint=hint)
    return bool(errors)
