"""Diagnostics: what every loader, validator and compiler reports when a document is wrong.

A :class:`Diagnostic` has a stable code (``LOAD-E004``, ``ASL-E012``...), a message that says
what to do, the JSON Pointer (RFC 6901) of the offending node and, when known, its
:class:`SourcePosition`.  Producers collect *all* problems of a document and raise one
:class:`DiagnosticError`; consumers (the CLI, the HTTP API) show them with :func:`render` or
:func:`to_json`.

The one-line form ``FILE:LINE:COL: CODE message`` is a contract of ``dwf validate`` (design
§7): keep :meth:`Diagnostic.format` stable.
"""

from __future__ import annotations

import difflib
import enum
import json
import os
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

__all__ = [
    "Diagnostic",
    "DiagnosticError",
    "Severity",
    "SourcePosition",
    "quote",
    "render",
    "sort_diagnostics",
    "suggest",
    "to_json",
    "use_color",
]


@dataclass(frozen=True, order=True)
class SourcePosition:
    """A place in a source file.

    ``line`` and ``column`` are 1-based; ``column`` counts characters (code points), not
    bytes and not display cells, which is what YAML parsers and ``json`` report.
    """

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Severity(str, enum.Enum):
    """How bad a diagnostic is; the value is what JSON output shows."""

    ERROR = "error"
    WARNING = "warning"

    def __str__(self) -> str:
        return self.value


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a document.

    ``pointer`` is a JSON Pointer into the loaded data ("" is the whole document).
    ``file`` is only needed when there is no ``position`` (e.g. "cannot read file"); when both
    are given the position wins.  ``hint`` is an optional extra sentence ("did you mean ...?",
    "indent with spaces") shown under the source excerpt and in JSON, not in the one-line
    form, so that the one-line form stays one line.
    """

    code: str
    message: str
    pointer: str = ""
    position: SourcePosition | None = None
    severity: Severity = Severity.ERROR
    hint: str | None = None
    file: str | None = None

    @property
    def source_file(self) -> str | None:
        """The file this diagnostic is about, from the position or the ``file`` field."""
        return self.position.file if self.position is not None else self.file

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def format(self) -> str:
        """``FILE:LINE:COL: CODE message`` (or ``FILE: CODE message`` without a position)."""
        body = f"{self.code} {self.message}"
        if self.position is not None:
            return f"{self.position}: {body}"
        if self.file is not None:
            return f"{self.file}: {body}"
        return body

    def sort_key(self) -> tuple[str, int, int, str, str]:
        # Diagnostics without a position concern the whole file: they sort first in it.
        pos = self.position
        line, column = (pos.line, pos.column) if pos is not None else (0, 0)
        return (self.source_file or "", line, column, self.code, self.message)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Diagnostic):
            return NotImplemented
        return self.sort_key() < other.sort_key()

    def __str__(self) -> str:
        return self.format()


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Sorted by (file, line, column, code, message), duplicates removed."""
    return sorted(set(diagnostics), key=Diagnostic.sort_key)


class DiagnosticError(Exception):
    """The document is invalid; ``diagnostics`` says why (sorted, at least one)."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics: list[Diagnostic] = sort_diagnostics(diagnostics)
        if not self.diagnostics:
            raise ValueError("DiagnosticError needs at least one diagnostic")
        super().__init__("\n".join(d.format() for d in self.diagnostics))

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.is_error]


# --------------------------------------------------------------------------- small helpers


def quote(text: str) -> str:
    """Quote a name for a message: ``"Ship"``, with control characters escaped.

    JSON quoting keeps messages unambiguous (a key may contain spaces or quotes) and stops a
    hostile document from putting terminal escape sequences into our output.
    """
    quoted = json.dumps(text, ensure_ascii=False)
    # json.dumps leaves DEL and the C1 controls alone; some terminals act on them.
    return "".join(f"\\u{ord(c):04x}" if 0x7F <= ord(c) <= 0x9F else c for c in quoted)


def suggest(name: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """``did you mean "X"?`` for the candidate closest to ``name``, or None.

    A case-insensitive exact match wins (``next`` → ``Next``); otherwise difflib's ratio.
    """
    pool = sorted({c for c in candidates if c != name})
    if not pool:
        return None
    folded = [c for c in pool if c.casefold() == name.casefold()]
    if folded:
        best = folded[0]
    else:
        matches = difflib.get_close_matches(name, pool, n=1, cutoff=cutoff)
        if not matches:
            return None
        best = matches[0]
    return f"did you mean {quote(best)}?"


def to_json(diagnostics: Iterable[Diagnostic]) -> list[dict[str, Any]]:
    """Plain dicts for ``-o json``: file, line, column, code, message, pointer, severity, hint."""
    return [
        {
            "file": d.source_file,
            "line": d.position.line if d.position is not None else None,
            "column": d.position.column if d.position is not None else None,
            "code": d.code,
            "message": d.message,
            "pointer": d.pointer,
            "severity": d.severity.value,
            "hint": d.hint,
        }
        for d in sort_diagnostics(diagnostics)
    ]


def use_color(stream: TextIO) -> bool:
    """Whether to colour output on ``stream``: NO_COLOR and FORCE_COLOR win, then isatty."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    if os.environ.get("TERM") == "dumb":
        return False
    isatty = getattr(stream, "isatty", None)
    return bool(isatty and isatty())


# --------------------------------------------------------------------------- rendering

_RESET = "\x1b[0m"
_BOLD = "\x1b[1m"
_STYLE = {
    Severity.ERROR: "\x1b[1;31m",  # bold red
    Severity.WARNING: "\x1b[1;33m",  # bold yellow
}
_GUTTER = "\x1b[1;34m"  # bold blue, like most compilers
_HINT = "\x1b[1;36m"  # bold cyan

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TAB_WIDTH = 4
# Very long lines (minified JSON) are cut to a window around the caret.
_MAX_EXCERPT = 120


def _paint(text: str, style: str, color: bool) -> str:
    return f"{style}{text}{_RESET}" if color and text else text


def _cell(ch: str) -> str:
    """How one source character is displayed in an excerpt."""
    if ch == "\t":
        return " " * _TAB_WIDTH
    if unicodedata.category(ch) in ("Cc", "Cs") or ch in "\u2028\u2029\x85":
        # Never echo control characters from a document to a terminal.
        return "\ufffd"
    return ch


def _width(ch: str) -> int:
    """Display cells taken by an already-displayed character (wide CJK = 2, combining = 0)."""
    if unicodedata.combining(ch):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def _excerpt(line: str, column: int) -> tuple[str, int]:
    """(displayed line, display cells before the caret) for a 1-based character column."""
    index = max(0, min(column - 1, len(line)))
    start, end, prefix, suffix = 0, len(line), "", ""
    if len(line) > _MAX_EXCERPT:
        start = max(0, min(index - _MAX_EXCERPT // 2, len(line) - _MAX_EXCERPT))
        end = start + _MAX_EXCERPT
        prefix = "…" if start > 0 else ""
        suffix = "…" if end < len(line) else ""
    before = prefix + "".join(_cell(c) for c in line[start:index])
    shown = before + "".join(_cell(c) for c in line[index:end]) + suffix
    return shown, sum(_width(c) for c in before)


def _source_lines(
    diagnostic: Diagnostic, sources: Mapping[str, str], split: dict[str, list[str]], color: bool
) -> list[str]:
    pos = diagnostic.position
    if pos is None or pos.file not in sources:
        return []
    if pos.file not in split:
        # Only CR/LF: str.splitlines() would also split on \x0b, \x1c, U+2028..., which
        # neither json nor our loader count as line breaks.
        split[pos.file] = _LINE_BREAK.split(sources[pos.file])
    lines = split[pos.file]
    # Parsers report end-of-file errors on the line after the last newline: show it empty.
    if not 1 <= pos.line <= len(lines) + 1:
        return []
    text = lines[pos.line - 1] if pos.line <= len(lines) else ""
    shown, offset = _excerpt(text, pos.column)
    number = str(pos.line)
    pad = " " * len(number)
    bar = _paint("|", _GUTTER, color)
    caret = _paint("^", _STYLE[diagnostic.severity], color)
    return [
        f"{_paint(number, _GUTTER, color)} {bar} {shown}".rstrip(),
        f"{pad} {bar} {' ' * offset}{caret}",
    ]


def _header(diagnostic: Diagnostic, color: bool) -> str:
    if not color:
        return diagnostic.format()
    where = diagnostic.position if diagnostic.position is not None else diagnostic.file
    code = _paint(diagnostic.code, _STYLE[diagnostic.severity], color)
    head = f"{_paint(f'{where}:', _BOLD, color)} " if where is not None else ""
    return f"{head}{code} {_paint(diagnostic.message, _BOLD, color)}"


def render(
    diagnostics: Iterable[Diagnostic],
    sources: Mapping[str, str] | None = None,
    color: bool = False,
) -> str:
    """Text for humans, sorted; no trailing newline.

    Without ``sources`` each diagnostic is its one-line form (what scripts parse).  With
    ``sources`` (file name → text) each line is followed, compiler style, by the source line
    and a caret under the column, then the hint::

        wf.yaml:3:5: LOAD-E012 duplicate key "name"
        3 |     name: b
          |     ^
          = hint: a mapping may hold each key once

    ``color`` adds ANSI colours (see :func:`use_color`).
    """
    out: list[str] = []
    split: dict[str, list[str]] = {}
    for diagnostic in sort_diagnostics(diagnostics):
        out.append(_header(diagnostic, color))
        if sources is None:
            continue
        out.extend(_source_lines(diagnostic, sources, split, color))
        if diagnostic.hint:
            label = _paint("hint:", _HINT, color)
            out.append(f"  = {label} {diagnostic.hint}")
    return "\n".join(out)
