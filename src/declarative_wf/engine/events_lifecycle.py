"""Lifecycle CloudEvents only the engine sees: the suspension, resumption and cancellation of
Serverless Workflow instances and of their tasks in flight (docs/events.md).

Suspension, resumption and termination are done by the engine without running the workflow
code, so the interpreter's lifecycle observer never hears of them. This servicer adds them to
the sidecar service: after the engine accepted the request it publishes, in one batch,

* suspend: ``workflow.suspended``, then ``task.suspended`` for each task in flight;
* resume: ``workflow.resumed``, then ``task.resumed`` for each task in flight;
* terminate: ``task.cancelled`` for each task in flight (innermost first), then
  ``workflow.cancelled``;

each followed by its ``status-changed`` event unless ``DWF_LIFECYCLE_EVENTS`` says otherwise.

"Tasks in flight" are known from the lifecycle events themselves: every event published on
this engine's bus passes through :class:`OpenTasks`, which keeps, per instance, the tasks that
have a ``task.started`` and no ``task.completed`` / ``faulted`` / ``cancelled`` yet (a ``do``
task and the task running inside it are both in flight). The workers publish those events
asynchronously, so a suspend that follows a task's start by a few milliseconds may not see it
yet; the set is in memory, so after an engine restart an instance's earlier tasks are unknown.
Best effort, like the other lifecycle events: a failure to publish is logged, the request stands.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

import grpc

from declarative_wf.ir.serialize import graph_json

from .eventbus import EventBus
from .protocol import pb
from .servicer import SidecarServicer

log = logging.getLogger("declarative_wf.engine.events")
SW_FORMAT = "sw1"
_PREFIX = "io.serverlessworkflow."
#: Instances whose open tasks are remembered (the oldest are forgotten first).
MAX_INSTANCES = 10_000


class OpenTasks:
    """Per instance (the lifecycle events' ``subject``), the JSON Pointers of its tasks in
    flight, in start order. Fed by the bus with every published batch."""

    def __init__(self, limit: int = MAX_INSTANCES) -> None:
        self._open: OrderedDict[str, dict[str, None]] = OrderedDict()
        self._limit = limit
        self._lock = threading.Lock()

    def observe(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            kind = event.get("type")
            if not isinstance(kind, str) or not kind.startswith(_PREFIX):
                continue  # cheap: most events on a bus are not lifecycle events
            instance, data = event.get("subject"), event.get("data")
            if not isinstance(instance, str) or not isinstance(data, dict):
                continue
            verb = kind[len(_PREFIX):].removesuffix(".v1")
            with self._lock:
                if verb == "task.started" and isinstance(data.get("task"), str):
                    self._open.setdefault(instance, {})[data["task"]] = None
                    self._open.move_to_end(instance)
                    while len(self._open) > self._limit:
                        self._open.popitem(last=False)
                elif verb in ("task.completed", "task.faulted", "task.cancelled"):
                    self._open.get(instance, {}).pop(str(data.get("task")), None)
                elif verb in ("workflow.completed", "workflow.faulted", "workflow.cancelled"):
                    self._open.pop(instance, None)

    def of(self, instance: str) -> list[str]:
        with self._lock:
            return list(self._open.get(instance, {}))

    def forget(self, instance: str) -> None:
        with self._lock:
            self._open.pop(instance, None)


class LifecycleSidecarServicer(SidecarServicer):
    def __init__(self, backend: Any, health_ping_seconds: float, bus: EventBus) -> None:
        super().__init__(backend, health_ping_seconds)
        self.bus = bus
        self.open_tasks = OpenTasks()
        bus.observers.append(self.open_tasks.observe)

    async def SuspendInstance(self, request: pb.SuspendRequest, context: grpc.aio.ServicerContext) -> pb.SuspendResponse:
        answer = await super().SuspendInstance(request, context)
        self._publish("suspended", request.instanceId)
        return answer

    async def ResumeInstance(self, request: pb.ResumeRequest, context: grpc.aio.ServicerContext) -> pb.ResumeResponse:
        answer = await super().ResumeInstance(request, context)
        self._publish("resumed", request.instanceId)
        return answer

    async def TerminateInstance(self, request: pb.TerminateRequest, context: grpc.aio.ServicerContext) -> pb.TerminateResponse:
        answer = await super().TerminateInstance(request, context)
        self._publish("cancelled", request.instanceId)
        return answer

    def _publish(self, verb: str, instance_id: str) -> None:
        try:
            from declarative_wf.activities.events import (
                lifecycle_events,
                lifecycle_mode,
            )

            mode = lifecycle_mode()
            if mode == "off":
                return
            definition = sw_definition(self.backend.get_instance(instance_id))
            if definition is None:
                return
            now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            record = {"instance": instance_id, "time": now, **definition}
            tasks = self.open_tasks.of(instance_id)
            if verb == "cancelled":
                tasks.reverse()  # the innermost task ends first, then its parents
            task_events = [e for task in tasks for e in lifecycle_events(f"task.{verb}", {**record, "reference": task}, mode)]
            workflow_events = lifecycle_events(f"workflow.{verb}", record, mode)
            batch = task_events + workflow_events if verb == "cancelled" else workflow_events + task_events
            self.bus.publish_many(batch)
        except Exception:  # best effort: the request itself succeeded
            log.exception("lifecycle event workflow.%s of %s not published", verb, instance_id)


def sw_definition(row: Any) -> dict[str, Any] | None:
    """``{workflow, namespace, version}`` of a Serverless Workflow instance (from its pinned
    start payload), None for other formats and for instances without a graph."""
    text = getattr(row, "input", None)
    # A cheap test before parsing a possibly large payload (unquoted: the graph is JSON text
    # inside the payload, its quotes escaped).
    if not text or "sw1" not in text:
        return None
    try:
        payload = json.loads(text)
    except ValueError:
        return None
    graph = graph_json(payload.get("ir")) if isinstance(payload, dict) else None
    if not isinstance(graph, dict) or graph.get("format") != SW_FORMAT:
        return None
    options = graph.get("options")
    namespace = options.get("namespace") if isinstance(options, dict) else None
    return {"workflow": str(graph.get("name") or row.name), "namespace": namespace, "version": graph.get("version")}

