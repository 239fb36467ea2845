"""The public API of the package: its names are a contract."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import declarative_wf

PINNED = [
    "ActivityContext", "CompiledDefinition", "Diagnostic", "DiagnosticError", "Engine", "EngineOptions",
    "InstanceState", "Registry", "RunResult", "Workflow", "WorkflowClient", "__version__", "activity",
    "compile", "load", "run", "validate",
]

CHAIN = """
dwf: 1
name: api-demo
steps:
  - call: double
  - call: double
"""


def test_exports_are_pinned() -> None:
    assert sorted(declarative_wf.__all__) == sorted(PINNED)
    for name in PINNED:
        assert getattr(declarative_wf, name) is not None


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError):
        declarative_wf.no_such_thing  # noqa: B018


def test_load_validate_compile(tmp_path: Path) -> None:
    good = tmp_path / "chain.dwf.yaml"
    good.write_text(CHAIN)
    assert declarative_wf.validate(good) == []
    assert declarative_wf.load(good).workflow.name == "api-demo"
    assert declarative_wf.compile(CHAIN).name == "api-demo"
    bad = tmp_path / "bad.dwf.yaml"
    bad.write_text("dwf: 1\nname: x\nsteps: [{cal: a}]\n")
    problems = declarative_wf.validate(bad)
    assert problems and problems[0].code.startswith("DSL-")
    with pytest.raises(declarative_wf.DiagnosticError):
        declarative_wf.load(bad)


def test_run_and_client(tmp_path: Path) -> None:
    registry = declarative_wf.Registry()
    registry.add(lambda value: value * 2, name="double")
    result = declarative_wf.run(declarative_wf.compile(CHAIN), 3, activities=registry, db=tmp_path / "s.db")
    assert (result.status, result.output) == ("COMPLETED", 12)
    with declarative_wf.Engine(tmp_path / "s.db") as engine, declarative_wf.WorkflowClient(engine.address) as client:
        state = client.get(result.instance_id)
        assert state is not None and state.done and state.output == 12
        page = client.list(statuses=["COMPLETED"])
        assert [item.instance_id for item in page.instances] == [result.instance_id]
        assert json.loads(json.dumps(result.as_json()))["status"] == "COMPLETED"
