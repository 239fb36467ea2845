"""A stand-in for ``declarative_wf.formats`` so the CLI contract is tested on its own.

It loads files with the real loader (so load errors have real positions) and reads the
problems to report from the document itself::

    name: x
    errors:   [{code: DSL-E001, message: boom, at: /name}]
    warnings: [{code: DSL-W001, message: hmm, at: ""}]

The real compiler's behaviour is covered by tests that use it (skipped while it is absent).
"""

from __future__ import annotations

import dataclasses
import sys
import types
from typing import Any

import pytest

from declarative_wf.diagnostics import Diagnostic, DiagnosticError, Severity
from declarative_wf.loading import LoadedDocument, load_file

from ..graph import workflows


@dataclasses.dataclass
class CompiledDefinition:
    workflow: Any
    document: LoadedDocument
    format: str


def _problems(document: LoadedDocument) -> list[Diagnostic]:
    found = list(document.warnings)
    data = document.data if isinstance(document.data, dict) else {}
    for key, severity in (("errors", Severity.ERROR), ("warnings", Severity.WARNING)):
        for item in data.get(key, []):
            if item.get("crash"):
                raise RuntimeError("the validator fell over")
            diagnostic = document.diagnostic(item["code"], item["message"], item.get("at", ""), severity=severity)
            if item.get("no_file"):
                diagnostic = dataclasses.replace(diagnostic, position=None, file=None)
            found.append(diagnostic)
    return found


def validate_file(path: str) -> list[Diagnostic]:
    try:
        return _problems(load_file(path))
    except DiagnosticError as error:
        return error.diagnostics


def load_definition(path: str) -> CompiledDefinition:
    document = load_file(path)
    problems = _problems(document)
    if any(d.is_error for d in problems):
        raise DiagnosticError(problems)
    workflow = workflows.demo()
    workflow.name = str(document.data.get("name", workflow.name))
    document.warnings = [d for d in problems if not d.is_error]
    return CompiledDefinition(workflow, document, "dsl")


@pytest.fixture(autouse=True)
def formats(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> types.ModuleType:
    """Every test of a module that imports this fixture runs against the stub, except tests
    that ask for the ``real`` fixture: those use the real package (or are skipped)."""
    if "real" in request.fixturenames:
        return real_formats()
    module = types.ModuleType("declarative_wf.formats")
    module.validate_file = validate_file  # type: ignore[attr-defined]
    module.load_definition = load_definition  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "declarative_wf.formats", module)
    return module


@pytest.fixture
def real() -> None:
    """Marks a test as one for the real formats package (see ``formats``)."""


def real_formats() -> types.ModuleType:
    """The real formats package, or skip the test while it is not there yet."""
    formats = pytest.importorskip("declarative_wf.formats")
    if not (hasattr(formats, "validate_file") and hasattr(formats, "load_definition")):
        pytest.skip("declarative_wf.formats has no validate_file/load_definition yet")
    return formats
