"""Built-in activities that talk to the engine's event bus: ``dwf.events.emit``,
``dwf.events.subscribe`` and ``dwf.events.unsubscribe``.

Activities run in a worker, the bus in the engine; the worker knows the engine's address (it
connects to it), so :func:`event_activities` binds the activities to that address when the
worker starts. ``DWF_EVENT_BUS`` (``host:port``) overrides it, for workers connected through a
relay that does not carry the ``dwf.EventBus`` service (e.g. ``dwf serve``'s API port).
"""

from __future__ import annotations

import os
import threading
import uuid
from datetime import UTC, datetime
from typing import Any

from .registry import ActivityContext, Registry

EMIT = "dwf.events.emit"
SUBSCRIBE = "dwf.events.subscribe"
UNSUBSCRIBE = "dwf.events.unsubscribe"
NAMES = (EMIT, SUBSCRIBE, UNSUBSCRIBE)
#: Overrides the address the event activities use.
ADDRESS_VARIABLE = "DWF_EVENT_BUS"
_ID_NAMESPACE = uuid.UUID("6f1c1f0e-7a43-4d53-9d1b-2f8a3c1e5d11")

_clients: dict[str, Any] = {}
_lock = threading.Lock()


class EventBusUnavailable(Exception):
    """The engine's event bus cannot be reached (the class name is the workflow error type)."""


class InvalidEvent(ValueError):
    """The event to emit is not a valid CloudEvent (the message names the attribute)."""


def bus_client(address: str | None) -> Any:
    """One client (gRPC channel) per address and process."""
    from declarative_wf.engine.events_service import EventBusClient

    address = os.environ.get(ADDRESS_VARIABLE) or address
    if not address:
        raise EventBusUnavailable(
            f"this worker does not know where the engine's event bus is (set {ADDRESS_VARIABLE}=host:port); "
            "workers started with declarative_wf.worker.start_worker know it"
        )
    with _lock:
        client = _clients.get(address)
        if client is None:
            client = _clients[address] = EventBusClient(address)
        return client


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def complete_event(attributes: Any, context: ActivityContext | None) -> dict[str, Any]:
    """The CloudEvent an ``emit`` publishes: the given attributes, plus ``specversion``
    "1.0", an ``id`` (stable for one activity call, so a re-run re-emits the same id), the
    current ``time`` and a default ``source`` ``/dwf/<workflow>/<instance>``."""
    if not isinstance(attributes, dict):
        raise InvalidEvent(f"emit: the event must be an object of CloudEvent attributes, got {type(attributes).__name__}")
    event = {key: value for key, value in attributes.items() if value is not None}
    if not event.get("type"):
        raise InvalidEvent("emit: the event has no 'type'; set emit.event.with.type")
    event.setdefault("specversion", "1.0")
    if not event.get("id"):
        if context is not None and context.task_execution_id:
            key = f"{context.instance_id}|{context.task_execution_id}|{context.task_id}"
            event["id"] = str(uuid.uuid5(_ID_NAMESPACE, key))
        else:
            event["id"] = str(uuid.uuid4())
    if not event.get("source"):
        workflow = (context.workflow if context else None) or "workflow"
        instance = context.instance_id if context else "unknown"
        event["source"] = f"/dwf/{workflow}/{instance}"
    event.setdefault("time", _now())
    if "data" in event and "datacontenttype" not in event:
        event["datacontenttype"] = "application/json"
    for name in ("id", "source", "type", "specversion"):
        if not isinstance(event[name], str):
            event[name] = str(event[name])
    return event


def event_activities(address: str | None) -> Registry:
    """The event activities, bound to the engine at ``address`` (``host:port``; None: only
    ``DWF_EVENT_BUS`` says where, e.g. when a registry is built just to list names)."""

    def _call(fn: Any) -> Any:
        from declarative_wf.engine.events_service import EventBusError

        try:
            return fn(bus_client(address))
        except EventBusError as error:
            if error.invalid:
                raise InvalidEvent(error.message) from None
            raise EventBusUnavailable(error.message) from None

    def emit(request: Any, context: ActivityContext) -> dict[str, Any]:
        attributes = request.get("event") if isinstance(request, dict) and "event" in request else request
        event = complete_event(attributes, context)
        _call(lambda client: client.publish(event))
        return event

    def subscribe(request: Any, context: ActivityContext) -> dict[str, Any]:
        if not isinstance(request, dict):
            raise InvalidEvent("subscribe: the request must be an object {id, event_name, spec}")
        created = _call(
            lambda client: client.subscribe(request["id"], request["spec"], context.instance_id, request["event_name"])
        )
        return {"id": request["id"], "created": created}

    def unsubscribe(request: Any, context: ActivityContext) -> dict[str, Any]:
        sub_id = request.get("id") if isinstance(request, dict) else request
        return {"id": sub_id, "removed": _call(lambda client: client.unsubscribe(str(sub_id)))}

    if address:
        enable_lifecycle_events(address)  # the worker's orchestrators publish to the same engine
    registry = Registry()
    registry.add(emit, EMIT)
    registry.add(subscribe, SUBSCRIBE)
    registry.add(unsubscribe, UNSUBSCRIBE)
    return registry


# -- lifecycle CloudEvents -----------------------------------------------------------------------

#: Set to 0 / false / no to publish no lifecycle events from this process.
LIFECYCLE_VARIABLE = "DWF_LIFECYCLE_EVENTS"
LIFECYCLE_TYPE = "io.serverlessworkflow.{kind}.v1"
_VERBS = {"started": "startedAt", "completed": "completedAt", "faulted": "faultedAt", "retried": "retriedAt",
          "suspended": "suspendedAt", "resumed": "resumedAt", "cancelled": "cancelledAt", "created": "createdAt"}


def lifecycle_event(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """The CloudEvent of one lifecycle notification (payloads as dsl-reference.md defines
    them: ``name`` / ``workflow`` is ``<workflow>-<instance>``, ``task`` a JSON Pointer)."""
    scope, _, verb = kind.partition(".")
    qualified = f"{record.get('workflow')}-{record.get('instance')}"
    data: dict[str, Any] = {}
    if scope == "workflow":
        data["name"] = qualified
        if verb == "started":
            data["definition"] = {"name": record.get("workflow")}
    else:
        data["workflow"] = qualified
        data["task"] = record.get("reference")
    data[_VERBS.get(verb, f"{verb}At")] = record.get("time")
    for key in ("output", "error"):
        if key in record and record[key] is not None:
            data[key] = record[key]
    return {
        "specversion": "1.0",
        "id": str(uuid.uuid4()),
        "source": f"/dwf/{record.get('workflow')}/{record.get('instance')}",
        "type": LIFECYCLE_TYPE.format(kind=kind),
        "time": record.get("time") or _now(),
        "subject": record.get("instance"),
        "datacontenttype": "application/json",
        "data": data,
    }


class LifecyclePublisher:
    """A lifecycle observer that publishes to the bus from a background thread, so the
    orchestrator never waits on I/O. Notifications seen while replaying are skipped."""

    def __init__(self, address: str) -> None:
        import queue

        self.address = address
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=10_000)
        self._thread = threading.Thread(target=self._run, name="dwf-lifecycle-events", daemon=True)
        self._thread.start()

    def __call__(self, kind: str, record: dict[str, Any]) -> None:
        if record.get("replaying"):
            return
        try:
            self._queue.put_nowait(lifecycle_event(kind, record))
        except Exception:  # noqa: BLE001, S110 - a full queue drops the event rather than stall a workflow
            pass

    def _run(self) -> None:
        import logging
        import queue

        log = logging.getLogger("declarative_wf.events")
        while True:
            batch = [self._queue.get()]
            while len(batch) < 100:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                bus_client(self.address).publish_many(batch)
            except Exception as error:  # noqa: BLE001 - best effort: logged, never raised into a workflow
                log.warning("%d lifecycle event(s) not published: %s", len(batch), error)


_publisher: LifecyclePublisher | None = None


def enable_lifecycle_events(address: str) -> LifecyclePublisher | None:
    """Publishes the lifecycle events of this process's Serverless Workflow instances to the
    bus at ``address`` (the engine of the most recently started worker)."""
    global _publisher
    if os.environ.get(LIFECYCLE_VARIABLE, "1").strip().lower() in ("0", "false", "no", "off"):
        return None
    try:
        from declarative_wf.formats.sw.runtime import add_lifecycle_observer
    except ImportError:  # the SW runtime is not there: nothing to observe
        return None
    with _lock:
        if _publisher is None:
            _publisher = LifecyclePublisher(address)
        _publisher.address = address
        add_lifecycle_observer(_publisher)
    return _publisher
