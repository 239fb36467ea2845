"""Compiling a DSL document into the IR: the workflow, its blocks, step ids and jumps, child
workflows. The steps themselves are compiled by :mod:`.steps`; checks that need the whole
graph (jumps, names, reachability) run at the end, so every problem is reported in one go.

Node ids are the JSON Pointers of the steps (``/steps/2/steps/0``), unique in the file and
stable when steps are added elsewhere; a child workflow embedded at step ``/steps/4`` has its
ids prefixed with ``/steps/4/workflow`` so that they stay unique in the parent's graph.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from declarative_wf.diagnostics import Diagnostic, DiagnosticError, quote, suggest
from declarative_wf.ir import Block, ChoiceNode, Node, SetNode, SourceRef, Workflow
from declarative_wf.loading import LoadedDocument, load_file, pointer_join

from .durations import DurationError, parse_duration
from .expressions import ExpressionCompiler
from .report import Reporter
from .schema import KINDS, schema_diagnostics
from .steps import compile_step
from .where import Where

#: Names the interpreter or the DSL give a meaning to; variables cannot take them.
RESERVED_VARIABLES = frozenset({"input", "result", "context", "event", "compensating"})
#: Words with a meaning in goto / then; steps cannot be called that.
RESERVED_IDS = frozenset({"end", "continue", "fail"})
#: Child workflows embedded in one compilation, at most (diamond-shaped references multiply).
MAX_EMBEDDED = 500


@dataclass(frozen=True)
class Label:
    node_id: str
    block: str
    pointer: str


@dataclass(frozen=True)
class Jump:
    target: str
    pointer: str
    block: str
    apply: Callable[[str | None], None]


@dataclass
class CompileContext:
    """Shared by a document and the child workflows it embeds."""

    stack: list[str] = field(default_factory=list)  # real paths being compiled, outermost first
    diagnostics: list[Diagnostic] = field(default_factory=list)  # those of child documents
    embedded: int = 0


@dataclass
class ChildResult:
    workflow: Workflow | None
    problem: str | None  # "unreadable", "invalid", "cycle", "limit"
    detail: str = ""


class DocumentCompiler:
    def __init__(self, document: LoadedDocument, context: CompileContext | None = None, prefix: str = "") -> None:
        self.doc = document
        self.context = context or CompileContext()
        self.prefix = prefix
        self.report = Reporter(document)
        self.exprs = ExpressionCompiler(self.report)
        self.labels: dict[str, Label] = {}
        self.jumps: list[Jump] = []
        self.finalizers: list[Callable[[], None]] = []
        self.variables: set[str] = set()
        self.blocks: dict[str, Block] = {}
        self.step_nodes: dict[str, tuple[str, str | None]] = {}  # node id -> (pointer, previous step in its list)
        self.uses_compensation = False

    # -- the document ---------------------------------------------------------------------------

    def compile(self) -> Workflow | None:
        """The workflow, or None when the document has errors (see :attr:`report`)."""
        data = self.doc.data
        for diagnostic in schema_diagnostics(self.doc):
            self.report.add_schema(diagnostic)
        if not isinstance(data, dict):
            return None
        output_id = self.node_id("/output") if "output" in data else None
        where = Where("/steps", output_id)
        body = Block(start=None)
        self.blocks["/steps"] = body
        entry = self.steps_into(body, data.get("steps"), "/steps", where, output_id)
        if "input" in data and isinstance(data["input"], dict):
            entry = self._input(body, data["input"], entry)
        if output_id is not None:
            value = self.exprs.template(data["output"], "/output")
            self.add(body, SetNode(id=output_id, label="output", source=self.source("/output"), value=value))
        body.start = entry
        timeout = self.duration(data.get("timeout"), "/timeout")
        self._resolve()
        self.exprs.check_names(self.variables | self._scoped_names())
        if not self.report.has_errors:  # with errors, broken steps would break the chains
            self._unreachable()
        if self.report.has_errors:
            return None
        return Workflow(
            name=str(data.get("name")),
            version=None if data.get("version") is None else str(data["version"]),
            format="dsl",
            body=body,
            source_file=self.doc.file,
            timeout_seconds=timeout,
            options=self._options(data),
        )

    def _input(self, body: Block, spec: dict[str, Any], entry: str | None) -> str | None:
        if "schema" in spec:
            self._check_input_schema(spec["schema"])
        if "from" not in spec:
            return entry
        node_id = self.node_id("/input/from")
        value = self.exprs.template(spec["from"], "/input/from")
        node = SetNode(id=node_id, next=entry, label="input", source=self.source("/input/from"), value=value)
        self.add(body, node)
        body.nodes = {node_id: body.nodes.pop(node_id), **body.nodes}  # definition order: input first
        return node_id

    def _check_input_schema(self, schema: Any) -> None:
        if not isinstance(schema, (dict, bool)):
            return
        try:
            validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
            validator.check_schema(schema)
        except jsonschema.SchemaError as error:
            pointer = "/input/schema" + "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in error.absolute_path)
            self.report.error("DSL-E052", f"'input.schema' is not a valid JSON Schema: {error.message[:200]}", pointer)
        except Exception as error:  # noqa: BLE001 - an unknown $schema, a broken regex...
            self.report.error("DSL-E052", f"'input.schema' is not a valid JSON Schema: {error}", "/input/schema")

    def _options(self, data: dict[str, Any]) -> dict[str, Any]:
        options: dict[str, Any] = {"dsl_version": 1}
        spec = data.get("input")
        if isinstance(spec, dict) and "schema" in spec:
            # Checked before an instance starts (by whoever starts it): the interpreter core
            # does no I/O and has no JSON Schema validator.
            options["input_schema"] = spec["schema"]
        return options

    def _scoped_names(self) -> set[str]:
        return {"compensating"} if self.uses_compensation else set()

    # -- blocks ------------------------------------------------------------------------------------

    def node_id(self, pointer: str) -> str:
        return self.prefix + pointer

    def source(self, pointer: str) -> SourceRef | None:
        position = self.doc.position(pointer)
        if position is None:
            return None
        return SourceRef(self.doc.file, position.line, position.column, pointer)

    def add(self, block: Block, node: Node) -> None:
        block.nodes[node.id] = node

    def block(self, items: Any, pointer: str, where: Where) -> Block:
        """A new IR block from a list of steps at ``pointer``."""
        block = Block(start=None)
        self.blocks[where.block] = block
        block.start = self.steps_into(block, items, pointer, where, None)
        return block

    def single(self, raw: Any, pointer: str, where: Where) -> Block:
        """A new IR block holding one step (a parallel branch, a compensation)."""
        block = Block(start=self.node_id(pointer))
        self.blocks[where.block] = block
        self.step(block, raw, pointer, where, None, None)
        return block

    def steps_into(self, block: Block, items: Any, pointer: str, where: Where, follow: str | None) -> str | None:
        """Adds the steps of a list to ``block``; the last goes on at ``follow``. Returns the
        id of the first (``follow`` for an empty list)."""
        if not isinstance(items, list) or not items:
            return follow
        ids = [self.node_id(pointer_join(pointer, index)) for index in range(len(items))]
        for index, raw in enumerate(items):
            after = ids[index + 1] if index + 1 < len(items) else follow
            previous = ids[index - 1] if index else None
            self.step(block, raw, pointer_join(pointer, index), where, after, previous)
        return ids[0]

    def step(self, block: Block, raw: Any, pointer: str, where: Where, follow: str | None, previous: str | None) -> None:
        if not isinstance(raw, dict):
            return
        kind = next((k for k in KINDS if k in raw), None)
        if kind is None:
            return
        node_id = self.node_id(pointer)
        user_id = raw.get("id")
        if isinstance(user_id, str) and not self.report.has_schema_error(pointer_join(pointer, "id")):
            self._label(user_id, node_id, pointer, where)
        self.step_nodes[node_id] = (pointer, previous)
        compile_step(self, kind, raw, pointer, where, follow, block, user_id if isinstance(user_id, str) else None)

    def _label(self, user_id: str, node_id: str, pointer: str, where: Where) -> None:
        at = pointer_join(pointer, "id")
        if user_id in RESERVED_IDS:
            self.report.error("DSL-E033", f"{quote(user_id)} is reserved and cannot be a step id", at, hint="end, continue and fail have a meaning in goto and then")
            return
        first = self.labels.get(user_id)
        if first is not None:
            position = self.doc.position(pointer_join(first.pointer, "id"))
            where_first = f" (first at line {position.line})" if position else ""
            self.report.error("DSL-E030", f"duplicate step id {quote(user_id)}{where_first}", at, hint="step ids must be unique in the file")
            return
        self.labels[user_id] = Label(node_id, where.block, pointer)

    # -- jumps --------------------------------------------------------------------------------------

    def jump(self, target: Any, pointer: str, where: Where, apply: Callable[[str | None], None]) -> None:
        """``target`` is a step id or ``end``; ``apply`` receives the node id to go to."""
        if not isinstance(target, str):
            return
        if target == "end":
            apply(where.end)
            return
        self.jumps.append(Jump(target, pointer, where.block, apply))

    def _resolve(self) -> None:
        for jump in self.jumps:
            label = self.labels.get(jump.target)
            if label is None:
                hint = suggest(jump.target, self.labels)
                known = ", ".join(sorted(self.labels)) or "none"
                message = f"there is no step with id {quote(jump.target)}" + (f" ({hint})" if hint else "")
                self.report.error("DSL-E031", message, jump.pointer, hint=f"step ids in this file: {known}")
            elif label.block != jump.block:
                position = self.doc.position(label.pointer)
                at = f" (line {position.line})" if position else ""
                message = f"step {quote(jump.target)}{at} is in another list of steps; a jump stays in its own list"
                self.report.error("DSL-E032", message, jump.pointer, hint="move the step, or end this list and continue after it")
            else:
                jump.apply(label.node_id)
        for finalize in self.finalizers:
            finalize()

    def _unreachable(self) -> None:
        """Steps nothing leads to. A warning: the file is valid, but probably not as meant.
        Only the first step of a run of dead steps is reported."""
        reachable: set[str] = set()
        for block in self.blocks.values():
            todo = [block.start] if block.start else []
            while todo:
                node_id = todo.pop()
                if node_id in reachable or node_id not in block.nodes:
                    continue
                reachable.add(node_id)
                node = block.nodes[node_id]
                todo.extend(n for n in _successors(node) if n is not None)
        for node_id, (pointer, previous) in self.step_nodes.items():
            if node_id in reachable or (previous is not None and previous not in reachable):
                continue
            if not any(node_id in block.nodes for block in self.blocks.values()):
                continue
            self.report.warning("DSL-W001", "this step can never run: no step goes to it", pointer,
                                hint="give it an id and jump to it, or remove it")

    # -- values ------------------------------------------------------------------------------------

    def duration(self, value: Any, pointer: str) -> float | None:
        """Seconds of a literal duration (None when absent or invalid; invalid is reported)."""
        if value is None or self.report.has_schema_error(pointer):
            return None
        try:
            return parse_duration(value)
        except DurationError as error:
            self.report.error("DSL-E020", str(error), pointer)
            return None

    def variable(self, name: Any, pointer: str) -> str | None:
        if not isinstance(name, str) or self.report.has_schema_error(pointer):
            return None
        if name in RESERVED_VARIABLES or name.startswith("__"):
            reserved = ", ".join(sorted(RESERVED_VARIABLES))
            self.report.error("DSL-E033", f"{quote(name)} is reserved and cannot be a variable", pointer, hint=f"reserved: {reserved}, and names starting with '__'")
            return None
        self.variables.add(name)
        return name

    # -- child workflows ---------------------------------------------------------------------------

    def child(self, reference: str, pointer: str, step_id: str) -> ChildResult:
        base = os.path.dirname(self.doc.file) if not self.doc.file.startswith("<") else ""
        path = os.path.normpath(os.path.join(base, reference))
        real = os.path.realpath(path)
        chain = self.context.stack
        if real in chain:
            names = [os.path.basename(p) for p in chain[chain.index(real):]] + [os.path.basename(real)]
            return ChildResult(None, "cycle", " → ".join(names))
        if self.context.embedded >= MAX_EMBEDDED:
            return ChildResult(None, "limit", str(MAX_EMBEDDED))
        self.context.embedded += 1
        try:
            document = load_file(path)
        except DiagnosticError as error:
            if any(d.code == "LOAD-E001" for d in error.diagnostics):
                return ChildResult(None, "unreadable", error.diagnostics[0].message)
            self.context.diagnostics.extend(error.diagnostics)
            return ChildResult(None, "invalid", path)
        from declarative_wf.formats.detect import detect_format

        try:
            format_name = detect_format(document)
        except DiagnosticError as error:
            self.context.diagnostics.extend(error.diagnostics)
            return ChildResult(None, "invalid", path)
        if format_name != "dsl":
            from declarative_wf.formats.detect import unavailable

            self.context.diagnostics.append(unavailable(document, format_name))
            return ChildResult(None, "invalid", path)
        chain.append(real)
        try:
            compiler = DocumentCompiler(document, self.context, prefix=step_id + "/workflow")
            workflow = compiler.compile()
        finally:
            chain.pop()
        self.context.diagnostics.extend(compiler.report.diagnostics)
        return ChildResult(workflow, None if workflow is not None else "invalid", path)


def _successors(node: Node) -> list[str | None]:
    out: list[str | None] = [node.next]
    if isinstance(node, ChoiceNode):
        out.extend(case.next for case in node.cases)
    for rule in getattr(node, "catch", ()):
        if rule.then == "jump":
            out.append(rule.next)
    return out


def compile_document(document: LoadedDocument, context: CompileContext | None = None) -> tuple[Workflow | None, list[Diagnostic]]:
    """Compile one DSL document; returns the workflow (None on errors) and every diagnostic,
    those of embedded child workflows included."""
    if context is None:
        root = document.file if document.file.startswith("<") else os.path.realpath(document.file)
        context = CompileContext(stack=[root])
    compiler = DocumentCompiler(document, context)
    workflow = compiler.compile()
    return workflow, compiler.report.diagnostics + context.diagnostics
