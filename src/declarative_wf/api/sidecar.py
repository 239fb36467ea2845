"""A thin client of the workflow sidecar protocol (the embedded engine, or ``daprd``).

The service layer needs what the SDK's ``DaprWorkflowClient`` hides: the raw input and output
strings, every runtime status (``CANCELED``, ``CONTINUED_AS_NEW``...), the gRPC status of a
refusal, and the history as protobuf. So it calls the ``TaskHubSidecarService`` stub directly,
with the same vendored protobufs the engine serves.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import grpc
from google.protobuf import timestamp_pb2, wrappers_pb2

from declarative_wf.engine.protocol import pb, pb_grpc

#: Seconds before a call to the engine gives up (it answers in milliseconds when healthy).
CALL_TIMEOUT = 30.0
DAPR_API_TOKEN_HEADER = "dapr-api-token"


class Sidecar:
    """``Sidecar("127.0.0.1:50001")``; thread-safe (one channel, shared)."""

    def __init__(self, address: str, api_token: str | None = None) -> None:
        self.address = address
        self._channel = grpc.insecure_channel(
            address,
            options=[("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", 64 * 1024 * 1024)],
        )
        self._stub = pb_grpc.TaskHubSidecarServiceStub(self._channel)  # type: ignore[no-untyped-call]
        self._metadata = ((DAPR_API_TOKEN_HEADER, api_token),) if api_token else ()

    def close(self) -> None:
        self._channel.close()

    def _call(self, method: str, request: Any) -> Any:
        return getattr(self._stub, method)(request, timeout=CALL_TIMEOUT, metadata=self._metadata)

    def start(self, name: str, input_json: str | None, instance_id: str | None = None, start_at: datetime | None = None) -> str:
        request = pb.CreateInstanceRequest(
            instanceId=instance_id or uuid.uuid4().hex,
            name=name,
            input=None if input_json is None else wrappers_pb2.StringValue(value=input_json),
        )
        if start_at is not None:
            stamp = timestamp_pb2.Timestamp()
            stamp.FromDatetime(start_at)
            request.scheduledStartTimestamp.CopyFrom(stamp)
        return str(self._call("StartInstance", request).instanceId)

    def get(self, instance_id: str, payloads: bool = True) -> Any | None:
        """The instance's ``WorkflowState`` message, or None when there is no such instance."""
        response = self._call("GetInstance", pb.GetInstanceRequest(instanceId=instance_id, getInputsAndOutputs=payloads))
        return response.workflowState if response.exists else None

    def raise_event(self, instance_id: str, name: str, data_json: str | None) -> None:
        request = pb.RaiseEventRequest(
            instanceId=instance_id, name=name, input=None if data_json is None else wrappers_pb2.StringValue(value=data_json)
        )
        self._call("RaiseEvent", request)

    def terminate(self, instance_id: str, output_json: str | None = None, recursive: bool = True) -> None:
        request = pb.TerminateRequest(
            instanceId=instance_id,
            output=None if output_json is None else wrappers_pb2.StringValue(value=output_json),
            recursive=recursive,
        )
        self._call("TerminateInstance", request)

    def suspend(self, instance_id: str, reason: str | None = None) -> None:
        request = pb.SuspendRequest(instanceId=instance_id, reason=None if reason is None else wrappers_pb2.StringValue(value=reason))
        self._call("SuspendInstance", request)

    def resume(self, instance_id: str, reason: str | None = None) -> None:
        request = pb.ResumeRequest(instanceId=instance_id, reason=None if reason is None else wrappers_pb2.StringValue(value=reason))
        self._call("ResumeInstance", request)

    def purge(self, instance_id: str, recursive: bool = True) -> int:
        response = self._call("PurgeInstances", pb.PurgeInstancesRequest(instanceId=instance_id, recursive=recursive))
        return int(response.deletedInstanceCount)

    def history(self, instance_id: str) -> list[Any]:
        return list(self._call("GetInstanceHistory", pb.GetInstanceHistoryRequest(instanceId=instance_id)).events)
