"""Compiling a Serverless Workflow 1.x document into the IR: the core walk.

The core handles what every task shares and leaves each task's body to the compiler registered
for its kind (:mod:`.extensions`; the built-in ones are in :mod:`.tasks`):

* a task list becomes a :class:`~declarative_wf.ir.Block`; ``then`` (``continue``, ``exit``,
  ``end`` or a task name of the same list, backwards too) becomes ``next`` edges;
* ``if`` becomes a guard (a choice node ``<task>#if``) that skips the task, its output being
  its raw input; ``input.from`` / ``output.as`` become the node's input and output
  expressions; ``export.as`` becomes a step ``<task>#export`` that sets the variable
  ``context`` (which is ``$context``); schemas are checked by the runtime profile;
* ``timeout`` becomes the node's timeout: calls time their durable step, every other task is
  raced against a durable timer (a node that carries no timeout is wrapped in a sub-block).

Node ids are ``[<call site>|]<JSON Pointer of the task>[#<helper>]``: a node whose id has no
``#`` is a task, its pointer is the ``instance`` of the errors it raises and the ``reference``
of ``$task``.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from declarative_wf import ir
from declarative_wf.diagnostics import Diagnostic, Severity
from declarative_wf.expressions.evaluate import embed
from declarative_wf.loading import LoadedDocument

from . import extensions
from .durations import (
    DurationError,
    expression_seconds,
    is_expression,
    parse_duration,
    strip_expression,
)

__all__ = ["COMPILE_CODES", "SwCompiler", "TaskContext", "compile_document", "definition_dir", "escape", "mapping", "task_kind"]

COMPILE_CODES: dict[str, str] = {
    "SW-E100": "the document is not a Serverless Workflow 1.x workflow the compiler can read",
    "SW-E101": "a task list is not a list of single-key mappings, or a task is not a mapping",
    "SW-E102": "a task name is used twice in one task list",
    "SW-E103": "a flow directive names a task that is not in the same task list",
    "SW-E104": "a task kind this runtime does not support (yet)",
    "SW-E110": "a runtime expression is not valid jq",
    "SW-E111": "a duration is invalid",
    "SW-E112": "a reference to a `use` entry (errors, retries, functions, timeouts, authentications) that does not exist",
    "SW-E113": "an invalid field value for this task",
    "SW-E114": "a schema that cannot be used (external resources are not supported)",
    "SW-E120": "a child workflow (run.workflow) found next to the definition is invalid, or children call each other in a cycle",
    "SW-W100": "a property that is accepted but not enforced, or a child workflow resolved only at run time",
}

#: The task keys that decide a task's kind, tried in this order (``for`` and ``try`` tasks
#: have other keys of this list too, such as ``do`` and ``catch``).
_KIND_KEYS = ("call", "run", "for", "try", "fork", "switch", "set", "raise", "wait", "emit", "listen", "do")
_CALL_KINDS = frozenset({"http", "grpc", "openapi", "asyncapi", "a2a", "mcp"})
_RUN_KINDS = ("workflow", "shell", "script", "container")


def task_kind(task: Mapping[str, Any]) -> str | None:
    """The kind of a task (``set``, ``call:http``, ``call:function``, ``run:workflow``...)."""
    for key in _KIND_KEYS:
        if key not in task:
            continue
        if key == "call":
            what = task["call"]
            return f"call:{what}" if what in _CALL_KINDS else "call:function"
        if key == "run":
            run = task["run"]
            found = [name for name in _RUN_KINDS if isinstance(run, dict) and name in run]
            return f"run:{found[0]}" if found else "run:?"
        return key
    return None


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one (the validator reports wrong types)."""
    return value if isinstance(value, dict) else {}


def escape(name: str) -> str:
    return name.replace("~", "~0").replace("/", "~1")


@dataclass
class Shared:
    """What a document shares with the child workflows compiled into it."""

    options: dict[str, Any] = field(default_factory=lambda: {"schemas": {}, "documents": {}})
    stack: list[str] = field(default_factory=list)  # the child files being compiled (cycles)
    counter: int = 0


@dataclass
class _Entry:
    name: str
    index: int
    task: Any
    pointer: str
    id: str
    entry: str  # where a jump to this task goes (its guard, when it has an `if`)


class SwCompiler:
    """Compiles one document. ``prefix`` makes the node ids of an embedded child unique."""

    def __init__(self, document: LoadedDocument, *, prefix: str = "", shared: Shared | None = None) -> None:
        self.doc = document
        self.data: dict[str, Any] = document.data if isinstance(document.data, dict) else {}
        self.prefix = prefix
        self.shared = shared or Shared()
        self.diagnostics: list[Diagnostic] = []

    # -- reporting ------------------------------------------------------------------------------

    def error(self, code: str, message: str, pointer: str, *, hint: str | None = None, key: bool = False) -> None:
        self.diagnostics.append(self.doc.diagnostic(code, message, pointer, key=key, hint=hint))

    def warning(self, code: str, message: str, pointer: str, *, hint: str | None = None) -> None:
        self.diagnostics.append(self.doc.diagnostic(code, message, pointer, severity=Severity.WARNING, hint=hint))

    def source(self, pointer: str) -> ir.SourceRef:
        position = self.doc.position(pointer, key=True)
        if position is None:
            return ir.SourceRef(self.doc.file, 1, 1, pointer)
        return ir.SourceRef(self.doc.file, position.line, position.column, pointer)

    @property
    def has_errors(self) -> bool:
        return any(d.is_error for d in self.diagnostics)

    # -- expressions ----------------------------------------------------------------------------

    def expression(self, value: Any, pointer: str) -> ir.Expr:
        """A "runtime expression" field: jq with or without ``${ }``; objects hold expressions
        at their leaves (``input.from: {id: .user.id}``)."""
        if isinstance(value, str):
            return self._jq(strip_expression(value), pointer)
        if isinstance(value, (dict, list)):
            return self.template(value, pointer, bare=True)
        return ir.Expr.literal(value)

    def template(self, value: Any, pointer: str, *, bare: bool = False) -> ir.Expr:
        """Free-form data: strings that are wholly ``${ ... }`` are jq, the rest is literal
        (``bare``: every string leaf is an expression, for ``input.from``-style objects)."""
        if isinstance(value, str) and is_expression(value):
            return self._jq(strip_expression(value), pointer)
        found = [False]
        filled = self._fill(value, pointer, found, bare)
        return ir.Expr("template", filled) if found[0] else ir.Expr.literal(value)

    def _fill(self, value: Any, pointer: str, found: list[bool], bare: bool) -> Any:
        if isinstance(value, dict) and set(value) == {"$expr"}:  # already an embedded expression
            found[0] = True
            return value
        if isinstance(value, dict):
            return {k: self._fill(v, f"{pointer}/{escape(str(k))}", found, bare) for k, v in value.items()}
        if isinstance(value, list):
            return [self._fill(v, f"{pointer}/{i}", found, bare) for i, v in enumerate(value)]
        if isinstance(value, str) and (is_expression(value) or bare):
            found[0] = True
            return embed(self._jq(strip_expression(value), pointer))
        return value

    def _jq(self, source: str, pointer: str) -> ir.Expr:
        from declarative_wf.expressions.jq_eval import check_jq

        problem = check_jq(source)
        if problem is not None:
            self.error("SW-E110", f"invalid jq expression {source!r}: {problem}", pointer,
                       hint="runtime expressions are jq; inside free-form data write them as ${ ... }")  # fmt: skip
        return ir.Expr("jq", source)

    def duration(self, value: Any, pointer: str) -> ir.Expr | None:
        """Seconds of a duration: a literal, or a jq program for a ``${ }`` duration."""
        if is_expression(value):
            return self._jq(expression_seconds(strip_expression(value)), pointer)
        try:
            return ir.Expr.literal(parse_duration(value))
        except DurationError as error:
            self.error("SW-E111", f"invalid duration: {error}", pointer)
            return None

    def use(self, section: str, name: Any, pointer: str) -> tuple[Any, str] | None:
        """The ``use.<section>.<name>`` entry and its pointer; an error when it is missing."""
        entries = (self.data.get("use") or {}).get(section) or {}
        if isinstance(name, str) and isinstance(entries, dict) and name in entries:
            return entries[name], f"/use/{section}/{escape(name)}"
        known = sorted(entries) if isinstance(entries, dict) else []
        close = difflib.get_close_matches(str(name), known, n=1)
        hint = f"did you mean {close[0]!r}?" if close else (f"known: {', '.join(known)}" if known else f"declare it under use.{section}")
        self.error("SW-E112", f"use.{section} has no entry {name!r}", pointer, hint=hint)
        return None

    def timeout(self, value: Any, pointer: str) -> ir.Expr | None:
        """A ``timeout``: ``{after: duration}`` or the name of a ``use.timeouts`` entry."""
        if isinstance(value, str) and not is_expression(value):
            found = self.use("timeouts", value, pointer)
            if found is None:
                return None
            value, pointer = found
        if not isinstance(value, dict) or "after" not in value:
            self.error("SW-E111", "a timeout is {after: <duration>} or the name of a use.timeouts entry", pointer)
            return None
        return self.duration(value["after"], pointer + "/after")

    def schema(self, value: Any, pointer: str) -> Any:
        """The JSON Schema of an ``input``/``output``/``export`` ``schema`` property."""
        if not isinstance(value, dict):
            self.error("SW-E114", "a schema is {format: json, document: {...}}", pointer)
            return None
        if value.get("format", "json") not in ("json", None) and not str(value.get("format")).startswith("json"):
            self.error("SW-E114", f"schema format {value.get('format')!r} is not supported; use json", pointer + "/format")
            return None
        if "document" not in value:
            self.error("SW-E114", "schemas given as an external resource are not supported yet; inline them as document", pointer)
            return None
        return value["document"]

    # -- the workflow ---------------------------------------------------------------------------

    def compile(self) -> ir.Workflow | None:
        data = self.data
        meta = mapping(data.get("document"))
        name = str(meta.get("name") or "workflow")
        options = self.shared.options
        if not self.prefix:
            options["document"] = data
            if isinstance((data.get("use") or {}).get("secrets"), list):
                options["secrets"] = [str(s) for s in data["use"]["secrets"]]
            if "schedule" in data:
                options["schedule"] = data["schedule"]
        else:
            options["documents"][self.prefix.rstrip("|")] = data
        evaluate = mapping(data.get("evaluate"))
        if evaluate.get("language", "jq") != "jq":
            self.error("SW-E104", f"expression language {evaluate.get('language')!r} is not supported; only jq is",
                       "/evaluate/language", hint="remove evaluate.language, and write the expressions in jq")  # fmt: skip
        if evaluate.get("mode", "strict") != "strict":
            self.warning("SW-W100", "evaluate.mode loose is not supported: free-form strings are expressions only when "
                         "written as ${ ... } (strict mode)", "/evaluate/mode")  # fmt: skip
        body = self.block(data.get("do"), "/do", self.prefix)
        workflow = ir.Workflow(name=name, version=str(meta.get("version")) if meta.get("version") else None,
                               format="sw1", body=body, source_file=self.doc.file)  # fmt: skip
        workflow.options["namespace"] = meta.get("namespace")
        io = mapping(data.get("input"))
        if "from" in io:
            workflow.input = self.expression(io["from"], "/input/from")
        # An embedded child's own facts, found by the profile through its call site.
        own = options.setdefault("children", {}).setdefault(self.prefix.rstrip("|"), {}) if self.prefix else options
        if self.prefix and isinstance((data.get("use") or {}).get("secrets"), list):
            own["secrets"] = [str(s) for s in data["use"]["secrets"]]
        if "schema" in io:
            schema = self.schema(io["schema"], "/input/schema")
            if schema is not None and not self.prefix:
                workflow.options["input_schema"] = schema  # checked before starting, and by the profile
            if schema is not None:
                own["input_schema"] = schema
        out = mapping(data.get("output"))
        if "as" in out:
            workflow.output = self.expression(out["as"], "/output/as")
        if "schema" in out:
            schema = self.schema(out["schema"], "/output/schema")
            if schema is not None:
                own["output_schema"] = schema
        if "timeout" in data:
            seconds = self.timeout(data["timeout"], "/timeout")
            if seconds is not None and seconds.lang == "literal":
                workflow.timeout_seconds = float(seconds.value)
            elif seconds is not None:
                self.error("SW-E111", "the workflow timeout must be a fixed duration, not an expression", "/timeout")
        if not self.prefix:
            workflow.options["sw"] = options
        return workflow

    # -- task lists -----------------------------------------------------------------------------

    def block(self, tasks: Any, pointer: str, id_prefix: str, only: int | None = None) -> ir.Block:
        """A task list as a block; ``only``: just the task at that index (a fork branch)."""
        entries = self._entries(tasks, pointer, id_prefix)
        if only is not None:
            entries = [e for e in entries if e.index == only]
        block = ir.Block(start=entries[0].entry if entries else None)
        end_id = f"{id_prefix}{pointer}#end" if only is None else f"{id_prefix}{pointer}/{only}#end"
        for position, entry in enumerate(entries):
            following = entries[position + 1].entry if position + 1 < len(entries) else None
            context = TaskContext(self, entry, entries, following, end_id, block)
            chain = context.compile()
            if chain is None:
                continue
            for node in chain:
                block.nodes[node.id] = node
        if end_id in block.nodes:  # created on demand by a `then: end`: list it last
            block.nodes[end_id] = block.nodes.pop(end_id)
        return block

    def _entries(self, tasks: Any, pointer: str, id_prefix: str) -> list[_Entry]:
        if tasks is None:
            return []
        if not isinstance(tasks, list):
            self.error("SW-E101", "a task list is a list of single-key mappings: - taskName: {...}", pointer)
            return []
        entries: list[_Entry] = []
        seen: dict[str, str] = {}
        for index, item in enumerate(tasks):
            at = f"{pointer}/{index}"
            if not isinstance(item, dict) or len(item) != 1:
                self.error("SW-E101", "each item of a task list is a mapping with exactly one key, the task's name", at)
                continue
            name, task = next(iter(item.items()))
            name = str(name)
            task_pointer = f"{at}/{escape(name)}"
            if name in seen:
                self.error("SW-E102", f"task name {name!r} is already used at {seen[name]} in this list", task_pointer, key=True,
                           hint="flow directives name tasks, so names must be unique within a list")  # fmt: skip
                continue
            seen[name] = task_pointer
            if not isinstance(task, dict):
                self.error("SW-E101", f"task {name!r} must be a mapping", task_pointer)
                continue
            node_id = id_prefix + task_pointer
            entries.append(_Entry(name, index, task, task_pointer, node_id, node_id + "#if" if "if" in task else node_id))
        return entries


class TaskContext:
    """The concrete :class:`~.extensions.TaskCompileContext` of one task."""

    def __init__(self, compiler: SwCompiler, entry: _Entry, siblings: list[_Entry], following: str | None,
                 end_id: str, block: ir.Block, *, node_id: str | None = None, id_prefix: str | None = None) -> None:  # fmt: skip
        self.compiler = compiler
        self.entry = entry
        self.siblings = siblings
        self.following = following
        self.end_id = end_id
        self.block_ref = block
        self.name = entry.name
        self.pointer = entry.pointer
        self.id = node_id or entry.id
        #: Node ids of the tasks nested in this one start with this (embedding prefixes).
        self.id_prefix = id_prefix if id_prefix is not None else entry.id[: len(entry.id) - len(entry.pointer)]
        self.source = compiler.source(entry.pointer)
        self.document: Mapping[str, Any] = compiler.data

    # -- the protocol ---------------------------------------------------------------------------

    def expression(self, value: Any, pointer: str) -> ir.Expr:
        return self.compiler.expression(value, pointer)

    def template(self, value: Any, pointer: str) -> ir.Expr:
        return self.compiler.template(value, pointer)

    def block(self, tasks: Any, pointer: str) -> ir.Block:
        return self.compiler.block(tasks, pointer, self.id_prefix)

    def branch(self, tasks: Any, pointer: str, index: int) -> ir.Block:
        """The block of the single task at ``index`` of ``tasks`` (a fork branch)."""
        return self.compiler.block(tasks, pointer, self.id_prefix, only=index)

    def node_id(self, suffix: str) -> str:
        return f"{self.id}#{suffix}"

    def error(self, code: str, message: str, pointer: str, *, hint: str | None = None) -> None:
        self.compiler.error(code, message, pointer, hint=hint)

    def warning(self, code: str, message: str, pointer: str, *, hint: str | None = None) -> None:
        self.compiler.warning(code, message, pointer, hint=hint)

    # -- more, for the built-in compilers -----------------------------------------------------------

    def duration(self, value: Any, pointer: str) -> ir.Expr | None:
        return self.compiler.duration(value, pointer)

    def use(self, section: str, name: Any, pointer: str) -> tuple[Any, str] | None:
        return self.compiler.use(section, name, pointer)

    def directive(self, value: Any, pointer: str) -> str | None:
        """Where a flow directive goes: a node id of this list, the workflow's end, or None
        (leave the list)."""
        if value is None or value == "continue":
            return self.following
        if value == "exit":
            return None
        if value == "end":
            if self.end_id not in self.block_ref.nodes:
                self.block_ref.nodes[self.end_id] = ir.SucceedNode(
                    id=self.end_id, label="end", source=self.compiler.source(pointer), scope="workflow"
                )
            return self.end_id
        for sibling in self.siblings:
            if sibling.name == value:
                return sibling.entry
        names = [s.name for s in self.siblings]
        close = difflib.get_close_matches(str(value), names, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "use continue, exit, end or the name of a task of the same list"
        self.compiler.error("SW-E103", f"then: {value!r} is not a task of this list", pointer, hint=hint)
        return None

    def compile_body(self, task: Mapping[str, Any]) -> ir.Node | None:
        """The node of a task's body, by the compiler of its kind."""
        kind = task_kind(task)
        if kind is None:
            keys = ", ".join(_KIND_KEYS)
            self.error("SW-E104", f"task {self.name!r} has no kind: it needs one of {keys}", self.pointer)
            return None
        try:
            compiler = extensions.task_compiler(kind)
        except ImportError:
            compiler = None
        if compiler is None:
            message = f"task kind {kind.replace(':', ' ')!r} is not supported yet"
            self.error("SW-E104", message, self.pointer + "/" + kind.split(":")[0], hint="see docs/serverless-workflow.md")
            return None
        return compiler(self, task)

    def compile(self) -> list[ir.Node] | None:
        """The task's nodes: ``[guard], body, [export]``, wired to the task's flow directive."""
        task = self.entry.task
        node = self.compile_body(task)
        if node is None:
            return None
        return self.decorate(node, task)

    def _export_steps(self, export: Mapping[str, Any], ptr: str) -> list[ir.Node]:
        """``export.as`` sets the variable ``context`` from the task's output, which passes on
        unchanged. With ``export.schema`` the new context must be a step's output for the
        profile to check it: save the output, export, check, restore."""
        source = self.compiler.source(ptr + "/export")
        value = self.expression(export["as"], ptr + "/export/as") if "as" in export else ir.Expr("jq", "$context")
        schema = self.compiler.schema(export["schema"], ptr + "/export/schema") if "schema" in export else None
        export_id = self.node_id("export")
        if schema is None:
            return [ir.SetNode(id=export_id, label=self.name, source=source, value=value,
                               assign={"context": ir.Expr("jq", ".")}, merge=ir.Merge("discard"))]  # fmt: skip
        self.compiler.shared.options["schemas"].setdefault(export_id, {})["export"] = schema
        saved = "__output_" + hashlib.sha256(self.id.encode()).hexdigest()[:10]
        steps: list[ir.Node] = [
            ir.SetNode(id=self.node_id("save"), assign={saved: ir.Expr("jq", ".")}, next=export_id),
            ir.SetNode(id=export_id, value=value, assign={"context": ir.Expr("jq", ".")}, next=self.node_id("restore")),
            ir.SetNode(id=self.node_id("restore"), value=ir.Expr("jq", f"${saved}")),
        ]
        for step in steps:
            step.label, step.source = self.name, source
        return steps

    def decorate(self, node: ir.Node, task: Mapping[str, Any]) -> list[ir.Node]:
        if "timeout" in task and not isinstance(node, ir.ResultNode):
            # Only result nodes carry a timeout: wrap the node in a plain sub-block that does.
            node.id, node.label, node.source = self.node_id("timed"), self.name, self.source
            node = ir.TryNode(id=self.id, body=ir.Block(start=node.id, nodes={node.id: node}))
        node.id, node.label, node.source = self.id, self.name, self.source
        ptr = self.pointer
        io = mapping(task.get("input"))
        schemas: dict[str, Any] = {}
        if "from" in io:
            node.input = self.expression(io["from"], ptr + "/input/from")
        if "schema" in io:
            schemas["input"] = self.compiler.schema(io["schema"], ptr + "/input/schema")
        out = mapping(task.get("output"))
        if "as" in out:
            node.output = self.expression(out["as"], ptr + "/output/as")
        if "schema" in out:
            schemas["output"] = self.compiler.schema(out["schema"], ptr + "/output/schema")
        if "timeout" in task:
            seconds = self.compiler.timeout(task["timeout"], ptr + "/timeout")
            if seconds is not None and isinstance(node, ir.ResultNode):
                # Calls time their durable step; composite tasks are raced against a timer.
                node.timeout_seconds = seconds
        nodes: list[ir.Node] = []
        then = self.directive(task.get("then"), ptr + "/then")
        if "if" in task:
            guard = ir.ChoiceNode(id=self.entry.entry, label=self.name, source=self.source, next=self.following,
                                  cases=(ir.ChoiceCase(self.expression(task["if"], ptr + "/if"), node.id),))  # fmt: skip
            nodes.append(guard)
        nodes.append(node)
        last: ir.Node = node
        export = mapping(task.get("export"))
        if "as" in export or "schema" in export:
            steps = self._export_steps(export, ptr)
            node.next = steps[0].id
            nodes.extend(steps)
            last = steps[-1]
        if any(value is not None for value in schemas.values()):
            self.compiler.shared.options["schemas"].setdefault(node.id, {}).update(
                {key: value for key, value in schemas.items() if value is not None}, pointer=ptr
            )
        if not isinstance(node, ir.FailNode):
            last.next = then
        return nodes


def _minimal_checks(document: LoadedDocument) -> list[Diagnostic]:
    """What compiling needs when the schema validator is not available."""
    data = document.data
    out: list[Diagnostic] = []
    meta = data.get("document") if isinstance(data, dict) else None
    if not isinstance(meta, dict):
        return [document.diagnostic("SW-E100", "a workflow needs a document: {dsl, namespace, name, version} mapping", "")]
    for key in ("dsl", "namespace", "name", "version"):
        if key not in meta:
            out.append(document.diagnostic("SW-E100", f"document.{key} is required", "/document", key=True))
    if "do" not in data:
        out.append(document.diagnostic("SW-E100", "a workflow needs a do: task list", "", hint="add do: [ - firstTask: {...} ]"))
    return out


#: A plain function name: when use.functions lacks it, it names a registered Python activity.
_ACTIVITY_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]*$")


def validate(document: LoadedDocument) -> list[Diagnostic]:
    try:
        from .validate import validate_document  # the schema validator (another module)
    except ImportError:
        return _minimal_checks(document)
    return [d for d in validate_document(document) if not _calls_activity(document, d)]


def _calls_activity(document: LoadedDocument, diagnostic: Diagnostic) -> bool:
    """The validator reports ``call: name`` without a use.functions entry; here such a call
    runs the Python activity of that name (checked when a run starts), so it is no error."""
    if diagnostic.code != "SW-E020" or not diagnostic.pointer.endswith("/call"):
        return False
    value: Any = document.data
    for raw in diagnostic.pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return False
    return isinstance(value, str) and bool(_ACTIVITY_NAME.match(value))


def compile_document(document: LoadedDocument) -> tuple[ir.Workflow | None, list[Diagnostic]]:
    """Validate, then compile: ``(workflow or None, diagnostics)``."""
    from . import tasks  # noqa: F401 - registers the built-in task compilers

    found = validate(document)
    if any(d.is_error for d in found):
        return None, found
    compiler = SwCompiler(document)
    workflow = compiler.compile()
    diagnostics = [*found, *compiler.diagnostics]
    if any(d.is_error for d in diagnostics):
        return None, diagnostics
    return workflow, diagnostics


def definition_dir(document: LoadedDocument) -> str:
    return os.path.dirname(document.file) if not document.file.startswith("<") else os.getcwd()

