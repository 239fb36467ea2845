"""The event bus over the engine's gRPC port: service ``dwf.EventBus`` (JSON messages), and
its client.

Methods (request -> answer, both JSON objects):

* ``Publish`` ``{"events": [CloudEvent, ...]}`` -> ``{"results": [{"seq", "deliveries"}]}``
* ``Subscribe`` ``{"id", "spec", "instance_id"?, "event_name"?}`` -> ``{"created": bool}``
  (with ``instance_id``: deliveries are raised on that instance as external events named
  ``event_name``; without: a queue the caller polls)
* ``Unsubscribe`` ``{"id"}`` -> ``{"removed": bool}``
* ``Poll`` ``{"id", "limit"?, "wait_seconds"?}`` -> ``{"deliveries": [...]}``; ``Ack`` ``{"id", "seqs"}``
* ``Subscriptions`` ``{}`` and ``Recent`` ``{"limit"?}``, for inspection.

Bad requests answer ``INVALID_ARGUMENT`` with a message that names the problem.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import grpc

from .eventbus import (
    EventBus,
    EventValidationError,
    SinkOptions,
    SubscriptionGone,
    SubscriptionSpec,
)
from .json_rpc import JsonRpcClient, json_service

SERVICE = "dwf.EventBus"

Handler = Callable[[dict[str, Any], grpc.aio.ServicerContext], Awaitable[dict[str, Any]]]


def new_bus(db_path: Path, backend: Any, sink_url: str | None) -> EventBus:
    """A bus delivering through ``backend.raise_event``: an instance that is gone or finished
    ends its subscription."""
    from .events import FailedPrecondition, NotFound
    from .protocol import TERMINAL_STATUSES

    def deliver(instance_id: str, name: str, payload: str) -> None:
        try:
            backend.raise_event(instance_id, name, payload)
        except (NotFound, FailedPrecondition) as error:
            raise SubscriptionGone(error.message) from None

    def alive(instance_id: str) -> bool:
        row = backend.get_instance(instance_id)
        return row is not None and row.status not in TERMINAL_STATUSES

    return EventBus(db_path, deliver, SinkOptions(sink_url) if sink_url else None, alive)


def event_bus_handler(bus: EventBus) -> grpc.GenericRpcHandler:
    async def publish(request: dict[str, Any], context: grpc.aio.ServicerContext) -> dict[str, Any]:
        events = request.get("events")
        if not isinstance(events, list) or not events:
            raise EventValidationError("'events' must be a non-empty list of CloudEvents")
        return {"results": [{"seq": r.seq, "deliveries": r.deliveries} for r in bus.publish_many(events)]}

    async def subscribe(request: dict[str, Any], context: grpc.aio.ServicerContext) -> dict[str, Any]:
        spec = SubscriptionSpec.from_json(request.get("spec"))
        created = bus.subscribe(
            str(request.get("id") or ""), spec, instance_id=request.get("instance_id"), event_name=request.get("event_name")
        )
        return {"created": created}

    async def unsubscribe(request: dict[str, Any], context: grpc.aio.ServicerContext) -> dict[str, Any]:
        return {"removed": bus.unsubscribe(str(request.get("id") or ""))}

    async def poll(request: dict[str, Any], context: grpc.aio.ServicerContext) -> dict[str, Any]:
        sub_id = str(request.get("id") or "")
        wait = float(request.get("wait_seconds") or 0)
        if wait > 0:
            await bus.wait(sub_id, min(wait, 30.0))
        return {"deliveries": bus.poll(sub_id, int(request.get("limit") or 100))}

    async def ack(request: dict[str, Any], context: grpc.aio.ServicerContext) -> dict[str, Any]:
        return {"acknowledged": bus.ack(str(request.get("id") or ""), list(request.get("seqs") or []))}

    async def subscriptions(request: dict[str, Any], context: grpc.aio.ServicerContext) -> dict[str, Any]:
        return {"subscriptions": bus.subscriptions()}

    async def recent(request: dict[str, Any], context: grpc.aio.ServicerContext) -> dict[str, Any]:
        return {"events": bus.recent(int(request.get("limit") or 100))}

    def checked(fn: Handler) -> Handler:
        # A request that is not an object, or whose fields do not fit, is the caller's mistake.
        async def run(request: Any, context: grpc.aio.ServicerContext) -> dict[str, Any]:
            if not isinstance(request, dict):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "the request must be a JSON object")
            try:
                return await fn(request, context)
            except (EventValidationError, TypeError, ValueError, KeyError, AttributeError) as error:
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(error))
                raise

        return run

    methods = {
        "Publish": publish, "Subscribe": subscribe, "Unsubscribe": unsubscribe, "Poll": poll, "Ack": ack,
        "Subscriptions": subscriptions, "Recent": recent,
    }
    return json_service(SERVICE, {name: checked(fn) for name, fn in methods.items()})


class EventBusError(Exception):
    """The bus refused a request (``invalid`` is True for a bad event or subscription)."""

    def __init__(self, message: str, invalid: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.invalid = invalid


class EventBusClient(JsonRpcClient):
    """``EventBusClient("127.0.0.1:50001").publish({...})``: the engine's bus from any process."""

    def __init__(self, address: str, timeout: float = 30.0) -> None:
        super().__init__(address, SERVICE, timeout)

    def _call(self, method: str, request: dict[str, Any], timeout: float | None = None) -> dict[str, Any]:
        try:
            return self.call(method, request, timeout)
        except grpc.RpcError as error:
            code = error.code() if hasattr(error, "code") else None
            if code == grpc.StatusCode.UNIMPLEMENTED:
                raise EventBusError(
                    f"the engine at {self.address} has no event bus (is it daprd, or an older engine?); "
                    "events need the embedded engine (dwf engine / dwf serve / declarative_wf.Engine)"
                ) from None
            if code == grpc.StatusCode.UNAVAILABLE:
                raise EventBusError(f"the engine at {self.address} is not reachable: {error.details()}") from None
            raise EventBusError(str(error.details()), invalid=code == grpc.StatusCode.INVALID_ARGUMENT) from None

    def publish(self, event: dict[str, Any]) -> dict[str, Any]:
        return self._call("Publish", {"events": [event]})["results"][0]

    def publish_many(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return list(self._call("Publish", {"events": events})["results"])

    def subscribe(self, sub_id: str, spec: dict[str, Any], instance_id: str | None = None, event_name: str | None = None) -> bool:
        request = {"id": sub_id, "spec": spec, "instance_id": instance_id, "event_name": event_name}
        return bool(self._call("Subscribe", request)["created"])

    def unsubscribe(self, sub_id: str) -> bool:
        return bool(self._call("Unsubscribe", {"id": sub_id})["removed"])

    def poll(self, sub_id: str, limit: int = 100, wait_seconds: float = 0) -> list[dict[str, Any]]:
        request = {"id": sub_id, "limit": limit, "wait_seconds": wait_seconds}
        return list(self._call("Poll", request, timeout=self.timeout + wait_seconds)["deliveries"])

    def ack(self, sub_id: str, seqs: list[int]) -> int:
        return int(self._call("Ack", {"id": sub_id, "seqs": seqs})["acknowledged"])

    def subscriptions(self) -> list[dict[str, Any]]:
        return list(self._call("Subscriptions", {})["subscriptions"])

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        return list(self._call("Recent", {"limit": limit})["events"])


def event_bus_relay(engine_address: str) -> grpc.GenericRpcHandler:
    """``dwf.EventBus`` relayed byte for byte to the engine at ``engine_address``, for a
    synchronous gRPC server in front of it (``dwf serve``'s API port), so workers that connect
    there reach the bus like the sidecar service."""
    channel = grpc.insecure_channel(engine_address)

    def relay(method: str) -> grpc.RpcMethodHandler:
        call = channel.unary_unary(f"/{SERVICE}/{method}")

        def handle(request: bytes, context: grpc.ServicerContext) -> Any:
            try:
                return call(request, timeout=60)
            except grpc.RpcError as error:
                code = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
                context.abort(code, (error.details() if hasattr(error, "details") else None) or "")

        return grpc.unary_unary_rpc_method_handler(handle)

    methods = ("Publish", "Subscribe", "Unsubscribe", "Poll", "Ack", "Subscriptions", "Recent")
    return grpc.method_handlers_generic_handler(SERVICE, {name: relay(name) for name in methods})
