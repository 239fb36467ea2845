"""The engine's sidecar protocol (``TaskHubSidecarService``) relayed on the gRPC API port.

daprd serves Dapr's runtime API and the workflow sidecar protocol on one port (50001), and
Dapr's SDKs (``DaprWorkflowClient``, ``WorkflowRuntime``) expect exactly that. The embedded
engine listens on its own loopback port, so the API port relays that service to it, byte for
byte: no message is decoded, and the API token applies. ``GetWorkItems`` (a worker's stream)
is relayed for its whole life; when the worker goes away the engine's stream is cancelled, so
the engine releases the worker's leases as it does for a direct connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
from dapr.ext.workflow._durabletask.internal import (
    orchestrator_service_pb2 as service_pb2,
)

SERVICE = "TaskHubSidecarService"


def _timeout(context: grpc.ServicerContext) -> float | None:
    # A call without a deadline reports a huge remaining time, which would overflow the
    # relayed call's deadline; relay "no deadline" as none.
    remaining = context.time_remaining()
    return None if remaining is None or remaining > 10 * 365 * 86400 else remaining


def _relay_error(context: grpc.ServicerContext, error: grpc.RpcError) -> None:
    code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    context.abort(code, (error.details() if hasattr(error, "details") else None) or "")


class SidecarProxy:
    """A generic handler relaying every method of ``TaskHubSidecarService`` to ``address``."""

    def __init__(self, address: str) -> None:
        self._channel = grpc.insecure_channel(
            address, options=[("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]
        )

    def close(self) -> None:
        self._channel.close()

    def _unary(self, path: str) -> grpc.RpcMethodHandler:
        call = self._channel.unary_unary(path)

        def relay(request: bytes, context: grpc.ServicerContext) -> Any:
            try:
                return call(request, timeout=_timeout(context))
            except grpc.RpcError as error:
                _relay_error(context, error)

        return grpc.unary_unary_rpc_method_handler(relay)

    def _stream(self, path: str) -> grpc.RpcMethodHandler:
        call = self._channel.unary_stream(path)

        def relay(request: bytes, context: grpc.ServicerContext) -> Iterator[Any]:
            upstream = call(request, timeout=_timeout(context))
            context.add_callback(upstream.cancel)
            try:
                yield from upstream
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.CANCELLED or context.is_active():
                    _relay_error(context, error)

        return grpc.unary_stream_rpc_method_handler(relay)

    def handler(self) -> grpc.GenericRpcHandler:
        methods = {}
        for method in service_pb2.DESCRIPTOR.services_by_name[SERVICE].methods:
            path = f"/{SERVICE}/{method.name}"
            methods[method.name] = self._stream(path) if method.server_streaming else self._unary(path)
        return grpc.method_handlers_generic_handler(SERVICE, methods)
