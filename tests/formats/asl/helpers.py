"""Running ASL definitions on the in-memory host of tests/interpreter (no engine)."""

from __future__ import annotations

import json
from typing import Any

from declarative_wf.formats.asl import compile_asl
from declarative_wf.ir import Workflow
from declarative_wf.loading import load_text

from ...interpreter.harness import FakeHost, Outcome, drive


def compile_definition(definition: dict[str, Any] | str, file: str = "machine.asl.json") -> Workflow:
    text = definition if isinstance(definition, str) else json.dumps(definition, indent=2)
    return compile_asl(load_text(text, file))


def run_asl(definition: dict[str, Any] | str, data: Any = None, *, host: FakeHost | None = None, instance_id: str = "asl-test") -> Outcome:
    return drive(compile_definition(definition), data, host=host, instance_id=instance_id)
