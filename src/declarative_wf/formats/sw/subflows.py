"""``run: workflow``: a child workflow, found next to the definition or in the server's registry.

Resolution, in order:

1. a file in the definition's directory (``*.yaml``, ``*.yml``, ``*.json``) whose
   ``document`` has the requested ``namespace`` and ``name`` and the requested ``version``
   (``latest`` or no version: the highest version found). It is compiled into the parent's
   graph (so the instance keeps running the child it started with) and runs as a child
   workflow instance;
2. otherwise the child is named ``name@version`` (``name`` for ``latest``) and resolved when it
   starts, from the definitions submitted to the server (``dwf submit``); a worker without a
   registry (``dwf run``) fails the task with a clear runtime error.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from declarative_wf import ir
from declarative_wf.diagnostics import DiagnosticError
from declarative_wf.loading import LoadedDocument, load_file

if TYPE_CHECKING:
    from .compile import TaskContext

__all__ = ["compile_child", "find_definition"]

#: At most this many child documents are embedded into one graph (runaway recursion guard).
MAX_EMBEDDED = 64
_SUFFIXES = (".yaml", ".yml", ".json")


def _version_key(version: str) -> tuple[Any, ...]:
    parts = re.split(r"[.+-]", version)
    return tuple((0, int(p)) if p.isdigit() else (1, p) for p in parts)


def find_definition(directory: str, namespace: str | None, name: str, version: str | None) -> LoadedDocument | None:
    """The SW 1.x document of that name in ``directory`` (see the module docstring)."""
    found: list[tuple[str, LoadedDocument]] = []
    try:
        files = sorted(os.listdir(directory))
    except OSError:
        return None
    for file in files:
        if not file.endswith(_SUFFIXES):
            continue
        try:
            document = load_file(os.path.join(directory, file))
        except DiagnosticError:
            continue
        meta = document.data.get("document") if isinstance(document.data, dict) else None
        if not isinstance(meta, dict) or not str(meta.get("dsl", "")).startswith("1."):
            continue
        if meta.get("name") != name or (namespace is not None and meta.get("namespace") != namespace):
            continue
        found.append((str(meta.get("version", "")), document))
    if version not in (None, "", "latest"):
        found = [(v, d) for v, d in found if v == version]
    if not found:
        return None
    return max(found, key=lambda item: _version_key(item[0]))[1]


def compile_child(ctx: TaskContext, task: Mapping[str, Any]) -> ir.Node | None:
    from .compile import SwCompiler, definition_dir

    pointer = ctx.pointer + "/run/workflow"
    run = task["run"]
    spec = run.get("workflow")
    if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
        ctx.error("SW-E113", "run.workflow needs at least name (and namespace, version)", pointer)
        return None
    detached = run.get("await", True) is False  # an independent instance: see run.compile_detached
    name, namespace = spec["name"], spec.get("namespace")
    version = str(spec["version"]) if spec.get("version") is not None else None
    args = ctx.template(spec["input"], pointer + "/input") if "input" in spec else None
    compiler = ctx.compiler
    document = find_definition(definition_dir(compiler.doc), namespace, name, version)
    reference = name if version in (None, "latest") else f"{name}@{version}"
    if document is None and detached:
        ctx.error("SW-E104", f"run.workflow with await: false needs the definition of {namespace}/{name} next to this file",
                  pointer, hint="put the child's file in the same directory as this definition")  # fmt: skip
        return None
    if document is None:
        ctx.warning("SW-W100", f"no definition of workflow {namespace}/{name} ({version or 'latest'}) next to this file: "
                    f"it is looked up as {reference!r} among the server's definitions when the task runs", pointer,
                    hint="put the child's file in the same directory, or dwf submit it to the server")  # fmt: skip
        return ir.ChildNode(id=ctx.id, workflow=reference, args=args)
    real = os.path.realpath(document.file)
    shared = compiler.shared
    if real in shared.stack or os.path.realpath(compiler.doc.file) == real:
        chain = " → ".join(os.path.basename(p) for p in [*shared.stack, real])
        ctx.error("SW-E120", f"child workflows call each other in a cycle: {chain}", pointer)
        return None
    if detached:
        from .run import compile_detached

        return compile_detached(ctx, document, args)
    shared.counter += 1
    if shared.counter > MAX_EMBEDDED:
        ctx.error("SW-E120", f"more than {MAX_EMBEDDED} child workflows are embedded in one definition", pointer)
        return None
    shared.stack.append(os.path.realpath(compiler.doc.file))
    try:
        from .compile import validate

        problems = validate(document)
        child = SwCompiler(document, prefix=ctx.id + "|", shared=shared)
        workflow = child.compile() if not any(d.is_error for d in problems) else None
    finally:
        shared.stack.pop()
    compiler.diagnostics.extend(problems)
    compiler.diagnostics.extend(child.diagnostics)
    if workflow is None or any(d.is_error for d in [*problems, *child.diagnostics]):
        ctx.error("SW-E120", f"child workflow {document.file} is invalid (its problems are listed with its file)", pointer)
        return None
    return ir.ChildNode(id=ctx.id, workflow=reference, args=args, graph=_child_graph(ctx, workflow),
                        timeout_seconds=ir.Expr.literal(workflow.timeout_seconds) if workflow.timeout_seconds else None)  # fmt: skip


def _child_graph(ctx: TaskContext, workflow: ir.Workflow) -> ir.Block:
    """The child's body with its own input.from and output.as around it (an embedded graph
    carries no workflow-level expressions)."""
    ids = {key: ctx.node_id(f"child-{key}") for key in ("input", "body", "output")}
    nodes: list[ir.Node] = []
    if workflow.input is not None:
        nodes.append(ir.SetNode(id=ids["input"], value=workflow.input))
    nodes.append(ir.TryNode(id=ids["body"], body=workflow.body))
    if workflow.output is not None:
        nodes.append(ir.SetNode(id=ids["output"], value=workflow.output))
    for index, node in enumerate(nodes):
        node.label, node.source = ctx.name, ctx.source
        node.next = nodes[index + 1].id if index + 1 < len(nodes) else None
    return ir.Block(start=nodes[0].id, nodes={node.id: node for node in nodes})
