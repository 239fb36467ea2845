"""Load a workflow definition (YAML or JSON) into plain data plus a map of source positions.

Every format (Serverless Workflow, ASL, our DSL) starts here.  The result is plain data
(dict / list / str / int / float / bool / None) and a :class:`PositionMap` from JSON Pointer
to :class:`SourcePosition`, so that later stages can say *where* a problem is.

Why not ``yaml.safe_load``: PyYAML implements YAML 1.1, where ``on``/``yes``/``no`` are
booleans, ``017`` is octal and ``1:20`` is sexagesimal 80; it also drops positions and
silently keeps the last of two duplicate keys.  We let PyYAML (libyaml when available) only
*compose* the text into nodes with marks, and resolve plain scalars ourselves with the YAML 1.2
core schema.  JSON is parsed by the ``json`` module (exact values, exact error positions);
YAML composes the same text only to supply positions.

Diagnostic codes (stable; never reuse a retired number) are listed in :data:`LOAD_CODES`.
"""

from __future__ import annotations

import bisect
import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml
from yaml.composer import Composer
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

from declarative_wf.diagnostics import Diagnostic, DiagnosticError, Severity, SourcePosition, quote

__all__ = [
    "LOAD_CODES", "MAX_BYTES", "MAX_DEPTH", "MAX_NODES", "LoadedDocument", "PositionMap",
    "escape_pointer_token", "json_pointer", "load_file", "load_text", "parse_pointer",
    "pointer_join",
]  # fmt: skip

LOAD_CODES: dict[str, str] = {
    "LOAD-E001": "the file cannot be read (missing, a directory, no permission)",
    "LOAD-E002": "the file is larger than the size limit",
    "LOAD-E003": "binary content (a NUL byte)",
    "LOAD-E004": "not UTF-8 (invalid bytes, a UTF-16/32 file, a lone surrogate)",
    "LOAD-E005": "a control character that YAML does not allow",
    "LOAD-E006": "empty document (nothing, or only comments)",
    "LOAD-E007": "YAML syntax error",
    "LOAD-E008": "tab character used for indentation",
    "LOAD-E009": "JSON syntax error",
    "LOAD-E010": "more than one YAML document in the file",
    "LOAD-E011": "the top-level value is not a mapping",
    "LOAD-E012": "duplicate key in a mapping",
    "LOAD-E013": "a mapping key that is not a string",
    "LOAD-E014": "unsupported tag, or a value that its tag does not allow",
    "LOAD-E015": "recursive alias (a node that contains itself)",
    "LOAD-E016": "too many nodes once aliases are expanded (billion laughs)",
    "LOAD-E017": "nesting too deep",
    "LOAD-W001": "'<<' is an ordinary key in YAML 1.2 (merge keys are not supported)",
}

MAX_BYTES = 64 * 1024 * 1024  # a workflow definition is kilobytes; this stops /dev/zero
MAX_NODES = 1_000_000  # after alias expansion
MAX_DEPTH = 256  # libyaml stops at 1000, the pure-Python composer recurses far earlier

Syntax = Literal["auto", "yaml", "json"]


# --------------------------------------------------------------------------- JSON Pointer


def escape_pointer_token(token: str | int) -> str:
    """One reference token per RFC 6901: ``~`` → ``~0`` first, then ``/`` → ``~1``."""
    return str(token).replace("~", "~0").replace("/", "~1")


def pointer_join(base: str, part: str | int) -> str:
    """``base`` plus one token: ``pointer_join("/states", "a/b")`` → ``"/states/a~1b"``."""
    return f"{base}/{escape_pointer_token(part)}"


def json_pointer(*parts: str | int) -> str:
    """A pointer from unescaped tokens: ``json_pointer("do", 0, "x")`` → ``"/do/0/x"``."""
    return "".join("/" + escape_pointer_token(p) for p in parts)


def parse_pointer(pointer: str) -> list[str]:
    """The unescaped tokens of a pointer (``""`` → ``[]``); ValueError if it is malformed."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON Pointer starts with '/': {pointer!r}")
    if re.search(r"~(?![01])", pointer):
        raise ValueError(f"'~' must be followed by 0 or 1 in a JSON Pointer: {pointer!r}")
    # RFC 6901 §4: ~1 before ~0, so that "~01" decodes to "~1", not to "/".
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


# --------------------------------------------------------------------------- results


@dataclass
class PositionMap:
    """Where each node (and each mapping key) of a loaded document starts.

    ``nodes[pointer]`` is the position of the value; ``keys[pointer]`` the position of the key
    whose value is at ``pointer`` (so "unknown key" errors can point at the key).  A node
    reached through an alias has the position of the anchored node.
    """

    nodes: dict[str, SourcePosition] = field(default_factory=dict)
    keys: dict[str, SourcePosition] = field(default_factory=dict)

    def at(self, pointer: str) -> SourcePosition | None:
        """Position of the node, else of its nearest ancestor that has one."""
        while True:
            found = self.nodes.get(pointer)
            if found is not None or pointer == "":
                return found
            pointer = pointer[: pointer.rfind("/")] if "/" in pointer else ""

    def key_at(self, pointer: str) -> SourcePosition | None:
        """Position of the key naming ``pointer``; falls back to :meth:`at` (list items)."""
        return self.keys.get(pointer) or self.at(pointer)


@dataclass
class LoadedDocument:
    """A parsed definition: plain ``data``, its ``positions``, the ``source`` text.

    ``warnings`` holds non-fatal diagnostics (severity warning) found while loading.
    """

    data: Any
    positions: PositionMap
    source: str
    file: str
    syntax: Literal["yaml", "json"] = "yaml"
    warnings: list[Diagnostic] = field(default_factory=list)

    def position(self, pointer: str, *, key: bool = False) -> SourcePosition | None:
        return self.positions.key_at(pointer) if key else self.positions.at(pointer)

    def diagnostic(
        self, code: str, message: str, pointer: str = "", *, key: bool = False,
        severity: Severity = Severity.ERROR, hint: str | None = None,
    ) -> Diagnostic:  # fmt: skip
        """A diagnostic about ``pointer``, positioned from the map (``key=True``: at the key)."""
        position = self.position(pointer, key=key)
        return Diagnostic(code, message, pointer, position, severity, hint, file=self.file)


# --------------------------------------------------------------------------- entry points


def load_file(
    path: str | os.PathLike[str], *, syntax: Syntax = "auto", max_bytes: int = MAX_BYTES,
    max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH,
) -> LoadedDocument:  # fmt: skip
    """Read and parse a definition file; raise :class:`DiagnosticError` if it is invalid.

    Positions name the file as ``path`` was given (relative stays relative, as
    ``FILE:LINE:COL`` output should).  ``syntax="auto"``: ``*.json`` is JSON, otherwise a
    text starting with ``{`` or ``[`` is tried as JSON first, and anything else is YAML.
    """
    name = os.fspath(path)
    try:
        with open(name, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise _error("LOAD-E001", f"cannot read the file: {exc.strerror or exc}", name) from None
    if len(raw) > max_bytes:
        message = f"the file is larger than {max_bytes} bytes; is it a workflow definition?"
        raise _error("LOAD-E002", message, name)
    return _load(_decode(raw, name), name, syntax, _Limits(max_nodes, max_depth))


def load_text(
    text: str | bytes, file: str = "<string>", *, syntax: Syntax = "auto",
    max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH,
) -> LoadedDocument:  # fmt: skip
    """Parse a definition held in memory (bytes are decoded as UTF-8); see :func:`load_file`."""
    if isinstance(text, bytes):
        text = _decode(text, file)
    return _load(text, file, syntax, _Limits(max_nodes, max_depth))


@dataclass(frozen=True)
class _Limits:
    max_nodes: int
    max_depth: int


def _error(
    code: str, message: str, where: SourcePosition | str, hint: str | None = None
) -> DiagnosticError:
    """One fatal diagnostic; ``where`` is a position, or a file name when there is none."""
    if isinstance(where, str):
        return DiagnosticError([Diagnostic(code, message, hint=hint, file=where)])
    return DiagnosticError([Diagnostic(code, message, "", where, hint=hint)])


# --------------------------------------------------------------------------- text

# UTF-32 first: its little-endian BOM starts with UTF-16's.
_BOMS = [(b"\x00\x00\xfe\xff", "UTF-32"), (b"\xff\xfe\x00\x00", "UTF-32"),
         (b"\xfe\xff", "UTF-16"), (b"\xff\xfe", "UTF-16")]  # fmt: skip
# YAML 1.2 §5.1 printable set (PyYAML's too).  Checked up front so that the C and Python
# parsers report the same thing, with a line and column.
_NON_PRINTABLE = re.compile("[^\t\n\r\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_SURROGATE = re.compile("[\ud800-\udfff]")
# The line breaks that json, `render` and YAML 1.2 count.  PyYAML (YAML 1.1) also breaks
# lines at U+0085, U+2028 and U+2029; with those in a text we position from mark.index.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_YAML11_BREAK = re.compile("[\x85\u2028\u2029]")


class _Locator:
    """Turns character offsets and PyYAML marks into 1-based positions of one text."""

    def __init__(self, text: str, file: str) -> None:
        self.file = file
        self._text = text
        self._starts: list[int] | None = None  # line start offsets, computed when needed
        self._by_index = bool(_YAML11_BREAK.search(text))

    def index(self, offset: int) -> SourcePosition:
        if self._starts is None:
            self._starts = [0] + [m.end() for m in _LINE_BREAK.finditer(self._text)]
        line = bisect.bisect_right(self._starts, offset) - 1
        return SourcePosition(self.file, line + 1, offset - self._starts[line] + 1)

    def __call__(self, mark: Any) -> SourcePosition:
        if self._by_index:
            return self.index(mark.index)
        return SourcePosition(self.file, mark.line + 1, mark.column + 1)


def _decode(raw: bytes, file: str) -> str:
    """UTF-8 text without BOM, or a diagnostic that says what the bytes are instead."""
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            message = f"the file is {encoding} encoded; workflow definitions must be UTF-8"
            raise _error("LOAD-E004", message, file, "save it as UTF-8")
    nul = raw.find(b"\x00")
    if nul >= 0:
        message = f"the file is binary (a NUL byte at offset {nul}), not a YAML or JSON text"
        raise _error("LOAD-E003", message, file)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start : exc.start].decode("utf-8", "replace")) + 1
        position = SourcePosition(file, raw.count(b"\n", 0, exc.start) + 1, column)
        message = f"the file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})"
        raise _error("LOAD-E004", message, position, "save the file as UTF-8") from None
    # YAML allows a BOM but json.loads rejects it, and it belongs to no line.
    return text[1:] if text.startswith("\ufeff") else text


def _check_text(text: str, file: str) -> None:
    """Problems of the characters themselves, whatever the syntax."""
    nul = text.find("\x00")
    if nul >= 0:
        message = "the text is binary (it holds a NUL character), not a YAML or JSON text"
        raise _error("LOAD-E003", message, _Locator(text, file).index(nul))
    bad = _SURROGATE.search(text)
    if bad:
        where = _Locator(text, file).index(bad.start())
        raise _error("LOAD-E004", "the text holds a lone UTF-16 surrogate", where)
    if not text.strip(" \t\r\n"):
        raise _empty(file, only_comments=False)


def _check_yaml_characters(text: str, file: str) -> None:
    bad = _NON_PRINTABLE.search(text)
    if bad:
        message = f"control character U+{ord(bad.group()):04X} is not allowed in YAML"
        hint = "remove it, or write it as an escape inside a double-quoted string"
        raise _error("LOAD-E005", message, _Locator(text, file).index(bad.start()), hint)


def _empty(file: str, only_comments: bool) -> DiagnosticError:
    what = "holds only comments" if only_comments else "is empty"
    message = f"the file {what}; a workflow definition is a mapping of keys to values"
    return _error("LOAD-E006", message, SourcePosition(file, 1, 1))


# A text that fails as JSON is still reported as JSON if it starts the way JSON does.
_LOOKS_LIKE_JSON = re.compile(r'\s*(?:\[|\{\s*["}])')


def _load(text: str, file: str, syntax: Syntax, limits: _Limits) -> LoadedDocument:
    _check_text(text, file)
    if syntax == "json" or (syntax == "auto" and file.lower().endswith(".json")):
        return _load_json(text, file, limits)
    if syntax == "yaml" or text.lstrip(" \t\r\n")[:1] not in ("{", "["):
        return _load_yaml(text, file, limits)
    # Starts like JSON: JSON first (exact values and errors); a YAML flow mapping otherwise.
    try:
        return _load_json(text, file, limits)
    except DiagnosticError as json_error:
        if json_error.diagnostics[0].code != "LOAD-E009":
            raise  # valid JSON with a problem (duplicate key...): not a YAML question
        try:
            return _load_yaml(text, file, limits)
        except DiagnosticError:
            if _LOOKS_LIKE_JSON.match(text):
                raise json_error from None
            raise


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


_USE_LIBYAML: bool = bool(getattr(yaml, "__with_libyaml__", False))
if _USE_LIBYAML:
    from yaml._yaml import CParser

    class _CComposer(CParser, _CoreResolver):  # type: ignore[misc]
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            _CoreResolver.__init__(self)


def _compose(text: str) -> Node | None:
    """The only document's root node (None if there is none); YAMLError on bad input."""
    composer = _CComposer(text) if _USE_LIBYAML else _PyComposer(text)
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


# --------------------------------------------------------------------------- node graph


def _children(node: Node) -> Iterator[Node]:
    if isinstance(node, SequenceNode):
        yield from node.value
    elif isinstance(node, MappingNode):
        for key, value in node.value:
            yield key
            yield value


def _measure(root: Node, locate: _Locator, limits: _Limits) -> None:
    """Reject recursive aliases, alias bombs and absurd nesting before building any data.

    In the composed graph an alias is the very node object of its anchor, so the expanded
    size of a billion-laughs document is computed (memoised per node) without expanding it.
    Iterative, so that no nesting depth can raise RecursionError.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[Node, int, bool]] = [(root, 1, False)]
    while stack:
        node, depth, finished = stack.pop()
        ident = id(node)
        if finished:
            on_path.discard(ident)
            kids = [id(c) for c in _children(node)]
            size[ident] = 1 + sum(size[k] for k in kids)
            height[ident] = 1 + max((height[k] for k in kids), default=0)
            if size[ident] > limits.max_nodes:
                message = f"the document expands to more than {limits.max_nodes} nodes via aliases"
                where = locate(node.start_mark)
                raise _error("LOAD-E016", message, where, "an alias bomb? expand fewer aliases")
        elif ident in on_path:
            message = "an alias refers to a node that contains it (a recursive structure)"
            raise _error("LOAD-E015", message, locate(node.start_mark))
        elif ident not in size:  # not yet measured (an alias may have got there first)
            on_path.add(ident)
            stack.append((node, depth, True))
            stack.extend((child, depth + 1, False) for child in _children(node))
        # Checked on every visit: an aliased node may sit deeper than where it was measured.
        if ident in height and depth + height[ident] - 1 > limits.max_depth:
            message = f"the document is nested more than {limits.max_depth} levels deep"
            raise _error("LOAD-E017", message, locate(node.start_mark))


# (node or json value, pointer, container, slot): fill container[slot] with its data.
_Task = tuple[Any, str, Any, Any]


class _Builder:
    """Turns a composed node graph into plain data, recording positions and problems."""

    def __init__(self, locate: _Locator) -> None:
        self.locate = locate
        self.positions = PositionMap()
        self.problems: list[Diagnostic] = []
        self._scalars: dict[int, Any] = {}  # aliases revisit nodes: resolve (and complain) once

    def problem(self, code: str, message: str, pointer: str, node: Node, **extra: Any) -> None:
        position = self.locate(node.start_mark)
        self.problems.append(Diagnostic(code, message, pointer, position, **extra))

    def build(self, root: Node) -> Any:
        holder: list[Any] = [None]
        stack: list[_Task] = [(root, "", holder, 0)]
        while stack:
            node, pointer, container, slot = stack.pop()
            self.positions.nodes[pointer] = self.locate(node.start_mark)
            if isinstance(node, ScalarNode):
                container[slot] = self.scalar(node, pointer)
            elif isinstance(node, SequenceNode):
                self.check_tag(node, _SEQ, pointer)
                items: list[Any] = [None] * len(node.value)
                container[slot] = items
                tasks = [(n, pointer_join(pointer, i), items, i) for i, n in enumerate(node.value)]
                stack.extend(reversed(tasks))
            else:
                self.check_tag(node, _MAP, pointer)
                mapping: dict[str, Any] = {}
                container[slot] = mapping
                stack.extend(reversed(self.entries(node, pointer, mapping)))
        return holder[0]

    def entries(self, node: MappingNode, pointer: str, mapping: dict[str, Any]) -> list[_Task]:
        """The entries of one mapping in order; pre-fills ``mapping`` to keep the key order."""
        tasks: list[_Task] = []
        for key_node, value_node in node.value:
            key = self.key(key_node, pointer)
            if key is None:
                continue
            child = pointer_join(pointer, key)
            if key in mapping:
                hint = f"the first {quote(key)} is on line {self.positions.keys[child].line}"
                self.problem("LOAD-E012", f"duplicate key {quote(key)}", child, key_node, hint=hint)
                continue
            mapping[key] = None
            self.positions.keys[child] = self.locate(key_node.start_mark)
            if key == "<<" and key_node.tag == _PLAIN:
                message = "'<<' is an ordinary key in YAML 1.2: merge keys are not supported"
                hint = "write the keys out, or anchor and alias the whole mapping"
                extra = {"severity": Severity.WARNING, "hint": hint}
                self.problem("LOAD-W001", message, child, key_node, **extra)
            tasks.append((value_node, child, mapping, key))
        return tasks

    def key(self, node: Node, pointer: str) -> str | None:
        if not isinstance(node, ScalarNode):
            kind = "a list" if isinstance(node, SequenceNode) else "a mapping"
            self.problem("LOAD-E013", f"a mapping key must be a string, not {kind}", pointer, node)
            return None
        value = self.scalar(node, pointer)
        if isinstance(value, str):
            return value
        shown = f"the key {node.value}" if node.value else "an empty key"
        message = f"{shown} is read as {_kind(value)}; mapping keys must be strings"
        self.problem("LOAD-E013", message, pointer, node, hint=f"quote it: {quote(node.value)}")
        return None

    def check_tag(self, node: Node, expected: str, pointer: str) -> None:
        if node.tag != expected:
            kind = "list" if expected == _SEQ else "mapping"
            message = f"unsupported tag {quote(_short_tag(node.tag))} on a {kind}"
            self.problem("LOAD-E014", message, pointer, node)

    def scalar(self, node: ScalarNode, pointer: str) -> Any:
        ident = id(node)
        if ident not in self._scalars:
            self._scalars[ident] = self.resolve_scalar(node, pointer)
        return self._scalars[ident]

    def resolve_scalar(self, node: ScalarNode, pointer: str) -> Any:
        tag, value = node.tag, node.value
        if _SURROGATE.search(value):  # the pure-Python scanner lets "\ud800" escapes through
            self.problem("LOAD-E004", "invalid Unicode escape (a lone surrogate)", pointer, node)
            return value
        try:
            result = _resolve_plain(value) if tag == _PLAIN else _resolve_tagged(tag, value)
        except ValueError:  # int() refuses more than sys.get_int_max_str_digits() digits
            self.problem("LOAD-E014", "the number has too many digits", pointer, node)
            return value
        if result is _NOT_SET:
            if tag in (_STR, _INT, _FLOAT, _BOOL, _NULL):
                message = f"{quote(value)} is not a valid {_short_tag(tag)}"
            else:
                message = f"unsupported tag {quote(_short_tag(tag))}"
            self.problem("LOAD-E014", message, pointer, node)
            return value
        return result


_KINDS = {type(None): "null", bool: "a boolean", int: "a number", float: "a number",
          str: "a string", list: "a list", dict: "a mapping"}  # fmt: skip


def _kind(value: Any) -> str:
    return _KINDS.get(type(value), "a mapping")


def _finish(
    data: Any, problems: list[Diagnostic], positions: PositionMap, text: str, file: str,
    syntax: Literal["yaml", "json"],
) -> LoadedDocument:  # fmt: skip
    if not isinstance(data, dict):
        message = f"a workflow definition must be a mapping of keys to values, not {_kind(data)}"
        root = positions.at("") or SourcePosition(file, 1, 1)
        problems = [*problems, Diagnostic("LOAD-E011", message, "", root)]
    if any(p.is_error for p in problems):
        raise DiagnosticError(problems)
    return LoadedDocument(data, positions, text, file, syntax, problems)


# --------------------------------------------------------------------------- YAML


def _load_yaml(text: str, file: str, limits: _Limits) -> LoadedDocument:
    _check_yaml_characters(text, file)
    locate = _Locator(text, file)
    try:
        root = _compose(text)
    except yaml.MarkedYAMLError as exc:
        if "maximum nesting depth" in (exc.problem or "") and exc.problem_mark is not None:
            where = locate(exc.problem_mark)
            raise _error("LOAD-E017", "the document is nested too deeply", where) from None
        raise DiagnosticError([_syntax_error(exc, text, locate)]) from None
    except yaml.YAMLError as exc:
        raise DiagnosticError([_syntax_error(exc, text, locate)]) from None
    except RecursionError:  # the pure-Python composer recurses once per nesting level
        raise _error("LOAD-E017", "the document is nested too deeply", file) from None
    if root is None:
        raise _empty(file, only_comments=True)
    if isinstance(root, ScalarNode) and root.tag == _PLAIN and root.value == "":
        raise _empty(file, only_comments=False)  # only "---" (and comments)
    _measure(root, locate, limits)
    builder = _Builder(locate)
    data = builder.build(root)
    return _finish(data, builder.problems, builder.positions, text, file, "yaml")


# --------------------------------------------------------------------------- JSON


class _Pairs(list):  # type: ignore[type-arg]
    """A JSON object as json.loads saw it: (key, value) pairs, duplicates included."""


# For the positions pass every escape becomes an escaped backslash padded to the same length
# ("\u00e9" → "\\    ") and tabs, and characters PyYAML dislikes or counts as line breaks,
# become spaces: columns stay put and PyYAML can follow any valid JSON.  Values come from
# json.loads, never from this pass.
_JSON_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|.)", re.S)
_YAML_UNSAFE = re.compile("[\t\x85\u2028\u2029]|" + _NON_PRINTABLE.pattern)


def _json_skeleton(text: str) -> Node | None:
    """The YAML node graph of a *valid* JSON text, or None if PyYAML still cannot read it."""
    safe = _JSON_ESCAPE.sub(lambda m: "\\\\" + " " * (len(m.group()) - 2), text)
    safe = _YAML_UNSAFE.sub(" ", safe)
    try:
        return _compose(safe)
    except (yaml.YAMLError, RecursionError):
        return None  # e.g. a key longer than 1024 characters: keep the data, lose positions


def _load_json(text: str, file: str, limits: _Limits) -> LoadedDocument:
    try:
        raw = json.loads(text, object_pairs_hook=_Pairs)
    except json.JSONDecodeError as exc:
        where = SourcePosition(file, exc.lineno, exc.colno)
        raise _error("LOAD-E009", f"invalid JSON: {exc.msg}", where) from None
    except RecursionError:
        raise _error("LOAD-E017", "the document is nested too deeply", file) from None
    except ValueError as exc:  # an integer with more digits than int() accepts
        raise _error("LOAD-E009", f"invalid JSON: {exc}", file) from None
    positions = PositionMap({"": SourcePosition(file, 1, 1)})
    locate = _Locator(text, file)
    problems: list[Diagnostic] = []
    stack: list[tuple[Any, Node | None, str, Any, Any]] = []
    holder: list[Any] = [None]
    stack.append((raw, _json_skeleton(text), "", holder, 0))
    while stack:
        value, node, pointer, container, slot = stack.pop()
        if node is not None:
            positions.nodes[pointer] = locate(node.start_mark)
        if pointer.count("/") >= limits.max_depth:
            message = f"the document is nested more than {limits.max_depth} levels deep"
            raise _error("LOAD-E017", message, positions.at(pointer) or file)
        if isinstance(value, _Pairs):
            mapping: dict[str, Any] = {}
            container[slot] = mapping
            tasks = _json_entries(value, node, pointer, mapping, positions, problems, locate)
            stack.extend(reversed(tasks))
        elif isinstance(value, list):
            container[slot] = items = [None] * len(value)
            same = isinstance(node, SequenceNode) and len(node.value) == len(value)
            nodes = node.value if same else [None] * len(value)  # type: ignore[union-attr]
            numbered = enumerate(zip(value, nodes))
            tasks = [(v, n, pointer_join(pointer, i), items, i) for i, (v, n) in numbered]
            stack.extend(reversed(tasks))
        else:
            container[slot] = value
    return _finish(holder[0], problems, positions, text, file, "json")


def _json_entries(
    pairs: _Pairs, node: Node | None, pointer: str, mapping: dict[str, Any],
    positions: PositionMap, problems: list[Diagnostic], locate: _Locator,
) -> list[tuple[Any, Node | None, str, Any, Any]]:  # fmt: skip
    """Like _Builder.entries, for one JSON object; ``node`` is its skeleton (or None)."""
    same = isinstance(node, MappingNode) and len(node.value) == len(pairs)
    nodes = node.value if same else [(None, None)] * len(pairs)  # type: ignore[union-attr]
    tasks = []
    for (key, value), (key_node, value_node) in zip(pairs, nodes):
        child = pointer_join(pointer, key)
        key_position = locate(key_node.start_mark) if key_node else None
        if key in mapping:
            where = key_position or positions.at(pointer)
            problems.append(Diagnostic("LOAD-E012", f"duplicate key {quote(key)}", child, where))
            continue
        mapping[key] = None
        if key_position is not None:
            positions.keys[child] = key_position
        tasks.append((value, value_node, child, mapping, key))
    return tasks
