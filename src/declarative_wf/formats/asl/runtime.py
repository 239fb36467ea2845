"""What running an ASL graph needs beyond the generic interpreter: the context object
(``$$`` / ``$states.context``), AWS's error names and causes, and the data-size limit.

Registered as the interpreter's format profile for ``"asl"`` (the interpreter imports this
module on first use). Everything here is deterministic: times come from the workflow clock,
event ids from a counter that follows the execution path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

from declarative_wf.expressions import asl_eval  # noqa: F401 - registers the jsonpath/jsonata languages
from declarative_wf.expressions.asl_paths import json_text
from declarative_wf.interpreter.commands import WorkflowError
from declarative_wf.interpreter.profiles import FormatProfile, register_profile
from declarative_wf.interpreter.runtime import RunContext
from declarative_wf.ir import Node

__all__ = ["ACCOUNT", "MAX_PAYLOAD_BYTES", "REGION", "AslProfile", "execution_arn", "state_machine_arn"]

#: Step Functions limits a state's input and output to 256 KiB.
MAX_PAYLOAD_BYTES = 256 * 1024
#: The region and account that local ARNs name.
REGION = "local"
ACCOUNT = "000000000000"

#: History events AWS records for a state besides its "entered" event: when it is entered
#: (Task: scheduled + started; Map/Parallel: started) and when it leaves (exited; Task and
#: Map/Parallel: succeeded too). Only error causes show these numbers ("entered at the event
#: id #N"); they are exact for sequences of states and approximate inside Map and Parallel.
_EVENTS_ON_ENTRY = {"task": 2, "child": 2, "foreach": 1, "parallel": 1}
_EVENTS_ON_EXIT = {"task": 2, "child": 2, "foreach": 2, "parallel": 2, "fail": 0}


def state_machine_arn(name: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:{name}"


def execution_arn(name: str, instance_id: str) -> str:
    return f"arn:aws:states:{REGION}:{ACCOUNT}:execution:{name}:{instance_id}"


def _iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class AslProfile(FormatProfile):
    def start(self, rt: RunContext) -> None:
        rt.format_state.setdefault("events", 1)  # ExecutionStarted is event 1
        rt.format_state.setdefault("entered", {})
        rt.format_state.setdefault("entered_time", {})

    # -- the context object -----------------------------------------------------------------

    def context(self, rt: RunContext, node: Node | None, variables: Mapping[str, Any], step: Mapping[str, Any]) -> Mapping[str, Any]:
        name = rt.workflow.name
        # A Map's chunk child is part of its parent's execution: it reports the parent's id
        # and start time (handed down in the chunk's payload, see interpreter/nodes/concurrent.py).
        found = rt.context.get("execution")
        execution: Mapping[str, Any] = found if isinstance(found, dict) else {}
        execution_id = str(execution.get("instance_id") or rt.instance_id)
        context: dict[str, Any] = {
            "Execution": {
                "Id": execution_arn(name, execution_id),
                "Input": rt.input,
                "Name": execution_id,
                "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/declarative-wf",
                "StartTime": execution.get("started_at") or _iso(rt.started_at),
                "RedriveCount": 0,
            },
            "StateMachine": {"Id": state_machine_arn(name), "Name": name},
        }
        if node is not None:
            entered = rt.format_state.get("entered_time", {}).get(node.id)
            context["State"] = {
                "EnteredTime": _iso(entered if entered is not None else _now(rt)),
                "Name": node.label or node.id,
                "RetryCount": max(0, int(step.get("attempt", 1)) - 1),
            }
        if "task_token" in step:  # a Task that waits for a callback (.waitForTaskToken)
            context["Task"] = {"Token": step["task_token"]}
        if "item" in step:
            context["Map"] = {"Item": {"Index": step.get("index"), "Value": step["item"]}}
        return context

    # -- history events -----------------------------------------------------------------------

    def enter(self, rt: RunContext, node: Node, data: Any) -> None:
        state = rt.format_state
        state["events"] = state.get("events", 1) + 1
        state.setdefault("entered", {})[node.id] = state["events"]
        state["events"] += _EVENTS_ON_ENTRY.get(node.kind, 0)
        if rt.clock is not None:
            state.setdefault("entered_time", {})[node.id] = rt.clock()

    def leave(self, rt: RunContext, node: Node, data: Any) -> None:
        rt.format_state["events"] = rt.format_state.get("events", 1) + _EVENTS_ON_EXIT.get(node.kind, 1)
        if _too_big(data):
            raise WorkflowError(
                "States.DataLimitExceeded",
                f"The state/task '{node.label or node.id}' returned a result with a size exceeding the maximum "
                "number of bytes service limit.",
                kinds=frozenset({"runtime", "asl"}),
            )

    # -- errors -----------------------------------------------------------------------------

    def translate(self, rt: RunContext, node: Node | None, error: WorkflowError) -> WorkflowError:
        kinds = error.kinds
        if "asl" in kinds:
            return error
        if node is None:  # the execution's own TimeoutSeconds
            if error.type == "Timeout" and "timeout" in kinds:
                error.type = "States.Timeout"
            return error
        name = node.label or node.id
        if "merge" in kinds:
            error.type = "States.ResultPathMatchFailure"
            error.message = f"Unable to apply ResultPath to the input of state '{name}': {error.message}"
        elif "expression" in kinds or (error.type == "Runtime" and "runtime" in kinds):
            if error.type == "Runtime":
                error.type = "States.Runtime"
            entered = rt.format_state.get("entered", {}).get(node.id, 2)
            error.message = (
                f"An error occurred while executing the state '{name}' (entered at the event id #{entered}). "
                f"{error.message}"
            )
        elif error.type == "Timeout" and "timeout" in kinds:
            error.type = "States.Timeout"
        elif error.type == "HeartbeatTimeout" and "timeout" in kinds:
            error.type = "States.HeartbeatTimeout"
        elif "callback" in kinds:
            pass  # SendTaskFailure's error and cause, exactly as sent
        elif error.type in ("ItemReaderFailed", "ResultWriterFailed") and node.kind == "foreach":
            error.type = f"States.{error.type}"
        elif error.type == "NoChoiceMatched":
            error.type = "States.NoChoiceMatched"
            error.message = f"No Matches! in state '{name}'"
        elif error.type == "ToleratedFailureExceeded":
            error.type = "States.ExceedToleratedFailureThreshold"
            error.message = "The specified tolerance threshold was exceeded"
        elif "task" in kinds and node.kind == "task" and not _is_json_object(error.message):
            # As Lambda reports a function's exception: the class name is the error, the cause
            # a JSON object with the message and the type.
            error.message = json_text({"errorMessage": error.message, "errorType": error.type})
        error.kinds = kinds | {"asl"}
        return error


def _now(rt: RunContext) -> datetime | None:
    return rt.clock() if rt.clock is not None else rt.started_at


def _too_big(data: Any) -> bool:
    if isinstance(data, (bool, int, float)) or data is None:
        return False
    if isinstance(data, str):
        return len(data) * 4 + 2 > MAX_PAYLOAD_BYTES and len(json.dumps(data).encode()) > MAX_PAYLOAD_BYTES
    try:
        text = json.dumps(data, separators=(",", ":"), ensure_ascii=False)
    except (TypeError, ValueError, RecursionError):
        return False
    return len(text) > MAX_PAYLOAD_BYTES // 4 and len(text.encode()) > MAX_PAYLOAD_BYTES


def _is_json_object(text: str) -> bool:
    if not text.startswith("{"):
        return False
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


register_profile("asl", AslProfile())
