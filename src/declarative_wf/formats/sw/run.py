"""Compilers of ``run: shell``, ``run: script``, ``run: container`` and of ``run: workflow`` with
``await: false``.

A process task becomes one ``TaskNode`` running the built-in activity ``sw_run``
(:mod:`declarative_wf.activities.sw_run`): its argument is the process definition with
``${ }`` strings evaluated on the task input (``stdin``, ``arguments``, ``environment``...),
plus ``kind``, ``return``, ``await``, the task's timeout in seconds (the process is killed when
it is reached) and ``base`` (the definition's directory, for ``script.source``). The process
runs in the activity, so it is recorded and retried like any other step.

Running processes is off by default: a worker runs them only when enabled
(``DWF_ENABLE_PROCESSES``). Compiling reports a warning when the current environment does not
enable a kind, so ``dwf validate`` tells the author before the task fails.

``await: false`` (processes and workflows): the node discards the activity's result, so the
task's output is its transformed input, as the spec says.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from declarative_wf import ir
from declarative_wf.expressions.evaluate import embed
from declarative_wf.loading import LoadedDocument

from .extensions import register_task_compiler

if TYPE_CHECKING:
    from .compile import TaskContext

__all__ = ["compile_detached", "compile_run_process"]

#: The fields of each process definition (``name`` of a container is a runtime expression).
_FIELDS: dict[str, tuple[str, ...]] = {
    "shell": ("command", "arguments", "stdin", "environment"),
    "script": ("language", "code", "source", "arguments", "stdin", "environment"),
    "container": ("image", "name", "command", "ports", "volumes", "environment", "stdin", "arguments", "lifetime", "pullPolicy"),
}
_RETURNS = ("stdout", "stderr", "code", "all", "none")
_LANGUAGES = ("python", "js", "javascript")


def _leaf(expr: ir.Expr) -> Any:
    return expr.value if expr.lang == "literal" else embed(expr)


def compile_run_process(ctx: TaskContext, task: Mapping[str, Any]) -> ir.Node | None:
    from declarative_wf.activities.sw_run import ENABLE_ENV, enabled_processes

    run = task["run"]
    kind = next(k for k in _FIELDS if k in run)
    pointer = f"{ctx.pointer}/run/{kind}"
    spec = run[kind]
    if not isinstance(spec, dict):
        ctx.error("SW-E113", f"run.{kind} must be a mapping", pointer)
        return None
    mode = run.get("return", "stdout")
    if mode not in _RETURNS:
        ctx.error("SW-E113", f"run.return is one of {', '.join(_RETURNS)}, not {mode!r}", ctx.pointer + "/run/return")
        return None
    wait = run.get("await", True)
    if not isinstance(wait, bool):
        ctx.error("SW-E113", "run.await is true or false", ctx.pointer + "/run/await")
        return None
    if not _check(ctx, kind, spec, pointer):
        return None
    fields: dict[str, Any] = {"kind": kind, "return": mode, "await": wait, "base": _base(ctx), "task": ctx.name}
    meta = ctx.document.get("document")
    if isinstance(meta, Mapping):
        fields["workflow"], fields["namespace"] = meta.get("name"), meta.get("namespace")
    for key in _FIELDS[kind]:
        if key not in spec:
            continue
        # Code is never an expression: a script may well contain `${...}` of its own.
        fields[key] = spec[key] if key in ("code", "language") else _leaf(ctx.template(spec[key], f"{pointer}/{key}"))
    if "timeout" in task:
        fields["timeout"] = _timeout(ctx, task["timeout"])
    if kind not in enabled_processes():
        ctx.warning("SW-W100", f"run.{kind} is off by default: this task fails with a configuration error unless the "
                    f"worker enables it ({ENABLE_ENV}={kind})", pointer,
                    hint=f"set {ENABLE_ENV}={kind} where the worker runs, pass --enable {kind} to dwf run / dwf worker, or call "
                    f"declarative_wf.activities.sw_run.enable_processes({kind!r}) in it")  # fmt: skip
    return ir.TaskNode(id=ctx.id, activity="sw_run", args=ir.Expr("template", fields),
                       merge=ir.Merge("discard") if wait is False else ir.Merge())  # fmt: skip


def _check(ctx: TaskContext, kind: str, spec: Mapping[str, Any], pointer: str) -> bool:
    """What can be told before running; the rest (types of evaluated values) the activity checks."""
    if kind == "shell" and not (isinstance(spec.get("command"), str) and spec["command"].strip()):
        ctx.error("SW-E113", "run.shell needs a command (a shell command line)", pointer)
        return False
    if kind == "container" and not isinstance(spec.get("image"), str):
        ctx.error("SW-E113", "run.container needs an image", pointer)
        return False
    if kind == "script":
        language = spec.get("language")
        if language not in _LANGUAGES:
            ctx.error("SW-E113", f"run.script.language is python or js, not {language!r}", pointer + "/language")
            return False
        if not isinstance(spec.get("code"), str) and "source" not in spec:
            ctx.error("SW-E113", "run.script needs code or source", pointer)
            return False
        if language != "python" and shutil.which("node") is None:
            ctx.warning("SW-W100", "run.script with language js needs node (Node.js) on the worker's PATH, which this "
                        "machine lacks: the task fails with a configuration error here", pointer + "/language")  # fmt: skip
    for key in ("environment", "ports", "volumes"):
        if key in spec and not isinstance(spec[key], dict):
            ctx.error("SW-E113", f"run.{kind}.{key} must be a mapping", f"{pointer}/{key}")
            return False
    return True


def _timeout(ctx: TaskContext, value: Any) -> Any:
    """The task's timeout in seconds, for the activity to kill the process (the core reports
    a bad timeout: ours is computed silently)."""
    diagnostics = ctx.compiler.diagnostics
    before = len(diagnostics)
    seconds = ctx.compiler.timeout(value, ctx.pointer + "/timeout")
    del diagnostics[before:]
    return None if seconds is None else _leaf(seconds)


def _base(ctx: TaskContext) -> str | None:
    file = ctx.compiler.doc.file
    return os.path.dirname(os.path.abspath(file)) if file and not file.startswith("<") else None


def compile_detached(ctx: TaskContext, document: LoadedDocument, args: ir.Expr | None) -> ir.Node | None:
    """``run.workflow`` with ``await: false``: the child, compiled as a workflow of its own, is
    started as an independent instance (it outlives the parent) by ``sw_start_workflow``."""
    from declarative_wf.ir import workflow_to_json

    from .compile import Shared, SwCompiler, validate

    shared = ctx.compiler.shared
    own = Shared(stack=[*shared.stack, os.path.realpath(ctx.compiler.doc.file)], counter=shared.counter + 1)
    problems = validate(document)
    child = SwCompiler(document, shared=own)
    workflow = child.compile() if not any(d.is_error for d in problems) else None
    shared.counter = own.counter
    ctx.compiler.diagnostics.extend([*problems, *child.diagnostics])
    if workflow is None or any(d.is_error for d in [*problems, *child.diagnostics]):
        ctx.error("SW-E120", f"child workflow {document.file} is invalid (its problems are listed with its file)",
                  ctx.pointer + "/run/workflow")  # fmt: skip
        return None
    fields = {
        # A JSON string, not a structure: the child's own embedded expressions must not be
        # evaluated as part of this task's arguments.
        "ir": json.dumps(workflow_to_json(workflow), separators=(",", ":")),
        "input": _leaf(args) if args is not None else embed(ir.Expr("jq", ".")),
    }
    return ir.TaskNode(id=ctx.id, activity="sw_start_workflow", args=ir.Expr("template", fields), merge=ir.Merge("discard"))


for _kind in ("run:shell", "run:script", "run:container"):
    register_task_compiler(_kind, compile_run_process)  # type: ignore[arg-type]  # receives the concrete TaskContext
