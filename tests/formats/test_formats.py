"""The public entry points of declarative_wf.formats: detection, loading, validation."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from declarative_wf import formats
from declarative_wf.diagnostics import DiagnosticError
from declarative_wf.formats import (
    CompiledDefinition,
    detect_format,
    load_definition,
    load_definition_text,
    validate_file,
    validate_text,
)  # fmt: skip
from declarative_wf.ir import Workflow
from declarative_wf.loading import load_text


def test_public_api() -> None:
    for name in ("CompiledDefinition", "detect_format", "load_definition", "load_definition_text", "validate_file"):
        assert name in formats.__all__


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        ({"dwf": 1, "name": "x", "steps": []}, "dsl"),
        ({"dwf": "anything"}, "dsl"),
        ({"StartAt": "A", "States": {}}, "asl"),
        ({"document": {"dsl": "1.0.0", "name": "x"}, "do": []}, "sw1"),
        ({"specVersion": "0.8", "id": "x"}, "sw08"),
        ({"specVersion": 0.8, "id": "x"}, "sw08"),
    ],
)
def test_detect_format(document: dict[str, object], expected: str) -> None:
    assert detect_format(load_text(json.dumps(document), "x.json")) == expected


@pytest.mark.parametrize(
    ("document", "code", "fragment"),
    [
        ({"name": "x"}, "FMT-E001", "cannot tell the format"),
        ({"States": {}}, "FMT-E001", 'no "StartAt"'),
        ({"document": {"dsl": "0.9"}}, "FMT-E001", 'Serverless Workflow "0.9" is not supported'),
        ({"specVersion": "0.7"}, "FMT-E001", 'specVersion "0.7" is not supported'),
        ({"dwf": 1, "StartAt": "A", "States": {}}, "FMT-E003", "more than one format"),
    ],
)
def test_detect_format_errors(document: dict[str, object], code: str, fragment: str) -> None:
    with pytest.raises(DiagnosticError) as info:
        detect_format(load_text(json.dumps(document), "x.json"))
    (diagnostic,) = info.value.diagnostics
    assert diagnostic.code == code and fragment in diagnostic.message


def test_ambiguity_points_at_the_second_format_key() -> None:
    found = validate_text("dwf: 1\nStartAt: A\nStates: {}\n", "x.yaml")
    assert [(d.code, d.position.line, d.position.column) for d in found] == [("FMT-E003", 2, 1)]


def test_serverless_workflow_1x_is_available() -> None:
    text = "document: { dsl: '1.0.0', namespace: x, name: y, version: '1.0.0' }\ndo:\n  - a: { set: { b: 1 } }\n"
    compiled = load_definition_text(text, "x.yaml")
    assert compiled.format == "sw1" and compiled.workflow.format == "sw1"


def test_load_definition(tmp_path: Path) -> None:
    path = tmp_path / "wf.dwf.yaml"
    path.write_text("dwf: 1\nname: x\nsteps: [ { call: a } ]\n")
    compiled = load_definition(path)
    assert isinstance(compiled, CompiledDefinition) and isinstance(compiled.workflow, Workflow)
    assert compiled.format == "dsl" and compiled.document.file == str(path)
    assert load_definition(str(path)).workflow == compiled.workflow


def test_load_definition_raises_every_problem_sorted(tmp_path: Path) -> None:
    path = tmp_path / "wf.dwf.yaml"
    path.write_text("dwf: 1\nname: x\nsteps:\n  - goto: nowhere\n  - cal: a\n  - call: b\n    timeout: 5x\n")
    with pytest.raises(DiagnosticError) as info:
        load_definition(path)
    found = info.value.diagnostics
    assert [d.code for d in found] == ["DSL-E031", "DSL-E001", "DSL-E020"]
    assert found == sorted(found)


def test_load_errors_pass_through(tmp_path: Path) -> None:
    with pytest.raises(DiagnosticError) as info:
        load_definition(tmp_path / "missing.yaml")
    assert info.value.diagnostics[0].code == "LOAD-E001"


def test_loader_warnings_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "wf.dwf.yaml"
    path.write_text("dwf: 1\nname: x\nsteps:\n  - set: { <<: 1 }\n")
    compiled = load_definition(path)
    assert [d.code for d in compiled.document.warnings] == ["LOAD-W001"]
    assert [d.code for d in validate_file(path)] == ["LOAD-W001"]


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00\x01", b"\xff\xfe", b"dwf: [", b"- a\n- b\n", b"42", b"dwf: 1", b"{}", b"dwf: 1\nname: x\nsteps: 5\n"],
)
def test_validate_file_never_raises(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.yaml"
    path.write_bytes(content)
    found = validate_file(path)
    assert found and all(d.is_error for d in found)


def test_validate_file_on_a_directory_and_a_missing_file(tmp_path: Path) -> None:
    assert validate_file(tmp_path)[0].code == "LOAD-E001"
    assert validate_file(tmp_path / "nope.yaml")[0].code == "LOAD-E001"


def test_validate_file_of_a_valid_file(tmp_path: Path) -> None:
    path = tmp_path / "wf.dwf.yaml"
    path.write_text("dwf: 1\nname: x\nsteps: [ { call: a } ]\n")
    assert validate_file(path) == []


def test_a_compiler_bug_becomes_a_diagnostic(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(document: object) -> object:
        raise KeyError("oops")

    monkeypatch.setitem(formats._COMPILERS, "dsl", broken)
    found = validate_text("dwf: 1\nname: x\nsteps: [ { call: a } ]\n", "x.yaml")
    assert [d.code for d in found] == ["FMT-E004"] and "KeyError" in found[0].message
    with pytest.raises(DiagnosticError):
        load_definition_text("dwf: 1\nname: x\nsteps: [ { call: a } ]\n")


def test_register_compiler(monkeypatch: pytest.MonkeyPatch) -> None:
    from declarative_wf.ir import Block

    def asl(document: object) -> tuple[Workflow, list[object]]:
        return Workflow("asl-wf", None, "asl", Block(None)), []

    monkeypatch.setitem(formats._COMPILERS, "asl", asl)
    compiled = load_definition_text('{"StartAt": "A", "States": {}}', "x.json")
    assert (compiled.format, compiled.workflow.name) == ("asl", "asl-wf")


def test_check_input() -> None:
    from declarative_wf.formats import check_input

    text = "dwf: 1\nname: x\ninput:\n  schema: { type: object, required: [id], properties: { id: { type: integer } } }\nsteps: [ { call: a } ]\n"
    workflow = load_definition_text(text).workflow
    assert check_input(workflow, {"id": 1}) == []
    assert check_input(workflow, {}) == ["/: 'id' is a required property"]
    assert check_input(workflow, {"id": "x"}) == ["/id: 'x' is not of type 'integer'"]
    plain = load_definition_text("dwf: 1\nname: x\nsteps: [ { call: a } ]\n").workflow
    assert check_input(plain, "anything") == []


def test_asl_is_compiled() -> None:
    compiled = load_definition_text('{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}', "x.json")
    assert compiled.format == "asl" and compiled.workflow.body.start is not None
