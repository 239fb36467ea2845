"""Amazon States Language: validate a definition (JSON or YAML) and compile it into the IR.

    workflow = compile_asl(document)        # raises DiagnosticError with every problem
    workflow, diagnostics = compile_document(document)   # the form formats.register_compiler takes

Reference: docs/asl.md. Phases: :mod:`.validate` (schemas/asl.schema.json, then the semantic
checks), :mod:`.compile` (to IR); :mod:`.runtime` is what the interpreter needs to run the
result (context object, error names and causes).
"""

from __future__ import annotations

from declarative_wf import ir
from declarative_wf.diagnostics import Diagnostic, DiagnosticError, sort_diagnostics
from declarative_wf.loading import LoadedDocument

from .codes import ASL_CODES
from .compile import compile_workflow, resource_target
from .validate import validate_document

__all__ = ["ASL_CODES", "compile_asl", "compile_document", "resource_target", "validate_document"]


def compile_document(document: LoadedDocument) -> tuple[ir.Workflow | None, list[Diagnostic]]:
    """Validates and compiles; the workflow is None when there is an error."""
    diagnostics = validate_document(document)
    if any(d.is_error for d in diagnostics):
        return None, sort_diagnostics(diagnostics)
    workflow, problems = compile_workflow(document)
    diagnostics = sort_diagnostics([*diagnostics, *problems])
    if workflow is None or any(d.is_error for d in diagnostics):
        return None, diagnostics
    return workflow, diagnostics


def compile_asl(document: LoadedDocument) -> ir.Workflow:
    """The IR of an ASL document; DiagnosticError lists every problem (FILE:LINE:COL)."""
    workflow, diagnostics = compile_document(document)
    if workflow is None:
        raise DiagnosticError(diagnostics)
    document.warnings = sort_diagnostics([*document.warnings, *diagnostics])
    return workflow
