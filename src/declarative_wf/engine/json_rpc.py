"""JSON messages over gRPC: the wire shape of the engine's own services (``dwf.EventBus``,
the admin service) and of their clients.

These services have no ``.proto``: each request and answer is one JSON object encoded as
UTF-8 bytes, so a method is added by writing a handler, with no generated code. The server
side and the client side of that encoding live here once; error mapping stays with each
service and client, because each has its own vocabulary (``EventBusError``, ``INVALID_ARGUMENT``
for a bad subscription...).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Self

import grpc

#: An asynchronous method of a JSON service: the decoded request (None when the body was not
#: JSON) and the call's context, to the answer.
JsonMethod = Callable[[Any, grpc.aio.ServicerContext], Awaitable[dict[str, Any]]]


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def decode_request(raw: bytes) -> Any:
    """The request object; an empty body is ``{}``. A malformed body becomes None, which the
    method rejects with ``INVALID_ARGUMENT`` (a raising deserializer would surface as a bare
    ``INTERNAL`` error)."""
    try:
        return json.loads(raw or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None


def json_method(fn: JsonMethod) -> grpc.RpcMethodHandler:
    """One unary method of a JSON service, for an asyncio gRPC server."""
    return grpc.unary_unary_rpc_method_handler(fn, request_deserializer=decode_request, response_serializer=encode)


def json_service(service: str, methods: Mapping[str, JsonMethod]) -> grpc.GenericRpcHandler:
    """The generic handler of ``service`` serving each of ``methods`` (name -> method)."""
    return grpc.method_handlers_generic_handler(service, {name: json_method(fn) for name, fn in methods.items()})


class JsonRpcClient:
    """A channel to one JSON service at ``address``; :meth:`call` raises ``grpc.RpcError`` as
    is, so a subclass maps the status codes to its own errors."""

    def __init__(self, address: str, service: str, timeout: float = 30.0) -> None:
        self.address = address
        self.timeout = timeout
        self._service = service
        self._channel = grpc.insecure_channel(address)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, request: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        """``method``'s answer to ``request``, waiting at most ``timeout`` seconds (default: the
        client's)."""
        call = self._channel.unary_unary(
            f"/{self._service}/{method}", request_serializer=encode, response_deserializer=json.loads
        )
        result: dict[str, Any] = call(request, timeout=timeout or self.timeout)
        return result
