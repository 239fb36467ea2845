"""The engine's event bus: CloudEvents in, matched against subscriptions, delivered durably.

Publishers (the CloudEvents HTTP endpoint, the ``emit`` activity, lifecycle events) hand an event
to :meth:`EventBus.publish`. In ONE SQLite transaction the bus stores the event, matches it
against every subscription and records one pending *delivery* per matching subscription (and a
pending *forward* when a sink URL is configured). Only then are deliveries carried out:

* an ``instance`` subscription (a ``listen`` task) is delivered by raising an external event of
  the subscription's name on the workflow instance (``Backend.raise_event``, in-process);
* a ``queue`` subscription (a ``schedule.on`` trigger) keeps its deliveries until the consumer
  polls and acknowledges them.

A delivery row is deleted only after the instance's inbox committed the event, so a crash between
the two re-delivers it at the next start: delivery is **at least once**, and a listener removes
duplicates by CloudEvent ``source`` + ``id``. Subscriptions, undelivered deliveries and forwards
live in the engine's own database file (tables ``bus_*``), so they survive restarts. Events
published before a subscription exists are not delivered to it; ordering is the bus sequence.

Everything runs on the engine's event loop (like the backend), so no locks are needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

log = logging.getLogger("declarative_wf.engine.events")

#: Attributes every CloudEvent must carry (CloudEvents 1.0 "REQUIRED" context attributes).
REQUIRED_ATTRIBUTES = ("specversion", "id", "source", "type")
#: Attribute names: lower-case letters and digits only (CloudEvents 1.0 "Attribute Naming").
_ATTRIBUTE_NAME = re.compile(r"^[a-z0-9]+$")
_NOT_ATTRIBUTES = frozenset({"data", "data_base64"})
#: Published events kept after they are fully delivered (for inspection with ``recent()``).
KEEP_EVENTS = 1000
#: Seconds between sweeps for subscriptions of instances that have ended.
PRUNE_SECONDS = 60.0

_SCHEMA = """
CREATE TABLE IF NOT EXISTS bus_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL, id TEXT NOT NULL, type TEXT NOT NULL,
    body TEXT NOT NULL, published_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bus_subscriptions (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, instance_id TEXT, event_name TEXT,
    spec TEXT NOT NULL, created_after INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS bus_deliveries (
    subscription_id TEXT NOT NULL, seq INTEGER NOT NULL, payload TEXT NOT NULL,
    PRIMARY KEY (subscription_id, seq));
CREATE TABLE IF NOT EXISTS bus_forwards (
    seq INTEGER PRIMARY KEY, attempts INTEGER NOT NULL DEFAULT 0, next_at REAL NOT NULL DEFAULT 0);
"""


class EventValidationError(ValueError):
    """An event that is not a valid CloudEvent, or a subscription that cannot be used; the
    message says which attribute and what to do."""


class SubscriptionGone(Exception):
    """Raised by a deliverer when the subscriber no longer exists (instance finished or purged):
    the subscription is removed."""


def validate_event(event: Any, where: str = "the event") -> dict[str, Any]:
    """Checks a CloudEvent in its JSON form (structured mode) and returns it.

    Required: ``specversion`` "1.0", non-empty string ``id``, ``source`` and ``type``. Optional
    ``time`` must be RFC 3339; attribute names must be lower-case letters and digits; ``data``
    and ``data_base64`` are exclusive."""
    if not isinstance(event, dict):
        raise EventValidationError(f"{where} must be a JSON object (a CloudEvent), got {type(event).__name__}")
    for name in REQUIRED_ATTRIBUTES:
        value = event.get(name)
        if value is None:
            raise EventValidationError(f"{where} has no {name!r}: CloudEvents require specversion, id, source and type")
        if not isinstance(value, str) or not value:
            raise EventValidationError(f"{where}: {name!r} must be a non-empty string, got {value!r}")
    if event["specversion"] != "1.0":
        raise EventValidationError(f"{where}: specversion {event['specversion']!r} is not supported; use \"1.0\"")
    for name in event:
        if name not in _NOT_ATTRIBUTES and not _ATTRIBUTE_NAME.match(name):
            raise EventValidationError(
                f"{where}: attribute name {name!r} is invalid; CloudEvents attribute names are lower-case letters and digits"
            )
    if "data" in event and "data_base64" in event:
        raise EventValidationError(f"{where} has both 'data' and 'data_base64'; send one")
    stamp = event.get("time")
    if stamp is not None and (not isinstance(stamp, str) or not _is_rfc3339(stamp)):
        raise EventValidationError(f"{where}: 'time' must be an RFC 3339 timestamp such as 2026-01-31T12:00:00Z, got {stamp!r}")
    return event


def _is_rfc3339(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return "T" in text or "t" in text


# -- subscriptions and matching -------------------------------------------------------------


@dataclass(frozen=True)
class AttributeTest:
    """How one attribute of ``with`` is tested: ``equals`` a constant, ``regex`` (a string that
    is a regular expression, matched in full; a plain string matches itself), or ``jq`` (a
    predicate evaluated with ``.`` = the attribute's value and ``$event`` = the whole event)."""

    kind: str  # "equals" | "regex" | "jq"
    value: Any


@dataclass(frozen=True)
class EventFilterSpec:
    attributes: dict[str, AttributeTest] = field(default_factory=dict)
    #: key -> (jq program extracting the value from the event, expected value or None)
    correlate: dict[str, tuple[str, Any, bool]] = field(default_factory=dict)


@dataclass(frozen=True)
class SubscriptionSpec:
    """What a subscriber wants. ``groups`` name filter lists (``main``, ``until``); an empty
    list in a group matches every event. ``input`` is ``$input`` of the filter expressions."""

    groups: dict[str, list[EventFilterSpec]]
    input: Any = None

    @staticmethod
    def from_json(data: Any) -> SubscriptionSpec:
        if not isinstance(data, dict) or not isinstance(data.get("groups"), dict):
            raise EventValidationError("a subscription needs 'groups': {name: [filter, ...]}")
        groups: dict[str, list[EventFilterSpec]] = {}
        for name, filters in data["groups"].items():
            if not isinstance(filters, list):
                raise EventValidationError(f"subscription group {name!r} must be a list of filters")
            groups[name] = [_filter_from_json(item, f"{name}[{index}]") for index, item in enumerate(filters)]
        return SubscriptionSpec(groups, data.get("input"))

    def to_json(self) -> dict[str, Any]:
        return {
            "groups": {
                name: [
                    {
                        "with": {key: {test.kind: test.value} for key, test in item.attributes.items()},
                        "correlate": {
                            key: ({"from": source, "expect": expect} if has_expect else {"from": source})
                            for key, (source, expect, has_expect) in item.correlate.items()
                        },
                    }
                    for item in filters
                ]
                for name, filters in self.groups.items()
            },
            "input": self.input,
        }


def _filter_from_json(data: Any, where: str) -> EventFilterSpec:
    if not isinstance(data, dict):
        raise EventValidationError(f"filter {where} must be an object with 'with' and/or 'correlate'")
    for key in ("with", "correlate"):
        if data.get(key) is not None and not isinstance(data[key], dict):
            raise EventValidationError(f"filter {where}: '{key}' must be an object")
    attributes: dict[str, AttributeTest] = {}
    for name, test in (data.get("with") or {}).items():
        if not isinstance(test, dict) or len(test) != 1 or next(iter(test)) not in ("equals", "regex", "jq"):
            raise EventValidationError(f"filter {where}: attribute {name!r} needs one of equals / regex / jq")
        kind, value = next(iter(test.items()))
        attributes[name] = AttributeTest(kind, value)
    correlate: dict[str, tuple[str, Any, bool]] = {}
    for key, item in (data.get("correlate") or {}).items():
        if not isinstance(item, dict) or not isinstance(item.get("from"), str):
            raise EventValidationError(f"filter {where}: correlation {key!r} needs 'from' (a jq expression)")
        correlate[key] = (item["from"], item.get("expect"), "expect" in item)
    return EventFilterSpec(attributes, correlate)


def _jq(program: str, data: Any, event: dict[str, Any], subscription_input: Any) -> Any:
    from declarative_wf.expressions.evaluate import Scope
    from declarative_wf.expressions.jq_eval import evaluate_jq

    return evaluate_jq(program, Scope(data=data, variables={"event": event}, input=subscription_input))


def _event_data(event: dict[str, Any]) -> Any:
    return event.get("data")


def _regex_match(pattern: Any, value: Any) -> bool:
    """A string filter value is a regular expression matched in full (an invalid one only
    matches itself, so a URL such as ``https://x.com/a?b`` still works as a constant)."""
    if not isinstance(pattern, str) or not isinstance(value, str):
        return False
    try:
        return re.fullmatch(pattern, value) is not None
    except re.error:
        return False


def match_filter(item: EventFilterSpec, event: dict[str, Any], subscription_input: Any) -> dict[str, Any] | None:
    """The correlation values when ``event`` passes ``item``, else None. An expression that
    fails on an event is a non-match (an event of another shape), never an error."""
    # Constant tests first: they are cheap and usually decide (most events have another type).
    for name, test in sorted(item.attributes.items(), key=lambda entry: entry[1].kind == "jq"):
        value = _event_data(event) if name == "data" else event.get(name)
        if test.kind == "jq":
            try:
                outcome = _jq(str(test.value), value, event, subscription_input)
            except Exception:  # noqa: BLE001 - an event of another shape is simply no match
                return None
            if outcome is not True and (isinstance(outcome, bool) or outcome != value):
                return None
        elif test.kind == "regex":
            if value != test.value and not _regex_match(test.value, value):
                return None
        elif value != test.value:
            return None
    values: dict[str, Any] = {}
    for key, (program, expect, has_expect) in item.correlate.items():
        try:
            extracted = _jq(program, event, event, subscription_input)
        except Exception:  # noqa: BLE001 - an event of another shape is simply no match
            return None
        if has_expect and extracted != expect:
            return None
        values[key] = extracted
    return values


def match(spec: SubscriptionSpec, event: dict[str, Any]) -> dict[str, Any] | None:
    """``{"group", "filter", "correlation"}`` of the first filter ``event`` passes, in group
    order then filter order; None when it passes none."""
    for group, filters in spec.groups.items():
        if not filters:
            return {"group": group, "filter": None, "correlation": {}}
        for index, item in enumerate(filters):
            values = match_filter(item, event, spec.input)
            if values is not None:
                return {"group": group, "filter": index, "correlation": values}
    return None


def _lifecycle_subject(event: dict[str, Any]) -> str | None:
    """The instance a lifecycle event is about: an instance never receives its own lifecycle
    events (a ``listen`` with ``any: []`` would otherwise consume the events its own listening
    and its ``foreach`` tasks cause, a feedback loop)."""
    kind = event.get("type")
    if isinstance(kind, str) and kind.startswith("io.serverlessworkflow.") and isinstance(event.get("subject"), str):
        return str(event["subject"])
    return None


# -- the bus --------------------------------------------------------------------------------

#: Delivers one event to an instance: (instance_id, event_name, payload JSON). Raises
#: SubscriptionGone when the instance cannot receive events any more.
Deliverer = Callable[[str, str, str], None]
#: Called (on the engine loop) when a queue subscription has new deliveries.
Notifier = Callable[[str], None]


@dataclass(frozen=True)
class SinkOptions:
    """Forward every published event to an external CloudEvents HTTP endpoint (structured
    mode). Retries with exponential backoff from ``initial_delay`` to ``max_delay`` seconds,
    ``max_attempts`` times in total; then the event is dropped with an error in the log."""

    url: str
    max_attempts: int = 8
    initial_delay: float = 0.5
    max_delay: float = 60.0
    timeout: float = 10.0


@dataclass(frozen=True)
class PublishResult:
    seq: int
    deliveries: int


class EventBus:
    """The bus of one engine. ``start`` on the engine loop after the backend; ``close`` before
    the store closes."""

    def __init__(
        self, db_path: str | Path, deliver: Deliverer, sink: SinkOptions | None = None, alive: Callable[[str], bool] | None = None
    ) -> None:
        """``alive(instance_id)``: False once an instance has ended; its subscriptions are then
        removed (at start and every PRUNE_SECONDS)."""
        self._alive = alive
        self._db = sqlite3.connect(str(db_path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.executescript(_SCHEMA)
        self._deliver = deliver
        self._sink = sink
        self._specs: dict[str, tuple[str, str | None, str | None, SubscriptionSpec]] = {}
        self._waiters: dict[str, asyncio.Event] = {}
        self._forward_task: asyncio.Task[None] | None = None
        self._prune_task: asyncio.Task[None] | None = None
        self._forward_wakeup: asyncio.Event | None = None
        #: Called with each committed batch (in publication order), e.g. the engine's tracker of
        #: tasks in flight (events_lifecycle.OpenTasks). Must be quick and must not raise.
        self.observers: list[Callable[[list[dict[str, Any]]], None]] = []
        for sub_id, kind, instance_id, event_name, spec in self._db.execute(
            "SELECT id, kind, instance_id, event_name, spec FROM bus_subscriptions ORDER BY rowid"
        ):
            self._specs[sub_id] = (kind, instance_id, event_name, SubscriptionSpec.from_json(json.loads(spec)))

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        """Removes subscriptions of instances that ended (``alive``), re-delivers what a
        previous run left undelivered, and starts the sink forwarder and the periodic pruning."""
        if self._alive is not None:
            self.prune(self._alive)
        pending = list(self._db.execute("SELECT subscription_id, seq FROM bus_deliveries ORDER BY seq"))
        self._flush({sub for sub, _ in pending})
        if self._sink is not None and loop is not None:
            self._forward_wakeup = asyncio.Event()
            self._forward_task = loop.create_task(self._forward_loop())
        if self._alive is not None and loop is not None:
            self._prune_task = loop.create_task(self._prune_loop(self._alive))

    def close(self) -> None:
        for task in (self._forward_task, self._prune_task):
            if task is not None:
                task.cancel()
        self._forward_task = self._prune_task = None
        for waiter in self._waiters.values():
            waiter.set()
        with contextlib.suppress(sqlite3.Error):
            self._db.close()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- subscriptions -----------------------------------------------------------------------

    def subscribe(
        self, sub_id: str, spec: SubscriptionSpec, *, instance_id: str | None = None, event_name: str | None = None
    ) -> bool:
        """Registers a subscription; True when new. Idempotent: the subscribe activity may run
        twice (at-least-once), and the second call must not reset it."""
        if not sub_id:
            raise EventValidationError("a subscription needs an id")
        kind = "instance" if instance_id else "queue"
        if kind == "instance" and not event_name:
            raise EventValidationError("an instance subscription needs the event name to raise")
        if sub_id in self._specs:
            return False
        last = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM bus_events").fetchone()[0]
        self._db.execute(
            "INSERT INTO bus_subscriptions VALUES (?, ?, ?, ?, ?, ?, ?)",
            (sub_id, kind, instance_id, event_name, json.dumps(spec.to_json()), last, int(time.time() * 1e6)),
        )
        self._specs[sub_id] = (kind, instance_id, event_name, spec)
        return True

    def unsubscribe(self, sub_id: str) -> bool:
        with self._transaction():
            self._db.execute("DELETE FROM bus_deliveries WHERE subscription_id = ?", (sub_id,))
            removed = self._db.execute("DELETE FROM bus_subscriptions WHERE id = ?", (sub_id,)).rowcount
        self._specs.pop(sub_id, None)
        return bool(removed)

    def prune(self, alive: Callable[[str], bool]) -> int:
        """Removes the subscriptions of instances that ended while the engine was down (or
        that ended with no matching event since); returns how many."""
        gone = [sub_id for sub_id, (kind, iid, _, _) in self._specs.items() if kind == "instance" and iid and not alive(iid)]
        for sub_id in gone:
            self.unsubscribe(sub_id)
        return len(gone)

    async def _prune_loop(self, alive: Callable[[str], bool]) -> None:
        # A listen abandoned inside a finished instance (the losing branch of a competing fork,
        # a terminated instance) cannot unsubscribe itself; its subscription goes here.
        while True:
            await asyncio.sleep(PRUNE_SECONDS)
            try:
                self.prune(alive)
            except Exception:
                log.exception("pruning event subscriptions failed")

    def subscriptions(self) -> list[dict[str, Any]]:
        return [
            {"id": sub_id, "kind": kind, "instance_id": instance_id, "event_name": name, "spec": spec.to_json()}
            for sub_id, (kind, instance_id, name, spec) in self._specs.items()
        ]

    # -- publishing --------------------------------------------------------------------------

    def publish(self, event: dict[str, Any]) -> PublishResult:
        """Stores, matches and delivers one event (validated here too: every entrance counts)."""
        return self.publish_many([event])[0]

    def publish_many(self, events: list[dict[str, Any]]) -> list[PublishResult]:
        """Publishes a batch in one transaction: all are stored, or none (a batch with one
        invalid event is rejected whole, so a client can simply resend it)."""
        for index, event in enumerate(events):
            validate_event(event, "the event" if len(events) == 1 else f"event #{index}")
        results: list[PublishResult] = []
        touched: set[str] = set()
        now = int(time.time() * 1e6)
        with self._transaction():
            for event in events:
                own = _lifecycle_subject(event)
                matches = [
                    (sub_id, m)
                    for sub_id, (_, iid, _, spec) in self._specs.items()
                    if (own is None or iid != own) and (m := match(spec, event)) is not None
                ]
                # Stored even when nothing matched: the last KEEP_EVENTS stay for inspection
                # (``recent``: what arrived, including lifecycle events nobody listened to).
                body = json.dumps(event, separators=(",", ":"))
                seq = int(
                    self._db.execute(
                        "INSERT INTO bus_events (source, id, type, body, published_at) VALUES (?, ?, ?, ?, ?)",
                        (event["source"], event["id"], event["type"], body, now),
                    ).lastrowid
                    or 0
                )
                for sub_id, matched in matches:
                    payload = json.dumps({"event": event, "seq": seq, **matched}, separators=(",", ":"))
                    self._db.execute("INSERT OR IGNORE INTO bus_deliveries VALUES (?, ?, ?)", (sub_id, seq, payload))
                    touched.add(sub_id)
                count = len(matches)
                if self._sink is not None:
                    self._db.execute("INSERT INTO bus_forwards (seq) VALUES (?)", (seq,))
                results.append(PublishResult(seq, count))
            self._prune()
        for observer in self.observers:
            try:
                observer(events)
            except Exception:
                log.exception("event bus observer %r failed", observer)
        self._flush(touched)
        if self._forward_wakeup is not None:
            self._forward_wakeup.set()
        return results

    def _prune(self) -> None:
        self._db.execute(
            "DELETE FROM bus_events WHERE seq <= (SELECT COALESCE(MAX(seq), 0) FROM bus_events) - ? "
            "AND seq NOT IN (SELECT seq FROM bus_deliveries) AND seq NOT IN (SELECT seq FROM bus_forwards)",
            (KEEP_EVENTS,),
        )

    def recent(self, limit: int = 100) -> list[dict[str, Any]]:
        """The last ``limit`` events published (whether or not anything matched them), oldest
        first, as CloudEvents."""
        rows = self._db.execute("SELECT body FROM bus_events ORDER BY seq DESC LIMIT ?", (limit,))
        return [json.loads(body) for (body,) in reversed(list(rows))]

    # -- delivery ----------------------------------------------------------------------------

    def _flush(self, subscription_ids: set[str]) -> None:
        """Delivers the pending deliveries of instance subscriptions; wakes queue consumers."""
        for sub_id in sorted(subscription_ids):
            entry = self._specs.get(sub_id)
            if entry is None:
                continue
            kind, instance_id, event_name, _ = entry
            if kind == "queue":
                waiter = self._waiters.get(sub_id)
                if waiter is not None:
                    waiter.set()
                continue
            assert instance_id is not None and event_name is not None
            rows = list(
                self._db.execute(
                    "SELECT seq, payload FROM bus_deliveries WHERE subscription_id = ? ORDER BY seq", (sub_id,)
                )
            )
            for seq, payload in rows:
                try:
                    self._deliver(instance_id, event_name, payload)
                except SubscriptionGone as gone:
                    log.info("subscription %s removed: %s", sub_id, gone)
                    self.unsubscribe(sub_id)
                    break
                except Exception:
                    # An event the instance cannot take (too large, ...): dropped, never retried.
                    log.exception("event %d could not be delivered to %s; dropped", seq, instance_id)
                self._db.execute("DELETE FROM bus_deliveries WHERE subscription_id = ? AND seq = ?", (sub_id, seq))

    # -- queue subscriptions (schedule.on) ----------------------------------------------------

    def poll(self, sub_id: str, limit: int = 100) -> list[dict[str, Any]]:
        """Pending deliveries of a queue subscription, oldest first, until acknowledged."""
        if sub_id not in self._specs:
            raise EventValidationError(f"no subscription {sub_id!r}; subscribe first")
        rows = self._db.execute(
            "SELECT payload FROM bus_deliveries WHERE subscription_id = ? ORDER BY seq LIMIT ?", (sub_id, limit)
        )
        return [json.loads(payload) for (payload,) in rows]

    async def wait(self, sub_id: str, timeout: float) -> None:
        """Returns when the queue subscription has deliveries, or after ``timeout`` seconds."""
        if self.poll(sub_id, 1):
            return
        waiter = self._waiters.setdefault(sub_id, asyncio.Event())
        waiter.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(waiter.wait(), timeout)

    def ack(self, sub_id: str, seqs: list[int]) -> int:
        with self._transaction():
            done = 0
            for seq in seqs:
                done += self._db.execute(
                    "DELETE FROM bus_deliveries WHERE subscription_id = ? AND seq = ?", (sub_id, int(seq))
                ).rowcount
        return done

    # -- forwarding to a sink -----------------------------------------------------------------

    async def _forward_loop(self) -> None:
        import httpx

        assert self._sink is not None and self._forward_wakeup is not None
        sink = self._sink
        async with httpx.AsyncClient(timeout=sink.timeout) as client:
            while True:
                self._forward_wakeup.clear()
                now = time.time()
                rows = list(
                    self._db.execute(
                        "SELECT f.seq, f.attempts, e.body FROM bus_forwards f JOIN bus_events e USING (seq) "
                        "WHERE f.next_at <= ? ORDER BY f.seq LIMIT 100",
                        (now,),
                    )
                )
                for seq, attempts, body in rows:
                    ok = await self._forward_one(client, sink, body)
                    if ok or attempts + 1 >= sink.max_attempts:
                        if not ok:
                            log.error("event %d could not be forwarded to %s after %d attempts; dropped", seq, sink.url, attempts + 1)
                        self._db.execute("DELETE FROM bus_forwards WHERE seq = ?", (seq,))
                    else:
                        delay = min(sink.max_delay, sink.initial_delay * 2**attempts)
                        self._db.execute(
                            "UPDATE bus_forwards SET attempts = ?, next_at = ? WHERE seq = ?", (attempts + 1, time.time() + delay, seq)
                        )
                upcoming = self._db.execute("SELECT MIN(next_at) FROM bus_forwards").fetchone()[0]
                wait = 3600.0 if upcoming is None else max(0.01, upcoming - time.time())
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._forward_wakeup.wait(), wait)

    @staticmethod
    async def _forward_one(client: Any, sink: SinkOptions, body: str) -> bool:
        try:
            response = await client.post(sink.url, content=body, headers={"content-type": "application/cloudevents+json"})
        except Exception as error:  # noqa: BLE001 - any failure is retried later
            log.warning("forwarding to %s failed: %s", sink.url, error)
            return False
        if response.status_code >= 300:
            log.warning("forwarding to %s answered %d", sink.url, response.status_code)
            return False
        return True
