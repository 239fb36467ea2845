"""Collecting the diagnostics of one document, with positions down to a character in a string."""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from declarative_wf.diagnostics import Diagnostic, Severity, SourcePosition
from declarative_wf.loading import LoadedDocument

_LINE_BREAK = re.compile(r"\r\n|\r|\n")


@dataclass
class Reporter:
    """The diagnostics of one document. A value that broke the schema is reported once: later
    phases stay silent about a pointer the schema already complained about."""

    document: LoadedDocument
    diagnostics: list[Diagnostic] = field(default_factory=list)
    schema_pointers: set[str] = field(default_factory=set)
    _line_starts: list[int] | None = None

    @property
    def file(self) -> str:
        return self.document.file

    def add_schema(self, diagnostic: Diagnostic) -> None:
        self.schema_pointers.add(diagnostic.pointer)
        self.diagnostics.append(diagnostic)

    def has_schema_error(self, pointer: str) -> bool:
        return pointer in self.schema_pointers

    def error(
        self, code: str, message: str, pointer: str, *, key: bool = False, hint: str | None = None,
        position: SourcePosition | None = None, severity: Severity = Severity.ERROR,
    ) -> None:  # fmt: skip
        if pointer in self.schema_pointers:
            return
        where = position or self.document.position(pointer, key=key)
        self.diagnostics.append(Diagnostic(code, message, pointer, where, severity, hint, file=self.file))

    def warning(self, code: str, message: str, pointer: str, *, key: bool = False, hint: str | None = None) -> None:
        self.error(code, message, pointer, key=key, hint=hint, severity=Severity.WARNING)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)

    def in_string(self, pointer: str, value: str, offset: int) -> SourcePosition | None:
        """The position of character ``offset`` of the string ``value`` found at ``pointer``.

        Exact when the scalar is written on one line without escapes (plain, or quoted), which
        is how expressions are usually written; otherwise the start of the scalar."""
        base = self.document.position(pointer)
        if base is None or offset <= 0:
            return base
        source = self.document.source
        if self._line_starts is None:
            self._line_starts = [0] + [m.end() for m in _LINE_BREAK.finditer(source)]
        if base.line > len(self._line_starts):
            return base
        index = self._line_starts[base.line - 1] + base.column - 1
        if index < len(source) and source[index] in "'\"":
            index += 1
        prefix = value[:offset]
        if "\n" in prefix or "\r" in prefix or source[index : index + len(prefix)] != prefix:
            return base
        line = bisect.bisect_right(self._line_starts, index + offset) - 1
        return SourcePosition(base.file, line + 1, index + offset - self._line_starts[line] + 1)
