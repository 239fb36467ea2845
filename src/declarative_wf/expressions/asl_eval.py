"""Amazon States Language fields as IR expressions: the ``jsonpath`` and ``jsonata`` languages.

The ASL compiler (``declarative_wf.formats.asl``) turns every field that computes something
into an :class:`~declarative_wf.ir.Expr` whose language is the state's query language and
whose value is an *operation*: a JSON object ``{"op": ..., ...}`` this module evaluates. A plain
string value is a reference path (``jsonpath``) or a JSONata expression (``jsonata``).

What an operation reads (see :class:`~declarative_wf.expressions.evaluate.Scope`):

* ``$`` (JSONPath) is ``scope.data`` unless the operation names another ``root`` from
  ``scope.step`` (``input``, ``effective``, ``result``, ``error``...), so one field can see the
  state input while another sees the task result, as ASL prescribes;
* ``$$`` is ``scope.context`` (the ASL context object, built by the ASL format profile);
* ``$name`` is a variable; ``$states`` (JSONata) is built from ``scope.step`` and the context.

Failures raise :class:`~declarative_wf.expressions.evaluate.ExpressionError` whose
``error_type`` is the ASL error name (``States.Runtime``, ``States.QueryEvaluationError``,
``States.IntrinsicFailure``) and whose message is AWS's cause text without the "An error
occurred while executing the state ..." prefix (the ASL profile adds it).

This module registers the two languages and dispatches to the operations; the work is done in
``asl_semantics`` (ASL's rules as pure functions), ``asl_eval_state`` (one evaluation: roots,
JSONPath, JSONata) and ``asl_operations`` (one function per operation).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from declarative_wf.ir import Expr

from .asl_eval_state import _Eval
from .asl_operations import _OPERATIONS
from .asl_paths import PathSyntaxError, compile_path
from .asl_semantics import (
    _MISSING,  # noqa: F401 - re-exported: tests use the Choice sentinel
    QUERY_EVALUATION_ERROR,
    RUNTIME,
    AslEvalError,
    compare,
    is_jsonata_template,
    jsonata_source,
    parse_timestamp,
    string_matches,
)  # fmt: skip
from .evaluate import ExpressionError, Scope, register_language

__all__ = [
    "QUERY_EVALUATION_ERROR", "RUNTIME", "AslEvalError", "jsonata_source", "parse_timestamp",
    "is_jsonata_template", "string_matches", "compare",
]  # fmt: skip


def _evaluator(language: str) -> Any:
    def run(source: Any, scope: Scope) -> Any:
        ev = _Eval(scope, language)
        try:
            if isinstance(source, str):
                if language == "jsonpath":
                    return ev.path(source, scope.data, scope.variables)
                return ev.jsonata(source, "?", {})
            operation = _OPERATIONS.get(str(source.get("op"))) if isinstance(source, Mapping) else None
            if operation is None:
                raise AslEvalError(RUNTIME, f"not an ASL expression: {source!r}")
            return operation(ev, source)
        except AslEvalError as error:
            raise ExpressionError(error.cause, Expr(language, source), error.error) from None  # type: ignore[arg-type]
        except RecursionError:
            raise ExpressionError("the value is nested too deeply", Expr(language, source), RUNTIME) from None  # type: ignore[arg-type]

    return run


register_language("jsonpath", _evaluator("jsonpath"))
register_language("jsonata", _evaluator("jsonata"))


def check_path(path: str) -> str | None:
    """None when ``path`` is a valid reference path, else the problem."""
    try:
        compile_path(path)
    except PathSyntaxError as error:
        return error.message
    return None
