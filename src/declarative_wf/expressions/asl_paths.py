"""ASL reference paths: `$...` (state input), `$$...` (context object), `$name...` (variable).

One function does the work, :func:`resolve_path`. It follows what AWS Step Functions does
in the JSONPath query language (AWS runs Jayway JsonPath):

* A *definite* path (only names and single indexes, such as ``$.a['b c'][0]``) selects
  one value. When it selects nothing, that is a ``States.Runtime`` error naming the path.
* An *indefinite* path (a wildcard, a slice, a union, a filter or ``..``) selects a list,
  possibly empty; the recorded AWS corpus shows ``$.items[*]`` on ``{}`` giving ``[]``.

The general JSONPath work (brackets, slices, filters) is done by ``jsonpath-ng`` (its
``ext`` parser, which has filters), a maintained library; we only decide which document a
path starts from and whether it is definite.

The module also holds the error base class of the ASL expression code and
:func:`json_text`, the compact JSON text AWS produces (Jackson's number formatting), which
both the error messages here and ``States.JsonToString`` need.
"""

from __future__ import annotations

import enum
import functools
import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from jsonpath_ng import jsonpath as jp
from jsonpath_ng.ext.parser import parse as _jsonpath_parse

__all__ = [
    "AslRuntimeError",
    "CompiledPath",
    "PathKind",
    "PathNotFound",
    "PathSyntaxError",
    "compile_path",
    "java_double_text",
    "json_text",
    "resolve_path",
]


class AslRuntimeError(Exception):
    """A run-time failure with an ASL error name (``error``) and a human cause (``cause``).

    ``error`` is exactly the name AWS reports, such as ``States.Runtime``, so Retry and
    Catch can match on it; ``cause`` is the text AWS would put in the failure event, minus
    the "An error occurred while executing the state 'X' ..." prefix, which the state layer
    adds because only it knows the state name and event id.
    """

    error: str = "States.Runtime"

    def __init__(self, cause: str, *, error: str | None = None) -> None:
        super().__init__(cause)
        self.cause = cause
        if error is not None:
            self.error = error

    def __str__(self) -> str:
        return f"{self.error}: {self.cause}"


class PathNotFound(AslRuntimeError):
    """A definite path selected nothing (``States.Runtime``, terminal on AWS).

    ``cause`` has the form AWS records for ``InputPath``/``OutputPath``::

        Invalid path '$.x' : No results for path: $['x']

    For a ``key.$`` field of ``Parameters``/``ResultSelector``/``ItemSelector``, AWS words it
    differently; :meth:`cause_for_field` builds that form.
    """

    error = "States.Runtime"

    def __init__(self, path: str, document: Any, *, detail: str | None = None) -> None:
        self.path = path
        self.document = document
        super().__init__(
            detail or f"Invalid path '{path}' : No results for path: {_normalized(path)}"
        )

    def cause_for_field(self, field: str) -> str:
        """The cause AWS gives when ``field`` (such as ``'value.$'``) holds the path."""
        return (
            f"The JSONPath '{self.path}' specified for the field '{field}' "
            f"could not be found in the input '{json_text(self.document)}'"
        )


class PathSyntaxError(ValueError):
    """The text is not a JSONPath that ASL accepts; ``column`` is 1-based within the path."""

    def __init__(self, path: str, message: str, column: int = 1) -> None:
        super().__init__(f"invalid path {path!r}: {message}")
        self.path = path
        self.message = message
        self.column = column


class PathKind(enum.Enum):
    """Which document a path starts from."""

    INPUT = "input"  # $...
    CONTEXT = "context"  # $$...
    VARIABLE = "variable"  # $name...


@dataclass(frozen=True)
class CompiledPath:
    """A parsed reference path, ready to be applied many times."""

    text: str
    kind: PathKind
    variable: str | None
    #: The path relative to the start document, rewritten to begin with ``$``.
    relative: str
    #: None when the path is the start document itself (``$``, ``$$``, ``$name``).
    expression: jp.JSONPath | None
    #: True when the path selects at most one value (no wildcard, slice, filter, ``..``).
    definite: bool

    def apply(self, start: Any) -> Any:
        """Select from ``start``; raises :class:`PathNotFound` for a definite miss."""
        if self.expression is None:
            return start
        matches = [match.value for match in self.expression.find(start)]
        if not self.definite:
            return matches
        if not matches:
            raise PathNotFound(self.text, start)
        return matches[0]


_VARIABLE_HEAD = re.compile(r"\$([^\W\d]\w*)")
#: Jayway's script index ``[(@.length-1)]`` (the last element), which jsonpath-ng lacks: it is
#: the negative index ``[-1]``.
_LENGTH_INDEX = re.compile(r"\[\s*\(\s*@\.length\s*-\s*(\d+)\s*\)\s*\]")


@functools.lru_cache(maxsize=2048)
def compile_path(path: str) -> CompiledPath:
    """Parse ``path`` once (cached); raises :class:`PathSyntaxError`."""
    if not path.startswith("$"):
        raise PathSyntaxError(path, "a path must start with '$'")
    if path.startswith("$$"):
        kind, variable, rest = PathKind.CONTEXT, None, path[2:]
    elif match := _VARIABLE_HEAD.match(path):
        kind, variable, rest = PathKind.VARIABLE, match.group(1), path[match.end() :]
    else:
        kind, variable, rest = PathKind.INPUT, None, path[1:]
    relative = "$" + rest
    if not rest:
        return CompiledPath(path, kind, variable, relative, None, True)
    try:
        with warnings.catch_warnings():  # jsonpath-ng deprecates Jayway's unquoted filter words
            warnings.simplefilter("ignore", DeprecationWarning)
            expression = _jsonpath_parse(_keep_literal_backslashes(_LENGTH_INDEX.sub(r"[-\1]", relative)))
    except Exception as exc:
        # jsonpath-ng raises several unrelated types (its lexer and parser errors, and
        # ValueError/TypeError from its AST); all mean "not a path" here.
        raise _path_syntax_error(path, rest, exc) from None
    return CompiledPath(path, kind, variable, relative, expression, _is_definite(expression))


# jsonpath-ng reports "Parse error at 1:11 near token ) ())" (parser) or
# "Error on line 1, col 2: Unexpected character: #" (lexer); both columns are 0-based.
_PARSER_ERROR = re.compile(r"at \d+:(\d+) near token (.*?) \(")
_LEXER_ERROR = re.compile(r"col (\d+): (.*)")


def _path_syntax_error(path: str, rest: str, exc: Exception) -> PathSyntaxError:
    """Map a jsonpath-ng error to a message and a 1-based column within ``path``."""
    head = len(path) - len(rest)  # characters before `rest`; `relative` has 1 ("$")
    text = _first_line(str(exc))
    if match := _PARSER_ERROR.search(text):
        return PathSyntaxError(
            path, f"not a valid JSONPath near {match.group(2)!r}", head + int(match.group(1))
        )
    if match := _LEXER_ERROR.search(text):
        return PathSyntaxError(
            path, f"not a valid JSONPath: {match.group(2).strip()}", head + int(match.group(1))
        )
    if "end of string" in text:
        return PathSyntaxError(path, "not a valid JSONPath: it ends too early", len(path))
    return PathSyntaxError(path, "not a valid JSONPath", head + 1)


def resolve_path(
    path: str,
    input: Any,  # the ASL name for the state input
    context: Any,
    variables: Mapping[str, Any],
) -> Any:
    """The value ``path`` selects.

    ``$`` starts at ``input``, ``$$`` at the context object, ``$name`` at the variable
    ``name``. Raises :class:`PathSyntaxError` for a malformed path and
    :class:`PathNotFound` (``States.Runtime``) for a definite path that selects nothing
    or a variable that is not defined. The result is the selected value itself, not a
    copy: callers must not mutate it.
    """
    compiled = compile_path(path)
    if compiled.kind is PathKind.CONTEXT:
        start = context
    elif compiled.kind is PathKind.VARIABLE:
        assert compiled.variable is not None
        if compiled.variable not in variables:
            raise PathNotFound(
                path,
                None,
                detail=f"Invalid path '{path}' : "
                f"The variable '${compiled.variable}' is not defined",
            )
        start = variables[compiled.variable]
    else:
        start = input
    return compiled.apply(start)


# --------------------------------------------------------------------------- internals


def _keep_literal_backslashes(path: str) -> str:
    """Make jsonpath-ng read a quoted name the way AWS does.

    In a quoted name only ``\\'`` (or ``\\"``, the quote in use) and ``\\\\`` are escapes;
    any other backslash is an ordinary character. The recorded corpus pins this:
    ``$['Test\\""Name"']`` selects the key ``Test\\""Name"``. jsonpath-ng drops the
    backslash of every pair, so such a backslash is doubled before it parses.
    """
    out: list[str] = []
    quote: str | None = None
    index = 0
    while index < len(path):
        char = path[index]
        if quote is None:
            if char in "'\"":
                quote = char
        elif char == "\\":
            following = path[index + 1 : index + 2]
            if following in (quote, "\\"):
                out.append(char + following)
                index += 2
                continue
            out.append("\\")  # doubled: the backslash is text
        elif char == quote:
            quote = None
        out.append(char)
        index += 1
    return "".join(out)


def _is_definite(node: jp.JSONPath) -> bool:
    """True when every step selects at most one value (Jayway's "definite path")."""
    if isinstance(node, (jp.Root, jp.This)):
        return True
    if isinstance(node, jp.Child):
        return _is_definite(node.left) and _is_definite(node.right)
    if isinstance(node, jp.Fields):
        return len(node.fields) == 1 and node.fields[0] != "*"
    if isinstance(node, jp.Index):
        return len(node.indices) == 1
    return False  # Wildcard, Slice, Descendants, Union, Filter, Where, ...


def _normalized(path: str) -> str:
    """Jayway's normalized form (``$['a'][0]``), as AWS prints it; the text as a fallback."""
    try:
        compiled = compile_path(path)
    except PathSyntaxError:
        return path
    steps: list[str] = []
    node = compiled.expression
    while isinstance(node, jp.Child):
        steps.append(_step_text(node.right))
        node = node.left
    if node is not None and not isinstance(node, jp.Root):
        return path
    return "$" + "".join(reversed(steps))


def _step_text(node: jp.JSONPath) -> str:
    if isinstance(node, jp.Fields):
        return "[" + ",".join(f"'{name}'" for name in node.fields) + "]"
    if isinstance(node, jp.Index):
        return "[" + ",".join(str(index) for index in node.indices) + "]"
    if isinstance(node, jp.Wildcard):
        return "[*]"
    return f"[{node}]"


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


# --------------------------------------------------------------------------- JSON text


def json_text(value: Any) -> str:
    """Compact JSON as AWS (Jackson) writes it.

    Differences from ``json.dumps(separators=(",", ":"), ensure_ascii=False)``: floats use
    Java's ``Double.toString`` (``1.0E20``, not ``1e+20``), and control characters are
    escaped with upper-case hex (``\\u001F``). Key order is kept.
    """
    parts: list[str] = []
    _write_json(value, parts)
    return "".join(parts)


def _write_json(value: Any, out: list[str]) -> None:
    if value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(str(value))
    elif isinstance(value, float):
        out.append(java_double_text(value))
    elif isinstance(value, str):
        out.append(_json_string(value))
    elif isinstance(value, Mapping):
        out.append("{")
        for index, (key, item) in enumerate(value.items()):
            if index:
                out.append(",")
            out.append(_json_string(str(key)))
            out.append(":")
            _write_json(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _write_json(item, out)
        out.append("]")
    else:
        raise TypeError(f"not a JSON value: {type(value).__name__}")


_SHORT_ESCAPES = {
    '"': '\\"',
    "\\": "\\\\",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\b": "\\b",
    "\f": "\\f",
}
_NEEDS_ESCAPE = re.compile(r'["\\\x00-\x1f]')


def _json_string(text: str) -> str:
    def escape(match: re.Match[str]) -> str:
        char = match.group(0)
        return _SHORT_ESCAPES.get(char) or f"\\u{ord(char):04X}"

    return '"' + _NEEDS_ESCAPE.sub(escape, text) + '"'


def java_double_text(value: float) -> str:
    """Java's ``Double.toString``: ``1.1``, ``100.0``, ``1.0E-5``, ``1.2345678E7``.

    Decimal notation for 1e-3 <= |x| < 1e7, otherwise ``d.dddE±n``. The digits are the
    shortest that round-trip (Python's ``repr``), which is what Java 19+ prints too.
    """
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    sign, digits_tuple, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    digits = "".join(map(str, digits_tuple)).rstrip("0") or "0"
    # value = 0.d1d2d3... * 10**point, i.e. the decimal point sits after `point` digits.
    point = len(digits_tuple) + exponent
    prefix = "-" if sign else ""
    if 1e-3 <= abs(value) < 1e7:
        if point <= 0:
            return f"{prefix}0.{'0' * -point}{digits}"
        whole, fraction = digits[:point].ljust(point, "0"), digits[point:]
        return f"{prefix}{whole}.{fraction or '0'}"
    mantissa = digits[0] + "." + (digits[1:] or "0")
    return f"{prefix}{mantissa}E{point - 1}"


def json_type(value: Any) -> str:
    """The JSON type name of a value, as AWS names it in error causes."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    return "array"
