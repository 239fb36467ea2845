"""Definition formats: detect a document's format and compile it into the IR.

The entry points every other part of declarative_wf uses::

    compiled = load_definition("orders.dwf.yaml")   # raises DiagnosticError with every problem
    compiled.workflow                                # the IR graph (declarative_wf.ir.Workflow)
    validate_file("orders.dwf.yaml")                 # [Diagnostic, ...]; never raises

One package per format (:mod:`.dsl` today) registers a compiler: a function from a loaded
document to ``(workflow or None, diagnostics)``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from declarative_wf import ir
from declarative_wf.diagnostics import Diagnostic, DiagnosticError, sort_diagnostics
from declarative_wf.input_schema import input_problems
from declarative_wf.loading import LoadedDocument, load_file, load_text

from .detect import FORMAT_CODES, FORMAT_NAMES, detect_format, unavailable

__all__ = [
    "FORMAT_CODES", "FORMAT_NAMES", "CompiledDefinition", "Compiler", "check_input", "compile_loaded", "detect_format",
    "load_definition", "load_definition_text", "register_compiler", "validate_file", "validate_text",
]  # fmt: skip

Compiler = Callable[[LoadedDocument], "tuple[ir.Workflow | None, list[Diagnostic]]"]


@dataclass
class CompiledDefinition:
    """A valid definition: its IR, the loaded document (``document.warnings`` holds the
    warnings of loading and compiling) and the format it was written in."""

    workflow: ir.Workflow
    document: LoadedDocument
    format: str


def _compile_dsl(document: LoadedDocument) -> tuple[ir.Workflow | None, list[Diagnostic]]:
    from .dsl import compile_document

    return compile_document(document)


def _compile_asl(document: LoadedDocument) -> tuple[ir.Workflow | None, list[Diagnostic]]:
    from .asl import compile_document

    return compile_document(document)


def _compile_sw1(document: LoadedDocument) -> tuple[ir.Workflow | None, list[Diagnostic]]:
    from .sw import compile_document

    return compile_document(document)


def _compile_sw08(document: LoadedDocument) -> tuple[ir.Workflow | None, list[Diagnostic]]:
    from .sw08 import compile_document

    return compile_document(document)


_COMPILERS: dict[str, Compiler] = {"dsl": _compile_dsl, "asl": _compile_asl, "sw1": _compile_sw1, "sw08": _compile_sw08}


def register_compiler(format_name: str, compiler: Compiler) -> None:
    """Make ``format_name`` (a name :func:`detect_format` returns) compilable."""
    _COMPILERS[format_name] = compiler


def compile_loaded(document: LoadedDocument) -> CompiledDefinition:
    """Detect the format of a loaded document and compile it; DiagnosticError lists every
    problem (warnings included) when there is an error."""
    format_name = detect_format(document)
    compiler = _COMPILERS.get(format_name)
    if compiler is None:
        raise DiagnosticError([unavailable(document, format_name), *document.warnings])
    try:
        workflow, diagnostics = compiler(document)
    except DiagnosticError:
        raise
    except RecursionError:
        message = "the document is nested too deeply to compile"
        raise DiagnosticError([Diagnostic("FMT-E004", message, file=document.file)]) from None
    except Exception as error:  # a bug in a compiler: still a diagnostic, never a traceback
        message = f"internal error while compiling: {type(error).__name__}: {error}; please report this with the document"
        raise DiagnosticError([Diagnostic("FMT-E004", message, file=document.file)]) from error
    found = sort_diagnostics([*document.warnings, *diagnostics])
    if workflow is None or any(d.is_error for d in found):
        if not any(d.is_error for d in found):
            found.append(Diagnostic("FMT-E004", "the compiler produced no workflow and no error", file=document.file))
        raise DiagnosticError(found)
    document.warnings = found
    return CompiledDefinition(workflow, document, format_name)


def load_definition(path: str | os.PathLike[str]) -> CompiledDefinition:
    """Load, detect and compile a definition file; DiagnosticError with ALL its problems."""
    return compile_loaded(load_file(path))


def load_definition_text(text: str | bytes, file: str = "<string>") -> CompiledDefinition:
    """:func:`load_definition` for a text in memory; ``file`` names it in diagnostics (and
    child workflow paths are relative to its directory)."""
    return compile_loaded(load_text(text, file))


def validate_file(path: str | os.PathLike[str]) -> list[Diagnostic]:
    """Every problem of a definition file, sorted (warnings included); [] when it is clean.
    Never raises for any input."""
    return _validate(lambda: load_definition(path), os.fspath(path))


def validate_text(text: str | bytes, file: str = "<string>") -> list[Diagnostic]:
    """:func:`validate_file` for a text in memory."""
    return _validate(lambda: load_definition_text(text, file), file)


def _validate(run: Callable[[], CompiledDefinition], file: str) -> list[Diagnostic]:
    try:
        return list(run().document.warnings)
    except DiagnosticError as error:
        return error.diagnostics
    except Exception as error:  # noqa: BLE001 - the contract is "never raises"
        message = f"internal error: {type(error).__name__}: {error}; please report this with the document"
        return [Diagnostic("FMT-E004", message, file=file)]


def check_input(workflow: ir.Workflow, value: Any) -> list[str]:
    """What is wrong with ``value`` as the input of ``workflow``, by the JSON Schema its
    definition declares (``workflow.options["input_schema"]``; the DSL's ``input.schema``);
    [] when it is fine or there is no schema. For whoever starts instances (the interpreter
    checks it only for embedded child workflows). Each problem reads
    ``/pointer/in/the/input: message``."""
    return input_problems(workflow, value)
