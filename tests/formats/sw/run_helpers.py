"""Helpers of the Serverless Workflow compile and run tests: write a definition, run it on the
real embedded engine, read the timers of its history, watch its lifecycle events."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import declarative_wf
from declarative_wf.activities.registry import Registry
from declarative_wf.diagnostics import Diagnostic, DiagnosticError
from declarative_wf.engine import events
from declarative_wf.engine.store import Store
from declarative_wf.formats import load_definition, load_definition_text
from declarative_wf.formats.sw.runtime import (
    add_lifecycle_observer,
    remove_lifecycle_observer,
)
from declarative_wf.ir import Workflow
from declarative_wf.runner import RunResult


def definition(body: str, name: str = "test") -> str:
    """A complete document: the standard header, then ``body`` (dedented YAML)."""
    header = f"document: {{dsl: '1.0.3', namespace: test, name: {name}, version: '1.0.0'}}\n"
    return header + textwrap.dedent(body)


def write(tmp_path: Path, body: str, file: str = "wf.sw.yaml", name: str = "test") -> Path:
    path = tmp_path / file
    path.write_text(definition(body, name), encoding="utf-8")
    return path


def compile_text(body: str, file: str = "wf.sw.yaml") -> Workflow:
    return load_definition_text(definition(body), file).workflow


def diagnostics(body: str, file: str = "wf.sw.yaml") -> list[Diagnostic]:
    """The problems of an invalid definition (fails the test when it compiles)."""
    try:
        load_definition_text(definition(body), file)
    except DiagnosticError as error:
        return error.diagnostics
    raise AssertionError("the definition compiled")


def file_diagnostics(path: Path) -> list[Diagnostic]:
    """The problems of an invalid definition file: loaded from disk, so that what it refers to
    (catalogs, documents next to it) resolves relative to it. Fails the test when it compiles."""
    try:
        load_definition(path)
    except DiagnosticError as error:
        return error.diagnostics
    raise AssertionError("the definition compiled")


def run_sw(tmp_path: Path, body: str, input: Any = None, activities: list[Any] | None = None, **kwargs: Any) -> RunResult:
    path = write(tmp_path, body)
    registry = Registry(activities or [])
    return declarative_wf.run(path, input, activities=registry, db=tmp_path / "run.db", **kwargs)


def run_completed(tmp_path: Path, body: str, input: Any = None, **kwargs: Any) -> RunResult:
    """:func:`run_sw`, checking that the run completed (its error is the message when not)."""
    result = run_sw(tmp_path, body, input, **kwargs)
    assert result.status == "COMPLETED", result.error
    return result


def timer_delays(db: Path, instance_id: str) -> list[float]:
    """Seconds of every durable timer of an instance, measured from the workflow clock of the
    turn that created it (never wall-clock time)."""
    store = Store(db)
    delays: list[float] = []
    turn = None
    try:
        for raw in store.read_history(instance_id):
            event = events.pb.HistoryEvent()
            event.ParseFromString(raw)
            kind = event.WhichOneof("eventType")
            if kind == "workflowStarted":
                turn = event.timestamp.ToDatetime()
            elif kind == "timerCreated" and turn is not None:
                delays.append(round((event.timerCreated.fireAt.ToDatetime() - turn).total_seconds(), 3))
    finally:
        store.close()
    return delays


@contextmanager
def lifecycle() -> Iterator[list[tuple[str, dict[str, Any]]]]:
    """The lifecycle events seen while the block runs (replays left out)."""
    seen: list[tuple[str, dict[str, Any]]] = []

    def observe(kind: str, record: dict[str, Any]) -> None:
        if not record["replaying"]:
            seen.append((kind, record))

    add_lifecycle_observer(observe)
    try:
        yield seen
    finally:
        remove_lifecycle_observer(observe)
