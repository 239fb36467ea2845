"""Live progress of one instance, read from its committed history.

The interpreter sends each activity an envelope naming the node that called it, so the
``taskScheduled`` events of the history say which step of the definition started; their
``taskCompleted`` / ``taskFailed`` events say when it finished. Durations come from the engine's
timestamps, so they are right even when the history is read late.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import grpc

from .engine.protocol import pb, pb_grpc, timestamp_to_micros
from .ir import Block, Node, Workflow
from .ir.serialize import graph_json

ProgressKind = Literal["started", "completed", "failed", "waiting"]

#: Timers further out than this are the SDK's "wait forever" timers of event waits.
_FOREVER_MICROS = 100 * 365 * 86400 * 1_000_000


@dataclass(frozen=True)
class ProgressEvent:
    """One step of an instance started, finished or began a wait."""

    kind: ProgressKind
    #: The node's label (or id); for timers "timer", for child workflows the child's name.
    label: str
    #: The IR node id, when known.
    node: str | None = None
    attempt: int = 1
    #: How long the step took (completed/failed) or will wait (waiting), in seconds.
    seconds: float | None = None
    #: ``"Type: message"`` of a failed step.
    error: str | None = None


def node_labels(workflow: Workflow) -> dict[str, str]:
    """Node id → label (the id when the node has none), for every node at every depth."""
    labels: dict[str, str] = {}
    for node in iter_nodes(workflow.body):
        labels.setdefault(node.id, node.label or node.id)
    return labels


def iter_nodes(value: Any) -> Iterable[Node]:
    """Every node inside ``value`` (a block, node, rule or tuple of them), depth first."""
    if isinstance(value, Block):
        for node in value.nodes.values():
            yield from iter_nodes(node)
    elif isinstance(value, Node):
        yield value
        for item in vars(value).values():
            if isinstance(item, (Block, tuple)):
                yield from iter_nodes(item)
    elif isinstance(value, tuple):
        for item in value:
            if isinstance(item, (Block, Node, tuple)):
                yield from iter_nodes(item)
            else:
                handler = getattr(item, "handler", None)  # catch rules own a handler block
                if isinstance(handler, Block):
                    yield from iter_nodes(handler)


@dataclass
class _Pending:
    label: str
    node: str | None
    attempt: int
    started: int  # micros


#: What a completion refers to when its start is not in the history we read.
_MISSING = _Pending("", None, 1, 0)


class HistoryWatcher:
    """Polls an instance's history over the sidecar protocol and reports new steps."""

    def __init__(self, address: str, instance_id: str, labels: Mapping[str, str]) -> None:
        self.instance_id = instance_id
        self.labels = dict(labels)
        self._channel = grpc.insecure_channel(address)
        self._stub = pb_grpc.TaskHubSidecarServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._execution: str | None = None
        self._seen = 0
        self._pending: dict[int, _Pending] = {}

    def close(self) -> None:
        self._channel.close()

    def poll(self) -> list[ProgressEvent]:
        """The progress since the last poll (nothing when the history cannot be read now)."""
        try:
            response = self._stub.GetInstanceHistory(pb.GetInstanceHistoryRequest(instanceId=self.instance_id), timeout=10)
        except grpc.RpcError:
            return []
        events = list(response.events)
        execution = _execution_id(events)
        if execution != self._execution or len(events) < self._seen:
            # Continue-as-new (or id reuse) replaced the history: start over on the new one.
            self._execution, self._seen, self._pending = execution, 0, {}
        fresh, self._seen = events[self._seen :], len(events)
        out: list[ProgressEvent] = []
        for event in fresh:
            progress = self._translate(event)
            if progress is not None:
                out.append(progress)
        return out

    def _translate(self, event: pb.HistoryEvent) -> ProgressEvent | None:
        kind = event.WhichOneof("eventType")
        now = timestamp_to_micros(event.timestamp)
        if kind == "taskScheduled":
            envelope = _json(event.taskScheduled.input.value)
            node = envelope.get("node") if isinstance(envelope, dict) and envelope.get("dwf") == 1 else None
            attempt = envelope.get("attempt", 1) if node is not None else 1
            label = self.labels.get(node, node) if isinstance(node, str) else event.taskScheduled.name
            pending = _Pending(label, node, attempt if isinstance(attempt, int) else 1, now)
            self._pending[event.eventId] = pending
            return ProgressEvent("started", pending.label, pending.node, pending.attempt)
        if kind == "childWorkflowInstanceCreated":
            payload = _json(event.childWorkflowInstanceCreated.input.value)
            ir = graph_json(payload.get("ir")) if isinstance(payload, dict) else None
            name = (ir.get("name") if isinstance(ir, dict) else None) or event.childWorkflowInstanceCreated.instanceId
            pending = _Pending(f"child workflow {name}", None, 1, now)
            self._pending[event.eventId] = pending
            return ProgressEvent("started", pending.label)
        if kind in ("taskCompleted", "childWorkflowInstanceCompleted"):
            pending = self._pending.pop(getattr(event, kind).taskScheduledId, _MISSING)
            if pending is _MISSING:
                return None
            return ProgressEvent("completed", pending.label, pending.node, pending.attempt, (now - pending.started) / 1e6)
        if kind in ("taskFailed", "childWorkflowInstanceFailed"):
            detail = getattr(event, kind)
            pending = self._pending.pop(detail.taskScheduledId, _MISSING)
            if pending is _MISSING:
                return None
            failure = detail.failureDetails
            error = f"{failure.errorType}: {failure.errorMessage}" if failure.errorMessage else failure.errorType
            return ProgressEvent("failed", pending.label, pending.node, pending.attempt, (now - pending.started) / 1e6, error)
        if kind == "timerCreated":
            fire_at = timestamp_to_micros(event.timerCreated.fireAt)
            if event.timerCreated.HasField("externalEvent") or fire_at - now > _FOREVER_MICROS:
                return None
            return ProgressEvent("waiting", event.timerCreated.name or "timer", seconds=max(0.0, (fire_at - now) / 1e6))
        return None


def _execution_id(events: list[pb.HistoryEvent]) -> str | None:
    for event in events:
        if event.WhichOneof("eventType") == "executionStarted":
            return event.executionStarted.workflowInstance.executionId.value or None
    return None


def _json(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None
