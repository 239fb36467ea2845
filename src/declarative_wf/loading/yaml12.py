"""YAML 1.2 on top of PyYAML: compose text into marked nodes, resolve scalars by the core schema.

PyYAML implements YAML 1.1 (``on``/``yes`` are booleans, ``017`` is octal...).  We use it
(libyaml when available) only to *compose* nodes with marks; plain scalars are resolved here
by the YAML 1.2 core schema.  PyYAML's exceptions become readable diagnostics here too.
"""

from __future__ import annotations

import math
import re
from typing import Any

import yaml
from yaml.composer import Composer
from yaml.nodes import Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from declarative_wf.diagnostics import Diagnostic

from .text import _LINE_BREAK, _Locator

# --------------------------------------------------------------------------- YAML 1.2 core schema

_PLAIN = "?"
_YAML = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_YAML + t for t in ("str", "int", "float", "bool", "null"))
_SEQ, _MAP = _YAML + "seq", _YAML + "map"

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT10 = re.compile(r"[-+]?[0-9]+")
_INT8 = re.compile(r"0o[0-7]+")
_INT16 = re.compile(r"0x[0-9a-fA-F]+")
_FLOAT_RE = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_INF = re.compile(r"[-+]?\.(?:inf|Inf|INF)")
_NAN = re.compile(r"\.(?:nan|NaN|NAN)")
_NOT_SET: Any = object()


def _core_number(value: str) -> Any:
    """An int or float per the core schema, else _NOT_SET (ValueError: too many digits)."""
    if _INT10.fullmatch(value):
        return int(value)
    if _INT8.fullmatch(value):
        return int(value[2:], 8)
    if _INT16.fullmatch(value):
        return int(value[2:], 16)
    if _FLOAT_RE.fullmatch(value):
        return float(value)
    if _INF.fullmatch(value):
        return -math.inf if value.startswith("-") else math.inf
    if _NAN.fullmatch(value):
        return math.nan
    return _NOT_SET


def _resolve_plain(value: str) -> Any:
    if value in _NULLS:
        return None
    if value in _BOOLS:
        return _BOOLS[value]
    if value[0] not in "0123456789+-.":
        return value  # the common case, a word: no regex needed
    number = _core_number(value)
    return value if number is _NOT_SET else number


def _resolve_tagged(tag: str, value: str) -> Any:
    """The value of an explicitly tagged scalar, or _NOT_SET if the tag does not allow it."""
    if tag == _STR:
        return value
    if tag == _NULL:
        return None if value in _NULLS else _NOT_SET
    if tag == _BOOL:
        return _BOOLS.get(value, _NOT_SET)
    number = _core_number(value) if tag in (_INT, _FLOAT) else _NOT_SET
    if tag == _INT:
        return number if isinstance(number, int) else _NOT_SET
    return float(number) if isinstance(number, (int, float)) else _NOT_SET


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag


# --------------------------------------------------------------------------- composing


class _CoreResolver(BaseResolver):  # type: ignore[misc]  # PyYAML ships no types
    """Leaves plain scalars unresolved ("?") so that the YAML 1.2 core schema decides.

    PyYAML's own implicit resolvers are YAML 1.1 and must decide nothing.  Quoted scalars
    and the non-specific tag "!" are strings, as YAML says.
    """

    def resolve(self, kind: type, value: Any, implicit: tuple[bool, bool]) -> str:
        if kind is ScalarNode:
            return _PLAIN if implicit[0] else _STR
        return _SEQ if kind is SequenceNode else _MAP


class _PyComposer(Reader, Scanner, Parser, Composer, _CoreResolver):  # type: ignore[misc]
    def __init__(self, stream: str) -> None:
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _CoreResolver.__init__(self)


# Whether PyYAML was built with libyaml; the loader may still choose the pure-Python composer.
LIBYAML_AVAILABLE: bool = bool(getattr(yaml, "__with_libyaml__", False))
if LIBYAML_AVAILABLE:
    from yaml._yaml import CParser

    class _CComposer(CParser, _CoreResolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _CoreResolver.__init__(self)


def compose(text: str, libyaml: bool) -> Node | None:
    """The only document's root node (None if there is none); YAMLError on bad input."""
    composer = _CComposer(text) if libyaml else _PyComposer(text)
    root: Node | None = composer.get_single_node()
    return root


def _syntax_error(exc: yaml.YAMLError, text: str, locate: _Locator) -> Diagnostic:
    """A readable diagnostic from a PyYAML / libyaml exception."""
    mark = getattr(exc, "problem_mark", None)
    if not isinstance(exc, yaml.MarkedYAMLError) or mark is None:
        return Diagnostic("LOAD-E007", f"invalid YAML: {exc}", file=locate.file)
    position = locate(mark)
    if exc.context == "expected a single document in the stream":
        message = "the file holds more than one YAML document; a workflow definition is one"
        return Diagnostic("LOAD-E010", message, "", position, hint="remove this '---' line")
    lines = _LINE_BREAK.split(text)
    line = lines[position.line - 1] if position.line <= len(lines) else ""
    column = position.column - 1
    char = line[column] if column < len(line) else ""
    indent = line[: len(line) - len(line.lstrip(" \t"))]
    if char == "\t" or ("\t" in indent and column <= len(indent)):
        message = "a tab character is used for indentation; YAML allows only spaces"
        return Diagnostic("LOAD-E008", message, "", position, hint="replace the tabs with spaces")
    problem = (exc.problem or "syntax error").replace(" in this context", " here")
    message = f"invalid YAML: {problem}"
    start = locate(exc.context_mark) if exc.context_mark is not None else position
    if exc.context and start != position:
        message += f" ({exc.context} at line {start.line}, column {start.column})"
    elif exc.context:
        message += f" ({exc.context})"
    return Diagnostic("LOAD-E007", message, "", position, hint=_syntax_hint(problem, char))


def _syntax_hint(problem: str, char: str) -> str | None:
    if "mapping values are not allowed" in problem:
        return "quote a value that contains ': ', or check the indentation of this line"
    if "cannot start any token" in problem and char in ("@", "`"):
        return f"'{char}' is reserved in YAML: quote the value"
    if "could not find expected ':'" in problem:
        return "a key needs ': ' after it; look for a missing colon or an unclosed quote"
    return None
