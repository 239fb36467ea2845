"""The definitions registry: submitted definitions by name, version and content hash.

It lives in its own SQLite file beside the engine's database (``<db>.definitions.sqlite``):
the engine owns its file exclusively, and definitions are not workflow state. Instances never
read the registry while they run: a start copies the graph into the instance (pinning), so
deleting or replacing a definition never changes an instance that already started.

Versions: a definition's own ``version`` field, or, when it has none, the next integer for
its name (``1``, ``2``, ...; never reused, even after a delete). Each version is also
addressable by its content hash (``sha256:…`` of the compiled graph). Submitting a graph that
is already registered returns the existing entry (idempotent); submitting a different graph
under a version that is taken is a conflict. ``latest`` is the most recently submitted version.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from declarative_wf import ir

from . import errors
from .compiling import Compiled

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS definitions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    format TEXT NOT NULL,
    filename TEXT NOT NULL,
    source TEXT NOT NULL,
    ir TEXT NOT NULL,
    created_at TEXT NOT NULL,
    auto_version INTEGER NOT NULL,
    UNIQUE (name, version)
);
-- The last integer version given to each name, so numbers are never handed out twice.
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, last INTEGER NOT NULL);
"""
_COLUMNS = "seq, name, version, hash, format, filename, created_at, auto_version"
_GRAPH_CACHE = 128


def registry_path(db: str | os.PathLike[str]) -> Path:
    """Where ``dwf serve --db PATH`` keeps its definitions."""
    path = Path(db)
    return path.with_name(path.name + ".definitions.sqlite")


@dataclass(frozen=True)
class DefinitionRecord:
    """One registered version. ``source`` and ``graph`` are filled by :meth:`DefinitionRegistry.get`."""

    seq: int
    name: str
    version: str
    hash: str
    format: str
    filename: str
    created_at: str
    auto_version: bool
    source: str | None = None
    graph: dict[str, Any] | None = None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"

    def to_json(self, *, full: bool = False) -> dict[str, Any]:
        data = {
            "name": self.name,
            "version": self.version,
            "ref": self.ref,
            "hash": self.hash,
            "format": self.format,
            "filename": self.filename,
            "createdAt": self.created_at,
            "autoVersion": self.auto_version,
        }
        if full:
            data["source"] = self.source
            data["graph"] = self.graph
        return data


@dataclass(frozen=True)
class NameSummary:
    """A registered name: how many versions and which is the latest."""

    name: str
    versions: int
    latest: DefinitionRecord

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "versions": self.versions, "latest": self.latest.to_json()}


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _record(row: tuple[Any, ...]) -> DefinitionRecord:
    seq, name, version, hash_, fmt, filename, created_at, auto = row[:8]
    return DefinitionRecord(int(seq), name, version, hash_, fmt, filename, created_at, bool(auto))


class DefinitionRegistry:
    """``DefinitionRegistry(path)`` (``None``: in memory, for a worker's ``--definitions DIR``).

    Thread-safe: one connection behind a lock; SQLite in WAL mode so another process (a
    ``dwf worker`` reading the same file) can read while the server writes."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = None if path is None else Path(path)
        target = ":memory:" if self.path is None else str(self.path)
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None, timeout=30)
        self._lock = threading.Lock()
        self._graphs: OrderedDict[str, ir.Workflow] = OrderedDict()
        with self._lock:
            if self.path is not None:
                self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL mode: a committed submission survives a killed process.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            row = self._db.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if row is None:
                self._db.execute("INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                self._db.close()
                raise RuntimeError(f"{self.path} was written by a newer version of declarative_wf (schema {row[0]})")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- writing ----------------------------------------------------------------------------------

    def submit(self, compiled: Compiled, source: str, filename: str) -> tuple[DefinitionRecord, bool]:
        """Registers a compiled definition; returns its record and whether it is new."""
        workflow = compiled.workflow
        digest = ir.content_hash(workflow)
        graph = json.dumps(ir.workflow_to_json(workflow), separators=(",", ":"))
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                existing = self._db.execute(f"SELECT {_COLUMNS} FROM definitions WHERE hash = ?", (digest,)).fetchone()
                if existing is not None:
                    self._db.execute("COMMIT")
                    return _record(existing), False
                auto = workflow.version is None
                version = self._next_version(workflow.name) if auto else str(workflow.version)
                if not auto and self._exists(workflow.name, version):
                    raise errors.conflict(
                        errors.DEFINITION_VERSION_EXISTS,
                        f"{workflow.name}@{version} is already registered with different content; "
                        "change the definition's version to submit it",
                    )
                cursor = self._db.execute(
                    "INSERT INTO definitions (name, version, hash, format, filename, source, ir, created_at, auto_version)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (workflow.name, version, digest, compiled.format, filename, source, graph, _now(), int(auto)),
                )
                row = self._db.execute(f"SELECT {_COLUMNS} FROM definitions WHERE seq = ?", (cursor.lastrowid,)).fetchone()
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        self._remember(digest, workflow)
        return _record(row), True

    def _exists(self, name: str, version: str) -> bool:
        return self._db.execute("SELECT 1 FROM definitions WHERE name = ? AND version = ?", (name, version)).fetchone() is not None

    def _next_version(self, name: str) -> str:
        row = self._db.execute("SELECT last FROM counters WHERE name = ?", (name,)).fetchone()
        number = (row[0] if row else 0) + 1
        while self._exists(name, str(number)):  # an explicit "3" already there: skip it
            number += 1
        self._db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)", (name, number))
        return str(number)

    def delete(self, ref: str) -> list[DefinitionRecord]:
        """Deletes one version (``name@version`` or a hash) or every version of a name."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                rows = self._select(ref, every_version=True)
                self._db.executemany("DELETE FROM definitions WHERE seq = ?", [(row[0],) for row in rows])
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return [_record(row) for row in rows]

    # -- reading ----------------------------------------------------------------------------------

    def get(self, ref: str) -> DefinitionRecord:
        """The version ``ref`` names, with its source and graph. ``ref`` is ``name`` (the latest
        version), ``name@version`` or ``sha256:…``. Raises ``ERR_DEFINITION_NOT_FOUND``."""
        with self._lock:
            row = self._select(ref, every_version=False)[0]
            extra = self._db.execute("SELECT source, ir FROM definitions WHERE seq = ?", (row[0],)).fetchone()
        record = _record(row)
        return DefinitionRecord(**{**asdict(record), "source": extra[0], "graph": json.loads(extra[1])})

    def workflow(self, ref: str) -> tuple[DefinitionRecord, ir.Workflow]:
        """The record and compiled graph of ``ref`` (graphs are cached by content hash)."""
        with self._lock:
            row = self._select(ref, every_version=False)[0]
            record = _record(row)
            cached = self._graphs.get(record.hash)
            if cached is not None:
                self._graphs.move_to_end(record.hash)
                return record, cached
            text = self._db.execute("SELECT ir FROM definitions WHERE seq = ?", (row[0],)).fetchone()[0]
        workflow = ir.workflow_from_json(json.loads(text))
        self._remember(record.hash, workflow)
        return record, workflow

    def find(self, ref: str) -> DefinitionRecord | None:
        """Like :meth:`get` without source and graph, None when ``ref`` is not registered."""
        try:
            with self._lock:
                return _record(self._select(ref, every_version=False)[0])
        except errors.ServiceError:
            return None

    def names(self) -> list[NameSummary]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS}, (SELECT COUNT(*) FROM definitions AS d2 WHERE d2.name = d.name)"
                " FROM definitions AS d WHERE seq IN (SELECT MAX(seq) FROM definitions GROUP BY name) ORDER BY name"
            ).fetchall()
        return [NameSummary(row[1], int(row[8]), _record(row)) for row in rows]

    def versions(self, name: str) -> list[DefinitionRecord]:
        """Every version of ``name``, oldest first; raises when there is none."""
        with self._lock:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM definitions WHERE name = ? ORDER BY seq", (name,)).fetchall()
        if not rows:
            raise _not_found(name)
        return [_record(row) for row in rows]

    def _select(self, ref: str, *, every_version: bool) -> list[tuple[Any, ...]]:
        if ref.startswith("sha256:"):
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM definitions WHERE hash = ?", (ref,)).fetchall()
        elif "@" in ref:
            name, version = ref.split("@", 1)
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM definitions WHERE name = ? AND version = ?", (name, version)
            ).fetchall()
        elif every_version:
            rows = self._db.execute(f"SELECT {_COLUMNS} FROM definitions WHERE name = ? ORDER BY seq", (ref,)).fetchall()
        else:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM definitions WHERE name = ? ORDER BY seq DESC LIMIT 1", (ref,)
            ).fetchall()
        if not rows:
            raise _not_found(ref)
        return rows

    def _remember(self, digest: str, workflow: ir.Workflow) -> None:
        with self._lock:
            self._graphs[digest] = workflow
            self._graphs.move_to_end(digest)
            while len(self._graphs) > _GRAPH_CACHE:
                self._graphs.popitem(last=False)


def _not_found(ref: str) -> errors.ServiceError:
    return errors.not_found(errors.DEFINITION_NOT_FOUND, f"no definition {ref!r} is registered")
