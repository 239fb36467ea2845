"""Unit tests of the SQLite layer: schema, transactions, listing order, refusal of bad files."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from declarative_wf.engine.protocol import Status
from declarative_wf.engine.store import InstanceFilter, InstanceRow, Store, StoreError


def row(instance_id: str, created_at: int, status: int = Status.RUNNING, name: str = "wf", parent: str | None = None) -> InstanceRow:
    return InstanceRow(
        instance_id=instance_id,
        execution_id="e1",
        name=name,
        version=None,
        status=status,
        created_at=created_at,
        last_updated_at=created_at,
        parent_instance_id=parent,
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    opened = Store(tmp_path / "s.db")
    yield opened
    opened.close()


def test_wal_mode_and_schema_version(store: Store) -> None:
    assert store._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.integrity_check() == "ok"


def test_transaction_rolls_back_on_error(store: Store) -> None:
    with pytest.raises(RuntimeError):
        with store.transaction():
            store.put_instance(row("a", 1))
            raise RuntimeError("boom")
    assert store.get_instance("a") is None
    with store.transaction():
        store.put_instance(row("a", 1))
    assert store.get_instance("a") == row("a", 1)


def test_nested_transactions_join_the_outer_one(store: Store) -> None:
    with pytest.raises(RuntimeError):
        with store.transaction():
            with store.transaction():
                store.put_instance(row("inner", 1))
            raise RuntimeError("outer fails")
    assert store.get_instance("inner") is None


def test_history_append_and_partial_read(store: Store) -> None:
    with store.transaction():
        store.append_history("a", 0, [b"e0", b"e1"])
        store.append_history("a", 2, [b"e2"])
    assert store.read_history("a") == [b"e0", b"e1", b"e2"]
    assert store.read_history("a", 1) == [b"e1", b"e2"]


def test_duplicate_history_sequence_is_refused(store: Store) -> None:
    with store.transaction():
        store.append_history("a", 0, [b"e0"])
    with pytest.raises(sqlite3.IntegrityError):
        with store.transaction():
            store.append_history("a", 0, [b"again"])
    assert store.read_history("a") == [b"e0"]


def test_inbox_visibility_and_kinds(store: Store) -> None:
    with store.transaction():
        store.add_inbox("a", None, 100, "eventRaised", b"now")
        store.add_inbox("a", "e1", 500, "timerFired", b"later")
    assert [r.event for r in store.visible_inbox("a", 200)] == [b"now"]
    assert store.inbox_kinds("a", 1000) == {"eventRaised", "timerFired"}
    with store.transaction():
        store.delete_inbox_of_execution("a", "e1")
    assert store.inbox_kinds("a", 1000) == {"eventRaised"}


def test_listing_is_in_creation_order_with_filters(store: Store) -> None:
    with store.transaction():
        store.put_instance(row("c", 3, Status.COMPLETED))
        store.put_instance(row("a", 1))
        store.put_instance(row("b", 2, Status.COMPLETED, name="other"))
    assert [r.instance_id for r in store.list_instances(InstanceFilter(), None, None)] == ["a", "b", "c"]
    assert [r.instance_id for r in store.list_instances(InstanceFilter(), (1, "a"), 1)] == ["b"]
    completed = InstanceFilter(statuses=frozenset({Status.COMPLETED}))
    assert [r.instance_id for r in store.list_instances(completed, None, None)] == ["b", "c"]
    assert [r.instance_id for r in store.list_instances(InstanceFilter(name="other"), None, None)] == ["b"]
    window = InstanceFilter(created_from=2, created_to=3)
    assert [r.instance_id for r in store.list_instances(window, None, None)] == ["b"]


def test_delete_instance_removes_everything(store: Store) -> None:
    with store.transaction():
        store.put_instance(row("a", 1))
        store.put_instance(row("kid", 2, parent="a"))
        store.append_history("a", 0, [b"e"])
        store.add_inbox("a", None, 1, "eventRaised", b"x")
        store.add_activity("a", "e1", 1, b"req")
    assert store.child_ids("a") == ["kid"]
    with store.transaction():
        store.delete_instance("a")
    stats = store.stats()
    assert (stats.instances, stats.history_events, stats.inbox_events, stats.activities) == (1, 0, 0, 0)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("this is not sqlite " * 100)
    with pytest.raises(StoreError, match="not a usable engine database"):
        Store(bogus)
    assert bogus.read_text().startswith("this is not sqlite")


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    Store(path).close()
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    with pytest.raises(StoreError, match="newer declarative_wf"):
        Store(path)
