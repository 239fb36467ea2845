"""Fuzzing: random and mutated definitions never make validation, compilation or a run raise
anything but diagnostics and workflow errors (no tracebacks)."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from declarative_wf.formats.asl import compile_document
from declarative_wf.interpreter.commands import WorkflowError
from declarative_wf.loading import load_text

from ...interpreter.harness import FakeHost, drive
from .fuzzing import JSON, KEYS, mutated


def _check(definition: Any) -> None:
    text = json.dumps(definition)
    document = load_text(text, "fuzz.asl.json")
    workflow, diagnostics = compile_document(document)
    for diagnostic in diagnostics:
        assert diagnostic.code.startswith("ASL-"), diagnostic
        assert "internal error" not in diagnostic.message
    if workflow is None:
        return
    outcome = drive(workflow, {"a": [1, 2], "x": 1}, host=FakeHost({}, children=lambda payload, iid: None))
    assert outcome.status in ("completed", "failed", "continued")
    if outcome.status == "failed":
        assert isinstance(outcome.value, WorkflowError)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated())
def test_mutated_corpus_definitions(definition: Any) -> None:
    _check(definition)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(KEYS), JSON, max_size=4))
def test_random_top_level_objects(definition: Any) -> None:
    if isinstance(definition, dict):
        definition = {"StartAt": "A", **definition}
    _check(definition)
