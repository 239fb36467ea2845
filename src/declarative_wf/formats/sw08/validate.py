"""Validating a Serverless Workflow 0.8 definition: the shape (``schemas/sw08.schema.json``, written
from the specification text), then the semantic rules the schema cannot express — every
problem with its FILE:LINE:COL, all of them at once.

Order: the top level without its states, then each state against the schema definition of its
``type`` (so a bad state gets messages about *its* fields, not an ``if/then`` summary). When
the shape is right, the semantic checks run: state names, ``start``, transitions,
reachability, compensation states, references to functions / events / retries / errors, jq
syntax of every expression and ISO 8601 durations. Codes: :mod:`.codes`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from declarative_wf.diagnostics import Diagnostic, quote, suggest
from declarative_wf.loading import LoadedDocument, pointer_join

from .definitions import (
    STATE_KINDS,
    Definitions,
    event_timeout,
    legacy_event_timeout,
    resolve_definitions,
    start_state,
    transitions_of,
    workflow_run_before,
)
from .leaf_checks import _LeafChecks
from .schema import Report, join_all, load_schema, schema_errors

__all__ = ["validate_document"]


@dataclass
class _Checker(_LeafChecks):
    names: dict[str, int] = field(default_factory=dict)

    def run(self) -> None:
        data = self.document.data
        states: list[dict[str, Any]] = data["states"]
        for index, state in enumerate(states):
            pointer = pointer_join("/states", index)
            if state["name"] in self.names:
                self.report.error(
                    "SW08-E010",
                    f"the state name {quote(state['name'])} is used twice",
                    pointer_join(pointer, "name"),
                )
            else:
                self.names[state["name"]] = index
        if data.get("expressionLang", "jq") != "jq":
            self.report.error(
                "SW08-E040",
                f"expressionLang {quote(str(data['expressionLang']))} is not supported: only jq",
                "/expressionLang",
            )
        start = start_state(data)
        if start is not None and start not in self.names:
            where = (
                "/start/stateName" if isinstance(data.get("start"), dict) else "/start"
            )
            self.report.error(
                "SW08-E011",
                f"'start' names the state {quote(start)}, which does not exist",
                where,
                hint=suggest(start, self.names),
            )
        self.graph(states, start)
        for index, state in enumerate(states):
            self.state(state, pointer_join("/states", index))
        self.workflow_level(data)

    # -- graph ----------------------------------------------------------------------------

    def graph(self, states: list[dict[str, Any]], start: str | None) -> None:
        edges: dict[str, list[str]] = {state["name"]: [] for state in states}
        compensation_targets: set[str] = set()
        for index, state in enumerate(states):
            pointer = pointer_join("/states", index)
            for target, where in transitions_of(state, pointer):
                if target not in self.names:
                    # A warning, like undefined functions and events: the transition compiles
                    # into a node that fails with UndefinedReference (example 24 has one).
                    self.report.warning(
                        "SW08-W007", f"state {quote(state['name'])} goes to {quote(target)}, which does not exist: "
                        "taking this transition fails with UndefinedReference", where,
                        hint=suggest(target, self.names) or "add the state or fix the name",
                    )  # fmt: skip
                    continue
                edges[state["name"]].append(target)
                used = states[self.names[target]].get("usedForCompensation") is True
                if used and state.get("usedForCompensation") is not True:
                    self.report.error(
                        "SW08-E014", f"{quote(target)} is a compensation state (usedForCompensation); only compensation "
                        "states may transition to it", where,
                    )  # fmt: skip
            by = state.get("compensatedBy")
            if isinstance(by, str):
                where = pointer_join(pointer, "compensatedBy")
                if by not in self.names:
                    self.report.error(
                        "SW08-E013",
                        f"compensatedBy names {quote(by)}, which does not exist",
                        where,
                        hint=suggest(by, self.names),
                    )
                elif states[self.names[by]].get("usedForCompensation") is not True:
                    self.report.error(
                        "SW08-E013",
                        f"the compensation state {quote(by)} needs 'usedForCompensation: true'",
                        where,
                    )
                else:
                    edges[state["name"]].append(by)
                    compensation_targets.add(by)
        if start is None or start not in self.names:
            return
        roots = [start]
        run_before = workflow_run_before(self.document.data)
        if run_before is not None:
            if run_before in self.names:
                roots.append(run_before)
            else:
                self.report.error(
                    "SW08-E012", f"runBefore names {quote(run_before)}, which does not exist",
                    "/timeouts/workflowExecTimeout/runBefore", hint=suggest(run_before, self.names),
                )  # fmt: skip
        if states[self.names[start]].get("usedForCompensation") is True:
            self.report.error(
                "SW08-E014",
                f"the start state {quote(start)} is marked usedForCompensation",
                "/start" if "start" in self.document.data else "/states/0",
            )
        seen, todo = set(roots), list(roots)
        while todo:
            for target in edges.get(todo.pop(), []):
                if target not in seen:
                    seen.add(target)
                    todo.append(target)
        for index, state in enumerate(states):
            if state["name"] not in seen:
                self.report.error(
                    "SW08-E015", f"state {quote(state['name'])} cannot be reached from the start state {quote(start)}",
                    pointer_join(pointer_join("/states", index), "name"),
                )  # fmt: skip

    # -- one state ----------------------------------------------------------------------------

    def state(self, state: dict[str, Any], pointer: str) -> None:
        kind = state["type"]
        self.filters(
            state.get("stateDataFilter"), pointer_join(pointer, "stateDataFilter")
        )
        for index, handler in enumerate(state.get("onErrors") or []):
            where = join_all(pointer, ("onErrors", index))
            refs = (
                [handler["errorRef"]]
                if "errorRef" in handler
                else handler.get("errorRefs", [])
            )
            for position, name in enumerate(refs):
                at = (
                    pointer_join(where, "errorRef")
                    if "errorRef" in handler
                    else join_all(where, ("errorRefs", position))
                )
                self.ref("errors", name, at)
            self.end(handler.get("end"), pointer_join(where, "end"))
        self.end(state.get("end"), pointer_join(pointer, "end"))
        self.transition_events(
            state.get("transition"), pointer_join(pointer, "transition")
        )
        self.timeouts(state.get("timeouts"), pointer_join(pointer, "timeouts"))
        for index, action in enumerate(state.get("actions") or []):
            self.action(action, join_all(pointer, ("actions", index)))
        if kind == "event":
            for index, on_event in enumerate(state["onEvents"]):
                where = join_all(pointer, ("onEvents", index))
                for position, name in enumerate(on_event["eventRefs"]):
                    self.ref(
                        "events",
                        name,
                        join_all(where, ("eventRefs", position)),
                        direction="consumed",
                    )
                self.filters(
                    on_event.get("eventDataFilter"),
                    pointer_join(where, "eventDataFilter"),
                )
                for position, action in enumerate(on_event.get("actions") or []):
                    self.action(action, join_all(where, ("actions", position)))
        elif kind == "switch":
            for index, condition in enumerate(state.get("dataConditions") or []):
                self.expression(
                    condition["condition"],
                    join_all(pointer, ("dataConditions", index, "condition")),
                )
                self.end(
                    condition.get("end"),
                    join_all(pointer, ("dataConditions", index, "end")),
                )
            for index, condition in enumerate(state.get("eventConditions") or []):
                where = join_all(pointer, ("eventConditions", index))
                self.ref(
                    "events",
                    condition["eventRef"],
                    pointer_join(where, "eventRef"),
                    direction="consumed",
                )
                self.filters(
                    condition.get("eventDataFilter"),
                    pointer_join(where, "eventDataFilter"),
                )
                self.end(condition.get("end"), pointer_join(where, "end"))
            default = state["defaultCondition"]
            self.end(default.get("end"), join_all(pointer, ("defaultCondition", "end")))
            if legacy_event_timeout(state):
                self.duration(
                    state["eventTimeout"], pointer_join(pointer, "eventTimeout")
                )
            if state.get("eventConditions") and not event_timeout(state):
                self.report.warning(
                    "SW08-W001", "an event-based switch without timeouts.eventTimeout waits for its events forever; "
                    "defaultCondition is only taken after an eventTimeout", pointer_join(pointer, "eventConditions"),
                )  # fmt: skip
        elif kind == "sleep":
            self.duration(state["duration"], pointer_join(pointer, "duration"))
        elif kind == "parallel":
            for index, branch in enumerate(state["branches"]):
                for position, action in enumerate(branch["actions"]):
                    self.action(
                        action,
                        join_all(pointer, ("branches", index, "actions", position)),
                    )
                self.timeouts(
                    branch.get("timeouts"),
                    join_all(pointer, ("branches", index, "timeouts")),
                )
            if state.get("completionType") == "atLeast":
                count = state.get("numCompleted")
                number = (
                    int(count)
                    if isinstance(count, int)
                    or (isinstance(count, str) and count.isdigit())
                    else None
                )
                if number is None or number > len(state["branches"]):
                    self.report.error(
                        "SW08-E016", f"completionType atLeast needs numCompleted between 0 and {len(state['branches'])}",
                        pointer_join(pointer, "numCompleted" if "numCompleted" in state else "completionType"),
                    )  # fmt: skip
        elif kind == "foreach":
            for key in ("inputCollection", "outputCollection"):
                if key in state:
                    self.expression(state[key], pointer_join(pointer, key))
            batch = state.get("batchSize")
            if isinstance(batch, str) and not (batch.isdigit() and int(batch) > 0):
                self.report.error(
                    "SW08-E032",
                    f"batchSize {quote(batch)} is not a positive whole number",
                    pointer_join(pointer, "batchSize"),
                )
        elif kind == "callback":
            self.action(state["action"], pointer_join(pointer, "action"))
            self.ref(
                "events",
                state["eventRef"],
                pointer_join(pointer, "eventRef"),
                direction="consumed",
            )
            self.filters(
                state.get("eventDataFilter"), pointer_join(pointer, "eventDataFilter")
            )

    def action(self, action: dict[str, Any], pointer: str) -> None:
        ref = action.get("functionRef")
        if ref is not None:
            name = ref if isinstance(ref, str) else ref["refName"]
            where = (
                pointer_join(pointer, "functionRef")
                if isinstance(ref, str)
                else join_all(pointer, ("functionRef", "refName"))
            )
            self.ref("functions", name, where)
            if isinstance(ref, dict) and "arguments" in ref:
                self.template(
                    ref["arguments"], join_all(pointer, ("functionRef", "arguments"))
                )
        event = action.get("eventRef")
        if isinstance(event, dict):
            self.ref(
                "events",
                event["triggerEventRef"],
                join_all(pointer, ("eventRef", "triggerEventRef")),
                direction="produced",
            )
            self.ref(
                "events",
                event["resultEventRef"],
                join_all(pointer, ("eventRef", "resultEventRef")),
                direction="consumed",
            )
            if "data" in event:
                self.template(event["data"], join_all(pointer, ("eventRef", "data")))
            if "resultEventTimeout" in event:
                self.duration(
                    event["resultEventTimeout"],
                    join_all(pointer, ("eventRef", "resultEventTimeout")),
                )
        if "retryRef" in action:
            self.ref("retries", action["retryRef"], pointer_join(pointer, "retryRef"))
        for key in ("retryableErrors", "nonRetryableErrors"):
            for index, name in enumerate(action.get(key) or []):
                self.ref("errors", name, join_all(pointer, (key, index)))
        self.filters(
            action.get("actionDataFilter"), pointer_join(pointer, "actionDataFilter")
        )
        if "condition" in action:
            self.expression(action["condition"], pointer_join(pointer, "condition"))
        for key, value in (action.get("sleep") or {}).items():
            self.duration(value, join_all(pointer, ("sleep", key)))

    def end(self, end: Any, pointer: str) -> None:
        if not isinstance(end, dict):
            return
        for index, produced in enumerate(end.get("produceEvents") or []):
            self.ref(
                "events",
                produced["eventRef"],
                join_all(pointer, ("produceEvents", index, "eventRef")),
                direction="produced",
            )
            if "data" in produced:
                self.template(
                    produced["data"],
                    join_all(pointer, ("produceEvents", index, "data")),
                )
        continue_as = end.get("continueAs")
        if isinstance(continue_as, dict) and "data" in continue_as:
            self.template(
                continue_as["data"], join_all(pointer, ("continueAs", "data"))
            )

    def transition_events(self, transition: Any, pointer: str) -> None:
        if isinstance(transition, dict):
            self.end({"produceEvents": transition.get("produceEvents")}, pointer)

    def timeouts(self, timeouts: Any, pointer: str) -> None:
        if not isinstance(timeouts, dict):
            return
        for key, value in timeouts.items():
            if isinstance(value, str):
                self.duration(value, pointer_join(pointer, key))
            elif isinstance(value, dict):
                for sub in ("duration", "single", "total"):
                    if sub in value:
                        self.duration(value[sub], join_all(pointer, (key, sub)))

    def workflow_level(self, data: Mapping[str, Any]) -> None:
        self.timeouts(data.get("timeouts"), "/timeouts")
        for name, retry in (self.defs.retries or {}).items():
            where = self.defs.pointers.get(("retries", name), "")
            for key in ("delay", "maxDelay", "increment"):
                if key in retry:
                    self.duration(
                        retry[key], pointer_join(where, key) if where else "/retries"
                    )
            for key, kind in (("maxAttempts", int), ("multiplier", float)):
                if isinstance(retry.get(key), str) and not _is_number(retry[key], kind):
                    self.report.error(
                        "SW08-E032",
                        f"{key} {quote(retry[key])} is not a number",
                        pointer_join(where, key) if where else "/retries",
                        hint="write e.g. 3" if kind is int else "write e.g. 1.5",
                    )
            jitter = retry.get("jitter")
            if isinstance(jitter, str):
                self.duration(
                    jitter, pointer_join(where, "jitter") if where else "/retries"
                )
        for name, function in (self.defs.functions or {}).items():
            where = self.defs.pointers.get(("functions", name), "")
            if function.get("type") == "expression" and where:
                self.expression(
                    function["operation"], pointer_join(where, "operation"), bare=True
                )
            ref = function.get("authRef")
            auth = data.get("auth")
            if ref is not None and isinstance(auth, list) and where:
                wanted = ref if isinstance(ref, str) else ref.get("resource")
                names = [a.get("name") for a in auth if isinstance(a, dict)]
                if wanted not in names:
                    self.report.error(
                        "SW08-E025",
                        f"authRef {quote(str(wanted))} is not a defined auth",
                        pointer_join(where, "authRef"),
                        hint=suggest(str(wanted), [str(n) for n in names])
                        or "add it to 'auth'",
                    )


def _is_number(text: str, kind: type) -> bool:
    try:
        kind(text)
    except ValueError:
        return False
    return True


def validate_document(
    document: LoadedDocument,
) -> tuple[list[Diagnostic], Definitions | None]:
    """Every problem of the document, and its resolved definitions (None when the shape is wrong)."""
    report = Report(document)
    data = document.data
    broken = schema_errors(report, data, None, "", "the workflow")
    known = set(load_schema()["properties"])
    for key in data:
        if key not in known:
            # Allowed by the spec ("Additional Properties"), ignored by this runtime: most often a typo.
            close = suggest(key, known)
            report.warning("SW08-W006", f"the field {quote(key)} is not a 0.8 field and is ignored", pointer_join("", key), key=True,
                           hint=close or "use 'metadata' for custom information")  # fmt: skip
    states = data.get("states")
    for index, state in enumerate(states if isinstance(states, list) else []):
        pointer = pointer_join("/states", index)
        if not isinstance(state, dict):
            report.error("SW08-E001", f"state {index + 1} must be an object", pointer)
            broken = True
            continue
        kind = state.get("type")
        if kind not in STATE_KINDS:
            close = suggest(str(kind), STATE_KINDS) if isinstance(kind, str) else None
            where = pointer_join(pointer, "type") if "type" in state else pointer
            message = (
                f"unknown state type {quote(str(kind))}"
                if "type" in state
                else "a state needs the field 'type'"
            )
            report.error(
                "SW08-E002",
                message,
                where,
                hint=close or f"one of: {', '.join(STATE_KINDS)}",
            )
            broken = True
            continue
        name = state.get("name")
        what = (
            f"{kind} state {quote(name)}"
            if isinstance(name, str)
            else f"a {kind} state"
        )
        if legacy_event_timeout(state):
            report.warning(
                "SW08-W008", "eventTimeout on the switch state is the 0.7 layout (the official 0.8 schema rejects it); "
                "read as timeouts.eventTimeout", pointer_join(pointer, "eventTimeout"), key=True,
                hint="write timeouts: {eventTimeout: ...}",
            )  # fmt: skip
            state = {
                key: value for key, value in state.items() if key != "eventTimeout"
            }
        broken = schema_errors(report, state, f"{kind}State", pointer, what) or broken
    if broken:
        return report.diagnostics, None
    definitions = resolve_definitions(document, report)
    _Checker(document, report, definitions).run()
    return report.diagnostics, definitions
