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
#
# The SW profile reports ``workflow.*`` / ``task.*`` notifications to observers inside the
# orchestrator (formats/sw/runtime.py). One process-wide observer turns them into CloudEvents
# (payloads field by field as dsl-reference.md "Lifecycle Events") and hands them to the
# publisher of the engine the execution runs on (``record["engine"]``, set by the worker that
# registered the orchestrator), so a process with workers on several engines sends each
# instance's events to its own engine. The engine publishes the suspend / resume / cancel
# events itself (engine/events_lifecycle.py), with :func:`lifecycle_event` too.

#: ``0`` / ``false`` / ``no`` / ``off``: publish no lifecycle events from this process;
#: ``required``: only the events the specification requires (no ``status-changed``);
#: anything else (default ``1``): all of them, ``status-changed`` included.
LIFECYCLE_VARIABLE = "DWF_LIFECYCLE_EVENTS"
LIFECYCLE_TYPE = "io.serverlessworkflow.{kind}.v1"
#: The time attribute of each event's data (dsl-reference.md).
_TIME_FIELDS = {
    "started": "startedAt", "completed": "completedAt", "faulted": "faultedAt", "retried": "retriedAt",
    "suspended": "suspendedAt", "resumed": "resumedAt", "cancelled": "cancelledAt", "created": "createdAt",
    "correlation-started": "startedAt", "correlation-completed": "completedAt", "status-changed": "updatedAt",
}  # fmt: skip
#: The status phase (dsl.md "Status Phases") each event moves its workflow / task to.
STATUS_AFTER = {
    "workflow.started": "running", "workflow.completed": "completed", "workflow.faulted": "faulted",
    "workflow.suspended": "suspended", "workflow.resumed": "running", "workflow.cancelled": "cancelled",
    "workflow.correlation-started": "waiting", "workflow.correlation-completed": "running",
    "task.created": "pending", "task.started": "running", "task.completed": "completed", "task.faulted": "faulted",
    "task.retried": "running", "task.suspended": "suspended", "task.resumed": "running", "task.cancelled": "cancelled",
}  # fmt: skip


def lifecycle_mode() -> str:
    """``off``, ``required`` or ``all`` (:data:`LIFECYCLE_VARIABLE`)."""
    value = os.environ.get(LIFECYCLE_VARIABLE, "1").strip().lower()
    if value in ("0", "false", "no", "off"):
        return "off"
    return "required" if value == "required" else "all"


def qualified_name(record: dict[str, Any]) -> str:
    """``<workflow>-<instance>[.<namespace>]``, the spec's "qualified name" of an instance
    (its example: ``orderPetWorkflow-ix7iryakiem8j.samples``)."""
    name = f"{record.get('workflow')}-{record.get('instance')}"
    return f"{name}.{record['namespace']}" if record.get("namespace") else name


def lifecycle_event(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """The CloudEvent of one lifecycle notification. ``record``: ``instance``, ``workflow``,
    ``namespace``, ``version``, ``reference`` (the task's JSON Pointer), ``time`` (ISO 8601),
    plus ``output`` / ``error`` / ``correlation`` / ``status`` where the event has them."""
    scope, _, verb = kind.partition(".")
    data: dict[str, Any] = {}
    if scope == "workflow":
        data["name"] = qualified_name(record)
        if verb == "started":
            definition = {"name": record.get("workflow"), "namespace": record.get("namespace"), "version": record.get("version")}
            data["definition"] = {key: value for key, value in definition.items() if value is not None}
    else:
        data["workflow"] = qualified_name(record)
        data["task"] = record.get("reference")
    data[_TIME_FIELDS.get(verb, f"{verb}At")] = record.get("time") or _now()
    if verb == "status-changed":
        data["status"] = record.get("status")
    elif verb == "faulted":
        data["error"] = record.get("error")
    elif verb == "completed" and record.get("output") is not None:
        data["output"] = record["output"]
    elif verb == "correlation-completed" and record.get("correlation"):
        data["correlationKeys"] = record["correlation"]
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


def lifecycle_events(kind: str, record: dict[str, Any], mode: str = "all") -> list[dict[str, Any]]:
    """The events one notification becomes, in order: ``task.started`` is preceded by
    ``task.created`` (on this engine a task is created when the orchestrator reaches it, in the
    same turn it starts), and with ``mode`` ``all`` each event is followed by the
    ``status-changed`` event of its workflow / task."""
    kinds = ["task.created", kind] if kind == "task.started" else [kind]
    out: list[dict[str, Any]] = []
    for each in kinds:
        out.append(lifecycle_event(each, record))
        status = STATUS_AFTER.get(each)
        if mode == "all" and status is not None:
            out.append(lifecycle_event(f"{each.partition('.')[0]}.status-changed", {**record, "status": status}))
            if each.startswith("workflow.correlation-") and record.get("reference") not in (None, "/"):
                # The listen task that correlates waits (then runs) with its workflow.
                out.append(lifecycle_event("task.status-changed", {**record, "status": status}))
    return out


class LifecyclePublisher:
    """Publishes the lifecycle events of one engine from a background thread, in the order
    they were reported (one FIFO queue, batches of up to 100), so an orchestrator never waits
    on I/O. A full queue drops events rather than stall a workflow."""

    def __init__(self, address: str) -> None:
        import queue

        self.address = address
        self._queue: queue.Queue[dict[str, Any]] = queue.Queue(maxsize=10_000)
        self._thread = threading.Thread(target=self._run, name=f"dwf-lifecycle-events-{address}", daemon=True)
        self._thread.start()

    def put(self, events: list[dict[str, Any]]) -> None:
        for event in events:
            try:
                self._queue.put_nowait(event)
            except Exception:  # noqa: BLE001 - full: dropped (best effort, documented)
                return

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
                log.warning("%d lifecycle event(s) not published to %s: %s", len(batch), self.address, error)


_publishers: dict[str, LifecyclePublisher] = {}
#: The engine of executions that do not say theirs (a driver other than our workers).
_default_address: str | None = None


def _observe(kind: str, record: dict[str, Any]) -> None:
    """The lifecycle observer: events seen while replaying were published the first time."""
    if record.get("replaying"):
        return
    mode = lifecycle_mode()
    if mode == "off":
        return
    address = record.get("engine") or _default_address
    publisher = _publishers.get(address) if address else None
    if publisher is None and address:
        with _lock:
            publisher = _publishers.get(address) or _publishers.setdefault(address, LifecyclePublisher(address))
    if publisher is not None:
        publisher.put(lifecycle_events(kind, record, mode))


def enable_lifecycle_events(address: str) -> LifecyclePublisher | None:
    """Publishes the lifecycle events of the Serverless Workflow instances this process runs
    on the engine at ``address`` to that engine's bus (each engine of the process gets its own
    publisher). None when disabled (:data:`LIFECYCLE_VARIABLE`)."""
    global _default_address
    if lifecycle_mode() == "off":
        return None
    try:
        from declarative_wf.formats.sw.runtime import add_lifecycle_observer
    except ImportError:  # the SW runtime is not there: nothing to observe
        return None
    with _lock:
        publisher = _publishers.get(address)
        if publisher is None:
            publisher = _publishers[address] = LifecyclePublisher(address)
        _default_address = address
    add_lifecycle_observer(_observe)
    return publisher


def publish_correlation(bus: Any, workflow: Any, name: str, instance: str, deliveries: list[dict[str, Any]]) -> None:
    """``workflow.correlation-started`` / ``-completed`` of an instance that ``schedule.on``
    is about to start from correlated events (``deliveries``: the bus deliveries of the set).
    Published just before the start, so they precede the instance's ``workflow.started``; the
    ids derive from the instance id (deterministic), so a start retried after a failure
    publishes the same events again and listeners drop the repeat (``source`` + ``id``).
    No ``status-changed`` here: the instance has no status before it exists. Best effort."""
    if lifecycle_mode() == "off" or getattr(workflow, "format", "sw1") != "sw1":
        return
    import logging

    options = getattr(workflow, "options", None) or {}
    record: dict[str, Any] = {
        "instance": instance, "workflow": name, "namespace": options.get("namespace"),
        "version": getattr(workflow, "version", None),
    }  # fmt: skip
    times = [d["event"].get("time") for d in deliveries if isinstance(d.get("event"), dict) and d["event"].get("time")]
    correlation: dict[str, Any] = {}
    for delivery in deliveries:
        correlation.update(delivery.get("correlation") or {})
    events = [
        lifecycle_event("workflow.correlation-started", {**record, "time": min(times) if times else _now()}),
        lifecycle_event("workflow.correlation-completed", {**record, "time": _now(), "correlation": correlation}),
    ]
    for cloud_event in events:
        cloud_event["id"] = str(uuid.uuid5(_ID_NAMESPACE, f"{instance}|{cloud_event['type']}"))
    try:
        bus.publish_many(events)
    except Exception as error:  # noqa: BLE001 - best effort: the start goes on
        logging.getLogger("declarative_wf.events").warning("correlation events of %s not published: %s", instance, error)
