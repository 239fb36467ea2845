"""Running ASL definitions on the in-memory host of tests/interpreter (no engine), or on a real
embedded engine through :func:`engine_client`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from declarative_wf.activities import Registry
from declarative_wf.client import WorkflowClient
from declarative_wf.engine import Engine
from declarative_wf.formats.asl import compile_asl
from declarative_wf.ir import Workflow
from declarative_wf.loading import load_text
from declarative_wf.worker import start_worker

from ...interpreter.harness import FakeHost, Outcome, drive


@contextmanager
def engine_client(db: Path, registry: Registry) -> Iterator[WorkflowClient]:
    """An embedded engine over ``db``, a worker with ``registry``'s activities and a client of
    the engine, for the length of the block (the worker stops after the client closes)."""
    with Engine(db) as engine:
        runtime = start_worker(engine.host, engine.port, registry)
        try:
            with WorkflowClient(engine.address) as client:
                yield client
        finally:
            runtime.shutdown()


def compile_definition(definition: dict[str, Any] | str, file: str = "machine.asl.json") -> Workflow:
    text = definition if isinstance(definition, str) else json.dumps(definition, indent=2)
    return compile_asl(load_text(text, file))


def run_asl(definition: dict[str, Any] | str, data: Any = None, *, host: FakeHost | None = None, instance_id: str = "asl-test") -> Outcome:
    return drive(compile_definition(definition), data, host=host, instance_id=instance_id)
