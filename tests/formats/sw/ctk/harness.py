"""Runs Serverless Workflow definitions on one embedded engine for the whole CTK session, and
keeps the journal of task lifecycle events per instance (from the SW runtime's observer)."""

from __future__ import annotations

import itertools
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dapr.ext.workflow as wf

from declarative_wf.activities import Registry
from declarative_wf.activities.problems import parse_problem
from declarative_wf.engine import Engine
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
from declarative_wf.interpreter.workflow import make_payload
from declarative_wf.ir import Workflow
from declarative_wf.runner import error_object
from declarative_wf.worker import new_client, start_worker

#: Longest a scenario's workflow may run (the CTK's are quick; ours wait a few seconds at most).
RUN_TIMEOUT_SECONDS = 60


@dataclass
class Outcome:
    instance_id: str
    status: str  # COMPLETED, FAILED, TERMINATED...
    output: Any = None
    error: dict[str, Any] | None = None


@dataclass
class Journal:
    """Lifecycle records of one process, by instance; only records seen outside a replay count."""

    records: dict[str, list[tuple[str, dict[str, Any]]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, kind: str, record: dict[str, Any]) -> None:
        if record.get("replaying"):
            return
        with self.lock:
            self.records.setdefault(str(record.get("instance")), []).append((kind, record))

    def of(self, instance_id: str) -> list[tuple[str, dict[str, Any]]]:
        with self.lock:
            return list(self.records.get(instance_id, []))


def is_top_level(reference: Any) -> bool:
    """``/do/2/setBlue``: a task of the workflow's own task list."""
    return isinstance(reference, str) and reference.count("/") == 3 and reference.startswith("/do/")


@dataclass
class Harness:
    engine: Engine
    client: wf.DaprWorkflowClient
    journal: Journal
    _ids: Iterator[int] = field(default_factory=itertools.count)

    def start(self, workflow: Workflow, workflow_input: Any) -> str:
        instance_id = f"ctk-{next(self._ids)}-{uuid.uuid4().hex[:8]}"
        self.client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(workflow, workflow_input), instance_id=instance_id)
        return instance_id

    def wait(self, workflow: Workflow, instance_id: str, timeout: float = RUN_TIMEOUT_SECONDS) -> Outcome:
        state = self.client.wait_for_workflow_completion(instance_id, timeout_in_seconds=int(timeout))
        if state is None:
            raise AssertionError(f"instance {instance_id} disappeared")
        status = state.runtime_status.name
        if status == "COMPLETED":
            return Outcome(instance_id, status, _json(state.serialized_output))
        if status == "FAILED":
            details = state.failure_details
            error_type = getattr(details, "error_type", None) or "Failed"
            message = getattr(details, "message", None) or ""
            error = parse_problem(message) or error_object(workflow.format, error_type, message)
            return Outcome(instance_id, status, None, error)
        return Outcome(instance_id, status, _json(state.serialized_output))

    def run(self, workflow: Workflow, workflow_input: Any) -> Outcome:
        return self.wait(workflow, self.start(workflow, workflow_input))

    def state(self, instance_id: str) -> str:
        state = self.client.get_workflow_state(instance_id, fetch_payloads=False)
        return state.runtime_status.name if state is not None else "UNKNOWN"


def _json(text: str | None) -> Any:
    import json

    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


@contextmanager
def running_harness(folder: Path, registry: Registry | None = None) -> Iterator[Harness]:
    from declarative_wf.formats.sw.runtime import add_lifecycle_observer, remove_lifecycle_observer

    journal = Journal()
    add_lifecycle_observer(journal)
    with Engine(folder / "ctk.db") as engine:
        runtime = start_worker(engine.host, engine.port, registry or Registry())
        client = new_client(engine.host, engine.port)
        try:
            yield Harness(engine, client, journal)
        finally:
            client.close()  # type: ignore[no-untyped-call]
            runtime.shutdown()
            remove_lifecycle_observer(journal)
