"""gRPC adapter: ``TaskHubSidecarService`` (the Dapr fork) on top of :class:`Backend`.

Only translation lives here: request validation, protobuf <-> row conversion, and engine
errors -> gRPC status codes. Every method runs on the engine's event loop.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import grpc
from google.protobuf import empty_pb2

from .backend import Backend
from .events import EngineError, InvalidArgument
from .json_rpc import json_service
from .protocol import (
    TERMINAL_STATUSES,
    Status,
    micros_to_timestamp,
    now_micros,
    pb,
    pb_grpc,
    status_from_name,
    status_name,
    string_value,
    timestamp_to_micros,
)
from .store import InstanceFilter, InstanceRow
from .turns import StartRequest

log = logging.getLogger("declarative_wf.engine")

T = TypeVar("T")

# Child workflow ids made by the SDK look like "<parent>:0001", so the engine accepts more than
# Dapr's public API does (that API, in declarative_wf.api, applies Dapr's stricter rule).
_INSTANCE_ID = re.compile(r"^[^\s\x00-\x1f\x7f]{1,256}$")
MAX_PAGE_SIZE = 10_000


def validate_instance_id(instance_id: str) -> str:
    if not _INSTANCE_ID.match(instance_id):
        raise InvalidArgument(
            f"invalid instance ID {instance_id[:80]!r}: use 1 to 256 visible characters without spaces"
        )
    return instance_id


def to_workflow_state(row: InstanceRow, with_payloads: bool) -> pb.WorkflowState:
    state = pb.WorkflowState(
        instanceId=row.instance_id,
        name=row.name,
        version=string_value(row.version),
        workflowStatus=row.status,
        createdTimestamp=micros_to_timestamp(row.created_at),
        lastUpdatedTimestamp=micros_to_timestamp(row.last_updated_at),
        customStatus=string_value(row.custom_status),
        executionId=string_value(row.execution_id),
        parentInstanceId=string_value(row.parent_instance_id),
        tags=json.loads(row.tags) if row.tags else {},
    )
    if with_payloads:
        if row.input is not None:
            state.input.value = row.input
        if row.output is not None:
            state.output.value = row.output
    if row.failure:
        state.failureDetails.ParseFromString(row.failure)
    if row.scheduled_start_at is not None:
        state.scheduledStartTimestamp.CopyFrom(micros_to_timestamp(row.scheduled_start_at))
    if row.completed_at is not None:
        state.completedTimestamp.CopyFrom(micros_to_timestamp(row.completed_at))
    if row.started_at is not None:
        state.startedAt.CopyFrom(micros_to_timestamp(row.started_at))
    return state


class SidecarServicer(pb_grpc.TaskHubSidecarServiceServicer):
    def __init__(self, backend: Backend, health_ping_seconds: float) -> None:
        self.backend = backend
        self.health_ping_seconds = health_ping_seconds

    async def _call(self, context: grpc.aio.ServicerContext, action: Callable[[], T]) -> T:
        try:
            return action()
        except EngineError as error:
            await context.abort(error.code, error.message)
            raise  # unreachable: abort raises

    async def Hello(self, request: empty_pb2.Empty, context: grpc.aio.ServicerContext) -> empty_pb2.Empty:
        return empty_pb2.Empty()

    async def StartInstance(self, request: pb.CreateInstanceRequest, context: grpc.aio.ServicerContext) -> pb.CreateInstanceResponse:
        def start() -> str:
            if not request.name:
                raise InvalidArgument("the workflow name is missing; pass the name the worker registered")
            instance_id = validate_instance_id(request.instanceId or uuid.uuid4().hex)
            scheduled = (
                timestamp_to_micros(request.scheduledStartTimestamp)
                if request.HasField("scheduledStartTimestamp")
                else None
            )
            return self.backend.start_instance(
                StartRequest(
                    instance_id=instance_id,
                    name=request.name,
                    input=request.input.value if request.HasField("input") else None,
                    version=request.version.value if request.HasField("version") and request.version.value else None,
                    scheduled_start_at=scheduled,
                    tags=dict(request.tags),
                    enforce_unique=request.enforceUniqueInstanceId,
                )
            )

        return pb.CreateInstanceResponse(instanceId=await self._call(context, start))

    async def GetInstance(self, request: pb.GetInstanceRequest, context: grpc.aio.ServicerContext) -> pb.GetInstanceResponse:
        row = self.backend.get_instance(request.instanceId)
        if row is None:
            return pb.GetInstanceResponse(exists=False)
        return pb.GetInstanceResponse(exists=True, workflowState=to_workflow_state(row, request.getInputsAndOutputs))

    async def _wait(
        self,
        request: pb.GetInstanceRequest,
        context: grpc.aio.ServicerContext,
        done: Callable[[InstanceRow], bool],
    ) -> pb.GetInstanceResponse:
        try:
            row = await self.backend.wait_for(request.instanceId, done, context.time_remaining())
        except EngineError as error:
            await context.abort(error.code, error.message)
            raise
        except (TimeoutError, asyncio.TimeoutError):
            await context.abort(
                grpc.StatusCode.DEADLINE_EXCEEDED, f"workflow '{request.instanceId}' did not get there in time"
            )
            raise
        return pb.GetInstanceResponse(exists=True, workflowState=to_workflow_state(row, request.getInputsAndOutputs))

    async def WaitForInstanceStart(self, request: pb.GetInstanceRequest, context: grpc.aio.ServicerContext) -> pb.GetInstanceResponse:
        return await self._wait(request, context, lambda row: row.status != Status.PENDING)

    async def WaitForInstanceCompletion(self, request: pb.GetInstanceRequest, context: grpc.aio.ServicerContext) -> pb.GetInstanceResponse:
        return await self._wait(request, context, lambda row: row.status in TERMINAL_STATUSES)

    async def RaiseEvent(self, request: pb.RaiseEventRequest, context: grpc.aio.ServicerContext) -> pb.RaiseEventResponse:
        def raise_event() -> None:
            if not request.name:
                raise InvalidArgument("the event name is missing")
            self.backend.raise_event(
                request.instanceId, request.name, request.input.value if request.HasField("input") else None
            )

        await self._call(context, raise_event)
        return pb.RaiseEventResponse()

    async def TerminateInstance(self, request: pb.TerminateRequest, context: grpc.aio.ServicerContext) -> pb.TerminateResponse:
        output = request.output.value if request.HasField("output") else None
        await self._call(context, lambda: self.backend.terminate(request.instanceId, output, request.recursive))
        return pb.TerminateResponse()

    async def SuspendInstance(self, request: pb.SuspendRequest, context: grpc.aio.ServicerContext) -> pb.SuspendResponse:
        reason = request.reason.value if request.HasField("reason") else None
        await self._call(context, lambda: self.backend.suspend(request.instanceId, reason))
        return pb.SuspendResponse()

    async def ResumeInstance(self, request: pb.ResumeRequest, context: grpc.aio.ServicerContext) -> pb.ResumeResponse:
        reason = request.reason.value if request.HasField("reason") else None
        await self._call(context, lambda: self.backend.resume(request.instanceId, reason))
        return pb.ResumeResponse()

    async def PurgeInstances(self, request: pb.PurgeInstancesRequest, context: grpc.aio.ServicerContext) -> pb.PurgeInstancesResponse:
        force = request.force if request.HasField("force") else False

        def purge() -> int:
            which = request.WhichOneof("request")
            if which == "instanceId":
                return self.backend.purge(request.instanceId, request.recursive, force)
            if which == "purgeInstanceFilter":
                spec = request.purgeInstanceFilter
                where = InstanceFilter(
                    statuses=frozenset(spec.runtimeStatus),
                    created_from=timestamp_to_micros(spec.createdTimeFrom) if spec.HasField("createdTimeFrom") else None,
                    created_to=timestamp_to_micros(spec.createdTimeTo) if spec.HasField("createdTimeTo") else None,
                )
                return self.backend.purge_where(where, request.recursive, force)
            raise InvalidArgument("name an instance ID or a purge filter")

        deleted = await self._call(context, purge)
        return pb.PurgeInstancesResponse(
            deletedInstanceCount=deleted, isComplete=pb.wrappers_pb2.BoolValue(value=True)
        )

    async def GetWorkItems(self, request: pb.GetWorkItemsRequest, context: grpc.aio.ServicerContext) -> AsyncIterator[pb.WorkItem]:
        stream = self.backend.open_stream(request.capabilities)
        ping = stream.health_ping and self.health_ping_seconds > 0
        try:
            timeout = self.health_ping_seconds if ping else None
            while True:
                item = await stream.queue.get(timeout)
                yield item if item is not None else pb.WorkItem(healthPing=pb.HealthPing())
        finally:
            self.backend.close_stream(stream)

    async def CompleteActivityTask(self, request: pb.ActivityResponse, context: grpc.aio.ServicerContext) -> pb.CompleteTaskResponse:
        await self._call(context, lambda: self.backend.complete_activity(request))
        return pb.CompleteTaskResponse()

    async def CompleteOrchestratorTask(self, request: pb.WorkflowResponse, context: grpc.aio.ServicerContext) -> pb.CompleteTaskResponse:
        await self._call(context, lambda: self.backend.complete_orchestration(request))
        return pb.CompleteTaskResponse()

    # The Dapr fork's newer name for the same call.
    CompleteWorkflowTask = CompleteOrchestratorTask

    async def RerunWorkflowFromEvent(self, request: pb.RerunWorkflowFromEventRequest, context: grpc.aio.ServicerContext) -> pb.RerunWorkflowFromEventResponse:
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED,
            "the embedded engine cannot rerun a workflow from an event yet; start a new instance "
            "with the input you need instead",
        )
        raise AssertionError("unreachable")

    async def ListInstanceIDs(self, request: pb.ListInstanceIDsRequest, context: grpc.aio.ServicerContext) -> pb.ListInstanceIDsResponse:
        def page() -> pb.ListInstanceIDsResponse:
            size = request.pageSize if request.HasField("pageSize") else None
            token = request.continuationToken if request.HasField("continuationToken") else None
            rows, next_token = list_page(self.backend, InstanceFilter(), size, token)
            response = pb.ListInstanceIDsResponse(instanceIds=[row.instance_id for row in rows])
            if next_token is not None:
                response.continuationToken = next_token
            return response

        return await self._call(context, page)

    async def GetInstanceHistory(self, request: pb.GetInstanceHistoryRequest, context: grpc.aio.ServicerContext) -> pb.GetInstanceHistoryResponse:
        events = await self._call(context, lambda: self.backend.history(request.instanceId))
        return pb.GetInstanceHistoryResponse(events=[pb.HistoryEvent.FromString(event) for event in events])


# -- paging ---------------------------------------------------------------------------------


def encode_page_token(row: InstanceRow) -> str:
    raw = json.dumps([row.created_at, row.instance_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_page_token(token: str) -> tuple[int, str]:
    try:
        padded = token + "=" * (-len(token) % 4)
        created_at, instance_id = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(created_at, int) or not isinstance(instance_id, str):
            raise ValueError
        return created_at, instance_id
    except (ValueError, TypeError, json.JSONDecodeError) as error:
        raise InvalidArgument(
            f"invalid continuation token {token[:40]!r}: pass the token of the previous page unchanged"
        ) from error


def list_page(
    backend: Backend, where: InstanceFilter, page_size: int | None, token: str | None
) -> tuple[list[InstanceRow], str | None]:
    if page_size is not None and not 0 < page_size <= MAX_PAGE_SIZE:
        raise InvalidArgument(f"page size {page_size} is out of range: use 1 to {MAX_PAGE_SIZE}")
    after = decode_page_token(token) if token else None
    limit = page_size or MAX_PAGE_SIZE
    rows = backend.list_instances(where, after, limit + 1)
    if len(rows) > limit:
        rows = rows[:limit]
        return rows, encode_page_token(rows[-1])
    return rows, None


# -- the engine's own admin service (JSON over gRPC) ----------------------------------------

ADMIN_SERVICE = "declarative_wf.engine.v1.EngineAdmin"


def _instance_json(row: InstanceRow) -> dict[str, Any]:
    state = to_workflow_state(row, with_payloads=False)
    return {
        "instance_id": row.instance_id,
        "name": row.name,
        "status": status_name(row.status),
        "created_at": state.createdTimestamp.ToJsonString(),
        "last_updated_at": state.lastUpdatedTimestamp.ToJsonString(),
        "completed_at": state.completedTimestamp.ToJsonString() if row.completed_at else None,
        "parent_instance_id": row.parent_instance_id,
        "custom_status": row.custom_status,
    }


def _parse_time(value: Any, field: str) -> int | None:
    if value is None:
        return None
    from google.protobuf import timestamp_pb2

    stamp = timestamp_pb2.Timestamp()
    try:
        stamp.FromJsonString(str(value))
    except ValueError as error:
        raise InvalidArgument(f"{field}: {value!r} is not an RFC 3339 time such as 2026-01-31T12:00:00Z") from error
    return timestamp_to_micros(stamp)


def admin_handler(backend: Backend) -> grpc.GenericRpcHandler:
    """``ListInstances`` and ``Stats`` with JSON messages: filtered listing that the Dapr
    protocol has no message for (status, name, creation time, paging)."""

    async def list_instances(request: Any, context: grpc.aio.ServicerContext) -> dict[str, Any]:
        if not isinstance(request, dict):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the request must be a JSON object")
            raise AssertionError("unreachable")
        try:
            statuses = frozenset(status_from_name(name) for name in request.get("statuses") or [])
        except KeyError as error:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"unknown status {error.args[0]!r}")
            raise
        try:
            where = InstanceFilter(
                statuses=statuses,
                name=request.get("name"),
                created_from=_parse_time(request.get("created_from"), "created_from"),
                created_to=_parse_time(request.get("created_to"), "created_to"),
            )
            rows, token = list_page(backend, where, request.get("page_size"), request.get("continuation_token"))
        except EngineError as error:
            await context.abort(error.code, error.message)
            raise
        return {"instances": [_instance_json(row) for row in rows], "continuation_token": token}

    async def stats(request: dict[str, Any], context: grpc.aio.ServicerContext) -> dict[str, Any]:
        numbers = backend.store.stats()
        return {
            "instances": numbers.instances,
            "history_events": numbers.history_events,
            "inbox_events": numbers.inbox_events,
            "activities": numbers.activities,
            "by_status": {status_name(key): value for key, value in numbers.by_status.items()},
        }

    async def heartbeat(request: Any, context: grpc.aio.ServicerContext) -> dict[str, Any]:
        instance_id, step = await _heartbeat_key(request, context)
        details = request.get("details")
        instance = backend.get_instance(instance_id)
        if instance is None:
            return {"status": None, "cancelled": True}
        if instance.status in TERMINAL_STATUSES:
            return {"status": status_name(instance.status), "cancelled": True}
        text = None if details is None else json.dumps(details)
        if text is not None and len(text) > backend.options.max_payload_bytes:
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "heartbeat details are larger than the payload limit")
        with backend.store.transaction():
            backend.store.save_heartbeat(instance_id, step, text, now_micros())
        return {"status": status_name(instance.status), "cancelled": False}

    async def last_heartbeat(request: Any, context: grpc.aio.ServicerContext) -> dict[str, Any]:
        instance_id, step = await _heartbeat_key(request, context)
        found = backend.store.last_heartbeat(instance_id, step)
        if found is None:
            return {}
        details, at = found
        return {"details": None if details is None else json.loads(details), "at_micros": at}

    return json_service(
        ADMIN_SERVICE,
        {"ListInstances": list_instances, "Stats": stats, "Heartbeat": heartbeat, "LastHeartbeat": last_heartbeat},
    )


async def _heartbeat_key(request: Any, context: grpc.aio.ServicerContext) -> tuple[str, str]:
    if not isinstance(request, dict) or not isinstance(request.get("instance_id"), str) or not isinstance(request.get("step"), str):
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "a heartbeat needs 'instance_id' and 'step' strings")
        raise AssertionError("unreachable")
    return request["instance_id"], request["step"]
