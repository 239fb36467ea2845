"""ASL → IR, the parts every state shares: expression specs and the fields common to states.

The helpers build the ``jsonpath`` / ``jsonata`` operation specs that
:mod:`declarative_wf.expressions.asl_eval` evaluates, parse a ``ResultPath`` into steps, and
render Choice rules.  :class:`_FieldCompiler` compiles the fields many states have:
InputPath/OutputPath/Output, payload and JSONata templates, Assign, ResultPath (the merge),
Retry and Catch.  The state compilers build on it (:mod:`.compile_states`, :mod:`.compile`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from declarative_wf.diagnostics import Diagnostic
from declarative_wf.expressions.asl_eval import is_jsonata_template
from declarative_wf.expressions.asl_paths import PathKind, PathSyntaxError, compile_path
from declarative_wf.ir import (
    CatchRule,
    ErrorMatch,
    Expr,
    Merge,
    RetryRule,
    SourceRef,
)
from declarative_wf.loading import LoadedDocument, pointer_join

JSONPATH = "JSONPath"
JSONATA = "JSONata"


# --------------------------------------------------------------------------- expressions


def _jp(spec: dict[str, Any]) -> Expr:
    return Expr("jsonpath", spec)


def _ja(spec: dict[str, Any]) -> Expr:
    return Expr("jsonata", spec)


def _has_references(template: Any) -> bool:
    """Whether a JSONPath payload template has a ``key.$`` entry anywhere."""
    if isinstance(template, dict):
        return any((key.endswith(".$") and isinstance(value, str)) or _has_references(value) for key, value in template.items())
    if isinstance(template, list):
        return any(_has_references(item) for item in template)
    return False


def _has_jsonata(template: Any) -> bool:
    if isinstance(template, str):
        return is_jsonata_template(template)
    if isinstance(template, dict):
        return any(_has_jsonata(value) for value in template.values())
    if isinstance(template, list):
        return any(_has_jsonata(item) for item in template)
    return False


def result_path(path: str) -> tuple[str | int, ...]:
    """The steps of a ``ResultPath`` (``$.a['b'][0]`` → ``("a", "b", 0)``); ValueError when it
    is not a definite path into the state input."""
    compiled = compile_path(path)
    if compiled.kind is not PathKind.INPUT:
        raise ValueError("a ResultPath must start with '$.' (the state input)")
    if compiled.expression is None:
        return ()
    if not compiled.definite:
        raise ValueError("a ResultPath must select a single node (no wildcards, slices or filters)")
    from jsonpath_ng import jsonpath as jp

    steps: list[str | int] = []
    node: Any = compiled.expression
    while isinstance(node, jp.Child):
        right = node.right
        if isinstance(right, jp.Fields):
            steps.append(right.fields[0])
        elif isinstance(right, jp.Index):
            steps.append(_index_of(right))
        else:
            raise ValueError("a ResultPath may only name fields and array indexes")
        node = node.left
    if isinstance(node, jp.Fields):
        steps.append(node.fields[0])
    elif isinstance(node, jp.Index):
        steps.append(_index_of(node))
    elif not isinstance(node, (jp.Root, jp.This)):
        raise ValueError("a ResultPath may only name fields and array indexes")
    return tuple(reversed(steps))


def _index_of(node: Any) -> int:
    """The single index of a jsonpath-ng ``Index`` (``indices`` in newer versions)."""
    indices = getattr(node, "indices", None)
    return int(indices[0]) if indices else int(getattr(node, "index"))  # noqa: B009


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) else None


#: Every comparison operator of a JSONPath Choice rule.
COMPARISON_OPERATORS = frozenset(
    [f"{kind}{op}{path}" for kind in ("String", "Numeric", "Timestamp") for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals") for path in ("", "Path")]
    + ["StringMatches", "BooleanEquals", "BooleanEqualsPath"]
    + ["IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"]
)


def rule_text(rule: Mapping[str, Any]) -> str:
    """A compiled Choice rule as people read it: ``$.n NumericEquals 1 and not $.x IsNull true``."""
    if "and" in rule:
        return " and ".join(f"({rule_text(item)})" if "or" in item else rule_text(item) for item in rule["and"])
    if "or" in rule:
        return " or ".join(rule_text(item) for item in rule["or"])
    if "not" in rule:
        return f"not ({rule_text(rule['not'])})"
    return f"{rule['variable']} {rule['operator']} {json.dumps(rule['operand'])}"


def _error_match(names: list[str]) -> ErrorMatch:
    return ErrorMatch(names=("*",), when=Expr("jsonpath", {"op": "error_match", "names": names}))


@dataclass
class _FieldCompiler:
    """The document being compiled, the problems found, and the fields states share."""

    document: LoadedDocument
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, pointer: str) -> None:
        self.diagnostics.append(self.document.diagnostic(code, message, pointer))

    def source(self, pointer: str) -> SourceRef | None:
        position = self.document.position(pointer, key=True)
        if position is None:
            return None
        return SourceRef(position.file, position.line, position.column, pointer)
    # -- shared fields --------------------------------------------------------------------------

    def input_path(self, state: Mapping[str, Any], language: str) -> Expr | None:
        if language != JSONPATH or "InputPath" not in state:
            return None
        path = state["InputPath"]
        if path is None:
            return Expr.literal({})
        if path == "$":
            return None
        return _jp({"op": "path", "path": path, "field": "InputPath"})

    def output_path(self, state: Mapping[str, Any]) -> Expr | None:
        if "OutputPath" not in state:
            return None
        path = state["OutputPath"]
        if path is None:
            return Expr.literal({})
        if path == "$":
            return None
        return _jp({"op": "path", "path": path, "field": "OutputPath", "vars": "prior"})

    def payload(self, template: Any, field: str, root: str = "data", shape: str | None = None) -> Expr:
        """A JSONPath payload template (Parameters, ResultSelector, ItemSelector)."""
        if not _has_references(template) and shape is None:
            return Expr.literal(template)
        spec: dict[str, Any] = {"op": "payload", "template": template, "field": field, "root": root}
        if shape:
            spec["shape"] = shape
        return _jp(spec)

    def jsonata(self, template: Any, field: str, *, vars_: str | None = None, result: bool = True, shape: str | None = None) -> Expr:
        """A JSONata-mode value: ``{% %}`` strings in it are evaluated."""
        if not _has_jsonata(template):
            return Expr.literal(template)
        spec: dict[str, Any] = {"op": "template", "template": template, "field": field}
        if vars_:
            spec["vars"] = vars_
        if not result:
            spec["result"] = False
        if shape:
            spec["shape"] = shape
        return _ja(spec)

    def output(self, state: Mapping[str, Any], language: str, shape: str | None = None) -> Expr | None:
        """JSONPath: OutputPath; JSONata: Output (evaluated with the variables from before the
        state's own assignments)."""
        if language == JSONPATH:
            return self.output_path(state)
        if "Output" in state:
            return self.jsonata(state["Output"], "Output", vars_="prior", shape=shape)
        return None

    def assign(self, assignments: Any, language: str, root: str, shape: str | None = None) -> dict[str, Expr]:
        if not isinstance(assignments, dict):
            return {}
        out: dict[str, Expr] = {}
        for key, value in assignments.items():
            if language == JSONATA:
                out[key] = self.jsonata(value, f"Assign/{key}", shape=shape)
            elif key.endswith(".$") and isinstance(value, str):
                spec: dict[str, Any] = {"op": "reference", "expr": value, "field": key, "root": root}
                if shape:
                    spec["shape"] = shape
                out[key[:-2]] = _jp(spec)
            elif _has_references(value):
                out[key] = self.payload(value, f"Assign/{key}", root, shape)
            else:
                out[key] = Expr.literal(value)
        return out

    def merge(self, state: Mapping[str, Any], pointer: str, language: str) -> Merge:
        if language != JSONPATH or "ResultPath" not in state:
            return Merge("replace")
        path = state["ResultPath"]
        if path is None:
            return Merge("discard")
        try:
            steps = result_path(path)
        except (PathSyntaxError, ValueError) as error:
            self.error("ASL-E031", f"ResultPath {path!r} is not valid: {getattr(error, 'message', error)}", pointer_join(pointer, "ResultPath"))
            return Merge("replace")
        return Merge("set", steps) if steps else Merge("replace")

    # -- retry and catch -------------------------------------------------------------------------

    def retry(self, state: Mapping[str, Any], language: str) -> tuple[RetryRule, ...]:
        rules = []
        for retrier in state.get("Retry") or []:
            if not isinstance(retrier, dict):
                continue
            names = [name for name in retrier.get("ErrorEquals") or [] if isinstance(name, str)]
            jitter: Literal["none", "full"] = "full" if retrier.get("JitterStrategy") == "FULL" else "none"
            max_delay = retrier.get("MaxDelaySeconds")
            rules.append(
                RetryRule(
                    match=_error_match(names),
                    max_retries=int(retrier.get("MaxAttempts", 3)),
                    interval_seconds=float(retrier.get("IntervalSeconds", 1)),
                    backoff_rate=float(retrier.get("BackoffRate", 2.0)),
                    max_delay_seconds=float(max_delay) if max_delay is not None else None,
                    jitter=jitter,
                )
            )
        return tuple(rules)

    def catch(self, state: Mapping[str, Any], pointer: str, language: str, ids: Mapping[str, str]) -> tuple[CatchRule, ...]:
        rules = []
        for index, catcher in enumerate(state.get("Catch") or []):
            if not isinstance(catcher, dict):
                continue
            names = [name for name in catcher.get("ErrorEquals") or [] if isinstance(name, str)]
            next_id = ids.get(_name(catcher.get("Next")) or "")
            catcher_language = language
            assign = self.assign(catcher.get("Assign"), catcher_language, "data")
            if catcher_language == JSONPATH:
                merge = self.merge(catcher, pointer_join(pointer_join(pointer, "Catch"), index), JSONPATH)
                rules.append(CatchRule(
                    match=_error_match(names), result=_jp({"op": "error_output"}), merge=merge, assign=assign,
                    next=next_id, then="jump",
                ))  # fmt: skip
            else:
                output = (
                    self.jsonata(catcher["Output"], "Output", vars_="prior")
                    if "Output" in catcher
                    else _ja({"op": "error_output"})
                )
                rules.append(CatchRule(
                    match=_error_match(names), result=_ja({"op": "error_output"}), merge=Merge("replace"),
                    assign=assign, output=output, next=next_id, then="jump",
                ))  # fmt: skip
        return tuple(rules)
