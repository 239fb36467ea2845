"""declarative_wf: durable workflows written as documents, run on Dapr Workflow.

The public API (pinned by tests/test_public_api.py)::

    from declarative_wf import load, validate, compile, run, Engine, WorkflowClient, activity

    definition = load("order.dwf.yaml")          # CompiledDefinition; raises DiagnosticError
    problems = validate("order.dwf.yaml")        # list[Diagnostic]; never raises for bad input
    workflow = compile("dwf: 1\\nname: x\\nsteps: [{call: a}]")   # ir.Workflow from text
    result = run("order.dwf.yaml", {"id": 1}, activities="shop.activities")  # RunResult

Names are imported lazily, so ``import declarative_wf`` stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "load": ("declarative_wf.formats", "load_definition"),
    "validate": ("declarative_wf.formats", "validate_file"),
    "CompiledDefinition": ("declarative_wf.formats", "CompiledDefinition"),
    "run": ("declarative_wf.runner", "run"),
    "RunResult": ("declarative_wf.runner", "RunResult"),
    "Engine": ("declarative_wf.engine", "Engine"),
    "EngineOptions": ("declarative_wf.engine", "EngineOptions"),
    "WorkflowClient": ("declarative_wf.client", "WorkflowClient"),
    "InstanceState": ("declarative_wf.client", "InstanceState"),
    "activity": ("declarative_wf.activities", "activity"),
    "Registry": ("declarative_wf.activities", "Registry"),
    "ActivityContext": ("declarative_wf.activities", "ActivityContext"),
    "Diagnostic": ("declarative_wf.diagnostics", "Diagnostic"),
    "DiagnosticError": ("declarative_wf.diagnostics", "DiagnosticError"),
    "Workflow": ("declarative_wf.ir", "Workflow"),
}

__all__ = ["__version__", "compile", *_EXPORTS]


def compile(text: str, file: str = "<string>") -> Any:  # noqa: A001 - the natural name
    """Compiles a definition given as text (any supported format) into an ``ir.Workflow``."""
    from declarative_wf.formats import load_definition_text

    return load_definition_text(text, file).workflow


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module, attribute = _EXPORTS[name]
        value = getattr(importlib.import_module(module), attribute)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'declarative_wf' has no attribute {name!r}")


if TYPE_CHECKING:
    from declarative_wf.activities import ActivityContext, Registry, activity
    from declarative_wf.client import InstanceState, WorkflowClient
    from declarative_wf.diagnostics import Diagnostic, DiagnosticError
    from declarative_wf.engine import Engine, EngineOptions
    from declarative_wf.formats import CompiledDefinition
    from declarative_wf.formats import load_definition as load
    from declarative_wf.formats import validate_file as validate
    from declarative_wf.ir import Workflow
    from declarative_wf.runner import RunResult, run
