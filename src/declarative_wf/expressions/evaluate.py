"""Evaluating IR expressions, whatever their language, against one scope.

Each language sees the scope its format defines: JMESPath (our DSL) gets one object with
``input``, ``result`` (the current data), ``context`` and the variables by name; JSONPath,
jq and JSONata bindings register themselves here with their own conventions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import jmespath
import jmespath.exceptions

from declarative_wf.ir import Expr


@dataclass(frozen=True)
class Scope:
    """What an expression can see."""

    data: Any = None
    variables: Mapping[str, Any] = field(default_factory=dict)
    input: Any = None
    context: Mapping[str, Any] = field(default_factory=dict)


class ExpressionError(Exception):
    """An expression failed at run time (bad types, a function error)."""

    def __init__(self, message: str, expression: Expr) -> None:
        super().__init__(message)
        self.message = message
        self.expression = expression


Evaluator = Callable[[Any, Scope], Any]
_LANGUAGES: dict[str, Evaluator] = {}


def register_language(name: str, evaluator: Evaluator) -> None:
    _LANGUAGES[name] = evaluator


def evaluate(expression: Expr, scope: Scope) -> Any:
    if expression.lang == "literal":
        return expression.value
    if expression.lang == "template":
        return _fill(expression.value, scope)
    evaluator = _LANGUAGES.get(expression.lang)
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
