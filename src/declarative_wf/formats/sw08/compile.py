"""Serverless Workflow 0.8 → IR. Assumes a document that passed :mod:`.validate`.

Every state becomes an entry node of the top-level block whose id is the state's JSON Pointer
(``/states/3``) and whose label is its name, so transitions are ``next`` edges:

* operation, event, callback, foreach, parallel, inject, sleep → a ``try`` node (the state:
  ``stateDataFilter`` as its input/output, ``onErrors`` as its catch rules, ``compensatedBy``
  as its compensation) whose body holds the state's nodes;
* switch → a ``choice`` node (an event-based switch first races its events, :mod:`.events`).

Actions are compiled by :mod:`.actions`, events by :mod:`.events`. Transitions and ends add
the nodes they need: ``produceEvents`` (emit), ``compensate`` (a ``compensate`` node),
``terminate`` (``succeed`` for the whole workflow), ``continueAs`` (a child, then succeed).
Timeouts that are not a node's own (state, branch, workflow with ``runBefore``) race the body
against a durable timer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Literal

from declarative_wf.diagnostics import Diagnostic, Severity, quote
from declarative_wf.ir import (
    Block,
    CatchRule,
    ChildNode,
    ChoiceCase,
    ChoiceNode,
    CompensateNode,
    ErrorMatch,
    Expr,
    ForEachNode,
    Merge,
    Node,
    ParallelNode,
    SetNode,
    SucceedNode,
    TryNode,
    WaitNode,
    Workflow,
)
from declarative_wf.loading import LoadedDocument, load_file, pointer_join

from .actions import ActionsMixin
from .base import Chain, block_of, join, param_name, prefixed, to_json
from .definitions import (
    files_allowed,
    resource_path,
    start_state,
    transitions_of,
    workflow_run_before,
)
from .expressions import MERGE_DEF, Expressions
from .schema import Report
from .validate import validate_document

__all__ = ["Compiler", "compile_workflow"]

#: The most files a directory may hold for subflow lookup to read them (a guard, not a limit
#: anyone should meet: subflows live next to their parent).
MAX_SUBFLOW_CANDIDATES = 500


class Compiler(ActionsMixin):
    # -- the workflow -------------------------------------------------------------------------------

    def workflow(self) -> Workflow:
        data = self.document.data
        for index, state in enumerate(data["states"]):
            pointer = pointer_join("/states", index)
            self.ids[state["name"]] = pointer
            self.states[state["name"]] = (state, pointer)
        for index, state in enumerate(data["states"]):
            if (
                state.get("usedForCompensation") is not True
            ):  # compensation states live in compensation blocks
                self.state(state, pointer_join("/states", index), self.top, self.ids)
        body = Block(self.ids.get(start_state(data) or ""), self.top)
        rest_auth = any(
            f.get("authRef")
            for f in (self.defs.functions or {}).values()
            if f.get("type", "rest") == "rest"
        )
        if "auth" in data and not rest_auth:
            self.warn(
                "auth definitions are only used by rest functions (authRef); here they are ignored",
                "/auth",
            )
        for key, what in (
            ("secrets", "secrets ($SECRETS)"),
            ("keepActive", "keepActive"),
        ):
            if key in data:
                self.warn(f"{what}: not supported, ignored", pointer_join("", key))
        if isinstance(data.get("start"), dict) and "schedule" in data["start"]:
            self.warn(
                "start.schedule is not run by this runtime: start instances yourself (dwf run, the API)",
                "/start/schedule",
            )
        timeouts = (
            data.get("timeouts") if isinstance(data.get("timeouts"), dict) else {}
        )
        limit = timeouts.get("workflowExecTimeout")
        duration = limit.get("duration") if isinstance(limit, dict) else limit
        seconds = self.seconds(duration) if duration else None
        if (
            seconds is not None
            and isinstance(limit, dict)
            and limit.get("interrupt") is False
        ):
            self.warn("interrupt: false is not supported: the workflow is always interrupted at its timeout",
                      "/timeouts/workflowExecTimeout/interrupt")  # fmt: skip
        run_before = workflow_run_before(data)
        if seconds is not None and run_before in self.ids:
            body, seconds = self.run_before(body, seconds, str(run_before)), None
        return Workflow(
            name=str(data.get("id") or data.get("key")),
            version=None if data.get("version") is None else str(data["version"]),
            format="sw08", body=body, source_file=self.document.file, timeout_seconds=seconds,
            options=self.options(data),
        )  # fmt: skip

    def options(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """``dataInputSchema`` (inline, or a JSON file next to the definition) becomes the input
        schema whoever starts an instance checks (``failOnValidationErrors: false``: none)."""
        declared = data.get("dataInputSchema")
        if declared is None or (
            isinstance(declared, dict)
            and declared.get("failOnValidationErrors") is False
        ):
            return {}
        schema = declared.get("schema") if isinstance(declared, dict) else declared
        if isinstance(schema, str):
            path = resource_path(self.document, schema)
            try:
                schema = (
                    load_file(path).data
                    if path is not None and path.is_file()
                    else None
                )
            except Exception:  # noqa: BLE001 - reported below
                schema = None
            if schema is None:
                self.warn(f"the input schema {quote(str(declared))} cannot be read: the input is not checked",
                          "/dataInputSchema", code="SW08-W002")  # fmt: skip
        return {"input_schema": schema} if isinstance(schema, dict) else {}

    def reachable(self, first: str, into: dict[str, Node]) -> None:
        """Compiles ``first`` and every state its transitions reach into ``into``."""
        todo, seen = [first], {first}
        while todo:
            state, pointer = self.states[todo.pop()]
            self.state(state, pointer, into, self.ids)
            for target, _ in transitions_of(state, pointer):
                if target in self.states and target not in seen:
                    seen.add(target)
                    todo.append(target)

    def run_before(self, body: Block, seconds: float, state_name: str) -> Block:
        """The workflow under its execution timeout; when the time is up, the ``runBefore``
        state runs (with the workflow's input: the interrupted data is gone). Only the timeout
        of this node is caught (by its message), not a ``Timeout`` from inside the workflow."""
        pointer = "/timeouts/workflowExecTimeout"
        nodes: dict[str, Node] = {}
        self.reachable(state_name, nodes)
        before = prefixed(Block(self.ids[state_name], nodes), f"{pointer}/runBefore@")
        limited = self.deadline(body, seconds, pointer, "workflowExecTimeout")
        own = Expr(
            "jq", ".message | startswith(\"try 'workflowExecTimeout' did not finish\")"
        )
        outer = TryNode(
            id=f"{pointer}#runBefore", body=limited, source=self.source(pointer),
            catch=(CatchRule(match=ErrorMatch(names=("Timeout",), when=own), merge=Merge("discard"), then="jump",
                             next=before.start),),
        )  # fmt: skip
        return Block(outer.id, {outer.id: outer, **before.nodes})

    def deadline(self, body: Block, seconds: float, pointer: str, what: str) -> Block:
        """``body`` under the interpreter's node deadline (a ``try`` node with a timeout): a
        ``Timeout`` error when the time is up, and the body's own errors as they are (a race of
        ``parallel`` branches would take the first *success* and sit out a failure)."""
        limited = TryNode(
            id=f"{pointer}#deadline", label=what, body=body, timeout_seconds=Expr.literal(seconds),
            source=self.source(pointer),
        )  # fmt: skip
        return Block(limited.id, {limited.id: limited})

    # -- transitions ------------------------------------------------------------------------------

    def flow(
        self,
        pointer: str,
        transition: Any,
        end: Any,
        into: dict[str, Node],
        ids: Mapping[str, str],
    ) -> str | None:
        """The node id a state continues at (None ends the block), adding the nodes that
        ``produceEvents`` / ``compensate`` / ``terminate`` / ``continueAs`` need."""
        if isinstance(transition, str):
            return self.target(
                pointer_join(pointer, "transition"), transition, into, ids
            )
        if isinstance(transition, dict):
            chain = self.produce(
                transition.get("produceEvents"), pointer_join(pointer, "transition")
            )
            if transition.get("compensate") is True:
                chain.append(
                    CompensateNode(
                        id=f"{pointer}/transition#compensate",
                        source=self.source(pointer),
                    )
                )
            where = join(pointer, "transition", "nextState")
            return self.add_chain(
                into, chain, self.target(where, transition["nextState"], into, ids)
            )
        if not isinstance(end, dict):
            return None
        where = pointer_join(pointer, "end")
        chain = self.produce(end.get("produceEvents"), where)
        if end.get("compensate") is True:
            chain.append(
                CompensateNode(id=f"{where}#compensate", source=self.source(where))
            )
        if "continueAs" in end:
            chain.extend(
                self.continue_as(end["continueAs"], pointer_join(where, "continueAs"))
            )
        elif end.get("terminate") is True:
            chain.append(
                SucceedNode(
                    id=f"{where}#terminate", scope="workflow", source=self.source(where)
                )
            )
        return self.add_chain(into, chain, None)

    def target(
        self, pointer: str, name: str, into: dict[str, Node], ids: Mapping[str, str]
    ) -> str:
        """The node id of the state ``name``; a missing state (SW08-W007) is a node that fails
        with UndefinedReference, so only the instances that take this transition fail."""
        if name in ids:
            return ids[name]
        fail = self.fail_undefined("state", name, pointer)
        into[fail.id] = fail
        return fail.id

    def add_chain(
        self, into: dict[str, Node], chain: Chain, after: str | None
    ) -> str | None:
        for node in block_of(chain).nodes.values():
            into[node.id] = node
        if chain:
            chain[-1].next = after
        return chain[0].id if chain else after

    def continue_as(self, value: Any, pointer: str) -> Chain:
        spec = {"workflowId": value} if isinstance(value, str) else value
        self.warn(
            "continueAs runs the workflow as a child workflow whose result ends this one (not a new execution "
            "with an empty history)", pointer,
        )  # fmt: skip
        if "workflowExecTimeout" in spec:
            self.warn(
                "continueAs.workflowExecTimeout is not applied: the next workflow's own timeouts are",
                pointer,
            )
        args = self.expr.template(spec["data"]) if "data" in spec else None
        child = ChildNode(id=f"{pointer}#child", label=f"continueAs {spec['workflowId']}", source=self.source(pointer),
                          workflow=spec["workflowId"], graph=self.subflow(spec["workflowId"], pointer), args=args)  # fmt: skip
        return [
            child,
            SucceedNode(
                id=f"{pointer}#end", scope="workflow", source=self.source(pointer)
            ),
        ]

    # -- states -----------------------------------------------------------------------------------

    def state(
        self,
        state: dict[str, Any],
        pointer: str,
        into: dict[str, Node],
        ids: Mapping[str, str],
    ) -> None:
        if state["type"] == "switch":
            self.switch(state, pointer, into, ids)
            return
        filters = state.get("stateDataFilter") or {}
        after = self.flow(pointer, state.get("transition"), state.get("end"), into, ids)
        builder: Callable[[dict[str, Any], str], Chain | Block] = getattr(
            self, f"state_{state['type']}"
        )
        built = builder(state, pointer)
        body = built if isinstance(built, Block) else block_of(built)
        total = (state.get("timeouts") or {}).get("stateExecTimeout")
        if isinstance(total, dict) and "single" in total:
            where = join(pointer, "timeouts", "stateExecTimeout", "single")
            self.warn("stateExecTimeout.single is not enforced (only total)", where)
        total = total.get("total") if isinstance(total, dict) else total
        if total:
            body = self.deadline(body, self.seconds(total), pointer, "state")
        into[pointer] = TryNode(
            id=pointer, label=state["name"], source=self.source(pointer), body=body, next=after,
            input=self.jq(filters.get("input")), output=self.jq(filters.get("output")),
            catch=self.on_errors(state, pointer, into, ids), compensation=self.compensation(state),
        )  # fmt: skip

    def on_errors(
        self,
        state: Mapping[str, Any],
        pointer: str,
        into: dict[str, Node],
        ids: Mapping[str, str],
    ) -> tuple[CatchRule, ...]:
        """Each handler: the state's errors by name or code; the data is the state's input."""
        rules = []
        for index, handler in enumerate(state.get("onErrors") or []):
            where = join(pointer, "onErrors", index)
            names = (
                [handler["errorRef"]]
                if "errorRef" in handler
                else list(handler["errorRefs"])
            )
            target = self.flow(
                where, handler.get("transition"), handler.get("end"), into, ids
            )
            rules.append(
                CatchRule(
                    match=self.error_match(names),
                    merge=Merge("discard"),
                    then="jump",
                    next=target,
                )
            )
        return tuple(rules)

    def compensation(self, state: Mapping[str, Any]) -> Block | None:
        """The compensation states from ``compensatedBy`` on, compiled once per first state."""
        by = state.get("compensatedBy")
        if not isinstance(by, str) or by not in self.states:
            return None
        if by not in self.compensations:
            nodes: dict[str, Node] = {}
            self.reachable(by, nodes)
            self.compensations[by] = Block(self.ids[by], nodes)
        return self.compensations[by]

    def state_sleep(self, state: dict[str, Any], pointer: str) -> Chain:
        where = pointer_join(pointer, "duration")
        return [
            WaitNode(
                id=where,
                seconds=Expr.literal(self.seconds(state["duration"])),
                source=self.source(where),
            )
        ]

    def state_inject(self, state: dict[str, Any], pointer: str) -> Chain:
        where = pointer_join(pointer, "data")
        value = Expr(
            "jq", f"{MERGE_DEF}({to_json(state['data'])}) as $__v | __swm(.; $__v)"
        )
        return [SetNode(id=where, value=value, source=self.source(where))]

    def state_operation(self, state: dict[str, Any], pointer: str) -> Chain:
        return self.actions(
            state["actions"],
            pointer_join(pointer, "actions"),
            state.get("actionMode"),
            self.action_timeout(state),
        )

    def state_parallel(self, state: dict[str, Any], pointer: str) -> Chain:
        branches = []
        for index, branch in enumerate(state["branches"]):
            where = join(pointer, "branches", index)
            block = block_of(
                self.actions(
                    branch["actions"],
                    pointer_join(where, "actions"),
                    "sequential",
                    self.action_timeout(branch),
                )
            )
            limit = (branch.get("timeouts") or {}).get("branchExecTimeout") or (
                state.get("timeouts") or {}
            ).get("branchExecTimeout")
            if limit:
                block = self.deadline(block, self.seconds(limit), where, "branch")
            branches.append(block)
        mode: Literal["all", "any"] = "all"
        if state.get("completionType") == "atLeast":
            count, total = int(state["numCompleted"]), len(branches)
            if count <= 1:
                mode = "any"
            elif count < total:
                self.report.error(
                    "SW08-E040", f"completionType atLeast with numCompleted {count} of {total} branches is not supported "
                    "(only 1, or all of them)", pointer_join(pointer, "numCompleted"),
                )  # fmt: skip
        merged = (
            "__swm(.; $__selected)"
            if mode == "any"
            else "reduce $__selected[] as $b (.; __swm(.; $b))"
        )
        where = pointer_join(pointer, "branches")
        return [ParallelNode(id=where, branches=tuple(branches), mode=mode, merge=Merge("discard"),
                             output=Expr("jq", MERGE_DEF + merged), source=self.source(where))]  # fmt: skip

    def state_foreach(self, state: dict[str, Any], pointer: str) -> Chain:
        """Each item runs the actions on the state data plus ``{<iterationParam>: item}``; the
        iteration's final data is its output, appended to ``outputCollection`` in order."""
        param = param_name(state.get("iterationParam", "item"))
        body = block_of(
            self.actions(
                state.get("actions") or [],
                pointer_join(pointer, "actions"),
                "sequential",
                self.action_timeout(state),
            )
        )
        batch = state.get("batchSize")
        limit = (
            1
            if state.get("mode") == "sequential"
            else (int(batch) if batch is not None else None)
        )
        output = state.get("outputCollection")
        collect = None
        if output:
            path = self.expr.program(output)
            collect = Expr(
                "jq",
                f"(path({path})) as $__p | setpath($__p; (getpath($__p) // []) + $__selected)",
            )
        where = pointer_join(pointer, "inputCollection")
        return [ForEachNode(
            id=where, label=state["name"], source=self.source(where), items=self.expr.jq(state["inputCollection"]),
            body=body, item_var=param, max_concurrency=limit, merge=Merge("discard"), output=collect,
            item_input=Expr("jq", f'(if ($__state|type) == "object" then $__state else {{}} end) + {{{to_json(param)}: .}}'),
        )]  # fmt: skip

    def switch(
        self,
        state: dict[str, Any],
        pointer: str,
        into: dict[str, Node],
        ids: Mapping[str, str],
    ) -> None:
        default = state["defaultCondition"]
        default_next = self.flow(
            pointer_join(pointer, "defaultCondition"),
            default.get("transition"),
            default.get("end"),
            into,
            ids,
        )
        if "eventConditions" in state:
            self.switch_events(state, pointer, into, default_next)
            return
        filters = state.get("stateDataFilter") or {}
        cases = []
        for index, condition in enumerate(state["dataConditions"]):
            where = join(pointer, "dataConditions", index)
            target = self.flow(
                where, condition.get("transition"), condition.get("end"), into, ids
            )
            cases.append(
                ChoiceCase(
                    Expr(
                        "jq", f"({self.expr.program(condition['condition'])}) == true"
                    ),
                    target,
                )
            )
        into[pointer] = ChoiceNode(
            id=pointer, label=state["name"], source=self.source(pointer), cases=tuple(cases), next=default_next,
            input=self.jq(filters.get("input")), output=self.jq(filters.get("output")),
        )  # fmt: skip

    # -- subflows ---------------------------------------------------------------------------------

    def subflow(self, workflow_id: str, pointer: str) -> Block | None:
        """The graph of the 0.8 definition with this ``id`` (or ``key``) in the same directory,
        or None: the child is then started by name."""
        own = self.document.data.get("id") or self.document.data.get("key")
        directory = Path(self.document.file).resolve().parent
        candidates = (
            sorted(directory.iterdir())
            if workflow_id != own and files_allowed() and directory.is_dir()
            else []
        )
        for path in candidates[:MAX_SUBFLOW_CANDIDATES]:
            if path.suffix not in (".json", ".yaml", ".yml") or not path.is_file():
                continue
            try:
                loaded = load_file(path)
            except Exception:  # noqa: BLE001, S112 - unrelated or broken files are not candidates
                continue
            data = loaded.data
            if (
                not isinstance(data, dict)
                or str(data.get("specVersion")) != "0.8"
                or workflow_id not in (data.get("id"), data.get("key"))
            ):
                continue
            if str(path.resolve()) in self.stack:
                break  # recursive: cannot be embedded, started by name below
            workflow, problems = compile_workflow(
                loaded, (*self.stack, str(Path(self.document.file).resolve()))
            )
            if workflow is None:
                first = next((d for d in problems if d.is_error), None)
                found = first.format() if first else "?"
                self.report.error(
                    "SW08-E041",
                    f"subflow {quote(workflow_id)} ({path.name}) is invalid: {found}",
                    pointer,
                )
                return None
            body = workflow.body
            if workflow.timeout_seconds is not None:  # its own workflowExecTimeout
                body = self.deadline(
                    body,
                    workflow.timeout_seconds,
                    f"{pointer}@{workflow_id}",
                    "subflow",
                )
            return prefixed(body, f"{pointer}@{workflow_id}")
        self.warn(
            f"no 0.8 definition with id {quote(workflow_id)} next to this file (or it is recursive): the child is started "
            "by name, which only a server with that definition can resolve", pointer, code="SW08-W002",
        )  # fmt: skip
        return None


def compile_workflow(
    document: LoadedDocument, stack: tuple[str, ...] = ()
) -> tuple[Workflow | None, list[Diagnostic]]:
    """Validates and compiles; the workflow is None when there is an error. ``stack``: the
    files of the workflows whose subflow this is (recursion guard)."""
    diagnostics, definitions = validate_document(document)
    if definitions is None or any(d.is_error for d in diagnostics):
        return None, diagnostics
    report = Report(document, list(diagnostics))
    expressions = Expressions(definitions.functions, document.data.get("constants"))
    workflow = Compiler(document, report, definitions, expressions, stack).workflow()
    if any(d.is_error for d in report.diagnostics):
        return None, report.diagnostics
    return workflow, [
        d for d in report.diagnostics if d.severity is Severity.WARNING or d.is_error
    ]
