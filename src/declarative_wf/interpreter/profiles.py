"""What a definition format may add to the generic interpreter: its context object, its error
vocabulary, and hooks around every node.

The core runs every format's graph the same way; a format whose semantics need more (ASL's
``$$`` context object, its ``States.*`` error names and causes, its data-size limit) registers a
:class:`FormatProfile` under its format name. A workflow of a format without a profile gets the
defaults, which change nothing.

Profiles are looked up by ``Workflow.format``. The built-in formats' profiles are imported on
first use (:data:`BUILTIN`), so a worker needs no import for them.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from declarative_wf.ir import Node

    from .commands import WorkflowError
    from .runtime import RunContext

__all__ = ["BUILTIN", "FormatProfile", "profile_for", "register_profile"]


class FormatProfile:
    """The hooks; every default does nothing. Hooks must be deterministic (they run again on
    every replay) and must not do I/O."""

    def start(self, rt: RunContext) -> None:
        """Once per execution, before the first node (``rt.started_at`` is set)."""

    def context(self, rt: RunContext, node: Node | None, variables: Mapping[str, Any], step: Mapping[str, Any]) -> Mapping[str, Any]:
        """The ``context`` of the expressions of ``node`` (``Scope.context``)."""
        return rt.context

    def translate(self, rt: RunContext, node: Node | None, error: WorkflowError) -> WorkflowError:
        """An error raised at ``node`` (None: outside every node, such as the workflow timeout),
        renamed into the format's vocabulary. Called once per error, where it arises."""
        return error

    def enter(self, rt: RunContext, node: Node, data: Any) -> None:
        """A node is about to run with ``data``."""

    def transformed(self, rt: RunContext, node: Node, effective: Any) -> None:
        """``node`` has an input expression and it gave ``effective`` (the node's own input)."""

    def leave(self, rt: RunContext, node: Node, data: Any) -> None:
        """A node finished normally and passes ``data`` on; may raise a WorkflowError."""

    def fault(self, rt: RunContext, node: Node, error: WorkflowError) -> None:
        """``error`` leaves ``node`` (where it arose, or a node it passes through on its way
        out). Observation only: must not raise."""

    def retried(self, rt: RunContext, node: Node, error: WorkflowError, retry: int, delay: float) -> None:
        """``node`` failed with ``error`` and runs again (retry number ``retry``, 1-based) after
        ``delay`` seconds. Observation only: must not raise."""

    def finish(self, rt: RunContext, output: Any) -> Any:
        """The workflow completes with ``output`` (after its output expression); returns the
        final output. May raise a WorkflowError to fault the workflow instead."""
        return output

    def failed(self, rt: RunContext, error: WorkflowError) -> None:
        """The workflow ends with ``error``. Observation only: must not raise."""


_DEFAULT = FormatProfile()
_PROFILES: dict[str, FormatProfile] = {}

#: The modules that register the profiles of the built-in formats.
BUILTIN: dict[str, str] = {
    "asl": "declarative_wf.formats.asl.runtime",
    "sw1": "declarative_wf.formats.sw.runtime",
    "sw08": "declarative_wf.formats.sw08.runtime",
}


def register_profile(format_name: str, profile: FormatProfile) -> None:
    _PROFILES[format_name] = profile


def profile_for(format_name: str) -> FormatProfile:
    profile = _PROFILES.get(format_name)
    if profile is None and format_name in BUILTIN:
        importlib.import_module(BUILTIN[format_name])
        profile = _PROFILES.get(format_name)
    return profile or _DEFAULT
