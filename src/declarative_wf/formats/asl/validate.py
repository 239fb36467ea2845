"""Validating an ASL definition: the shape (``schemas/asl.schema.json``), then the rules the AWS
validators check, every problem with its FILE:LINE:COL.

Order: the top level and each state against the schema definition of its ``Type`` (a state
that breaks the schema is not checked further); then, per machine (the top level, each Parallel
branch, each Map processor): names, transitions, reachability, a terminal state; then per
state: query-language fields, paths, payload templates, intrinsic functions, JSONata, mutually
exclusive fields, retriers and catchers. Codes: :mod:`.codes`.

Modules: :mod:`.schema` (the schema phase), :mod:`.field_checks` (the checks of one field:
paths, intrinsics, payloads, JSONata, Assign) and this one (machines, transitions, state types,
retriers and catchers, and the entry point :func:`validate_document`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from declarative_wf.diagnostics import Diagnostic, quote, suggest
from declarative_wf.expressions.asl_eval import is_jsonata_template
from declarative_wf.loading import LoadedDocument, pointer_join

from .compile_fields import COMPARISON_OPERATORS, JSONATA, JSONPATH
from .field_checks import _FieldChecks, _resource_problem
from .readers import reader_problems, writer_problems
from .schema import _Report, _schema_errors, load_schema

__all__ = ["load_schema", "validate_document", "PREDEFINED_ERRORS"]

#: The predefined error names (``States.Http.*`` names an HTTP status family, also allowed).
PREDEFINED_ERRORS = frozenset({
    "States.ALL", "States.DataLimitExceeded", "States.Runtime", "States.TaskFailed", "States.Timeout",
    "States.HeartbeatTimeout", "States.Permissions", "States.ResultPathMatchFailure",
    "States.ParameterPathFailure", "States.BranchFailed", "States.NoChoiceMatched",
    "States.IntrinsicFailure", "States.ExceedToleratedFailureThreshold", "States.ItemReaderFailed",
    "States.ResultWriterFailed", "States.QueryEvaluationError",
})  # fmt: skip

MAX_NAME = 80
STATE_TYPES = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
#: Types that need exactly one of Next and End.
_FLOWING = frozenset({"Pass", "Task", "Wait", "Parallel", "Map"})


# --------------------------------------------------------------------------- the walk


@dataclass
class _Machine:
    """A set of states with a StartAt: the top level, a Parallel branch or a Map processor."""

    data: Mapping[str, Any]
    pointer: str
    language: str
    #: A distributed Map's processor runs as separate executions (its own query-language scope).
    detached: bool = False


@dataclass
class _Validator(_FieldChecks):
    root_language: str
    names: dict[str, str] = field(default_factory=dict)  # state name → pointer of its first use

    # -- machines -----------------------------------------------------------------------------

    def machine(self, machine: _Machine) -> None:
        states = machine.data.get("States")
        if not isinstance(states, dict):
            return
        states_pointer = pointer_join(machine.pointer, "States")
        valid: dict[str, Mapping[str, Any]] = {}
        for name, state in states.items():
            pointer = pointer_join(states_pointer, name)
            if name in self.names:
                self.report.error("ASL-E015", f"the state name {quote(name)} is already used (names are unique in the whole machine)", pointer, key=True)
            else:
                self.names[name] = pointer
            if len(name) > MAX_NAME:
                self.report.error("ASL-E016", f"the state name {quote(name[:40] + '...')} is longer than {MAX_NAME} characters", pointer, key=True)
            if not isinstance(state, dict):
                continue
            kind = state.get("Type")
            if kind not in STATE_TYPES:
                continue  # the schema reported it
            if _schema_errors(self.report, state, kind, pointer, f"a {kind} state"):
                continue
            valid[name] = state
        self.transitions(machine, states, valid)
        for name, state in valid.items():
            self.state(name, state, pointer_join(states_pointer, name), machine)

    def transitions(self, machine: _Machine, states: Mapping[str, Any], valid: Mapping[str, Mapping[str, Any]]) -> None:
        start = machine.data.get("StartAt")
        names = list(states)
        if isinstance(start, str) and start not in states:
            close = suggest(start, names)
            self.report.error(
                "ASL-E010", f"StartAt names the state {quote(start)}, which does not exist here",
                pointer_join(machine.pointer, "StartAt"), hint=close,
            )  # fmt: skip
        edges: dict[str, list[str]] = {name: [] for name in states}
        terminal = False
        for name, state in valid.items():
            pointer = pointer_join(pointer_join(machine.pointer, "States"), name)
            for target, target_pointer in _targets(state, pointer):
                if target not in states:
                    close = suggest(target, names)
                    self.report.error(
                        "ASL-E011", f"state {quote(name)} goes to {quote(target)}, which does not exist in this "
                        f"{'machine' if machine.pointer == '' else 'branch'}", target_pointer,
                        hint=close,
                    )  # fmt: skip
                else:
                    edges[name].append(target)
            kind = state.get("Type")
            if kind in _FLOWING:
                has_next, has_end = "Next" in state, state.get("End") is True
                if has_next and has_end:
                    self.report.error("ASL-E014", f"state {quote(name)} has both Next and End", pointer_join(pointer, "End"), key=True)
                elif not has_next and not has_end:
                    self.report.error("ASL-E014", f"state {quote(name)} needs Next or \"End\": true", pointer, key=True)
                terminal = terminal or has_end
            elif kind in ("Succeed", "Fail"):
                terminal = True
        if isinstance(start, str) and start in states:
            seen = {start}
            todo = [start]
            while todo:
                for target in edges.get(todo.pop(), []):
                    if target not in seen:
                        seen.add(target)
                        todo.append(target)
            for name in states:
                if name not in seen:
                    self.report.error(
                        "ASL-E012", f"state {quote(name)} cannot be reached from StartAt {quote(start)}",
                        pointer_join(pointer_join(machine.pointer, "States"), name), key=True,
                    )  # fmt: skip
        if valid and not terminal and len(valid) == len(states):
            self.report.error(
                "ASL-E013", "no state ends the " + ("machine" if machine.pointer == "" else "branch") +
                ": give one \"End\": true, or add a Succeed or Fail state", pointer_join(machine.pointer, "States"), key=True,
            )  # fmt: skip

    # -- one state ------------------------------------------------------------------------------

    def state(self, name: str, state: Mapping[str, Any], pointer: str, machine: _Machine) -> None:
        language = state.get("QueryLanguage", machine.language)
        kind = state["Type"]
        if language == JSONPATH and machine.language == JSONATA and not machine.detached and "QueryLanguage" in state:
            self.report.error(
                "ASL-E021", f"state {quote(name)} is JSONPath inside a JSONata machine; AWS only allows JSONata there",
                pointer_join(pointer, "QueryLanguage"),
            )  # fmt: skip
        self.language_fields(state, pointer, language, kind)
        if language == JSONPATH:
            self.jsonpath_fields(state, pointer, kind)
        else:
            self.jsonata_fields(state, pointer, kind)
        self.assign(state.get("Assign"), pointer_join(pointer, "Assign"), language)
        getattr(self, f"state_{kind.lower()}")(name, state, pointer, language, machine)
        for key in ("Retry", "Catch"):
            if key in state:
                self.error_handlers(state[key], pointer_join(pointer, key), key, language)


    # -- state types ----------------------------------------------------------------------------

    def state_pass(self, name: str, state: Mapping[str, Any], pointer: str, language: str, machine: _Machine) -> None:
        if language == JSONATA and "Result" in state:
            self.report.error("ASL-E020", "Result is a JSONPath field; this state uses JSONata (use Output)", pointer_join(pointer, "Result"), key=True)

    def state_succeed(self, name: str, state: Mapping[str, Any], pointer: str, language: str, machine: _Machine) -> None:
        pass

    def state_fail(self, name: str, state: Mapping[str, Any], pointer: str, language: str, machine: _Machine) -> None:
        for key in ("Error", "Cause"):
            if key in state and f"{key}Path" in state:
                self.report.error("ASL-E044", f"a Fail state has either {key} or {key}Path, not both", pointer_join(pointer, f"{key}Path"), key=True)

    def state_wait(self, name: str, state: Mapping[str, Any], pointer: str, language: str, machine: _Machine) -> None:
        given = [key for key in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if key in state]
        if len(given) != 1:
            self.report.error(
                "ASL-E043", "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp and TimestampPath"
                + (f" (it has {', '.join(given)})" if given else ""), pointer_join(pointer, given[1]) if len(given) > 1 else pointer, key=True,
            )  # fmt: skip
        if language == JSONPATH:
            if isinstance(state.get("Seconds"), str):
                self.report.error("ASL-E001", "\"Seconds\" must be a non-negative integer (use SecondsPath for a path)", pointer_join(pointer, "Seconds"))
            timestamp = state.get("Timestamp")
            if isinstance(timestamp, str):
                from declarative_wf.expressions.asl_eval import parse_timestamp

                if parse_timestamp(timestamp) is None:
                    self.report.error("ASL-E001", f"Timestamp {quote(timestamp)} is not an RFC 3339 timestamp such as \"2026-03-14T01:59:00Z\"", pointer_join(pointer, "Timestamp"))

    def state_task(self, name: str, state: Mapping[str, Any], pointer: str, language: str, machine: _Machine) -> None:
        for key in ("TimeoutSeconds", "HeartbeatSeconds"):
            if key in state and f"{key}Path" in state:
                self.report.error("ASL-E041", f"a Task has either {key} or {key}Path, not both", pointer_join(pointer, f"{key}Path"), key=True)
            if language == JSONPATH and isinstance(state.get(key), str):
                self.report.error("ASL-E001", f"{quote(key)} must be a positive integer (use {key}Path for a path)", pointer_join(pointer, key))
        timeout, heartbeat = state.get("TimeoutSeconds"), state.get("HeartbeatSeconds")
        if isinstance(timeout, int) and isinstance(heartbeat, int) and heartbeat >= timeout:
            self.report.error("ASL-E042", "HeartbeatSeconds must be smaller than TimeoutSeconds", pointer_join(pointer, "HeartbeatSeconds"))
        resource = state.get("Resource")
        here = pointer_join(pointer, "Resource")
        if isinstance(resource, str):
            problem = _resource_problem(resource)
            if problem:
                self.report.error("ASL-E040", problem, here)
            elif "${" in resource:
                self.report.warning("ASL-W001", f"{quote(resource)} is a CloudFormation substitution: it runs as the activity of that name unless substituted first", here)
        elif isinstance(resource, dict):
            if {"Ref"} == set(resource) or {"Fn::GetAtt"} == set(resource):
                self.report.warning("ASL-W001", "a CloudFormation reference as Resource: substitute it before running (it runs as the activity named by the reference)", here)
            else:
                self.report.error("ASL-E040", "Resource must be an ARN, an activity name, or a CloudFormation Ref / Fn::GetAtt", here)
        credentials = state.get("Credentials")
        if language == JSONATA and credentials is not None:
            self.jsonata(credentials, pointer_join(pointer, "Credentials"))

    def state_choice(self, name: str, state: Mapping[str, Any], pointer: str, language: str, machine: _Machine) -> None:
        for index, rule in enumerate(state.get("Choices") or []):
            here = pointer_join(pointer_join(pointer, "Choices"), index)
            if "Next" not in rule:
                self.report.error("ASL-E050", "a Choice rule needs Next (Choice rules cannot end the machine)", here)
            if language == JSONATA:
                extra = [key for key in rule if key not in ("Condition", "Next", "Comment", "Assign", "Output")]
                for key in extra:
                    self.report.error("ASL-E020", f"{key} is a JSONPath Choice field; JSONata rules use Condition", pointer_join(here, key), key=True)
                if "Condition" not in rule:
                    self.report.error("ASL-E050", "a JSONata Choice rule needs a Condition", here)
                elif isinstance(rule["Condition"], str):
                    condition = rule["Condition"]
                    if not is_jsonata_template(condition):
                        self.report.error("ASL-E022", "a Condition is true, false or a {% %} JSONata expression", pointer_join(here, "Condition"))
                    else:
                        self.jsonata(condition, pointer_join(here, "Condition"))
                if "Output" in rule:
                    self.jsonata(rule["Output"], pointer_join(here, "Output"))
            else:
                for key in ("Condition", "Output"):
                    if key in rule:
                        self.report.error("ASL-E020", f"{key} is a JSONata field; set \"QueryLanguage\": \"JSONata\" to use it", pointer_join(here, key), key=True)
                self.rule(rule, here, top=True)
            self.assign(rule.get("Assign"), pointer_join(here, "Assign"), language)

    def rule(self, rule: Mapping[str, Any], pointer: str, *, top: bool) -> None:
        if not top and "Next" in rule:
            self.report.error("ASL-E050", "only a top-level Choice rule has Next", pointer_join(pointer, "Next"), key=True)
        if not top and "Assign" in rule:
            self.report.error("ASL-E050", "only a top-level Choice rule has Assign", pointer_join(pointer, "Assign"), key=True)
        combinators = [key for key in ("And", "Or", "Not") if key in rule]
        operators = [key for key in rule if key in COMPARISON_OPERATORS]
        if combinators:
            if len(combinators) > 1 or operators or "Variable" in rule:
                self.report.error("ASL-E050", "a Choice rule is one of And, Or, Not or a comparison", pointer)
            for key in combinators:
                inner = rule[key]
                items = inner if isinstance(inner, list) else [inner]
                for index, item in enumerate(items):
                    here = pointer_join(pointer, key) if key == "Not" else pointer_join(pointer_join(pointer, key), index)
                    if isinstance(item, dict):
                        self.rule(item, here, top=False)
            return
        if len(operators) != 1:
            self.report.error(
                "ASL-E050", "a Choice rule needs exactly one comparison operator" + (f" (it has {', '.join(operators)})" if operators else ""), pointer,
            )  # fmt: skip
            return
        if "Variable" not in rule:
            self.report.error("ASL-E050", "a comparison needs a Variable", pointer)
        else:
            self.path(rule["Variable"], pointer_join(pointer, "Variable"), "Variable")
        operator = operators[0]
        if operator.endswith("Path"):
            self.path(rule[operator], pointer_join(pointer, operator), operator)
        elif operator.startswith("Timestamp"):
            from declarative_wf.expressions.asl_eval import parse_timestamp

            if parse_timestamp(rule[operator]) is None:
                self.report.warning("ASL-W001", f"{quote(str(rule[operator]))} is not an RFC 3339 timestamp: this comparison is always false", pointer_join(pointer, operator))

    def state_parallel(self, name: str, state: Mapping[str, Any], pointer: str, language: str, machine: _Machine) -> None:
        for index, branch in enumerate(state.get("Branches") or []):
            here = pointer_join(pointer_join(pointer, "Branches"), index)
            branch_language = branch.get("QueryLanguage", language)
            self.machine(_Machine(branch, here, branch_language, machine.detached))
        if language == JSONPATH and "Arguments" in state:
            pass  # reported by language_fields

    def state_map(self, name: str, state: Mapping[str, Any], pointer: str, language: str, machine: _Machine) -> None:
        processors = [key for key in ("ItemProcessor", "Iterator") if key in state]
        if len(processors) != 1:
            self.report.error("ASL-E045", "a Map state needs exactly one of ItemProcessor and Iterator", pointer_join(pointer, processors[1]) if len(processors) > 1 else pointer, key=True)
        if "ItemSelector" in state and "Parameters" in state:
            self.report.error("ASL-E045", "ItemSelector and Parameters exclude each other (Parameters is the legacy name)", pointer_join(pointer, "Parameters"), key=True)
        if "Items" in state and "ItemsPath" in state:
            self.report.error("ASL-E045", "Items (JSONata) and ItemsPath (JSONPath) exclude each other", pointer_join(pointer, "ItemsPath"), key=True)
        for key in ("MaxConcurrency", "ToleratedFailurePercentage", "ToleratedFailureCount"):
            if key in state and f"{key}Path" in state:
                self.report.error("ASL-E041", f"a Map state has either {key} or {key}Path, not both", pointer_join(pointer, f"{key}Path"), key=True)
        for severity, code, message, in_config in writer_problems(state.get("ResultWriter")):
            here = pointer_join(pointer_join(pointer, "ResultWriter"), "WriterConfig" if in_config else "Resource")
            (self.report.error if severity == "error" else self.report.warning)(code, message, here)
        reader = state.get("ItemReader")
        for severity, code, message, in_config in reader_problems(reader):
            here = pointer_join(pointer, "ItemReader")
            here = pointer_join(here, "ReaderConfig") if in_config else pointer_join(here, "Resource") if code == "ASL-W001" and "Resource" in message else here
            (self.report.error if severity == "error" else self.report.warning)(code, message, here)
        if isinstance(reader, dict) and isinstance(reader.get("ReaderConfig"), dict):
            config = reader["ReaderConfig"]
            if "MaxItems" in config and "MaxItemsPath" in config:
                self.report.error("ASL-E041", "ReaderConfig has either MaxItems or MaxItemsPath, not both", pointer_join(pointer_join(pointer_join(pointer, "ItemReader"), "ReaderConfig"), "MaxItemsPath"), key=True)
        batcher = state.get("ItemBatcher")
        if isinstance(batcher, dict):
            for key in ("MaxItemsPerBatch", "MaxInputBytesPerBatch"):
                if key in batcher and f"{key}Path" in batcher:
                    self.report.error("ASL-E041", f"ItemBatcher has either {key} or {key}Path, not both", pointer_join(pointer_join(pointer, "ItemBatcher"), f"{key}Path"), key=True)
                if language == JSONPATH and f"{key}Path" in batcher:
                    self.path(batcher[f"{key}Path"], pointer_join(pointer_join(pointer, "ItemBatcher"), f"{key}Path"), f"{key}Path")
        for key in processors[:1]:
            processor = state[key]
            config = processor.get("ProcessorConfig") if isinstance(processor.get("ProcessorConfig"), dict) else {}
            detached = config.get("Mode") == "DISTRIBUTED"
            processor_language = processor.get("QueryLanguage", language)
            self.machine(_Machine(processor, pointer_join(pointer, key), processor_language, detached or machine.detached))
        if language == JSONATA and "ItemSelector" in state:
            pass  # checked by jsonata_fields

    # -- retriers and catchers ------------------------------------------------------------------

    def error_handlers(self, handlers: Any, pointer: str, kind: str, language: str) -> None:
        if not isinstance(handlers, list):
            return
        for index, handler in enumerate(handlers):
            here = pointer_join(pointer, index)
            names = handler.get("ErrorEquals") or []
            for position, name in enumerate(names):
                name_pointer = pointer_join(pointer_join(here, "ErrorEquals"), position)
                if name == "States.ALL":
                    if len(names) > 1:
                        self.report.error("ASL-E051", "States.ALL must be the only name in its ErrorEquals", name_pointer)
                    if index != len(handlers) - 1:
                        self.report.error("ASL-E051", f"the {'retrier' if kind == 'Retry' else 'catcher'} with States.ALL must be the last one", name_pointer)
                elif isinstance(name, str) and name.startswith("States.") and name not in PREDEFINED_ERRORS and not name.startswith("States.Http."):
                    close = suggest(name, PREDEFINED_ERRORS)
                    self.report.error(
                        "ASL-E052", f"{quote(name)} is not a predefined error (names starting with \"States.\" are reserved)",
                        name_pointer, hint=close,
                    )  # fmt: skip
            if kind == "Catch":
                if language == JSONPATH:
                    if "Output" in handler:
                        self.report.error("ASL-E020", "Output is a JSONata field; JSONPath catchers use ResultPath", pointer_join(here, "Output"), key=True)
                    if "ResultPath" in handler:
                        self.result_path(handler["ResultPath"], pointer_join(here, "ResultPath"))
                else:
                    if "ResultPath" in handler:
                        self.report.error("ASL-E020", "ResultPath is a JSONPath field; JSONata catchers use Output", pointer_join(here, "ResultPath"), key=True)
                    if "Output" in handler:
                        self.jsonata(handler["Output"], pointer_join(here, "Output"))
                self.assign(handler.get("Assign"), pointer_join(here, "Assign"), language)


def _targets(state: Mapping[str, Any], pointer: str) -> Iterator[tuple[str, str]]:
    """Every state name this state can go to, with the pointer of the field naming it."""
    if isinstance(state.get("Next"), str):
        yield state["Next"], pointer_join(pointer, "Next")
    if isinstance(state.get("Default"), str):
        yield state["Default"], pointer_join(pointer, "Default")
    for index, rule in enumerate(state.get("Choices") or []):
        if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
            yield rule["Next"], pointer_join(pointer_join(pointer_join(pointer, "Choices"), index), "Next")
    for index, catcher in enumerate(state.get("Catch") or []):
        if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
            yield catcher["Next"], pointer_join(pointer_join(pointer_join(pointer, "Catch"), index), "Next")


def validate_document(document: LoadedDocument) -> list[Diagnostic]:
    """Every problem of an ASL document (sorted by position by the caller)."""
    report = _Report(document)
    data = document.data
    if not isinstance(data, dict):
        report.error("ASL-E001", "an ASL definition is an object with StartAt and States", "")
        return report.diagnostics
    if _schema_errors(report, data, None, "", "the state machine") and not isinstance(data.get("States"), dict):
        return report.diagnostics
    language = data.get("QueryLanguage", JSONPATH) if data.get("QueryLanguage") in (JSONPATH, JSONATA) else JSONPATH
    validator = _Validator(report, language)
    validator.machine(_Machine(data, "", language))
    return report.diagnostics
