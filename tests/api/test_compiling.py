"""Compiling submitted texts: never a file of the server, names checked, IR accepted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from declarative_wf.api.compiling import clean_filename, compile_text, validate_text
from declarative_wf.api.errors import ServiceError
from declarative_wf.formats import load_definition
from declarative_wf.ir import workflow_to_json

from .definitions import BROKEN, WAITER_V1

SAMPLES = Path(__file__).resolve().parents[2] / "samples"


def test_child_files_are_refused_but_still_read_by_local_compiles(tmp_path: Path) -> None:
    child = tmp_path / "child.dwf.yaml"
    child.write_text("dwf: 1\nname: child\nsteps:\n  - set: 1\n")
    parent = tmp_path / "parent.dwf.yaml"
    parent.write_text(f"dwf: 1\nname: parent\nsteps:\n  - workflow: {child}\n")
    with pytest.raises(ServiceError) as raised:
        compile_text(parent.read_text(), "parent.dwf.yaml")
    found = raised.value.extra["diagnostics"]
    assert found[0]["code"] == "DSL-E040" and "cannot refer to other files" in found[0]["message"]
    # The guard is scoped: the same file compiled from disk (dwf run, dwf validate) embeds it.
    assert load_definition(parent).workflow.name == "parent"
    # Relative references are refused the same way (they would resolve against the server's cwd).
    with pytest.raises(ServiceError):
        compile_text("dwf: 1\nname: p\nsteps:\n  - workflow: ../../etc/passwd\n")


def test_validate_text_lists_every_problem() -> None:
    found = validate_text(BROKEN, "broken.yaml")
    assert [d.code for d in found] == ["DSL-E001", "DSL-E010"]
    assert all(d.source_file == "broken.yaml" for d in found)
    assert validate_text(WAITER_V1) == []


def test_names_and_graphs() -> None:
    with pytest.raises(ServiceError) as raised:
        compile_text(WAITER_V1, name="has space")
    assert raised.value.code == "ERR_DEFINITION_NAME_INVALID"
    assert compile_text(WAITER_V1, name="other").workflow.name == "other"
    graph = json.dumps(workflow_to_json(load_definition(SAMPLES / "chaining" / "workflow.dwf.yaml").workflow))
    compiled = compile_text(graph)
    assert compiled.format == "ir" and compiled.workflow.name == "chaining"
    with pytest.raises(ServiceError):
        compile_text('{"ir_version": 999}')


def test_clean_filename() -> None:
    assert clean_filename("/etc/dir/x.yaml") == "x.yaml"
    assert clean_filename("..") == "<submitted>"
    assert clean_filename(None) == "<submitted>"
    assert clean_filename("a\x00b\nc.yaml") == "abc.yaml"
