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
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any, Literal

from declarative_wf.diagnostics import Diagnostic
from declarative_wf.expressions.asl_eval import is_jsonata_template, jsonata_source
from declarative_wf.expressions.asl_paths import PathKind, PathSyntaxError, compile_path
from declarative_wf.ir import (
    Block,
    CatchRule,
    ChildNode,
    ChoiceCase,
    ChoiceNode,
    ErrorMatch,
    Expr,
    FailNode,
    ForEachNode,
    Merge,
    Node,
    ParallelNode,
    RetryRule,
    SetNode,
    SourceRef,
    SucceedNode,
    TaskNode,
    WaitNode,
    Workflow,
)
from declarative_wf.loading import LoadedDocument, pointer_join

from .readers import reader_expr, writer_expr
from .resources import CALLBACK_SUFFIX, ResourceTarget, name_from_arn, resource_target

__all__ = ["ResourceTarget", "compile_workflow", "resource_target"]

JSONPATH = "JSONPath"
JSONATA = "JSONata"


# --------------------------------------------------------------------------- expressions


def _jp(spec: dict[str, Any]) -> Expr:
    return Expr("jsonpath", spec)


def _ja(spec: dict[str, Any]) -> Expr:
    return Expr("jsonata", spec)


def _has_references(template: Any) -> bool:
    """Whether a JSONPath payload template has a ``key.$`` entry anywhere."""
    if isinstance(template, dict):
        return any((key.endswith(".$") and isinstance(value, str)) or _has_references(value) for key, value in template.items())
    if isinstance(template, list):
        return any(_has_references(item) for item in template)
    return False


def _has_jsonata(template: Any) -> bool:
    if isinstance(template, str):
        return is_jsonata_template(template)
    if isinstance(template, dict):
        return any(_has_jsonata(value) for value in template.values())
    if isinstance(template, list):
        return any(_has_jsonata(item) for item in template)
    return False


def result_path(path: str) -> tuple[str | int, ...]:
    """The steps of a ``ResultPath`` (``$.a['b'][0]`` → ``("a", "b", 0)``); ValueError when it
    is not a definite path into the state input."""
    compiled = compile_path(path)
    if compiled.kind is not PathKind.INPUT:
        raise ValueError("a ResultPath must start with '$.' (the state input)")
    if compiled.expression is None:
        return ()
    if not compiled.definite:
        raise ValueError("a ResultPath must select a single node (no wildcards, slices or filters)")
    from jsonpath_ng import jsonpath as jp

    steps: list[str | int] = []
    node: Any = compiled.expression
    while isinstance(node, jp.Child):
        right = node.right
        if isinstance(right, jp.Fields):
            steps.append(right.fields[0])
        elif isinstance(right, jp.Index):
            steps.append(_index_of(right))
        else:
            raise ValueError("a ResultPath may only name fields and array indexes")
        node = node.left
    if isinstance(node, jp.Fields):
        steps.append(node.fields[0])
    elif isinstance(node, jp.Index):
        steps.append(_index_of(node))
    elif not isinstance(node, (jp.Root, jp.This)):
        raise ValueError("a ResultPath may only name fields and array indexes")
    return tuple(reversed(steps))


def _index_of(node: Any) -> int:
    """The single index of a jsonpath-ng ``Index`` (``indices`` in newer versions)."""
    indices = getattr(node, "indices", None)
    return int(indices[0]) if indices else int(getattr(node, "index"))  # noqa: B009


def _name(value: Any) -> str | None:
    return value if isinstance(value, str) else None


# --------------------------------------------------------------------------- the compiler


@dataclass
class _Compiler:
    document: LoadedDocument
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(self, code: str, message: str, pointer: str) -> None:
        self.diagnostics.append(self.document.diagnostic(code, message, pointer))

    def source(self, pointer: str) -> SourceRef | None:
        position = self.document.position(pointer, key=True)
        if position is None:
            return None
        return SourceRef(position.file, position.line, position.column, pointer)

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

    # -- shared fields --------------------------------------------------------------------------

    def input_path(self, state: Mapping[str, Any], language: str) -> Expr | None:
        if language != JSONPATH or "InputPath" not in state:
            return None
        path = state["InputPath"]
        if path is None:
            return Expr.literal({})
        if path == "$":
            return None
        return _jp({"op": "path", "path": path, "field": "InputPath"})

    def output_path(self, state: Mapping[str, Any]) -> Expr | None:
        if "OutputPath" not in state:
            return None
        path = state["OutputPath"]
        if path is None:
            return Expr.literal({})
        if path == "$":
            return None
        return _jp({"op": "path", "path": path, "field": "OutputPath", "vars": "prior"})

    def payload(self, template: Any, field: str, root: str = "data", shape: str | None = None) -> Expr:
        """A JSONPath payload template (Parameters, ResultSelector, ItemSelector)."""
        if not _has_references(template) and shape is None:
            return Expr.literal(template)
        spec: dict[str, Any] = {"op": "payload", "template": template, "field": field, "root": root}
        if shape:
            spec["shape"] = shape
        return _jp(spec)

    def jsonata(self, template: Any, field: str, *, vars_: str | None = None, result: bool = True, shape: str | None = None) -> Expr:
        """A JSONata-mode value: ``{% %}`` strings in it are evaluated."""
        if not _has_jsonata(template):
            return Expr.literal(template)
        spec: dict[str, Any] = {"op": "template", "template": template, "field": field}
        if vars_:
            spec["vars"] = vars_
        if not result:
            spec["result"] = False
        if shape:
            spec["shape"] = shape
        return _ja(spec)

    def output(self, state: Mapping[str, Any], language: str, shape: str | None = None) -> Expr | None:
        """JSONPath: OutputPath; JSONata: Output (evaluated with the variables from before the
        state's own assignments)."""
        if language == JSONPATH:
            return self.output_path(state)
        if "Output" in state:
            return self.jsonata(state["Output"], "Output", vars_="prior", shape=shape)
        return None

    def assign(self, assignments: Any, language: str, root: str, shape: str | None = None) -> dict[str, Expr]:
        if not isinstance(assignments, dict):
            return {}
        out: dict[str, Expr] = {}
        for key, value in assignments.items():
            if language == JSONATA:
                out[key] = self.jsonata(value, f"Assign/{key}", shape=shape)
            elif key.endswith(".$") and isinstance(value, str):
                spec: dict[str, Any] = {"op": "reference", "expr": value, "field": key, "root": root}
                if shape:
                    spec["shape"] = shape
                out[key[:-2]] = _jp(spec)
            elif _has_references(value):
                out[key] = self.payload(value, f"Assign/{key}", root, shape)
            else:
                out[key] = Expr.literal(value)
        return out

    def merge(self, state: Mapping[str, Any], pointer: str, language: str) -> Merge:
        if language != JSONPATH or "ResultPath" not in state:
            return Merge("replace")
        path = state["ResultPath"]
        if path is None:
            return Merge("discard")
        try:
            steps = result_path(path)
        except (PathSyntaxError, ValueError) as error:
            self.error("ASL-E031", f"ResultPath {path!r} is not valid: {getattr(error, 'message', error)}", pointer_join(pointer, "ResultPath"))
            return Merge("replace")
        return Merge("set", steps) if steps else Merge("replace")

    # -- retry and catch -------------------------------------------------------------------------

    def retry(self, state: Mapping[str, Any], language: str) -> tuple[RetryRule, ...]:
        rules = []
        for retrier in state.get("Retry") or []:
            if not isinstance(retrier, dict):
                continue
            names = [name for name in retrier.get("ErrorEquals") or [] if isinstance(name, str)]
            jitter: Literal["none", "full"] = "full" if retrier.get("JitterStrategy") == "FULL" else "none"
            max_delay = retrier.get("MaxDelaySeconds")
            rules.append(
                RetryRule(
                    match=_error_match(names),
                    max_retries=int(retrier.get("MaxAttempts", 3)),
                    interval_seconds=float(retrier.get("IntervalSeconds", 1)),
                    backoff_rate=float(retrier.get("BackoffRate", 2.0)),
                    max_delay_seconds=float(max_delay) if max_delay is not None else None,
                    jitter=jitter,
                )
            )
        return tuple(rules)

    def catch(self, state: Mapping[str, Any], pointer: str, language: str, ids: Mapping[str, str]) -> tuple[CatchRule, ...]:
        rules = []
        for index, catcher in enumerate(state.get("Catch") or []):
            if not isinstance(catcher, dict):
                continue
            names = [name for name in catcher.get("ErrorEquals") or [] if isinstance(name, str)]
            next_id = ids.get(_name(catcher.get("Next")) or "")
            catcher_language = language
            assign = self.assign(catcher.get("Assign"), catcher_language, "data")
            if catcher_language == JSONPATH:
                merge = self.merge(catcher, pointer_join(pointer_join(pointer, "Catch"), index), JSONPATH)
                rules.append(CatchRule(
                    match=_error_match(names), result=_jp({"op": "error_output"}), merge=merge, assign=assign,
                    next=next_id, then="jump",
                ))  # fmt: skip
            else:
                output = (
                    self.jsonata(catcher["Output"], "Output", vars_="prior")
                    if "Output" in catcher
                    else _ja({"op": "error_output"})
                )
                rules.append(CatchRule(
                    match=_error_match(names), result=_ja({"op": "error_output"}), merge=Merge("replace"),
                    assign=assign, output=output, next=next_id, then="jump",
                ))  # fmt: skip
        return tuple(rules)

    # -- states ----------------------------------------------------------------------------------

    def pass_state(self, state: dict[str, Any], pointer: str, language: str, base: dict[str, Any], ids: Mapping[str, str]) -> Node:
        if language == JSONATA:
            return SetNode(**base, assign=self.assign(state.get("Assign"), language, "data"), output=self.output(state, language))
        if "Result" in state:
            value: Expr | None = Expr.literal(state["Result"])
        elif "Parameters" in state:
            value = self.payload(state["Parameters"], "Parameters")
        else:
            value = None
        return SetNode(
            **base,
            input=self.input_path(state, language),
            value=value,
            merge=self.merge(state, pointer, language),
            assign=self.assign(state.get("Assign"), language, "data"),
            output=self.output_path(state),
        )

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

    def choice_state(self, state: dict[str, Any], pointer: str, language: str, base: dict[str, Any], ids: Mapping[str, str]) -> Node:
        cases = []
        for index, rule in enumerate(state.get("Choices") or []):
            if not isinstance(rule, dict):
                continue
            target = ids.get(_name(rule.get("Next")) or "")
            rule_pointer = pointer_join(pointer_join(pointer, "Choices"), index)
            if language == JSONATA:
                raw = rule.get("Condition", False)
                text = jsonata_source(raw) if is_jsonata_template(raw) else json.dumps(raw)
                condition = _ja({"op": "condition", "value": raw, "text": text})
                output = self.jsonata(rule["Output"], "Output", vars_="prior") if "Output" in rule else None
            else:
                compiled = self.rule(rule, rule_pointer)
                condition = _jp({"op": "choice", "rule": compiled, "text": rule_text(compiled)})
                output = None
            cases.append(ChoiceCase(condition, target, output=output, assign=self.assign(rule.get("Assign"), language, "effective")))
        default = state.get("Default")
        base = {**base, "next": ids.get(default) if isinstance(default, str) else None}
        return ChoiceNode(
            **base,
            input=self.input_path(state, language),
            output=self.output_path(state) if language == JSONPATH else None,
            cases=tuple(cases),
            no_default_is_error="Default" not in state,
            default_output=self.jsonata(state["Output"], "Output", vars_="prior") if language == JSONATA and "Output" in state else None,
            default_assign=self.assign(state.get("Assign"), language, "effective"),
        )

    def rule(self, rule: Mapping[str, Any], pointer: str) -> dict[str, Any]:
        """A JSONPath Choice rule as the operation tree ``asl_eval`` evaluates."""
        if "And" in rule:
            return {"and": [self.rule(item, pointer_join(pointer_join(pointer, "And"), i)) for i, item in enumerate(rule["And"] or []) if isinstance(item, dict)]}
        if "Or" in rule:
            return {"or": [self.rule(item, pointer_join(pointer_join(pointer, "Or"), i)) for i, item in enumerate(rule["Or"] or []) if isinstance(item, dict)]}
        if "Not" in rule:
            inner = rule["Not"] if isinstance(rule["Not"], dict) else {}
            return {"not": self.rule(inner, pointer_join(pointer, "Not"))}
        operator = next((key for key in rule if key in COMPARISON_OPERATORS), None)
        if operator is None:
            self.error("ASL-E050", "a Choice rule needs a comparison operator, And, Or or Not", pointer)
            return {"variable": "$", "operator": "IsPresent", "operand": False}
        return {"variable": rule.get("Variable", "$"), "operator": operator, "operand": rule[operator]}

    def wait_state(self, state: dict[str, Any], pointer: str, language: str, base: dict[str, Any], ids: Mapping[str, str]) -> Node:
        seconds = until = None
        if "Seconds" in state:
            value = state["Seconds"]
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                seconds = Expr.literal(value)
            else:
                seconds = (_ja if language == JSONATA else _jp)({"op": "wait_seconds", "value": value, "field": "Seconds"})
        elif "SecondsPath" in state:
            seconds = _jp({"op": "wait_seconds", "path": state["SecondsPath"], "field": "SecondsPath"})
        elif "Timestamp" in state:
            until = (_ja if language == JSONATA else _jp)({"op": "wait_timestamp", "value": state["Timestamp"], "field": "Timestamp"})
        elif "TimestampPath" in state:
            until = _jp({"op": "wait_timestamp", "path": state["TimestampPath"], "field": "TimestampPath"})
        return WaitNode(
            **base,
            input=self.input_path(state, language),
            output=self.output(state, language),
            assign=self.assign(state.get("Assign"), language, "effective"),
            seconds=seconds,
            until=until,
        )

    def succeed_state(self, state: dict[str, Any], pointer: str, language: str, base: dict[str, Any], ids: Mapping[str, str]) -> Node:
        return SucceedNode(**{**base, "next": None}, input=self.input_path(state, language), output=self.output(state, language), scope="block")

    def fail_state(self, state: dict[str, Any], pointer: str, language: str, base: dict[str, Any], ids: Mapping[str, str]) -> Node:
        def field_expr(name: str) -> Expr | None:
            if name in state:
                value = state[name]
                if language == JSONATA and _has_jsonata(value):
                    return _ja({"op": "fail_field", "value": value, "field": name})
                return Expr.literal(value)
            if f"{name}Path" in state:
                return _jp({"op": "fail_field", "expr": state[f"{name}Path"], "field": f"{name}Path"})
            return None

        return FailNode(**{**base, "next": None}, error=field_expr("Error") or Expr.literal(None), message=field_expr("Cause"))

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


#: Every comparison operator of a JSONPath Choice rule.
COMPARISON_OPERATORS = frozenset(
    [f"{kind}{op}{path}" for kind in ("String", "Numeric", "Timestamp") for op in ("Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals") for path in ("", "Path")]
    + ["StringMatches", "BooleanEquals", "BooleanEqualsPath"]
    + ["IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp"]
)


def rule_text(rule: Mapping[str, Any]) -> str:
    """A compiled Choice rule as people read it: ``$.n NumericEquals 1 and not $.x IsNull true``."""
    if "and" in rule:
        return " and ".join(f"({rule_text(item)})" if "or" in item else rule_text(item) for item in rule["and"])
    if "or" in rule:
        return " or ".join(rule_text(item) for item in rule["or"])
    if "not" in rule:
        return f"not ({rule_text(rule['not'])})"
    return f"{rule['variable']} {rule['operator']} {json.dumps(rule['operand'])}"


def _error_match(names: list[str]) -> ErrorMatch:
    return ErrorMatch(names=("*",), when=Expr("jsonpath", {"op": "error_match", "names": names}))


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


