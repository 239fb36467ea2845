"""Scheduled starts of Serverless Workflow definitions: ``schedule.every``, ``cron``,
``after`` and ``on`` (docs/events.md).

A :class:`Scheduler` runs in a background thread of ``dwf serve`` (over the definitions
registry: the latest version of every name that declares a ``schedule``), or beside an
embedded engine over a list of workflows (:func:`embedded_scheduler`). It starts instances; it
never runs them.

Every start has a **deterministic instance id**, so a restart (or two ticks racing) cannot
start the same fire twice — the engine answers "already exists" and the scheduler moves on:

* ``every`` — fires at the multiples of the interval since the Unix epoch:
  ``<name>-every-<UTC time>``; ``cron`` — the cron expression's times (UTC):
  ``<name>-cron-<UTC time>``. Fires missed while nothing was running are not made up.
* ``after`` — the first run when the scheduler first sees the definition, the next one the
  given delay after the previous run finished: ``<name>-after-<n>``.
* ``on`` — a durable *queue* subscription ``schedule:<name>`` in the engine's event bus;
  each matching event (``one`` / ``any``) or each complete set (``all``, grouped by
  correlation values) starts an instance whose input is the array of the events:
  ``<name>-on-<hash of the events' source and id>``. Events are acknowledged after the start,
  so a crash in between re-delivers them and the same id protects from a double start.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from declarative_wf import ir

log = logging.getLogger("declarative_wf.scheduler")

#: Returns False when an instance with that id exists already.
Starter = Callable[["Scheduled", str, Any], bool]
#: ``(status name, finished at as epoch seconds or None)`` of an instance, None when unknown.
StatusLookup = Callable[[str], "tuple[str, float | None] | None"]
_FINISHED = frozenset({"COMPLETED", "FAILED", "TERMINATED"})
_ID_CHARS = re.compile(r"[^A-Za-z0-9_-]")


class ScheduleError(ValueError):
    """A schedule the scheduler cannot follow (the message says which property and why)."""


@dataclass(frozen=True)
class Schedule:
    every: float | None = None
    cron: str | None = None
    after: float | None = None
    #: The ``on`` strategy: mode and the event bus subscription spec (``{"groups": {"main": [...]}}``).
    on_mode: str | None = None
    on_spec: dict[str, Any] | None = None
    on_filters: int = 0


@dataclass(frozen=True)
class Scheduled:
    """A definition to start on a schedule. ``ref`` is what the starter starts."""

    name: str
    ref: str
    schedule: Schedule
    workflow: ir.Workflow | None = None


def schedule_of(workflow: ir.Workflow) -> Any:
    """The raw ``schedule`` of a compiled Serverless Workflow definition, or None."""
    options = workflow.options.get("sw")
    return options.get("schedule") if isinstance(options, Mapping) else None


class _Context:
    """The compile context ``compile_strategy`` needs, for ``schedule.on``."""

    def __init__(self) -> None:
        self.name, self.pointer = "schedule", "/schedule"
        self.source = ir.SourceRef("<schedule>", 1, 1, "/schedule")
        self.document: dict[str, Any] = {}
        self.errors: list[str] = []

    def expression(self, value: Any, pointer: str) -> ir.Expr:
        from declarative_wf.formats.sw.durations import strip_expression

        return ir.Expr("jq", strip_expression(str(value)))

    def template(self, value: Any, pointer: str) -> ir.Expr:
        from declarative_wf.formats.sw.durations import is_expression

        return self.expression(value, pointer) if is_expression(value) else ir.Expr("literal", value)

    def block(self, tasks: Any, pointer: str) -> ir.Block:
        return ir.Block(None)

    def node_id(self, suffix: str) -> str:
        return suffix

    def error(self, code: str, message: str, pointer: str, *, hint: str | None = None) -> None:
        self.errors.append(f"{pointer}: {message}")

    def warning(self, code: str, message: str, pointer: str, *, hint: str | None = None) -> None:
        pass


def _bus_filters(strategy: Any) -> list[dict[str, Any]]:
    from declarative_wf.expressions.evaluate import Scope
    from declarative_wf.expressions.jq_eval import evaluate_jq

    filters = []
    for item in strategy.filters:
        tests = {}
        for name, expr in item.attributes.items():
            if expr.lang == "jq":
                tests[name] = {"jq": expr.value}
            else:
                tests[name] = {"regex": expr.value} if isinstance(expr.value, str) else {"equals": expr.value}
        correlate: dict[str, Any] = {}
        for key, correlation in item.correlate.items():
            entry: dict[str, Any] = {"from": correlation.extract.value}
            if correlation.expect is not None:
                expect = correlation.expect
                entry["expect"] = evaluate_jq(expect.value, Scope()) if expect.lang == "jq" else expect.value
            correlate[key] = entry
        filters.append({"with": tests, "correlate": correlate})
    return filters


def parse_schedule(raw: Any) -> Schedule:
    """A :class:`Schedule` from a definition's ``schedule`` object; ScheduleError otherwise."""
    from declarative_wf.formats.sw.durations import DurationError, parse_duration

    if not isinstance(raw, Mapping):
        raise ScheduleError("schedule must be an object with every, cron, after or on")
    values: dict[str, Any] = {}
    for key in ("every", "after"):
        if key in raw:
            try:
                seconds = parse_duration(raw[key])
            except DurationError as error:
                raise ScheduleError(f"schedule.{key}: {error}") from None
            if seconds <= 0:
                raise ScheduleError(f"schedule.{key} must be a positive duration")
            values[key] = seconds
    if "cron" in raw:
        from croniter import croniter  # type: ignore[import-untyped]

        if not isinstance(raw["cron"], str) or not croniter.is_valid(raw["cron"]):
            raise ScheduleError(f"schedule.cron: {raw['cron']!r} is not a cron expression such as '0 0 * * *' (minute hour day month weekday)")
        values["cron"] = raw["cron"]
    if "on" in raw:
        from declarative_wf.formats.sw.events import compile_strategy

        context = _Context()
        strategy, _ = compile_strategy(context, raw["on"], "/schedule/on")  # type: ignore[arg-type]
        if strategy is None or context.errors:
            raise ScheduleError("schedule.on: " + "; ".join(context.errors or ["not an event consumption strategy"]))
        values["on_mode"] = strategy.mode
        values["on_spec"] = {"groups": {"main": _bus_filters(strategy)}}
        values["on_filters"] = len(strategy.filters)
    if not values:
        raise ScheduleError("schedule needs one of every, cron, after or on")
    return Schedule(**values)


def instance_id(name: str, suffix: str) -> str:
    """``<name>-<suffix>`` within Dapr's 64-character id rule (long names are shortened with a
    hash, so two long names do not collide)."""
    safe = _ID_CHARS.sub("-", name)
    if len(safe) > 32:
        safe = safe[:23] + "-" + hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{safe}-{suffix}"


def _stamp(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y%m%dT%H%M%S") + f"{round(epoch % 1 * 1000):03d}Z"


@dataclass
class _State:
    scheduled: Scheduled
    next_fire: float | None = None
    after_n: int = 0
    after_waiting: str | None = None
    #: schedule.on with ``all``: partial sets by correlation values -> {filter index: delivery}
    partial: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)


class Scheduler:
    """Starts scheduled definitions. ``source()`` lists them (called every ``refresh``
    seconds); ``starter`` starts one with a given id and input."""

    def __init__(
        self,
        engine_address: str,
        source: Callable[[], list[Scheduled]],
        starter: Starter,
        status: StatusLookup,
        *,
        tick: float = 0.2,
        refresh: float = 2.0,
        clock: Callable[[], float] = time.time,
        owns_all: bool = False,
    ) -> None:
        self.engine_address = engine_address
        #: True for dwf serve's scheduler: queue subscriptions ``schedule:*`` of names it does
        #: not schedule (definitions deleted while it was down) are removed at its first refresh.
        self._owns_all = owns_all
        self._refreshed = False
        self._source = source
        self._starter = starter
        self._status = status
        self._tick = tick
        self._refresh = refresh
        self._clock = clock
        self._states: dict[str, _State] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._bus: Any = None
        self.started: list[str] = []  # instance ids this scheduler started (for tests and logs)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        from declarative_wf.engine.events_service import EventBusClient

        self._bus = EventBusClient(self.engine_address)
        self._thread = threading.Thread(target=self._run, name="dwf-scheduler", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        if self._bus is not None:
            self._bus.close()
            self._bus = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _run(self) -> None:
        last_refresh = 0.0
        while not self._stop.is_set():
            try:
                if time.monotonic() - last_refresh >= self._refresh:
                    self.refresh()
                    last_refresh = time.monotonic()
                self.run_once()
            except Exception:  # a bad tick must not end the scheduler
                log.exception("scheduler tick failed")
            self._stop.wait(self._tick)

    # -- definitions -----------------------------------------------------------------------

    def refresh(self) -> None:
        """Picks up new, changed and removed schedules."""
        current = {item.name: item for item in self._source()}
        if self._owns_all and not self._refreshed and self._bus is not None:
            for sub in self._bus.subscriptions():
                if sub["kind"] == "queue" and sub["id"].startswith("schedule:") and sub["id"][9:] not in current:
                    self._bus.unsubscribe(sub["id"])
        self._refreshed = True
        for name in list(self._states):
            if name not in current or current[name].schedule != self._states[name].scheduled.schedule:
                old = self._states.pop(name)
                if old.scheduled.schedule.on_spec is not None and self._bus is not None:
                    self._bus.unsubscribe(f"schedule:{name}")
        for name, item in current.items():
            if name in self._states:
                self._states[name].scheduled = item  # a new version with the same schedule
                continue
            state = _State(item)
            self._states[name] = state
            if item.schedule.on_spec is not None and self._bus is not None:
                self._bus.subscribe(f"schedule:{name}", item.schedule.on_spec)
            if item.schedule.after is not None:
                self._recover_after(state)

    # -- firing ----------------------------------------------------------------------------

    def run_once(self) -> None:
        now = self._clock()
        for state in list(self._states.values()):
            schedule = state.scheduled.schedule
            if schedule.every is not None or schedule.cron is not None:
                self._timed(state, now)
            if schedule.after is not None:
                self._after(state, now)
            if schedule.on_spec is not None:
                self._on(state)

    def _next_time(self, schedule: Schedule, after: float) -> float:
        if schedule.every is not None:
            return (int(after // schedule.every) + 1) * schedule.every
        from croniter import croniter  # type: ignore[import-untyped]

        assert schedule.cron is not None
        return float(croniter(schedule.cron, datetime.fromtimestamp(after, UTC)).get_next(float))

    def _timed(self, state: _State, now: float) -> None:
        schedule = state.scheduled.schedule
        if state.next_fire is None:
            state.next_fire = self._next_time(schedule, now)
            return
        if now < state.next_fire:
            return
        kind = "every" if schedule.every is not None else "cron"
        self._start(state.scheduled, instance_id(state.scheduled.name, f"{kind}-{_stamp(state.next_fire)}"), None)
        state.next_fire = self._next_time(schedule, now)

    def _recover_after(self, state: _State) -> None:
        """Finds the last ``after`` run of a previous scheduler (ids are numbered)."""
        n = 0
        while self._status(instance_id(state.scheduled.name, f"after-{n + 1}")) is not None:
            n += 1
        state.after_n = n
        state.after_waiting = instance_id(state.scheduled.name, f"after-{n}") if n else None

    def _after(self, state: _State, now: float) -> None:
        schedule = state.scheduled.schedule
        assert schedule.after is not None
        if state.after_waiting is not None:
            found = self._status(state.after_waiting)
            if found is None or found[0] not in _FINISHED:
                return
            finished_at = found[1] if found[1] is not None else now
            if now < finished_at + schedule.after:
                return
        state.after_n += 1
        iid = instance_id(state.scheduled.name, f"after-{state.after_n}")
        self._start(state.scheduled, iid, None)
        state.after_waiting = iid

    def _on(self, state: _State) -> None:
        name = state.scheduled.name
        schedule = state.scheduled.schedule
        deliveries = self._bus.poll(f"schedule:{name}", limit=100)
        done: list[int] = []
        for delivery in deliveries:
            if schedule.on_mode != "all":
                if self._start_for(state.scheduled, [delivery]):
                    done.append(delivery["seq"])
                continue
            key = repr(sorted((delivery.get("correlation") or {}).items()))
            partial = state.partial.setdefault(key, {})
            if any(d["seq"] == delivery["seq"] for d in partial.values()):
                continue  # seen in an earlier poll, not yet acknowledged
            index = delivery.get("filter") or 0
            if index in partial:
                continue  # that filter already has an event in this set; the later one waits
            partial[index] = delivery
            if len(partial) >= schedule.on_filters:
                group = [partial[i] for i in sorted(partial)]
                if self._start_for(state.scheduled, sorted(group, key=lambda d: d["seq"])):
                    done.extend(d["seq"] for d in group)
                    del state.partial[key]
        if done:
            self._bus.ack(f"schedule:{name}", done)

    def _start_for(self, scheduled: Scheduled, deliveries: list[dict[str, Any]]) -> bool:
        events = [d["event"] for d in deliveries]
        identity = "|".join(f"{e.get('source')}\x00{e.get('id')}" for e in events)
        iid = instance_id(scheduled.name, "on-" + hashlib.sha256(identity.encode()).hexdigest()[:16])
        from declarative_wf.activities.events import publish_correlation

        # workflow.correlation-started / -completed before the start (docs/events.md).
        publish_correlation(self._bus, scheduled.workflow, scheduled.name, iid, deliveries)
        return self._start(scheduled, iid, events)

    def _start(self, scheduled: Scheduled, iid: str, value: Any) -> bool:
        """True when started now or earlier (the id exists); False when it failed (retried)."""
        try:
            created = self._starter(scheduled, iid, value)
        except Exception as error:  # noqa: BLE001 - logged; the fire is retried (on) or skipped (timed)
            log.error("scheduled start of %s as %s failed: %s", scheduled.ref, iid, error)
            return False
        if created:
            self.started.append(iid)
            log.info("scheduled start of %s: %s", scheduled.ref, iid)
        return True


# -- wiring --------------------------------------------------------------------------------


def _client_status(client: Any) -> StatusLookup:
    def status(iid: str) -> tuple[str, float | None] | None:
        state = client.get_workflow_state(iid, fetch_payloads=False)
        if state is None:
            return None
        name = state.runtime_status.name
        updated = state.last_updated_at
        finished = updated.replace(tzinfo=updated.tzinfo or UTC).timestamp() if name in _FINISHED and updated else None
        return name, finished

    return status


def registry_scheduler(registry: Any, service: Any, engine_address: str, **options: Any) -> Scheduler:
    """The scheduler of ``dwf serve``: the latest version of every registered name that has a
    valid ``schedule`` (an invalid one is logged once and skipped)."""
    from declarative_wf.worker import new_client

    from .errors import ServiceError

    host, _, port = engine_address.rpartition(":")
    client = new_client(host, port)
    reported: set[str] = set()

    def source() -> list[Scheduled]:
        found = []
        for summary in registry.names():
            record, workflow = registry.workflow(summary.latest.ref)
            raw = schedule_of(workflow)
            if raw is None:
                continue
            try:
                found.append(Scheduled(record.name, record.ref, parse_schedule(raw), workflow))
            except ScheduleError as error:
                if record.ref not in reported:
                    reported.add(record.ref)
                    log.error("%s: %s; it is not scheduled", record.ref, error)
        return found

    def starter(scheduled: Scheduled, iid: str, value: Any) -> bool:
        try:
            service.start(scheduled.ref, value, instance_id=iid)
        except ServiceError as error:
            if error.http_status == 409:
                return False  # started before: the deterministic id did its job
            if 400 <= error.http_status < 500:
                # Refused for good (e.g. the events do not match the input schema): retrying
                # would fail the same way, so the fire (and its events) is dropped, loudly.
                log.error("scheduled start of %s as %s refused: %s", scheduled.ref, iid, error.message)
                return False
            raise
        return True

    return Scheduler(engine_address, source, starter, _client_status(client), owns_all=True, **options)


def embedded_scheduler(engine_address: str, workflows: list[ir.Workflow], **options: Any) -> Scheduler:
    """A scheduler beside an embedded engine, for the given compiled workflows (their
    ``schedule``), starting them through the engine with the interpreter's pinned payload::

        with Engine("wf.db") as engine, embedded_scheduler(engine.address, [workflow]):
            ...
    """
    from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
    from declarative_wf.interpreter.workflow import make_payload
    from declarative_wf.worker import new_client

    host, _, port = engine_address.rpartition(":")
    client = new_client(host, port)
    items = []
    for workflow in workflows:
        raw = schedule_of(workflow)
        if raw is None:
            raise ScheduleError(f"workflow {workflow.name!r} has no schedule")
        items.append(Scheduled(workflow.name, workflow.name, parse_schedule(raw), workflow))

    def starter(scheduled: Scheduled, iid: str, value: Any) -> bool:
        if client.get_workflow_state(iid, fetch_payloads=False) is not None:
            return False
        assert scheduled.workflow is not None
        client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(scheduled.workflow, value), instance_id=iid)
        return True

    return Scheduler(engine_address, lambda: items, starter, _client_status(client), **options)
