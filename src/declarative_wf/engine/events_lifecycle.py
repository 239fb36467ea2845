"""Lifecycle CloudEvents only the engine sees: ``workflow.suspended``, ``workflow.resumed`` and
``workflow.cancelled`` of Serverless Workflow instances (docs/events.md).

Suspension, resumption and termination are done by the engine without running the workflow
code, so the interpreter's lifecycle observer never hears of them. This servicer adds them to
the sidecar service: after the engine accepted the request, it publishes the event on the bus
(the instance's start payload says whether it is a Serverless Workflow and its name). Best
effort, like the other lifecycle events: a failure to publish is logged, the request stands.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import grpc

from .eventbus import EventBus
from .protocol import pb
from .servicer import SidecarServicer

log = logging.getLogger("declarative_wf.engine.events")
SW_FORMAT = "sw1"


class LifecycleSidecarServicer(SidecarServicer):
    def __init__(self, backend: Any, health_ping_seconds: float, bus: EventBus) -> None:
        super().__init__(backend, health_ping_seconds)
        self.bus = bus

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
            name = sw_workflow_name(self.backend.get_instance(instance_id))
            if name is None:
                return
            from declarative_wf.activities.events import lifecycle_event

            now = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            record = {"instance": instance_id, "workflow": name, "time": now}
            self.bus.publish(lifecycle_event(f"workflow.{verb}", record))
        except Exception:  # best effort: the request itself succeeded
            log.exception("lifecycle event workflow.%s of %s not published", verb, instance_id)


def sw_workflow_name(row: Any) -> str | None:
    """The definition name of a Serverless Workflow instance (from its pinned start payload),
    None for other formats and for instances without a graph."""
    text = getattr(row, "input", None)
    if not text or '"sw1"' not in text:  # cheap test before parsing a possibly large payload
        return None
    try:
        payload = json.loads(text)
    except ValueError:
        return None
    graph = payload.get("ir") if isinstance(payload, dict) else None
    if not isinstance(graph, dict) or graph.get("format") != SW_FORMAT:
        return None
    return str(graph.get("name") or row.name)
