"""Evaluating IR expressions, whatever their language, against one scope.

Each language sees the scope its format defines: JMESPath (our DSL) gets one object with
``input``, ``result`` (the current data), ``context`` and the variables by name; JSONPath,
jq and JSONata bindings register themselves here with their own conventions.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, Protocol

import jmespath
import jmespath.exceptions

from declarative_wf.ir import Expr


class RandomSource(Protocol):
    """Entropy an expression may use (uuids, random numbers). The orchestrator derives it from
    the instance, so a replay draws the same values in the same order."""

    def random(self) -> float:
        """A number in [0, 1)."""

    def uuid(self) -> str:
        """A version-4 UUID in its canonical text form."""


@dataclass(frozen=True)
class Scope:
    """What an expression can see.

    ``step`` holds what the node evaluating the expression has seen so far of its own data
    flow, for languages whose fields can refer to it (ASL's ``$states.input``,
    ``$states.result``...): ``input`` (the data the node received), ``effective`` (after its
    input filter), ``result`` (what it produced), ``selected`` (after result selection),
    ``error`` (the error object, in a catch), ``attempt`` (1-based), ``prior_variables`` (the
    variables before the node's own assignments), ``item`` / ``index`` (for-each items).
    ``random`` and ``now`` are the orchestration's deterministic entropy and clock; expressions
    must never use the machine's."""

    data: Any = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    input: Any = None
    context: Mapping[str, Any] = field(default_factory=dict)
    step: Mapping[str, Any] = field(default_factory=dict)
    random: RandomSource | None = None
    now: Callable[[], datetime] | None = None


class ExpressionError(Exception):
    """An expression failed at run time (bad types, a function error).

    ``error_type`` names the error in the vocabulary of the expression's format (such as ASL's
    ``States.QueryEvaluationError``); None means a generic runtime error."""

    def __init__(self, message: str, expression: Expr, error_type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression
        self.error_type = error_type


Evaluator = Callable[[Any, Scope], Any]
_LANGUAGES: dict[str, Evaluator] = {}


#: Languages whose evaluator registers itself when its module is imported: loaded on first use,
#: so a worker runs any graph without importing every language up front.
_PROVIDERS: dict[str, str] = {
    "jsonpath": "declarative_wf.expressions.asl_eval",
    "jsonata": "declarative_wf.expressions.asl_eval",
    "jq": "declarative_wf.expressions.jq_eval",
}


def register_language(name: str, evaluator: Evaluator) -> None:
    _LANGUAGES[name] = evaluator


def language(name: str) -> Evaluator | None:
    """The evaluator of a language, importing its provider module on first use."""
    evaluator = _LANGUAGES.get(name)
    if evaluator is None and name in _PROVIDERS:
        importlib.import_module(_PROVIDERS[name])
        evaluator = _LANGUAGES.get(name)
    return evaluator


def evaluate(expression: Expr, scope: Scope) -> Any:
    if expression.lang == "literal":
        return expression.value
    if expression.lang == "template":
        return _fill(expression.value, scope)
    evaluator = language(expression.lang)
    if evaluator is None:
        raise ExpressionError(f"no evaluator for {expression.lang} expressions is installed", expression)
    try:
        return evaluator(expression.value, scope)
    except ExpressionError:
        raise
    except Exception as error:  # every language's own runtime errors, reported uniformly
        raise ExpressionError(f"{expression.lang} expression {expression.value!r} failed: {error}", expression) from error


def _fill(template: Any, scope: Scope) -> Any:
    if isinstance(template, dict):
        if set(template) == {"$expr"}:
            spec = template["$expr"]
            return evaluate(Expr(spec["lang"], spec["value"]), scope)
        return {key: _fill(value, scope) for key, value in template.items()}
    if isinstance(template, list):
        return [_fill(item, scope) for item in template]
    return template


def embed(expression: Expr) -> dict[str, Any]:
    """The JSON leaf that stands for ``expression`` inside a template."""
    return {"$expr": {"lang": expression.lang, "value": expression.value}}


# -- JMESPath ----------------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def compile_jmespath(source: str) -> Any:
    """Compiles once; raises jmespath's ParseError with the offending position."""
    return jmespath.compile(source)


def jmespath_root(scope: Scope) -> dict[str, Any]:
    return {**scope.variables, "input": scope.input, "result": scope.data, "context": dict(scope.context)}


def _jmespath(source: Any, scope: Scope) -> Any:
    return compile_jmespath(str(source)).search(jmespath_root(scope))


register_language("jmespath", _jmespath)
