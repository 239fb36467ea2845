"""Fuzzing: random and mutated definitions never make validation, compilation or a run raise
anything but diagnostics and workflow errors (no tracebacks)."""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from declarative_wf.formats.asl import compile_document
from declarative_wf.interpreter.commands import WorkflowError
from declarative_wf.loading import load_text

from ...interpreter.harness import FakeHost, drive
from .corpus import load_cases

SEEDS = [case["definition"] for case in load_cases()[::7]] or [
    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}},
]

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
        ["$", "$.a", "$$.Execution.Input", "$x", "{% 1 %}", "{% $states.input %}", "States.Array(1)", "", "Pass", "Task", "A", "$.a[*]"]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b.$", "Type", "Next", "End", "Result", "Variable"]), inner, max_size=3),
    max_leaves=8,
)
KEYS = ["Type", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result", "ItemsPath", "Items", "Output",
        "Arguments", "Assign", "Choices", "Default", "Seconds", "SecondsPath", "Error", "Cause", "Branches", "ItemProcessor",
        "Retry", "Catch", "QueryLanguage", "StartAt", "States", "MaxConcurrency", "TimeoutSeconds", "Condition"]  # fmt: skip


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    definition = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(definition)
        path = draw(st.sampled_from(paths))
        if not path:
            continue
        parent: Any = definition
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["delete", "replace", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(JSON)
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(KEYS))] = draw(JSON)
    return definition


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
