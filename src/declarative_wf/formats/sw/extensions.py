"""The extension point of the Serverless Workflow 1.x compiler: one compiler per task kind.

The core compiler (``compile.py``) walks the task lists and handles what every task shares
(``if``, ``input``, ``output``, ``export``, ``timeout``, ``then``, ``metadata``). For the body of
a task it looks up the compiler registered for its *kind* and calls it with a
:class:`TaskCompileContext`. Kinds are the task keys (``set``, ``switch``, ``listen``, ``emit``,
``for``, ...) and, for ``call`` and ``run``, ``call:<what>`` / ``run:<what>``: ``call:http``,
``call:openapi``, ``call:grpc``, ``call:asyncapi``, ``call:a2a``, ``call:mcp``, ``call:function``
(a ``use.functions`` entry or a catalog function), ``run:workflow``, ``run:shell``,
``run:script``, ``run:container``.

A task compiler returns ONE IR node for the task's body (usually a :class:`~declarative_wf.ir.ResultNode`
such as a ``TaskNode``); when a task needs several nodes it returns a ``TryNode`` without rules
whose ``body`` block holds them (a plain sub-block). The core then sets the node's id, label,
source, ``input`` / ``output`` / ``assign`` / ``timeout_seconds`` / ``next`` from the common
properties, so a task compiler leaves those alone. Problems are reported through
``context.error`` (never raised), and the compiler returns None when it cannot build the node.

Modules that provide task compilers register on import; :data:`PROVIDERS` lists the built-in
ones so that the core imports them lazily.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol

from declarative_wf import ir

__all__ = ["PROVIDERS", "TaskCompileContext", "TaskCompiler", "register_task_compiler", "task_compiler"]


class TaskCompileContext(Protocol):
    """What a task compiler can use. Implemented by the core compiler."""

    #: The task's name (its key in the task list) and JSON Pointer (``/do/0/getPet``).
    name: str
    pointer: str
    source: ir.SourceRef
    #: The whole document (``use.functions``, ``use.errors``, ``use.authentications``...).
    document: Mapping[str, Any]

    def expression(self, value: Any, pointer: str) -> ir.Expr:
        """A field whose type is "runtime expression" (``when``, ``for.in``, ``input.from``...):
        a jq expression with or without ``${ }``."""

    def template(self, value: Any, pointer: str) -> ir.Expr:
        """Free-form data (``set``, ``with``, ``body``, ``headers``...): strings that are wholly
        ``${ ... }`` are jq expressions, everything else is literal."""

    def block(self, tasks: Any, pointer: str) -> ir.Block:
        """Compile a nested task list (``do``, ``try``, ``fork.branches[i]``, ``for.do``) into a
        block; flow directives inside it resolve within that list."""

    def node_id(self, suffix: str) -> str:
        """A unique node id for an extra node this task needs, derived from the task's own."""

    def error(self, code: str, message: str, pointer: str, *, hint: str | None = None) -> None:
        """Report a problem at ``pointer`` (positioned as FILE:LINE:COL)."""

    def warning(self, code: str, message: str, pointer: str, *, hint: str | None = None) -> None:
        """Report a warning at ``pointer``."""


TaskCompiler = Callable[[TaskCompileContext, Mapping[str, Any]], "ir.Node | None"]
"""``compiler(context, task)``: ``task`` is the task's mapping (``{"call": "http", "with": ...}``)."""

_COMPILERS: dict[str, TaskCompiler] = {}

#: Modules that register compilers for these kinds when imported (imported on first use).
PROVIDERS: dict[str, str] = {
    "listen": "declarative_wf.formats.sw.events",
    "emit": "declarative_wf.formats.sw.events",
    "call:openapi": "declarative_wf.formats.sw.calls",
    "call:grpc": "declarative_wf.formats.sw.calls",
    "call:asyncapi": "declarative_wf.formats.sw.calls",
    "run:shell": "declarative_wf.formats.sw.run",
    "run:script": "declarative_wf.formats.sw.run",
    "run:container": "declarative_wf.formats.sw.run",
}
PROVIDERS.update({"listen": "declarative_wf.formats.sw.events", "emit": "declarative_wf.formats.sw.events"})


def register_task_compiler(kind: str, compiler: TaskCompiler) -> None:
    _COMPILERS[kind] = compiler


def task_compiler(kind: str) -> TaskCompiler | None:
    """The compiler of ``kind``, importing its provider module on first use; None if none."""
    if kind not in _COMPILERS and kind in PROVIDERS:
        import importlib

        importlib.import_module(PROVIDERS[kind])
    return _COMPILERS.get(kind)
