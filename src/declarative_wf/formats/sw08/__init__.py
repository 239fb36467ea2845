"""Serverless Workflow 0.8: validate a definition (JSON or YAML) and compile it into the IR.

    workflow, diagnostics = compile_document(document)   # the form formats.register_compiler takes

Reference: docs/sw08.md. Phases: :mod:`.validate` (the shape with :mod:`.schema` and
schemas/sw08.schema.json, then the semantic checks; :mod:`.definitions` holds what validation
and compilation share), :mod:`.compile` (states to IR, with :mod:`.actions`, :mod:`.events`,
:mod:`.expressions` for jq and :mod:`.base`); :mod:`.runtime` is the interpreter profile the
compiled graphs need (the 0.8 data merge, HTTP errors by status). Codes: :mod:`.codes`.
"""

from __future__ import annotations

from declarative_wf import ir
from declarative_wf.diagnostics import Diagnostic, DiagnosticError, sort_diagnostics
from declarative_wf.loading import LoadedDocument

from .codes import SW08_CODES
from .compile import compile_workflow
from .validate import validate_document

__all__ = ["SW08_CODES", "compile_document", "compile_sw08", "validate_document"]


def compile_document(
    document: LoadedDocument,
) -> tuple[ir.Workflow | None, list[Diagnostic]]:
    """Validates and compiles; the workflow is None when there is an error."""
    workflow, diagnostics = compile_workflow(document)
    return workflow, sort_diagnostics(diagnostics)


def compile_sw08(document: LoadedDocument) -> ir.Workflow:
    """The IR of a 0.8 document; DiagnosticError lists every problem (FILE:LINE:COL)."""
    workflow, diagnostics = compile_document(document)
    if workflow is None:
        raise DiagnosticError(diagnostics)
    document.warnings = sort_diagnostics([*document.warnings, *diagnostics])
    return workflow
