"""Validation: every definition AWS ran validates; asl-validator's valid/ validate and its
invalid/ are rejected with a useful message; problems point at FILE:LINE:COL."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from declarative_wf.diagnostics import Diagnostic, DiagnosticError
from declarative_wf.formats.asl import ASL_CODES, compile_asl, compile_document, validate_document
from declarative_wf.loading import load_file, load_text

from .corpus import MISSING, load_cases, validator_dir

VALIDATOR = validator_dir()


def problems(definition: dict[str, Any] | str, file: str = "m.asl.json") -> list[Diagnostic]:
    text = definition if isinstance(definition, str) else json.dumps(definition, indent=2)
    return [d for d in validate_document(load_text(text, file)) if d.is_error]


def codes(definition: dict[str, Any] | str) -> list[str]:
    return [d.code for d in problems(definition)]


# -- the corpora ----------------------------------------------------------------------------------


def _distinct_corpus_definitions() -> list[Any]:
    seen: dict[str, str] = {}
    for case in load_cases():
        seen.setdefault(json.dumps(case["definition"], sort_keys=True), case["name"])
    if not seen:
        return [pytest.param(None, None, marks=pytest.mark.skip(reason=MISSING))]
    return [pytest.param(json.loads(text), name, id=name) for text, name in seen.items()]


@pytest.mark.conformance
@pytest.mark.parametrize(("definition", "name"), _distinct_corpus_definitions())
def test_every_definition_aws_ran_validates(definition: dict[str, Any], name: str) -> None:
    found = problems(json.dumps(definition, indent=2), f"{name}.asl.json")
    assert found == [], "\n".join(d.format() for d in found)


def _validator_files(kind: str) -> list[Any]:
    if VALIDATOR is None:
        return [pytest.param(None, marks=pytest.mark.skip(reason=MISSING))]
    return [pytest.param(path, id=path.name) for path in sorted((VALIDATOR / kind).glob("*.json"))]


#: asl-validator files we judge differently from asl-validator, with the evidence. (None today.)
DELIBERATE_DIFFERENCES: dict[str, str] = {}


@pytest.mark.conformance
@pytest.mark.parametrize("path", _validator_files("valid"))
def test_asl_validator_valid_definitions_validate(path: Path) -> None:
    document = load_file(path)
    found = [d for d in validate_document(document) if d.is_error]
    assert found == [], "\n".join(d.format() for d in found)
    workflow, diagnostics = compile_document(document)
    assert workflow is not None, "\n".join(d.format() for d in diagnostics)


@pytest.mark.conformance
@pytest.mark.parametrize("path", _validator_files("invalid"))
def test_asl_validator_invalid_definitions_are_rejected(path: Path) -> None:
    found = [d for d in validate_document(load_file(path)) if d.is_error]
    if path.name in DELIBERATE_DIFFERENCES:
        assert found == [], DELIBERATE_DIFFERENCES[path.name]
        return
    assert found, "accepted a definition asl-validator rejects"
    for diagnostic in found:
        assert diagnostic.code in ASL_CODES
        assert diagnostic.position is not None and diagnostic.position.file == str(path)
        assert "internal error" not in diagnostic.message


# -- specific rules -------------------------------------------------------------------------------


def machine(**states: Any) -> dict[str, Any]:
    return {"StartAt": next(iter(states)), "States": states}


def test_a_bad_next_points_at_the_field_and_suggests_a_name() -> None:
    text = '{\n  "StartAt": "Charge",\n  "States": {\n    "Charge": {"Type": "Pass", "Next": "Shipp"},\n    "Ship": {"Type": "Succeed"}\n  }\n}\n'
    found, unreachable = problems(text, "orders.asl.json")
    assert found.format() == 'orders.asl.json:4:40: ASL-E011 state "Charge" goes to "Shipp", which does not exist in this machine'
    assert found.hint == 'did you mean "Ship"?'
    assert unreachable.format() == 'orders.asl.json:5:5: ASL-E012 state "Ship" cannot be reached from StartAt "Charge"'


def test_all_problems_are_reported_at_once() -> None:
    definition = machine(
        A={"Type": "Pass", "InputPath": "nope", "Next": "B"},
        B={"Type": "Task", "Resource": "work", "TimeoutSeconds": 5, "TimeoutSecondsPath": "$.t", "End": True},
        C={"Type": "Pass", "End": True},
    )
    assert sorted(codes(definition)) == ["ASL-E012", "ASL-E030", "ASL-E041"]


@pytest.mark.parametrize(
    ("state", "code"),
    [
        ({"Type": "Pass", "Bogus": 1, "End": True}, "ASL-E001"),
        ({"Type": "Pass", "Next": "X", "End": True}, "ASL-E014"),
        ({"Type": "Pass"}, "ASL-E014"),
        ({"Type": "Pass", "Parameters": {"a": 1, "a.$": "$.a"}, "End": True}, "ASL-E033"),
        ({"Type": "Pass", "Parameters": {"a.$": "States.Nope(1)"}, "End": True}, "ASL-E032"),
        ({"Type": "Pass", "Parameters": {"a.$": "States.MathAdd('1', 2)"}, "End": True}, "ASL-E032"),
        ({"Type": "Pass", "ResultPath": "$[*]", "End": True}, "ASL-E031"),
        ({"Type": "Pass", "Output": "{% 1 %}", "End": True}, "ASL-E020"),
        ({"Type": "Pass", "QueryLanguage": "JSONata", "OutputPath": "$.a", "End": True}, "ASL-E020"),
        ({"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% 1 + %}", "End": True}, "ASL-E023"),
        ({"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{%1%}", "End": True}, "ASL-E022"),
        ({"Type": "Pass", "Assign": {"a b": 1}, "End": True}, "ASL-E034"),
        ({"Type": "Wait", "End": True}, "ASL-E043"),
        ({"Type": "Wait", "Timestamp": "tomorrow", "End": True}, "ASL-E001"),
        ({"Type": "Fail", "Error": "E", "ErrorPath": "$.e"}, "ASL-E044"),
        ({"Type": "Task", "Resource": "a b", "End": True}, "ASL-E040"),
        ({"Type": "Task", "Resource": "w", "TimeoutSeconds": 5, "HeartbeatSeconds": 5, "End": True}, "ASL-E042"),
        ({"Type": "Task", "Resource": "w", "Retry": [{"ErrorEquals": ["States.ALL"]}, {"ErrorEquals": ["X"]}], "End": True}, "ASL-E051"),
        ({"Type": "Task", "Resource": "w", "Retry": [{"ErrorEquals": ["States.ALL", "X"]}], "End": True}, "ASL-E051"),
        ({"Type": "Task", "Resource": "w", "Retry": [{"ErrorEquals": ["States.Timeuot"]}], "End": True}, "ASL-E052"),
        ({"Type": "Choice", "Choices": [{"Variable": "$.a", "Next": "S"}], "Default": "S"}, "ASL-E050"),
        ({"Type": "Choice", "Choices": [{"Variable": "$.a", "IsNull": True, "StringEquals": "x", "Next": "S"}], "Default": "S"}, "ASL-E050"),
        ({"Type": "Choice", "Choices": [{"And": [{"Variable": "$.a", "IsNull": True, "Next": "S"}], "Next": "S"}], "Default": "S"}, "ASL-E050"),
        ({"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}, "Iterator": {"StartAt": "J", "States": {"J": {"Type": "Succeed"}}}, "End": True}, "ASL-E045"),
        ({"Type": "Map", "ItemProcessor": {"StartAt": "I", "States": {"I": {"Type": "Succeed"}}}, "ToleratedFailurePercentage": 101, "End": True}, "ASL-E001"),
    ],
)
def test_rules(state: dict[str, Any], code: str) -> None:
    definition = machine(X=state, S={"Type": "Succeed"}) if state["Type"] == "Choice" else machine(X=state)
    if state["Type"] != "Choice" and state.get("Next") == "X":
        definition["States"]["X"]["Next"] = "X"
    assert code in codes(definition)


def test_state_names_are_unique_across_branches_and_at_most_80_characters() -> None:
    definition = machine(
        P={"Type": "Parallel", "Branches": [{"StartAt": "P", "States": {"P": {"Type": "Succeed"}}}], "Next": "L" * 81},
        **{"L" * 81: {"Type": "Succeed"}},
    )
    assert {"ASL-E015", "ASL-E016"} <= set(codes(definition))


def test_no_terminal_state() -> None:
    definition = machine(A={"Type": "Pass", "Next": "B"}, B={"Type": "Pass", "Next": "A"})
    assert codes(definition) == ["ASL-E013"]


def test_a_jsonpath_state_inside_a_jsonata_machine() -> None:
    definition = {"QueryLanguage": "JSONata", **machine(A={"Type": "Pass", "QueryLanguage": "JSONPath", "End": True})}
    assert codes(definition) == ["ASL-E021"]


def test_comments_are_never_parsed() -> None:
    assert codes(machine(A={"Type": "Pass", "Comment": "{% not jsonata", "End": True})) == []


def test_yaml_definitions_validate_and_compile_with_positions() -> None:
    text = "StartAt: A\nStates:\n  A:\n    Type: Pass\n    Next: Nowhere\n"
    found = [d.format() for d in problems(text, "m.asl.yaml")]
    assert found == [
        'm.asl.yaml:5:11: ASL-E011 state "A" goes to "Nowhere", which does not exist in this machine',
        'm.asl.yaml:2:1: ASL-E013 no state ends the machine: give one "End": true, or add a Succeed or Fail state',
    ]
    workflow = compile_asl(load_text("StartAt: A\nStates:\n  A:\n    Type: Pass\n    End: true\n", "m.asl.yaml"))
    assert workflow.format == "asl" and workflow.name == "m"


def test_compile_asl_raises_with_every_problem() -> None:
    with pytest.raises(DiagnosticError) as caught:
        compile_asl(load_text(json.dumps(machine(A={"Type": "Pass", "Next": "B"}, C={"Type": "Nope"})), "m.json"))
    assert {d.code for d in caught.value.diagnostics} >= {"ASL-E011", "ASL-E001"}


def test_codes_are_documented() -> None:
    doc = (Path(__file__).resolve().parents[3] / "docs" / "asl.md").read_text(encoding="utf-8")
    for code in ASL_CODES:
        assert code in doc, f"{code} is not in docs/asl.md"


# -- through the format dispatch ------------------------------------------------------------------


@pytest.fixture
def asl_wired(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dispatch as formats/__init__.py wires it (register_compiler("asl", compile_document))."""
    from declarative_wf import formats
    from declarative_wf.formats.asl import compile_document as compile_asl_document

    monkeypatch.setitem(formats._COMPILERS, "asl", compile_asl_document)  # noqa: SLF001


@pytest.mark.usefixtures("asl_wired")
def test_format_dispatch_compiles_and_validates_asl() -> None:
    from declarative_wf.formats import load_definition_text, validate_text

    compiled = load_definition_text(json.dumps(machine(A={"Type": "Pass", "Result": 1, "End": True})), "a.asl.json")
    assert compiled.format == "asl" and compiled.workflow.format == "asl"
    found = validate_text(json.dumps(machine(A={"Type": "Pass", "Next": "B"})), "b.asl.json")
    assert sorted(d.code for d in found) == ["ASL-E011", "ASL-E013"]
