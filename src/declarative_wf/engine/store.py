"""SQLite persistence of the embedded engine: instances, histories, inboxes and activity queue.

One file in WAL mode. Every method here runs inside a transaction opened by the caller with
:meth:`Store.transaction`, so one state change of an instance is one commit. Payloads are the
protobuf bytes of the Dapr-fork messages (``HistoryEvent`` for history and inbox rows,
``ActivityRequest`` for activities): they are stored exactly as they go on the wire, so nothing
is re-encoded on the hot path.

Leases are deliberately *not* stored: the engine process holds an exclusive lock on the file
(see ``server.py``), so leases live and die with that process, and a restart starts with every
work item free. That is the "sweep on restart" without a sweep.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

SCHEMA_VERSION = 1

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS instances (
    instance_id        TEXT PRIMARY KEY,
    execution_id       TEXT NOT NULL,
    name               TEXT NOT NULL,
    version            TEXT,
    status             INTEGER NOT NULL,
    created_at         INTEGER NOT NULL,     -- microseconds since the epoch, UTC
    last_updated_at    INTEGER NOT NULL,
    started_at         INTEGER,
    completed_at       INTEGER,
    scheduled_start_at INTEGER,
    input              TEXT,
    output             TEXT,
    custom_status      TEXT,
    failure            BLOB,                 -- TaskFailureDetails
    parent_instance_id TEXT,
    parent_execution_id TEXT,
    parent_task_id     INTEGER,
    tags               TEXT,                 -- JSON object
    history_len        INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS instances_by_created ON instances (created_at, instance_id);
CREATE INDEX IF NOT EXISTS instances_by_status ON instances (status);
CREATE INDEX IF NOT EXISTS instances_by_parent ON instances (parent_instance_id)
    WHERE parent_instance_id IS NOT NULL;

CREATE TABLE IF NOT EXISTS history (
    instance_id TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    event       BLOB NOT NULL,
    PRIMARY KEY (instance_id, seq)
) WITHOUT ROWID;

-- The orchestration inbox: events the instance has not processed yet. Timers are rows whose
-- visible_at lies in the future. execution_id is NULL for events meant for whichever
-- execution is current (raised events, suspend/resume/terminate).
CREATE TABLE IF NOT EXISTS inbox (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id  TEXT NOT NULL,
    execution_id TEXT,
    visible_at   INTEGER NOT NULL,
    kind         TEXT NOT NULL,
    event        BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS inbox_by_instance ON inbox (instance_id, id);

CREATE TABLE IF NOT EXISTS activities (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id  TEXT NOT NULL,
    execution_id TEXT NOT NULL,
    task_id      INTEGER NOT NULL,
    request      BLOB NOT NULL              -- ActivityRequest
);
CREATE INDEX IF NOT EXISTS activities_by_instance ON activities (instance_id);

-- The last heartbeat of each running activity step (ActivityContext.heartbeat): its details
-- outlive the attempt, so a retry can resume from them.
CREATE TABLE IF NOT EXISTS heartbeats (
    instance_id TEXT NOT NULL,
    step        TEXT NOT NULL,
    details     TEXT,                       -- JSON
    at          INTEGER NOT NULL,
    PRIMARY KEY (instance_id, step)
) WITHOUT ROWID;
"""

_INSTANCE_COLUMNS = (
    "instance_id, execution_id, name, version, status, created_at, last_updated_at, started_at, "
    "completed_at, scheduled_start_at, input, output, custom_status, failure, parent_instance_id, "
    "parent_execution_id, parent_task_id, tags, history_len"
)


_INSTANCE_FIELDS = tuple(name.strip() for name in _INSTANCE_COLUMNS.split(","))

_INSTANCE_CACHE_SIZE = 50_000


def _copy_row(row: InstanceRow) -> InstanceRow:
    """A shallow copy (every field is an immutable value), without dataclasses.replace's
    per-call introspection: rows are copied on every read of the hot path."""
    clone = object.__new__(InstanceRow)
    clone.__dict__.update(row.__dict__)
    return clone


class StoreError(Exception):
    """The database file cannot be used (wrong format, newer schema, unreadable)."""


@dataclass
class InstanceRow:
    instance_id: str
    execution_id: str
    name: str
    version: str | None
    status: int
    created_at: int
    last_updated_at: int
    started_at: int | None = None
    completed_at: int | None = None
    scheduled_start_at: int | None = None
    input: str | None = None
    output: str | None = None
    custom_status: str | None = None
    failure: bytes | None = None
    parent_instance_id: str | None = None
    parent_execution_id: str | None = None
    parent_task_id: int | None = None
    tags: str | None = None
    history_len: int = 0


@dataclass(frozen=True)
class InboxRow:
    id: int
    execution_id: str | None
    visible_at: int
    kind: str
    event: bytes


@dataclass(frozen=True)
class ActivityRow:
    id: int
    instance_id: str
    execution_id: str
    task_id: int
    request: bytes


@dataclass(frozen=True)
class InstanceFilter:
    """Which instances a listing or a bulk purge selects. Empty fields select everything."""

    statuses: frozenset[int] = frozenset()
    name: str | None = None
    created_from: int | None = None  # inclusive, microseconds
    created_to: int | None = None  # exclusive, microseconds
    parent_instance_id: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if self.statuses:
            clauses.append(f"status IN ({','.join('?' * len(self.statuses))})")
            args.extend(sorted(self.statuses))
        if self.name is not None:
            clauses.append("name = ?")
            args.append(self.name)
        if self.created_from is not None:
            clauses.append("created_at >= ?")
            args.append(self.created_from)
        if self.created_to is not None:
            clauses.append("created_at < ?")
            args.append(self.created_to)
        if self.parent_instance_id is not None:
            clauses.append("parent_instance_id = ?")
            args.append(self.parent_instance_id)
        return (" AND ".join(clauses) or "1=1"), args


@dataclass
class StoreStats:
    instances: int = 0
    history_events: int = 0
    inbox_events: int = 0
    activities: int = 0
    by_status: dict[int, int] = field(default_factory=dict)


class Store:
    """A thin, typed layer over one SQLite connection. Not thread-safe: the engine uses it from
    its event-loop thread only."""

    def __init__(self, path: str | Path, synchronous: Literal["NORMAL", "FULL"] = "NORMAL") -> None:
        self.path = str(path)
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode survives any process crash (kill -9); only an OS crash or power
            # loss can roll back the last commits. FULL also survives those, at an fsync a commit.
            self._db.execute(f"PRAGMA synchronous={synchronous}")
            self._db.execute("PRAGMA busy_timeout=5000")
            self._db.execute("PRAGMA temp_store=MEMORY")
            self._migrate()
        except sqlite3.DatabaseError as error:
            raise StoreError(f"{self.path}: not a usable engine database ({error})") from error
        self._in_transaction = False
        # Write-through cache of instance rows: every write goes through this object (the
        # engine owns the file), so reads of hot instances need no query. Rows written in a
        # transaction that rolls back are dropped from it.
        self._instances: dict[str, InstanceRow | None] = {}
        self._touched: set[str] = set()

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self._db.execute("PRAGMA optimize")
        self._db.close()

    def _migrate(self) -> None:
        self._db.executescript(_SCHEMA)
        row = self._db.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
        if row is None:
            self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
        elif int(row[0]) > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer declarative_wf (schema {row[0]}, this one "
                f"reads {SCHEMA_VERSION}); upgrade declarative_wf to open it"
            )

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic unit. Nested use joins the outer transaction."""
        if self._in_transaction:
            yield
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._in_transaction = True
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            for instance_id in self._touched:
                self._instances.pop(instance_id, None)
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            self._in_transaction = False
            self._touched.clear()

    # -- instances -------------------------------------------------------------------------

    def get_instance(self, instance_id: str) -> InstanceRow | None:
        """A copy: callers mutate it and write it back with put_instance."""
        if instance_id in self._instances:
            cached = self._instances[instance_id]
            return _copy_row(cached) if cached is not None else None
        row = self._db.execute(
            f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE instance_id = ?", (instance_id,)
        ).fetchone()
        if len(self._instances) > _INSTANCE_CACHE_SIZE:
            self._instances.clear()
        found = InstanceRow(*row) if row else None
        self._instances[instance_id] = found
        return _copy_row(found) if found is not None else None

    def put_instance(self, row: InstanceRow) -> None:
        fields = row.__dict__
        values = tuple([fields[name] for name in _INSTANCE_FIELDS])
        self._db.execute(
            f"INSERT OR REPLACE INTO instances ({_INSTANCE_COLUMNS}) "
            f"VALUES ({','.join('?' * len(values))})",
            values,
        )
        self._remember(row.instance_id, _copy_row(row))

    def _remember(self, instance_id: str, row: InstanceRow | None) -> None:
        self._instances[instance_id] = row
        if self._in_transaction:
            self._touched.add(instance_id)

    def list_instances(
        self, where: InstanceFilter, after: tuple[int, str] | None, limit: int | None
    ) -> list[InstanceRow]:
        """Instances in creation order, starting after the (created_at, instance_id) key."""
        condition, args = where.where()
        if after is not None:
            condition += " AND (created_at, instance_id) > (?, ?)"
            args.extend(after)
        sql = f"SELECT {_INSTANCE_COLUMNS} FROM instances WHERE {condition} ORDER BY created_at, instance_id"
        if limit is not None:
            sql += " LIMIT ?"
            args.append(limit)
        return [InstanceRow(*row) for row in self._db.execute(sql, args)]

    def child_ids(self, instance_id: str) -> list[str]:
        rows = self._db.execute(
            "SELECT instance_id FROM instances WHERE parent_instance_id = ?", (instance_id,)
        )
        return [row[0] for row in rows]

    def with_descendants(self, roots: Iterable[str]) -> list[str]:
        """``roots`` and every instance below them (children, their children, ...), each once."""
        found: list[str] = []
        pending = list(roots)
        seen: set[str] = set()
        while pending:
            instance_id = pending.pop()
            if instance_id not in seen:
                seen.add(instance_id)
                found.append(instance_id)
                pending.extend(self.child_ids(instance_id))
        return found

    def delete_instance(self, instance_id: str) -> None:
        """Removes everything stored for the instance."""
        for table in ("history", "inbox", "activities", "heartbeats", "instances"):
            self._db.execute(f"DELETE FROM {table} WHERE instance_id = ?", (instance_id,))
        self._remember(instance_id, None)

    # -- heartbeats ------------------------------------------------------------------------

    def save_heartbeat(self, instance_id: str, step: str, details: str | None, at: int) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO heartbeats (instance_id, step, details, at) VALUES (?, ?, ?, ?)",
            (instance_id, step, details, at),
        )

    def last_heartbeat(self, instance_id: str, step: str) -> tuple[str | None, int] | None:
        """``(details JSON, microseconds)`` of the step's last heartbeat; None if it has none."""
        row = self._db.execute(
            "SELECT details, at FROM heartbeats WHERE instance_id = ? AND step = ?", (instance_id, step)
        ).fetchone()
        return None if row is None else (row[0], row[1])

    # -- history ---------------------------------------------------------------------------

    def read_history(self, instance_id: str, start: int = 0) -> list[bytes]:
        rows = self._db.execute(
            "SELECT event FROM history WHERE instance_id = ? AND seq >= ? ORDER BY seq",
            (instance_id, start),
        )
        return [row[0] for row in rows]

    def append_history(self, instance_id: str, first_seq: int, events: Sequence[bytes]) -> None:
        self._db.executemany(
            "INSERT INTO history (instance_id, seq, event) VALUES (?, ?, ?)",
            [(instance_id, first_seq + offset, event) for offset, event in enumerate(events)],
        )

    def clear_history(self, instance_id: str) -> None:
        self._db.execute("DELETE FROM history WHERE instance_id = ?", (instance_id,))

    # -- inbox -----------------------------------------------------------------------------

    def add_inbox(
        self, instance_id: str, execution_id: str | None, visible_at: int, kind: str, event: bytes
    ) -> int:
        cursor = self._db.execute(
            "INSERT INTO inbox (instance_id, execution_id, visible_at, kind, event) VALUES (?, ?, ?, ?, ?)",
            (instance_id, execution_id, visible_at, kind, event),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def visible_inbox(self, instance_id: str, now: int) -> list[InboxRow]:
        rows = self._db.execute(
            "SELECT id, execution_id, visible_at, kind, event FROM inbox "
            "WHERE instance_id = ? AND visible_at <= ? ORDER BY id",
            (instance_id, now),
        )
        return [InboxRow(*row) for row in rows]

    def inbox_kinds(self, instance_id: str, now: int) -> set[str]:
        rows = self._db.execute(
            "SELECT DISTINCT kind FROM inbox WHERE instance_id = ? AND visible_at <= ?",
            (instance_id, now),
        )
        return {row[0] for row in rows}

    def delete_inbox_rows(self, row_ids: Sequence[int]) -> None:
        self._db.executemany("DELETE FROM inbox WHERE id = ?", [(row_id,) for row_id in row_ids])

    def delete_inbox_of_execution(self, instance_id: str, execution_id: str) -> None:
        self._db.execute(
            "DELETE FROM inbox WHERE instance_id = ? AND execution_id = ?", (instance_id, execution_id)
        )

    def delete_inbox(self, instance_id: str) -> None:
        self._db.execute("DELETE FROM inbox WHERE instance_id = ?", (instance_id,))

    def all_inbox_heads(self) -> list[tuple[str, int]]:
        """(instance_id, visible_at) of every inbox row; rebuilds the dispatch index at start."""
        return list(self._db.execute("SELECT instance_id, visible_at FROM inbox ORDER BY id"))

    # -- activities ------------------------------------------------------------------------

    def add_activity(self, instance_id: str, execution_id: str, task_id: int, request: bytes) -> int:
        cursor = self._db.execute(
            "INSERT INTO activities (instance_id, execution_id, task_id, request) VALUES (?, ?, ?, ?)",
            (instance_id, execution_id, task_id, request),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def get_activity(self, row_id: int) -> ActivityRow | None:
        row = self._db.execute(
            "SELECT id, instance_id, execution_id, task_id, request FROM activities WHERE id = ?",
            (row_id,),
        ).fetchone()
        return ActivityRow(*row) if row else None

    def has_activities(self, instance_id: str) -> bool:
        """Whether activities of the instance are queued or running (the index makes it cheap)."""
        return self._db.execute("SELECT 1 FROM activities WHERE instance_id = ? LIMIT 1", (instance_id,)).fetchone() is not None

    def delete_activity(self, row_id: int) -> None:
        self._db.execute("DELETE FROM activities WHERE id = ?", (row_id,))

    def delete_activities_except(self, instance_id: str, keep: Sequence[int]) -> None:
        """Drops the queued activities of an instance, except those being executed right now."""
        keep_sql = ",".join("?" * len(keep)) or "NULL"
        self._db.execute(
            f"DELETE FROM activities WHERE instance_id = ? AND id NOT IN ({keep_sql})",
            (instance_id, *keep),
        )

    def all_activity_ids(self) -> list[int]:
        return [row[0] for row in self._db.execute("SELECT id FROM activities ORDER BY id")]

    # -- diagnostics -----------------------------------------------------------------------

    def stats(self) -> StoreStats:
        stats = StoreStats()
        for table, attribute in (
            ("instances", "instances"),
            ("history", "history_events"),
            ("inbox", "inbox_events"),
            ("activities", "activities"),
        ):
            setattr(stats, attribute, self._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])
        stats.by_status = dict(self._db.execute("SELECT status, COUNT(*) FROM instances GROUP BY status"))
        return stats

    def integrity_check(self) -> str:
        return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])
