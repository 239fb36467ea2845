"""Serverless Workflow 0.8 expressions as IR expressions: jq, written ``${ ... }``.

* A field typed "workflow expression" (filters, conditions, ``inputCollection``) is jq with or
  without ``${ }``.
* Free-form data (``arguments``, ``produceEvents.data``): a string that is wholly ``${ ... }`` is
  jq, a string with ``${ ... }`` inside is a jq string interpolation (``"Book ${ .title } is
  out"``), everything else is literal.
* ``fn:name`` calls a function of ``type: expression``; its operation is inlined.
* ``$CONST`` is the workflow's ``constants``, bound as a literal in front of the program.

Data merging (the spec's "Data Merging" section) is a jq function too: objects merge deeply
(the new value wins), arrays concatenate the new elements not already present, anything else
is replaced; a ``null`` result leaves the data unchanged. The value to merge reaches jq as
``$__selected`` (see :mod:`.runtime`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from declarative_wf.expressions.evaluate import embed
from declarative_wf.ir import Expr

from .definitions import EMBEDDED_EXPRESSION, FUNCTION_CALL, WHOLE_EXPRESSION

__all__ = ["MERGE_DEF", "Expressions"]

MERGE_DEF = (
    "def __swm($a; $b): if $b == null then $a "
    'elif ($a|type) == "object" and ($b|type) == "object" then '
    "reduce ($b|keys_unsorted[]) as $k ($a; .[$k] = __swm($a[$k]; $b[$k])) "
    'elif ($a|type) == "array" and ($b|type) == "array" then '
    "$a + [$b[] | . as $x | select(any($a[]; . == $x) | not)] "
    "else $b end; "
)


class Expressions:
    """Builds the IR expressions of one document (its functions and constants)."""

    def __init__(
        self, functions: Mapping[str, Mapping[str, Any]] | None, constants: Any
    ) -> None:
        self.functions = functions or {}
        self.constants = constants if isinstance(constants, dict) else None

    def program(self, text: str) -> str:
        """The jq program of an expression field (``${ }`` optional)."""
        match = WHOLE_EXPRESSION.match(text)
        program = match.group("body").strip() if match else text.strip()
        return self.finish(program)

    def finish(self, program: str) -> str:
        program = FUNCTION_CALL.sub(self._inline, program)
        if self.constants is not None and "$CONST" in program:
            program = f"({json.dumps(self.constants)}) as $CONST | ({program})"
        return program

    def _inline(self, match: re.Match[str]) -> str:
        function = self.functions.get(match.group(1)) or {}
        body = WHOLE_EXPRESSION.match(str(function.get("operation", "null")))
        return f"({body.group('body') if body else function.get('operation', 'null')})"

    def jq(self, text: str) -> Expr:
        return Expr("jq", self.program(text))

    def template(self, value: Any) -> Expr:
        """Free-form data: literal unless some string holds ``${ }``."""
        if not _has_expression(value):
            return Expr.literal(value)
        if isinstance(value, str):
            return Expr("jq", self._string(value))
        return Expr("template", self._fill(value))

    def _fill(self, value: Any) -> Any:
        if isinstance(value, str):
            return embed(Expr("jq", self._string(value))) if "${" in value else value
        if isinstance(value, dict):
            return {key: self._fill(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self._fill(item) for item in value]
        return value

    def _string(self, text: str) -> str:
        if WHOLE_EXPRESSION.match(text):
            return self.program(text)
        # Interpolation: the literal parts as a jq string, each ${ } as \( ).
        parts: list[str] = []
        last = 0
        for match in EMBEDDED_EXPRESSION.finditer(text):
            parts.append(json.dumps(text[last : match.start()])[1:-1])
            parts.append(f"\\({self.finish(match.group('body').strip())})")
            last = match.end()
        parts.append(json.dumps(text[last:])[1:-1])
        return '"' + "".join(parts) + '"'

    # -- data merging ---------------------------------------------------------------------------

    def merge_into(self, to_state_data: str | None, value: str = "$__selected") -> str:
        """jq that merges ``value`` into the data (``.``), at ``to_state_data`` when given."""
        if not to_state_data:
            return f"__swm(.; {value})"
        path = self.program(to_state_data)
        return f"(path({path})) as $__p | setpath($__p; __swm(getpath($__p); {value}))"

    def merge_expr(self, to_state_data: str | None) -> Expr:
        return Expr("jq", MERGE_DEF + self.merge_into(to_state_data))

    def merge_each(self, paths: list[str | None | bool]) -> Expr:
        """Merges ``$__selected[i]`` at ``paths[i]`` in order (False: skip that one)."""
        steps = [
            self.merge_into(path, f"$__selected[{index}]")
            for index, path in enumerate(paths)
            if path is None or isinstance(path, str)
        ]
        return Expr("jq", MERGE_DEF + (" | ".join(steps) if steps else "."))


def _has_expression(value: Any) -> bool:
    if isinstance(value, str):
        return "${" in value
    if isinstance(value, dict):
        return any(_has_expression(item) for item in value.values())
    if isinstance(value, list):
        return any(_has_expression(item) for item in value)
    return False
