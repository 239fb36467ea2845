"""The 0.8 examples of the specification (data from the shared corpus).

* Every example validates, except the ones listed in ``known_failures.json`` (now none) —
  each with the diagnostic codes it must get and why; a listed example that starts passing
  fails the suite, so the list stays true. Every example that validates compiles into an IR
  graph that matches the IR schema and round-trips through its JSON.
* A differential test against the official 0.8 JSON Schema (jsonschema Draft 7 with every
  corpus schema registered by its ``$id``): over the examples and mutations of them, our
  schema-level verdict (codes SW08-E001/E002) agrees with the official one.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from declarative_wf.formats import detect_format, load_definition, validate_file
from declarative_wf.formats.sw08.validate import validate_document
from declarative_wf.ir import workflow_from_json, workflow_to_json
from declarative_wf.ir.jsonschema import ir_json_schema
from declarative_wf.loading import load_file, load_text

from .corpus import (
    MISSING,
    corpus_dir,
    example_id,
    examples,
    known_failures,
    official_validator,
)

pytestmark = pytest.mark.conformance
EXAMPLES = examples()
SCHEMA_CODES = {"SW08-E001", "SW08-E002"}


def test_corpus_is_there() -> None:
    if corpus_dir() is None:
        pytest.skip(MISSING)
    assert len(EXAMPLES) == 57  # 28 JSON + 29 YAML


@pytest.mark.parametrize("path", EXAMPLES, ids=[example_id(p) for p in EXAMPLES])
def test_example(path: Path) -> None:
    assert detect_format(load_file(path)) == "sw08"
    diagnostics = validate_file(path)
    errors = [d for d in diagnostics if d.is_error]
    assert all(d.position is not None for d in diagnostics), [
        d.format() for d in diagnostics
    ]
    expected = known_failures().get(example_id(path))
    if expected is None:
        assert errors == [], "\n".join(d.format() for d in errors)
    else:
        assert errors, (
            f"{example_id(path)} is listed in known_failures.json but now passes: remove it from the list"
        )
        assert {d.code for d in errors} == set(expected["codes"]), [
            d.format() for d in errors
        ]


@pytest.mark.parametrize("path", EXAMPLES, ids=[example_id(p) for p in EXAMPLES])
def test_example_compiles_and_round_trips(path: Path) -> None:
    if example_id(path) in known_failures():
        pytest.skip("listed in known_failures.json")
    compiled = load_definition(path)
    graph = workflow_to_json(compiled.workflow)
    problems = [
        e.message
        for e in jsonschema.Draft202012Validator(ir_json_schema()).iter_errors(graph)
    ]
    assert not problems, problems[:3]
    assert workflow_to_json(workflow_from_json(graph)) == graph
    # Missing references (SW08-W007) became nodes that fail with UndefinedReference (one per
    # state at least: an event state waiting for a missing event fails as a whole, so 20's
    # action inside it needs none; an embedded subflow, 23-2 inside 23-1, may add more).
    missing = [d for d in compiled.document.warnings if d.code == "SW08-W007"]
    if missing:
        assert '"UndefinedReference"' in json.dumps(graph)


def test_known_failures_name_existing_examples() -> None:
    if corpus_dir() is None:
        pytest.skip(MISSING)
    names = {example_id(p) for p in EXAMPLES}
    assert set(known_failures()) <= names


# -- differential: our schema vs the official one --------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _first_state(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["states"][0]


def _state_of(kind: str) -> Callable[[dict[str, Any]], dict[str, Any] | None]:
    return lambda doc: next((s for s in doc["states"] if s.get("type") == kind), None)


def _set(getter: Callable[[dict[str, Any]], Any], key: str, value: Any) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        target = getter(doc)
        if isinstance(target, dict):
            target[key] = value

    return mutate


def _delete(getter: Callable[[dict[str, Any]], Any], key: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        target = getter(doc)
        if isinstance(target, dict):
            target.pop(key, None)

    return mutate


def _first_action(doc: dict[str, Any]) -> dict[str, Any] | None:
    for state in doc["states"]:
        for action in state.get("actions") or []:
            return action
    return None


MUTATIONS: dict[str, Mutation] = {
    "unchanged": lambda doc: None,
    "no-specVersion": _delete(lambda d: d, "specVersion"),
    "no-states": _delete(lambda d: d, "states"),
    "no-id": _delete(lambda d: d, "id"),
    "unknown-top-field": _set(lambda d: d, "stateMachine", True),
    "state-no-name": _delete(_first_state, "name"),
    "state-no-type": _delete(_first_state, "type"),
    "state-bad-type": _set(_first_state, "type", "task"),
    "state-unknown-field": _set(_first_state, "Next", "x"),
    "state-end-and-transition": _set(_first_state, "transition", "Elsewhere"),
    "state-bad-filter": _set(_first_state, "stateDataFilter", {"input": 3}),
    "operation-no-actions": _delete(_state_of("operation"), "actions"),
    "operation-bad-mode": _set(_state_of("operation"), "actionMode", "random"),
    "action-two-refs": _set(_first_action, "subFlowRef", "other"),
    "action-bad-filter": _set(_first_action, "actionDataFilter", {"useResults": "no"}),
    "event-exclusive-string": _set(_state_of("event"), "exclusive", "yes"),
    "event-no-onEvents": _delete(_state_of("event"), "onEvents"),
    "switch-no-default": _delete(_state_of("switch"), "defaultCondition"),
    "sleep-no-duration": _delete(_state_of("sleep"), "duration"),
    "parallel-bad-completion": _set(_state_of("parallel"), "completionType", "anyOf"),
    "foreach-no-input": _delete(_state_of("foreach"), "inputCollection"),
    "inject-data-list": _set(_state_of("inject"), "data", [1]),
    "callback-no-event": _delete(_state_of("callback"), "eventRef"),
    "functions-number": _set(lambda d: d, "functions", 5),
    "autoRetries-string": _set(lambda d: d, "autoRetries", "true"),
}


def _mutated(path: Path, mutation: str) -> dict[str, Any] | None:
    """The example with the mutation applied; None when it changes nothing there."""
    document = copy.deepcopy(load_file(path).data)
    before = json.dumps(document, sort_keys=True)
    MUTATIONS[mutation](document)
    if mutation != "unchanged" and json.dumps(document, sort_keys=True) == before:
        return None
    return document


# Only the mutations that change something in an example (no state of that kind: no case).
CASES = [
    (path, name)
    for path in EXAMPLES
    for name in MUTATIONS
    if _mutated(path, name) is not None
]


def _schema_verdict(document_text: str, file: str) -> bool:
    diagnostics, _ = validate_document(load_text(document_text, file))
    return not any(d.code in SCHEMA_CODES for d in diagnostics)


def _legacy_event_timeouts(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The switch states with a state-level eventTimeout and no timeouts.eventTimeout."""
    states = document.get("states")
    return [
        s for s in (states if isinstance(states, list) else [])
        if isinstance(s, dict) and s.get("type") == "switch" and "eventTimeout" in s
        and "eventTimeout" not in (s.get("timeouts") if isinstance(s.get("timeouts"), dict) else {})
    ]  # fmt: skip


def _moved_to_timeouts(document: dict[str, Any]) -> dict[str, Any]:
    moved = copy.deepcopy(document)
    for state in _legacy_event_timeouts(moved):
        state.setdefault("timeouts", {})["eventTimeout"] = state.pop("eventTimeout")
    return moved


def test_the_deliberate_difference_is_exercised() -> None:
    """json/08 is the corpus example the difference exists for; it must keep being tested."""
    if corpus_dir() is None:
        pytest.skip(MISSING)
    legacy = [
        example_id(p) for p in EXAMPLES if _legacy_event_timeouts(load_file(p).data)
    ]
    assert legacy == ["json/08-event-based-transitions-example.json"]
    diagnostics = validate_file(corpus_dir() / "examples" / legacy[0])  # type: ignore[operator]
    assert [(d.code, d.is_error) for d in diagnostics if d.code == "SW08-W008"] == [
        ("SW08-W008", False)
    ]


@pytest.fixture(scope="module")
def official() -> Any:
    if corpus_dir() is None:
        pytest.skip(MISSING)
    return official_validator()


@pytest.mark.parametrize(
    ("path", "mutation"), CASES, ids=[f"{example_id(p)}:{m}" for p, m in CASES]
)
def test_schema_agrees_with_official(path: Path, mutation: str, official: Any) -> None:
    document = _mutated(path, mutation)
    assert document is not None
    theirs = official.is_valid(document)
    ours = _schema_verdict(json.dumps(document), f"{path.stem}.json")
    if _legacy_event_timeouts(document):
        # The one deliberate difference (SW08-W008, docs/sw08.md): eventTimeout on a switch
        # state, the 0.7 layout, which the official schema rejects and we read as
        # timeouts.eventTimeout. Evidence that it is the only difference: with the field moved
        # to the 0.8 position, the official verdict is ours.
        assert theirs is False
        assert official.is_valid(_moved_to_timeouts(document)) == ours
        return
    assert ours == theirs, (
        f"official schema says {'valid' if theirs else 'invalid'}, ours the opposite"
    )


# -- examples that need no outside service run to the output the specification gives --------------

RUNNABLE = {
    "yaml/01-hello-world-example.yaml": ({}, {"result": "Hello World!"}),
    "json/01-hello-world-example.json": ({}, {"result": "Hello World!"}),
    "yaml/25-filling-a-glass-of-water.yaml": (
        {"counts": {"current": 0, "max": 10}},
        {"counts": {"current": 10, "max": 10}},
    ),
}


@pytest.mark.integration
@pytest.mark.parametrize("name", sorted(RUNNABLE))
def test_example_runs(name: str) -> None:
    folder = corpus_dir()
    if folder is None:
        pytest.skip(MISSING)
    from declarative_wf import run
    from declarative_wf.activities import Registry

    value, expected = RUNNABLE[name]
    result = run(folder / "examples" / name, value, activities=Registry(), timeout=60)
    assert (result.status, result.output) == ("COMPLETED", expected), result
