"""Instances as the APIs show them: Dapr's ``GetWorkflowResponse`` and our richer view.

An instance started through the service carries its pinned graph in its input
(``{"ir", "ir_hash", "input"}``, see ``interpreter.workflow.make_payload``); the views unwrap
it, so clients see the input they gave, the definition's name, version and hash, never the
graph.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from google.protobuf import json_format

from declarative_wf.engine.protocol import status_name
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
from declarative_wf.ir.serialize import graph_json
from declarative_wf.runner import error_object, parse_payload

#: Runtime statuses Dapr's API reports (``pkg/api/universal``); anything else is UNKNOWN there.
DAPR_STATUSES = frozenset(
    {"RUNNING", "COMPLETED", "CONTINUED_AS_NEW", "FAILED", "CANCELED", "TERMINATED", "PENDING", "SUSPENDED"}
)
#: Statuses the engine's filtered listing accepts (ours also shows STALLED).
LIST_STATUSES = tuple(sorted(DAPR_STATUSES | {"STALLED"}))

INPUT = "dapr.workflow.input"
OUTPUT = "dapr.workflow.output"
CUSTOM_STATUS = "dapr.workflow.custom_status"
FAILURE_TYPE = "dapr.workflow.failure.error_type"
FAILURE_MESSAGE = "dapr.workflow.failure.error_message"
FAILURE_STACK = "dapr.workflow.failure.stack_trace"


def is_pinned(value: Any) -> bool:
    """Whether a start input is a payload that carries its graph."""
    return isinstance(value, dict) and "ir" in value and "ir_hash" in value


@dataclass(frozen=True)
class Failure:
    error_type: str
    message: str
    stack_trace: str | None


@dataclass(frozen=True)
class InstanceView:
    """One instance, read from the engine."""

    instance_id: str
    #: The engine's workflow name: the definition's name (children of a graph: its name too).
    workflow_name: str
    status: str
    created_at: str
    last_updated_at: str
    #: JSON texts as stored (the input unwrapped from the pinned payload); None when absent.
    input: str | None
    output: str | None
    custom_status: str | None
    failure: Failure | None
    version: str | None = None
    hash: str | None = None
    format: str | None = None

    @classmethod
    def from_state(cls, state: Any, version_of: Any = None) -> InstanceView:
        """From the protocol's ``WorkflowState``; ``version_of(hash)`` names registry versions."""
        raw_input = state.input.value if state.HasField("input") else None
        name = state.name
        version = hash_ = fmt = None
        user_input = raw_input
        payload = parse_payload(raw_input)
        if is_pinned(payload):
            graph = graph_json(payload.get("ir")) or {}
            hash_ = str(payload.get("ir_hash"))
            fmt = graph.get("format")
            version = graph.get("version")
            if version_of is not None:
                version = version_of(hash_) or version
            user_input = json.dumps(payload.get("input"), separators=(",", ":"), ensure_ascii=False)
            if name == WORKFLOW_NAME and isinstance(graph.get("name"), str):
                name = graph["name"]  # started by the plain client, or a child: name it by its graph
        failure = None
        if state.HasField("failureDetails"):
            details = state.failureDetails
            stack = details.stackTrace.value if details.HasField("stackTrace") else None
            failure = Failure(details.errorType, details.errorMessage, stack)
        return cls(
            instance_id=state.instanceId,
            workflow_name=name,
            status=status_name(state.workflowStatus),
            created_at=state.createdTimestamp.ToJsonString(),
            last_updated_at=state.lastUpdatedTimestamp.ToJsonString(),
            input=user_input,
            output=state.output.value if state.HasField("output") else None,
            custom_status=state.customStatus.value if state.HasField("customStatus") else None,
            failure=failure,
            version=None if version is None else str(version),
            hash=hash_,
            format=fmt,
        )

    @property
    def dapr_status(self) -> str:
        return self.status if self.status in DAPR_STATUSES else "UNKNOWN"

    def dapr_properties(self) -> dict[str, str]:
        properties: dict[str, str] = {}
        if self.input is not None:
            properties[INPUT] = self.input
        if self.output is not None and self.failure is None:
            properties[OUTPUT] = self.output
        if self.custom_status is not None:
            properties[CUSTOM_STATUS] = self.custom_status
        if self.failure is not None:
            properties[FAILURE_TYPE] = self.failure.error_type
            properties[FAILURE_MESSAGE] = self.failure.message
            if self.failure.stack_trace:
                properties[FAILURE_STACK] = self.failure.stack_trace
        return properties

    def dapr_json(self) -> dict[str, Any]:
        """Dapr's ``GetWorkflowResponse`` as protojson (``GET /v1.0/workflows/dapr/{id}``)."""
        return {
            "instanceID": self.instance_id,
            "workflowName": self.workflow_name,
            "createdAt": self.created_at,
            "lastUpdatedAt": self.last_updated_at,
            "runtimeStatus": self.dapr_status,
            "properties": self.dapr_properties(),
        }

    def to_json(self) -> dict[str, Any]:
        """Our view (``GET /api/v1/instances/{id}``): JSON values, not JSON texts."""
        error = None
        if self.failure is not None:
            error = error_object(self.format or "dsl", self.failure.error_type, self.failure.message)
        return {
            "instanceID": self.instance_id,
            "workflowName": self.workflow_name,
            "version": self.version,
            "hash": self.hash,
            "runtimeStatus": self.status,
            "createdAt": self.created_at,
            "lastUpdatedAt": self.last_updated_at,
            "input": parse_payload(self.input),
            "output": parse_payload(self.output) if self.failure is None else None,
            "customStatus": parse_payload(self.custom_status),
            "error": error,
            "failure": None
            if self.failure is None
            else {"errorType": self.failure.error_type, "message": self.failure.message, "stackTrace": self.failure.stack_trace},
        }


def summary_json(item: Any) -> dict[str, Any]:
    """An engine listing entry (``engine.InstanceSummary``) in our field names."""
    return {
        "instanceID": item.instance_id,
        "workflowName": item.name,
        "runtimeStatus": item.status,
        "createdAt": item.created_at,
        "lastUpdatedAt": item.last_updated_at,
        "completedAt": item.completed_at,
        "parentInstanceID": item.parent_instance_id,
        "customStatus": parse_payload(item.custom_status),
    }


def history_json(event: Any) -> dict[str, Any]:
    """One history event as protojson plus its ``type``; a pinned start input is unwrapped."""
    data: dict[str, Any] = dict(json_format.MessageToDict(event))
    kind = event.WhichOneof("eventType")
    data["type"] = kind
    body = data.get(kind) if kind else None
    if isinstance(body, dict) and kind in ("executionStarted", "continueAsNew"):
        payload = parse_payload(body.get("input"))
        if is_pinned(payload):
            body["input"] = json.dumps(payload.get("input"), separators=(",", ":"), ensure_ascii=False)
            body["irHash"] = payload.get("ir_hash")
    return data
