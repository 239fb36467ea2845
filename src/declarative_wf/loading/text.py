"""The characters of a definition: bytes to text, forbidden characters, offsets to positions.

These checks run before any parser, so that the C and the pure-Python YAML parsers (and the
JSON parser) report the same problem at the same line and column.
"""

from __future__ import annotations

import bisect
import re
from typing import Any

from declarative_wf.diagnostics import DiagnosticError, SourcePosition

from .document import _error

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
    return text.removeprefix("\ufeff")


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
