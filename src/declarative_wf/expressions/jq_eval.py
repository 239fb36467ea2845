"""jq expressions (Serverless Workflow 1.0 and 0.8), evaluated with libjq through the ``jq``
bindings.

What a jq expression sees of a :class:`Scope`:

* ``.`` is ``scope.data``;
* ``$input`` is ``scope.input``;
* every entry of ``scope.context`` and of ``scope.variables`` is a variable of that name
  (``$context``, ``$workflow``, ``$task``, ``$item``...); a variable wins over a context entry
  of the same name. Names that are not jq identifiers are not visible.

A program yields a stream: no value gives ``null``, one value gives that value, several give
the list of them (the convention of the Serverless Workflow runtimes that collect jq streams).

libjq binds ``$name`` arguments when a program is compiled, so compiling per evaluation would
dominate the cost. Instead each (program, variable names) pair is compiled once into
``.[0] as $a | .[1] as $b | .[N] | (program)`` and the values travel in the input array.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import jq

from .evaluate import Scope, register_language

__all__ = ["JqSyntaxError", "check_jq", "evaluate_jq"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class JqSyntaxError(ValueError):
    """A jq program does not compile; the message is libjq's (with line and column)."""


@lru_cache(maxsize=4096)
def _compiled(program: str, names: tuple[str, ...]) -> Any:
    bindings = "".join(f".[{index}] as ${name} | " for index, name in enumerate(names))
    wrapped = f"{bindings}.[{len(names)}] | ({program}\n)"
    try:
        return jq.compile(wrapped)
    except ValueError:
        pass
    try:  # compile the program alone, so that the message speaks of its own text
        jq.compile(program, args=dict.fromkeys(names))
    except ValueError as error:
        raise JqSyntaxError(_clean(str(error))) from None
    raise JqSyntaxError(f"jq program {program!r} cannot be compiled")


def _clean(message: str) -> str:
    """libjq's compile message, without the trailing count line and the wrapper text."""
    lines = [line for line in message.splitlines() if line.strip() and not line.startswith("jq: ") or line.startswith("jq: error")]
    first = lines[0] if lines else message
    return first.removeprefix("jq: error: ").replace("at <top-level>, ", "at ").rstrip(":").strip()


def check_jq(program: str) -> str | None:
    """None when ``program`` compiles (with any variables), else libjq's message. For
    validators: free variables are unknown at validation time, so they are declared here."""
    names = tuple(sorted(set(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", program)) - {"__loc__", "ENV"}))
    try:
        _compiled(program, names)
    except JqSyntaxError as error:
        return str(error)
    return None


@lru_cache(maxsize=4096)
def _referenced(program: str) -> frozenset[str]:
    """The ``$names`` a program mentions: only those are bound (jq variables cannot be reached
    any other way), so large unused values are never converted for libjq."""
    return frozenset(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", program))


def evaluate_jq(program: str, scope: Scope) -> Any:
    used = _referenced(program)
    bound: dict[str, Any] = {"input": scope.input} if "input" in used else {}
    bound.update((name, value) for name, value in scope.context.items() if name in used and _IDENTIFIER.match(name))
    bound.update((name, value) for name, value in scope.variables.items() if name in used and _IDENTIFIER.match(name))
    names = tuple(bound)
    results = _compiled(program, names).input_value([*bound.values(), scope.data]).all()
    if not results:
        return None
    return results[0] if len(results) == 1 else results


register_language("jq", evaluate_jq)
