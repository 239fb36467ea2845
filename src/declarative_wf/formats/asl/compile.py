"""ASL → IR: one IR node per state, every computed field an ``jsonpath`` / ``jsonata``
expression (see :mod:`declarative_wf.expressions.asl_eval` for the operations).

The compiler assumes a definition that passed :mod:`.validate`; it still never crashes on odd
input (a problem becomes a diagnostic). Node ids are the JSON Pointers of the states (unique in
the whole graph), node labels the state names.

State → node:

* Task → ``task`` (an activity) or ``child`` (``states:startExecution``), see :func:`resource_target`;
* Pass → ``set`` (``Result``/``Parameters`` as the value, ``ResultPath`` as the merge);
* Choice → ``choice``; Wait → ``wait``; Succeed → ``succeed`` (ends its block);
  Fail → ``fail``;
* Parallel → ``parallel``; Map → ``foreach`` (inline; a distributed Map without a reader runs
  the same way, each iteration in its own variable scope).

Modules: :mod:`.compile_fields` (operation specs and the fields states share),
:mod:`.compile_states` (Pass, Choice, Wait, Succeed, Fail) and this one (blocks, Task, Parallel,
Map, and the entry point :func:`compile_workflow`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import PurePath
from typing import Any

from declarative_wf.diagnostics import Diagnostic
from declarative_wf.expressions.asl_eval import is_jsonata_template
from declarative_wf.ir import (
    Block,
    ChildNode,
    Expr,
    ForEachNode,
    Node,
    ParallelNode,
    TaskNode,
    Workflow,
)
from declarative_wf.loading import LoadedDocument, pointer_join

from .compile_fields import JSONATA, JSONPATH, _has_jsonata, _ja, _jp, _name
from .compile_states import _SimpleStates
from .readers import reader_expr, writer_expr
from .resources import CALLBACK_SUFFIX, ResourceTarget, name_from_arn, resource_target

__all__ = ["ResourceTarget", "compile_workflow", "resource_target"]


class _Compiler(_SimpleStates):
    """The whole compiler: blocks and the state dispatch, Task, Parallel and Map."""

    # -- blocks -------------------------------------------------------------------------------

    def block(self, machine: Mapping[str, Any], pointer: str, language: str) -> Block:
        found = machine.get("States")
        states: dict[str, Any] = found if isinstance(found, dict) else {}
        ids = {name: pointer_join(pointer_join(pointer, "States"), name) for name in states}
        nodes: dict[str, Node] = {}
        for name, state in states.items():
            if not isinstance(state, dict):
                continue
            node = self.state(name, state, ids[name], language, ids)
            if node is not None:
                nodes[node.id] = node
        start = ids.get(_name(machine.get("StartAt")) or "")
        return Block(start, nodes)

    # -- one state ----------------------------------------------------------------------------

    def state(self, name: str, state: dict[str, Any], pointer: str, outer: str, ids: Mapping[str, str]) -> Node | None:
        language = state.get("QueryLanguage", outer)
        if language not in (JSONPATH, JSONATA):
            language = outer
        kind = state.get("Type")
        base: dict[str, Any] = {
            "id": pointer,
            "label": name,
            "source": self.source(pointer),
            "next": None if state.get("End") is True else ids.get(_name(state.get("Next")) or ""),
        }
        build = {
            "Pass": self.pass_state, "Task": self.task_state, "Choice": self.choice_state, "Wait": self.wait_state,
            "Succeed": self.succeed_state, "Fail": self.fail_state, "Parallel": self.parallel_state, "Map": self.map_state,
        }.get(kind if isinstance(kind, str) else "")  # fmt: skip
        if build is None:
            self.error("ASL-E002", f"state {name!r} has an unknown Type {kind!r}", pointer_join(pointer, "Type"))
            return None
        return build(state, pointer, language, base, ids)
    def task_state(self, state: dict[str, Any], pointer: str, language: str, base: dict[str, Any], ids: Mapping[str, str]) -> Node:
        resource = state.get("Resource")
        if isinstance(resource, dict):  # a CloudFormation reference: the logical id names the activity
            reference = resource.get("Ref", resource.get("Fn::GetAtt"))
            resource = str(reference[0] if isinstance(reference, list) and reference else reference)
        elif not isinstance(resource, str):
            resource = ""
        # ".waitForTaskToken": run the integration, then wait for a callback with $$.Task.Token.
        callback = resource.endswith(CALLBACK_SUFFIX)
        if callback:
            resource = resource[: -len(CALLBACK_SUFFIX)]
        target = resource_target(resource)
        if callback and (target.kind == "child" or target.shape == "http"):
            self.error(
                "ASL-E040",
                f"{resource}{CALLBACK_SUFFIX} is not supported: use .waitForTaskToken with lambda:invoke, an activity "
                "name or another integration that maps to an activity (docs/asl.md)",
                pointer_join(pointer, "Resource"),
            )
        parameters_field = "Arguments" if language == JSONATA else "Parameters"
        parameters = state.get(parameters_field)
        name = target.name
        if target.name_parameter and isinstance(parameters, dict):
            literal = parameters.get(target.name_parameter)
            if isinstance(literal, str) and not is_jsonata_template(literal):
                name = name_from_arn(literal)
            else:
                self.error(
                    "ASL-E040",
                    f"{resource} needs a literal {target.name_parameter} (the {'activity' if target.kind == 'activity' else 'state machine'} to run)",
                    pointer_join(pointer, parameters_field),
                )
        if target.payload_parameter and isinstance(parameters, dict):
            key = target.payload_parameter
            if language == JSONPATH and f"{key}.$" in parameters:
                parameters = {f"{key}.$": parameters[f"{key}.$"]}
                args: Expr | None = _jp({"op": "payload", "template": parameters, "field": parameters_field, "unwrap": key})
            else:
                payload = parameters.get(key)
                args = self.jsonata(payload, f"{parameters_field}/{key}") if language == JSONATA else self.payload(payload, parameters_field)
        elif target.shape == "http":
            args = self._http_args(parameters, parameters_field, language)
        elif parameters is None:
            args = None
        elif language == JSONATA:
            args = self.jsonata(parameters, parameters_field)
        else:
            args = self.payload(parameters, parameters_field)
        shape = None if callback else target.shape  # the callback's output is the result as sent
        common: dict[str, Any] = dict(
            **base,
            input=self.input_path(state, language),
            args=args,
            assign=self.assign(state.get("Assign"), language, "result", shape),
            merge=self.merge(state, pointer, language),
            retry=self.retry(state, language),
            catch=self.catch(state, pointer, language, ids),
            timeout_seconds=self._seconds(state, "TimeoutSeconds", language),
        )
        if language == JSONPATH:
            if "ResultSelector" in state:
                common["result"] = self.payload(state["ResultSelector"], "ResultSelector", shape=shape)
            elif shape:
                common["result"] = _jp({"op": "root", "root": "data", "shape": shape})
            common["output"] = self.output_path(state)
        else:
            if "Output" in state:
                common["output"] = self.jsonata(state["Output"], "Output", vars_="prior", shape=shape)
            elif shape:
                common["output"] = _ja({"op": "root", "root": "result", "shape": shape})
        if target.kind == "child":
            return ChildNode(**common, workflow=name)
        return TaskNode(
            **common, activity=name, heartbeat_seconds=self._seconds(state, "HeartbeatSeconds", language), callback=callback or None
        )

    def _http_args(self, parameters: Any, field: str, language: str) -> Expr | None:
        if parameters is None:
            return None
        inner = self.jsonata(parameters, field) if language == JSONATA else self.payload(parameters, field)
        return Expr("jsonpath", {"op": "http_request", "parameters": {"lang": inner.lang, "value": inner.value}})

    def _seconds(self, state: Mapping[str, Any], name: str, language: str) -> Expr | None:
        if name in state:
            value = state[name]
            if language == JSONATA and is_jsonata_template(value):
                return _ja({"op": "timeout", "value": value, "field": name})
            return Expr.literal(value)
        if f"{name}Path" in state:
            return _jp({"op": "timeout", "path": state[f"{name}Path"], "field": f"{name}Path"})
        return None
    def parallel_state(self, state: dict[str, Any], pointer: str, language: str, base: dict[str, Any], ids: Mapping[str, str]) -> Node:
        branches = tuple(
            self.block(branch, pointer_join(pointer_join(pointer, "Branches"), index), language)
            for index, branch in enumerate(state.get("Branches") or [])
            if isinstance(branch, dict)
        )
        parameters_field = "Arguments" if language == JSONATA else "Parameters"
        args = None
        if parameters_field in state:
            args = self.jsonata(state[parameters_field], parameters_field) if language == JSONATA else self.payload(state[parameters_field], parameters_field)
        return ParallelNode(
            **base,
            branches=branches,
            args=args,
            **self._result_fields(state, pointer, language, ids),
        )

    def _result_fields(self, state: Mapping[str, Any], pointer: str, language: str, ids: Mapping[str, str]) -> dict[str, Any]:
        fields: dict[str, Any] = dict(
            input=self.input_path(state, language),
            assign=self.assign(state.get("Assign"), language, "result"),
            merge=self.merge(state, pointer, language),
            retry=self.retry(state, language),
            catch=self.catch(state, pointer, language, ids),
        )
        if language == JSONPATH:
            if "ResultSelector" in state:
                fields["result"] = self.payload(state["ResultSelector"], "ResultSelector")
            fields["output"] = self.output_path(state)
        elif "Output" in state:
            fields["output"] = self.jsonata(state["Output"], "Output", vars_="prior")
        return fields

    def map_state(self, state: dict[str, Any], pointer: str, language: str, base: dict[str, Any], ids: Mapping[str, str]) -> Node:
        processor_key = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
        found = state.get(processor_key)
        processor: dict[str, Any] = found if isinstance(found, dict) else {}
        processor_language = processor["QueryLanguage"] if processor.get("QueryLanguage") in (JSONPATH, JSONATA) else language
        body = self.block(processor, pointer_join(pointer, processor_key), processor_language)
        # Items
        items_spec: dict[str, Any] = {"op": "items", "root": "effective" if language == JSONPATH else "input"}
        if language == JSONPATH and "ItemsPath" in state and state["ItemsPath"] != "$":
            items_spec["path"] = state["ItemsPath"]
        if language == JSONATA and "Items" in state:
            items_spec["value"] = state["Items"]
            items_spec["field"] = "Items"
        batcher = state.get("ItemBatcher")
        if isinstance(batcher, dict):
            items_spec["batcher"] = self._batcher(batcher, language)
        reader = None
        if isinstance(state.get("ItemReader"), dict):
            # The items are what the reader activity returns (the node's step "read").
            reader = reader_expr(state["ItemReader"], language == JSONATA, lambda t, f: self.payload(t, f), lambda t, f: self.jsonata(t, f))
            items_spec = {key: value for key, value in items_spec.items() if key not in ("path", "value", "field")}
            items_spec["root"] = "read"
        writer = None
        if isinstance(state.get("ResultWriter"), dict):
            # The results go to the writer activity; what it returns is the Map's result.
            writer = writer_expr(state["ResultWriter"], language == JSONATA, lambda t, f: self.payload(t, f), lambda t, f: self.jsonata(t, f))
        items = (_jp if language == JSONPATH else _ja)(items_spec)
        # ItemSelector (or the legacy Parameters)
        selector_key = "ItemSelector" if "ItemSelector" in state else "Parameters" if language == JSONPATH else None
        item_input = None
        if selector_key and selector_key in state:
            if language == JSONATA:
                template = state[selector_key]
                item_input = _ja({"op": "template", "template": template, "field": selector_key}) if _has_jsonata(template) else Expr.literal(template)
            else:
                item_input = self.payload(state[selector_key], selector_key, root="effective")
        # Limits
        limits: dict[str, Any] = {"op": "limits"}
        static: dict[str, Any] = {}
        for name, key in (("MaxConcurrency", "max_concurrency"), ("ToleratedFailureCount", "tolerated_failure_count"), ("ToleratedFailurePercentage", "tolerated_failure_percent")):
            if name in state:
                value = state[name]
                if language == JSONATA and is_jsonata_template(value):
                    limits[key] = {"value": value, "field": name}
                elif key == "max_concurrency" and isinstance(value, int) and not isinstance(value, bool):
                    static[key] = value or None
                elif key == "tolerated_failure_count" and isinstance(value, int) and not isinstance(value, bool):
                    static[key] = value
                elif key == "tolerated_failure_percent" and isinstance(value, (int, float)) and not isinstance(value, bool):
                    static[key] = float(value)
                else:
                    limits[key] = {"value": value, "field": name}
            elif f"{name}Path" in state:
                limits[key] = {"path": state[f"{name}Path"], "field": f"{name}Path", "root": "effective"}
        return ForEachNode(
            **base,
            items=items,
            body=body,
            item_var="",
            item_input=item_input,
            limits=(_jp if language == JSONPATH else _ja)(limits) if len(limits) > 1 else None,
            reader=reader,
            writer=writer,
            **static,
            **self._result_fields(state, pointer, language, ids),
        )

    def _batcher(self, batcher: Mapping[str, Any], language: str) -> dict[str, Any]:
        spec: dict[str, Any] = {}
        for name, key in (("MaxItemsPerBatch", "max_items"), ("MaxInputBytesPerBatch", "max_bytes")):
            if name in batcher:
                spec[key] = {"value": batcher[name], "field": name}
            elif f"{name}Path" in batcher:
                spec[key] = {"path": batcher[f"{name}Path"], "field": f"{name}Path", "root": "effective"}
        if "BatchInput" in batcher:
            spec["batch_input"] = {"value": batcher["BatchInput"], "field": "BatchInput", "root": "effective"}
        return spec


def workflow_name(document: LoadedDocument) -> str:
    name = PurePath(document.file).name if document.file and not document.file.startswith("<") else "state-machine"
    for suffix in (".json", ".yaml", ".yml", ".asl"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name or "state-machine"


def compile_workflow(document: LoadedDocument) -> tuple[Workflow | None, list[Diagnostic]]:
    """The IR of a validated definition, and the problems found while compiling."""
    machine = document.data
    compiler = _Compiler(document)
    language = machine.get("QueryLanguage", JSONPATH) if machine.get("QueryLanguage") in (JSONPATH, JSONATA) else JSONPATH
    body = compiler.block(machine, "", language)
    timeout = machine.get("TimeoutSeconds")
    workflow = Workflow(
        name=workflow_name(document),
        version=str(machine["Version"]) if isinstance(machine.get("Version"), str) else None,
        format="asl",
        body=body,
        source_file=document.file,
        timeout_seconds=float(timeout) if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) else None,
        options={"query_language": language},
    )
    if _reads_execution_input(machine):
        # Map items run in child workflows when there are many; their expressions need the
        # execution's input for $$.Execution.Input.
        workflow.options["chunks_read_execution_input"] = True
    if compiler.diagnostics:
        return None, compiler.diagnostics
    return workflow, []


def _reads_execution_input(machine: Any) -> bool:
    text = json.dumps(machine)
    return "$$" in text or "$states.context" in text
