"""Running 0.8 definitions on the real embedded engine."""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dapr.ext.workflow as wf

from declarative_wf import run
from declarative_wf.engine import Engine
from declarative_wf.formats import load_definition
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
from declarative_wf.interpreter.workflow import make_payload
from declarative_wf.runner import RunResult
from declarative_wf.worker import new_client, start_worker

from .activities import REGISTRY

#: The header of every 0.8 test definition; the tests add ``states`` (and what they use).
HEAD = """\
id: {id}
version: '1.0'
specVersion: '0.8'
"""


def definition(id: str, body: str) -> str:
    """A complete 0.8 document: :data:`HEAD` with that ``id``, then ``body``."""
    return HEAD.format(id=id) + body


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def run_text(
    directory: Path, text: str, value: Any = None, name: str = "wf.sw.yaml"
) -> RunResult:
    """Writes the definition and runs it to its end with ``declarative_wf.run``."""
    return run(write(directory, name, text), value, activities=REGISTRY, timeout=60)


def run_definition(directory: Path, id: str, body: str, value: Any = None) -> RunResult:
    """Runs :func:`definition` ``(id, body)`` to its end, like :func:`run_text`."""
    return run_text(directory, definition(id, body), value)


@dataclass
class Session:
    client: wf.DaprWorkflowClient
    address: str

    def start(self, path: Path, value: Any = None) -> str:
        workflow = load_definition(path).workflow
        return str(
            self.client.schedule_new_workflow(
                WORKFLOW_NAME, input=make_payload(workflow, value)
            )
        )

    def raise_event(self, instance: str, name: str, data: Any) -> None:
        self.client.raise_workflow_event(instance, name, data=data)

    def wait_subscribed(self, event_type: str, timeout: float = 20) -> None:
        """Until some instance subscribed to ``event_type`` on the engine's bus."""
        from declarative_wf.engine.events_service import EventBusClient

        deadline = time.monotonic() + timeout
        with EventBusClient(self.address) as bus:
            while time.monotonic() < deadline:
                if any(
                    item.get("event_name") == event_type for item in bus.subscriptions()
                ):
                    return
                time.sleep(0.05)
        raise AssertionError(f"nobody subscribed to {event_type} in {timeout} s")

    def published(self) -> list[dict[str, Any]]:
        """The CloudEvents the bus kept (most recent last)."""
        from declarative_wf.engine.events_service import EventBusClient

        with EventBusClient(self.address) as bus:
            # Each entry is {"seq", "event"} (older engines: the event itself).
            return [item.get("event", item) for item in bus.recent()]

    def wait(self, instance: str, timeout: int = 30) -> tuple[str, Any, str | None]:
        state = self.client.wait_for_workflow_completion(
            instance, timeout_in_seconds=timeout
        )
        assert state is not None, "the instance did not finish in time"
        output = (
            json.loads(state.serialized_output) if state.serialized_output else None
        )
        failure = state.failure_details
        return (
            state.runtime_status.name,
            output,
            failure.error_type if failure else None,
        )


@contextmanager
def session(directory: Path) -> Iterator[Session]:
    """An engine, a worker with the test activities and a client: for tests that raise events."""
    with Engine(directory / "engine.db") as engine:
        runtime = start_worker(engine.host, engine.port, REGISTRY)
        client = new_client(engine.host, engine.port)
        try:
            yield Session(client, engine.address)
        finally:
            client.close()  # type: ignore[no-untyped-call]
            runtime.shutdown()  # type: ignore[no-untyped-call]
