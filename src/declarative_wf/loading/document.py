"""What loading produces: a :class:`LoadedDocument` and its :class:`PositionMap`, or a fatal error.

Part of :mod:`declarative_wf.loading`, which re-exports the public names; import them from
there.  ``_Limits`` and ``_error`` are shared by the loader's stages (text, YAML, JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from declarative_wf.diagnostics import (
    Diagnostic,
    DiagnosticError,
    Severity,
    SourcePosition,
)

__all__ = ["LoadedDocument", "PositionMap"]


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
