"""Validating a Serverless Workflow 1.x document: the shape (``schemas/sw1.schema.json``), then
the rules the schema cannot express (:mod:`.checks`), every problem with its FILE:LINE:COL.

Acceptance is the schema's, exactly as the official 1.0.3 schema decides it (a test compares
the two over the corpus and tens of thousands of mutations). The schema's task definition is a
``oneOf`` of eighteen task shapes: checking it whole is slow, and the errors of eighteen failed
alternatives say nothing useful. So we check the document with every nested task left open,
then each task against the definition of its own kind (its first kind key: ``call: http`` →
``callHttpTask``), the way the ASL validator checks a state against its ``Type``; because the
kinds exclude each other this gives the same verdict (:func:`fast_schema_is_valid`) and one
precise message per problem. If the messages come out empty for a failing part (an interplay
we did not foresee), the schema's own best error is reported, so no failure goes unreported.

Features of the unreleased Open Workflow Specification (``catch.then``, an inline array as
``for.in``) are accepted with the warning SW-W001 when ``ows`` is true (the default): they are
hidden from the schema check, and :mod:`.checks` validates them. Codes: :mod:`.codes`.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import jsonschema
from jsonschema import ValidationError

from declarative_wf.diagnostics import (
    Diagnostic,
    Severity,
    SourcePosition,
    quote,
    suggest,
)
from declarative_wf.loading import LoadedDocument, pointer_join
from declarative_wf.formats.packaged import packaged_schema

from .sw1_schema import CALL_KINDS, TASK_KINDS
from .walk import task_kind, task_lists

__all__ = ["Report", "fast_schema_is_valid", "load_schema", "schema_is_valid", "validate_document"]


def load_schema() -> dict[str, Any]:
    return packaged_schema("sw1.schema.json")


@cache
def _full_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema())


@cache
def _shallow_validator(definition: str | None) -> jsonschema.Draft202012Validator:
    """The schema with every task left open (``task`` is any object), rooted at ``definition``."""
    schema = copy.deepcopy(load_schema())
    schema["$defs"]["task"] = {"type": "object"}
    if definition is not None:
        schema = {"$defs": schema["$defs"], "$ref": f"#/$defs/{definition}"}
    return jsonschema.Draft202012Validator(schema)


def schema_is_valid(data: Any) -> bool:
    """Whether ``data`` matches our schema (no OWS allowances, no semantic checks), by the
    whole schema in one go: the reference for :func:`fast_schema_is_valid`."""
    return bool(_full_validator().is_valid(data))


def _task_definition(body: Any) -> str | None:
    """The ``$defs`` entry a task is checked against, by its first kind key; None: no kind."""
    kind = task_kind(body)
    if kind is None:
        return None
    if kind == "call":
        target = body.get("call")
        return CALL_KINDS.get(target, "callFunctionTask") if isinstance(target, str) else "callFunctionTask"
    return f"{kind}Task"


def fast_schema_is_valid(data: Any) -> bool:
    """:func:`schema_is_valid`, ten times faster: the document with its tasks left open, then each
    task against the definition of its kind only. The same verdict because the task kinds
    exclude each other (each is closed and requires its kind key; a ``for`` task's ``do``
    belongs to ``for``, and :data:`TASK_KINDS` puts ``do`` last): at most one alternative of
    the schema's ``oneOf`` can match, and it is the one picked here. The differential test
    checks both against the official schema."""
    if not _shallow_validator(None).is_valid(data):
        return False
    for task_list in task_lists(data):
        for task in task_list.tasks:
            definition = _task_definition(task.body)
            if definition is None or not _shallow_validator(definition).is_valid(task.body):
                return False
    return True


# --------------------------------------------------------------------------- reporting


@dataclass
class Report:
    document: LoadedDocument
    diagnostics: list[Diagnostic] = field(default_factory=list)
    _seen: set[tuple[str, str, str]] = field(default_factory=set)

    def add(self, code: str, message: str, pointer: str, *, key: bool = False, hint: str | None = None,
            severity: Severity = Severity.ERROR, position: SourcePosition | None = None) -> None:  # fmt: skip
        """``position``: a more precise place than the node's start (a character inside it)."""
        if (code, pointer, message) in self._seen:
            return
        self._seen.add((code, pointer, message))
        diagnostic = self.document.diagnostic(code, message, pointer, key=key, severity=severity, hint=hint)
        if position is not None:
            diagnostic = dataclasses.replace(diagnostic, position=position)
        self.diagnostics.append(diagnostic)

    def error(self, code: str, message: str, pointer: str, *, key: bool = False, hint: str | None = None) -> None:
        self.add(code, message, pointer, key=key, hint=hint)

    def warning(self, code: str, message: str, pointer: str, *, key: bool = False, hint: str | None = None) -> None:
        self.add(code, message, pointer, key=key, hint=hint, severity=Severity.WARNING)


# --------------------------------------------------------------------------- OWS main allowances


def _schema_view(data: dict[str, Any], report: Report, ows: bool) -> dict[str, Any]:
    """The document as the 1.0 schema should see it: with ``ows``, OWS-main constructs are
    removed (and warned about); the original document is left untouched."""
    if not ows or not any(_ows_constructs(data)):
        return data
    view = copy.deepcopy(data)
    for pointer, what, apply in _ows_constructs(view):
        report.warning("SW-W001", f"{what} is a feature of the unreleased Open Workflow Specification, not of Serverless Workflow 1.0",
                       pointer, key=True, hint="other 1.0 tools reject this document")  # fmt: skip
        apply()
    return view


def _ows_constructs(data: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(pointer, description, a function that removes it from ``data``) per OWS-main construct."""
    for task_list in task_lists(data):
        for task in task_list.tasks:
            catch = task.body.get("catch")
            if "try" in task.body and isinstance(catch, dict) and "then" in catch:
                yield pointer_join(pointer_join(task.pointer, "catch"), "then"), "catch.then", lambda c=catch: c.pop("then")
            loop = task.body.get("for")
            if isinstance(loop, dict) and isinstance(loop.get("in"), list):
                yield (pointer_join(pointer_join(task.pointer, "for"), "in"), "an inline array as for.in",
                       lambda c=loop: c.__setitem__("in", "${ . }"))  # fmt: skip


# --------------------------------------------------------------------------- schema errors


def _schema_errors(report: Report, view: dict[str, Any]) -> None:
    if fast_schema_is_valid(view):
        return
    before = len(report.diagnostics)
    _report_errors(report, _shallow_validator(None).iter_errors(view), "", "the workflow")
    for task_list in task_lists(view):
        for task in task_list.tasks:
            kind = task_kind(task.body)
            if kind is None:
                known = ", ".join(TASK_KINDS)
                close = next((hint for key in task.body if (hint := suggest(str(key), TASK_KINDS))), None)
                report.error("SW-E002", f"task {quote(task.name)} has no kind: give it one of {known}", task.pointer, key=True, hint=close)
                continue
            definition = _task_definition(task.body) or "task"
            _report_errors(report, _shallow_validator(definition).iter_errors(task.body), task.pointer, f"the {_kind_name(task.body, kind)} task {quote(task.name)}")
    if len(report.diagnostics) == before:  # the safety net: never accept what the schema rejects
        error = jsonschema.exceptions.best_match(_full_validator().iter_errors(view))
        if error is not None:
            where = _pointer("", error.absolute_path)
            report.error("SW-E001", f"{_field_name(error, 'the workflow')}: {error.message}", where)


def _kind_name(body: Any, kind: str) -> str:
    target = body.get("call") if isinstance(body, dict) else None
    if kind == "call" and isinstance(target, str):
        return f"call {target}" if target in CALL_KINDS else "function call"
    return kind


def _pointer(base: str, parts: Any) -> str:
    for part in parts:
        base = pointer_join(base, part)
    return base


def _report_errors(report: Report, errors: Iterator[ValidationError], base: str, what: str) -> None:
    ordered = sorted(errors, key=lambda error: ([str(p) for p in error.absolute_path], error.message))
    before = len(report.diagnostics)
    _report_leaves(report, ordered, base, what)
    if ordered and len(report.diagnostics) == before:  # every leaf was filtered: say something anyway
        best = jsonschema.exceptions.best_match(ordered)
        if best is not None:
            report.error("SW-E001", f"{_field_name(best, what)}: {best.message}", _pointer(base, best.absolute_path))


def _report_leaves(report: Report, ordered: list[ValidationError], base: str, what: str) -> None:
    leaves = [leaf for error in ordered for leaf in _leaves(error)]
    mistyped = {tuple(leaf.absolute_path) for leaf in leaves if leaf.validator == "type"}
    # Where other errors are: declared keys are "unevaluated" when a part of the schema that
    # declares them failed, which that failure's own error explains. With no such error, the key
    # passed in an alternative that lost (`use` beside `oauth2`): it does not combine.
    failing = {tuple(leaf.absolute_path) for leaf in leaves}
    failing_here = {tuple(leaf.absolute_path) for leaf in leaves if leaf.validator != "unevaluatedProperties"}
    for leaf in leaves:
        if leaf.validator == "unevaluatedProperties" and not _unknown_keys(leaf):
            path = tuple(leaf.absolute_path)
            if path in failing_here or any(len(other) > len(path) and other[: len(path)] == path for other in failing):
                continue  # a failing part of this object explains it (its keys count as unevaluated)
            named = [str(key) for key in leaf.instance if repr(key) in leaf.message] if isinstance(leaf.instance, dict) else []
            for key in named:
                report.error("SW-E001", f"{quote(key)} cannot be combined with the other fields of {_field_name(leaf, what)}",
                             pointer_join(_pointer(base, path), key), key=True,
                             hint="it belongs to another alternative of this field; keep the fields of one alternative")  # fmt: skip
            continue
        if leaf.validator in ("oneOf", "anyOf") and tuple(leaf.absolute_path) in mistyped:
            continue  # the type error says it (a null matches every object-only alternative)
        message, where, at_key, hint = _message(leaf, base, what)
        code = "SW-E003" if leaf.validator in ("minProperties", "maxProperties") and _is_task_list_item(leaf) else "SW-E001"
        report.error(code, message, where, key=at_key, hint=hint)


def _is_task_list_item(error: ValidationError) -> bool:
    return error.schema.get("additionalProperties") in ({"$ref": "#/$defs/task"}, {"$ref": "#/$defs/extension"})


def _branches(error: ValidationError) -> dict[Any, list[ValidationError]]:
    branches: dict[Any, list[ValidationError]] = {}
    for sub in error.context or []:
        branches.setdefault(sub.relative_schema_path[0] if sub.relative_schema_path else None, []).append(sub)
    return branches


def _leaves(error: ValidationError) -> Iterator[ValidationError]:
    """For a failed anyOf/oneOf: the errors of the one alternative that fits the value (not
    excluded by its JSON type or a constant), recursively; else the error itself."""
    if error.validator not in ("anyOf", "oneOf") or not error.context:
        yield error
        return
    branches = _branches(error)
    fitting = [subs for subs in branches.values()
               if not any(sub.validator in ("type", "const", "not") and not sub.relative_path for sub in subs)]  # fmt: skip
    if len(fitting) == 1:
        for sub in fitting[0]:
            yield from _leaves(sub)
        return
    if fitting and all(sub.validator == "required" and not sub.relative_path for subs in fitting for sub in subs):
        yield error  # "needs one of" — _message lists the alternatives
        return
    deeper = [subs for subs in fitting if max(_depth(sub) for sub in subs) > len(error.absolute_path)]
    if len(deeper) == 1:
        for sub in deeper[0]:
            yield from _leaves(sub)
        return
    yield error


def _depth(error: ValidationError) -> int:
    """How deep into the value an error (or any error of its alternatives) reaches: an
    alternative that got past the value's top level is the one the author meant."""
    return max([len(error.absolute_path), *(_depth(sub) for sub in error.context or [])])


_TYPE_NAMES = {"object": "a mapping", "array": "a list", "string": "a string", "integer": "an integer",
               "number": "a number", "boolean": "true or false", "null": "null"}  # fmt: skip

#: Friendly names of the patterns of the schema, with what a valid value looks like.
_PATTERN_HINTS: list[tuple[str, str]] = [
    (r"^\s*\$\{", "a runtime expression written as ${ ... }"),
    ("^P(?!$)", "an ISO 8601 duration such as PT30S or P1DT2H"),
    ("://", "an absolute URI such as https://example.com/path"),
    (r"^(0|[1-9]\d*)\.", "a semantic version such as 1.0.0"),
    ("{0,61}", "a DNS label: letters, digits and '-', at most 63 characters, not starting or ending with '-'"),
]


def _field_name(error: ValidationError, what: str) -> str:
    path = list(error.absolute_path)
    if not path:
        return what
    last = path[-1]
    if isinstance(last, int):
        parent = next((str(part) for part in reversed(path[:-1]) if isinstance(part, str)), "the list")
        return f"item {last + 1} of {quote(parent)}"
    return quote(str(last))


def _describe_types(types: Any) -> str:
    names = [types] if isinstance(types, str) else list(types)
    return " or ".join(_TYPE_NAMES.get(name, str(name)) for name in names)


def _alternatives(error: ValidationError) -> str:
    """What the alternatives of a oneOf/anyOf accept, as words: "a string or a mapping"."""
    kinds: list[str] = []
    for sub_schema in error.validator_value:
        resolved = sub_schema
        if "$ref" in resolved:
            resolved = load_schema()["$defs"].get(str(resolved["$ref"]).rsplit("/", 1)[-1], {})
        if "pattern" in resolved:
            name = next((text for marker, text in _PATTERN_HINTS if marker in resolved["pattern"]), "a string")
        elif "type" in resolved:
            name = _describe_types(resolved["type"])
        elif "anyOf" in resolved or "oneOf" in resolved:
            name = "a URI" if "$ref" in sub_schema and sub_schema["$ref"].endswith("uriTemplate") else "a value"
        else:
            name = "a value"
        if name not in kinds:
            kinds.append(name)
    return " or ".join(kinds)


def _message(error: ValidationError, base: str, what: str) -> tuple[str, str, bool, str | None]:
    """(message, pointer, point at the key, hint) for one leaf error."""
    where = _pointer(base, error.absolute_path)
    name = _field_name(error, what)
    validator, value = error.validator, error.validator_value
    if validator in ("additionalProperties", "unevaluatedProperties") and isinstance(error.instance, dict):
        unknown = _unknown_keys(error) or list(error.instance)[-1:]
        key = str(unknown[0]) if unknown else "?"
        known = sorted(_known_keys(error.schema))
        hint = suggest(key, known) or (f"allowed here: {', '.join(known)}" if known else None)
        return f"unknown field {quote(key)} in {name if error.absolute_path else what}", pointer_join(where, key), True, hint
    if validator == "required":
        missing = next((key for key in value if isinstance(error.instance, dict) and key not in error.instance), "?")
        return f"{name} needs the field {quote(missing)}", where, bool(error.absolute_path), None
    if validator == "type":
        return f"{name} must be {_describe_types(value)}", where, False, None
    if validator in ("enum", "const"):
        values = value if validator == "enum" else [value]
        shown = ", ".join(json.dumps(item) for item in values)
        close = suggest(error.instance, [str(item) for item in values]) if isinstance(error.instance, str) else None
        return f"{name} must be {'one of ' if len(values) > 1 else ''}{shown}", where, False, close
    if validator == "pattern":
        wanted = next((text for marker, text in _PATTERN_HINTS if marker in value), f"a string matching {value}")
        return f"{name} must be {wanted}", where, False, None
    if validator == "minProperties" and _is_task_list_item(error):
        return f"{name} is empty: each item of a task list is one {{name: task}} mapping", where, False, None
    if validator == "maxProperties" and _is_task_list_item(error):
        keys = ", ".join(quote(str(key)) for key in error.instance)
        return (f"{name} has {len(error.instance)} keys ({keys}): each item of a task list is one {{name: task}} mapping",
                where, False, "start each task with its own '- name:' item, and indent the task's fields under its name")  # fmt: skip
    if validator == "minProperties":
        return f"{name} must not be empty", where, False, None
    if validator == "maxProperties":
        return f"{name} must have exactly one key", where, False, None
    if validator == "minItems":
        return f"{name} must have at least {value} item(s)", where, False, None
    if validator == "minLength":
        return f"{name} must not be empty", where, False, None
    if validator in ("minimum", "maximum"):
        return f"{name} must be {'at least' if validator == 'minimum' else 'at most'} {value}", where, False, None
    if validator == "not" and isinstance(error.instance, dict):
        return f"{name} has 'after' although cleanup is not \"eventually\"", pointer_join(where, "after"), True, "remove after, or set cleanup: eventually"
    if validator == "not":
        return f"{name} must not be {json.dumps(error.instance)}", where, False, None
    if validator is False or error.schema is False:
        return f"{name} is not allowed here", where, True, "a nested consumption strategy cannot have its own until"
    if validator in ("oneOf", "anyOf"):
        return _alternative_message(error, name, where)
    return f"{name}: {error.message}", where, False, None


def _alternative_message(error: ValidationError, name: str, where: str) -> tuple[str, str, bool, str | None]:
    branches = _branches(error)
    if not error.context or len(branches) < len(error.validator_value):
        # A oneOf with more than one matching alternative.
        if isinstance(error.instance, str) and error.instance.strip().startswith("${"):
            return (f"{name} cannot be an expression here (the 1.0 schema accepts only a literal value)", where, False,
                    "the runtime sets the error instance itself; leave it out or write a JSON Pointer")  # fmt: skip
        if isinstance(error.instance, dict):
            keys = ", ".join(quote(str(key)) for key in error.instance)
            return f"{name} mixes alternatives that exclude each other ({keys})", where, False, "keep the fields of one alternative only"
        return f"{name} matches more than one alternative", where, False, None
    if isinstance(error.instance, dict) and all(
        sub.validator == "required" and not sub.relative_path for subs in branches.values() for sub in subs
    ):
        options = [" + ".join(quote(key) for key in sub.validator_value) for subs in branches.values() for sub in subs[:1]]
        return f"{name} needs one of: {', '.join(options)}", where, False, None
    if isinstance(error.instance, dict):
        required = _required_options(error.validator_value)
        if required and not any(key in error.instance for key in required):
            return f"{name} needs one of: {', '.join(quote(key) for key in required)}", where, False, None
    return f"{name} must be {_alternatives(error)}", where, False, None


def _unknown_keys(error: ValidationError) -> list[str]:
    """The keys an additional/unevaluatedProperties error is about that the schema does not declare."""
    if not isinstance(error.instance, dict):
        return []
    named = [str(key) for key in error.instance if repr(key) in error.message]
    if error.validator == "unevaluatedProperties":
        known = _known_keys(error.schema)
        named = [key for key in named if key not in known]
    return named


def _required_options(alternatives: list[Any], depth: int = 0) -> list[str]:
    """The first required key of each object alternative (through $ref and nested oneOf)."""
    keys: list[str] = []
    for alternative in alternatives:
        if not isinstance(alternative, dict) or depth > 3:
            continue
        if "$ref" in alternative:
            alternative = load_schema()["$defs"].get(str(alternative["$ref"]).rsplit("/", 1)[-1], {})
        if alternative.get("required"):
            keys.append(str(alternative["required"][0]))
        for keyword in ("oneOf", "anyOf"):
            keys += _required_options(alternative.get(keyword, []), depth + 1)
    return list(dict.fromkeys(keys))


def _known_keys(schema: Any, depth: int = 0) -> set[str]:
    """The property names a schema (with its allOf/oneOf/anyOf/$ref parts) declares."""
    if not isinstance(schema, dict) or depth > 4:
        return set()
    if "$ref" in schema:
        target = load_schema()["$defs"].get(str(schema["$ref"]).rsplit("/", 1)[-1], {})
        names = _known_keys(target, depth + 1)
    else:
        names = set()
    names |= set(schema.get("properties", {}))
    for keyword in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(keyword, []):
            names |= _known_keys(part, depth + 1)
    return {name for name in names if not re.match(r"^\$", name)}


# --------------------------------------------------------------------------- entry point


def validate_document(document: LoadedDocument, *, ows: bool = True) -> list[Diagnostic]:
    """Every problem of a Serverless Workflow 1.x document (errors and warnings, unsorted; the
    caller sorts). ``ows``: accept the OWS-main constructs ``catch.then`` and an inline
    ``for.in`` array with a warning (False: they are schema errors, as in 1.0.x)."""
    from .checks import semantic_checks

    report = Report(document)
    data = document.data
    if not isinstance(data, dict):
        report.error("SW-E001", "a Serverless Workflow definition is a mapping with document and do", "")
        return report.diagnostics
    view = _schema_view(data, report, ows)
    _schema_errors(report, view)
    semantic_checks(report, data, ows=ows)
    return report.diagnostics
