"""Compiling definitions that arrive over the network, without touching the server's files.

A definition file may name other files (the DSL's ``workflow: ./child.dwf.yaml`` embeds a child
workflow, resolved relative to the file). For a file on the operator's disk that is what we
want; for a text submitted over HTTP or gRPC it would let any client make the server read its
own files (and echo parts of them in diagnostics). So submitted texts compile with file access
switched off: a reference to another file is refused with a diagnostic instead of being read.

The formats package has no option for that yet, so the switch wraps the one loader the
compilers read child files with (``declarative_wf.formats.dsl.compile.load_file``), guarded by
a context variable so other callers in the same process (``dwf run``) are unaffected. A test
(tests/api/test_compiling.py) proves the guard still catches a reference to a real file.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import json
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc

from declarative_wf import ir
from declarative_wf.diagnostics import (
    Diagnostic,
    DiagnosticError,
    Severity,
    sort_diagnostics,
)

from . import errors

#: Names a definition may be registered under: they appear in URL paths and in Dapr's
#: workflow name, and ``@`` separates a version.
NAME_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,127}$")
VERSION_PATTERN = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+\-]{0,63}$")
#: Submitted definitions are labelled with this when the client gives no file name.
DEFAULT_FILENAME = "<submitted>"
#: Longest file label kept; it only names the text in diagnostics and positions.
MAX_FILENAME = 200

_no_files: contextvars.ContextVar[bool] = contextvars.ContextVar("dwf_no_file_access", default=False)
_patch_lock = threading.Lock()
_patched = False

NO_FILES_CODE = "API-E001"


@dataclass(frozen=True)
class Compiled:
    """A submitted definition that compiled: its graph, format and warnings."""

    workflow: ir.Workflow
    format: str
    warnings: list[Diagnostic]


def _refuse_file(path: Any, *args: Any, **kwargs: Any) -> Any:
    raise DiagnosticError(
        [
            Diagnostic(
                "LOAD-E001",
                "cannot read the file: definitions submitted to the server cannot refer to other files "
                f"({str(path)[:100]!r}); embed the child, or submit it on its own and start it by name",
                file=str(path)[:MAX_FILENAME],
            )
        ]
    )


def _install_guard() -> None:
    """Wraps the compilers' file loader once per process (see the module docstring)."""
    global _patched
    with _patch_lock:
        if _patched:
            return
        from declarative_wf.formats.dsl import compile as dsl_compile

        original: Callable[..., Any] = getattr(dsl_compile, "load_file")  # noqa: B009 - not exported

        def guarded(path: Any, *args: Any, **kwargs: Any) -> Any:
            if _no_files.get():
                return _refuse_file(path, *args, **kwargs)
            return original(path, *args, **kwargs)

        setattr(dsl_compile, "load_file", guarded)  # noqa: B010
        _patched = True


@contextlib.contextmanager
def no_file_access() -> Iterator[None]:
    _install_guard()
    token = _no_files.set(True)
    try:
        yield
    finally:
        _no_files.reset(token)


def clean_filename(filename: str | None) -> str:
    """A label for diagnostics: the last path component only, printable, bounded."""
    if not filename:
        return DEFAULT_FILENAME
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())[:MAX_FILENAME]
    return name if name and name not in (".", "..") else DEFAULT_FILENAME


def _ir_document(text: str | bytes) -> dict[str, Any] | None:
    """An already compiled graph (``{"ir_version": ...}``, what ``dwf`` compiles locally)."""
    if text.lstrip()[:1] not in ("{", b"{"):
        return None
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        return None
    return data if isinstance(data, dict) and "ir_version" in data else None


def compile_text(text: str | bytes, filename: str | None = None, name: str | None = None) -> Compiled:
    """Compiles a submitted text (any format, or compiled IR JSON) with file access off.
    Raises :class:`ServiceError` ``ERR_DEFINITION_INVALID`` carrying every diagnostic."""
    label = clean_filename(filename)
    graph = _ir_document(text)
    if graph is not None:
        try:
            workflow = ir.workflow_from_json(graph)
        except ir.IRFormatError as error:
            raise invalid([Diagnostic("IR-E001", str(error), file=label)]) from None
        compiled = Compiled(workflow, "ir", [])
    else:
        from declarative_wf.formats import load_definition_text

        try:
            with no_file_access():
                definition = load_definition_text(text, label)
        except DiagnosticError as error:
            raise invalid(error.diagnostics) from None
        compiled = Compiled(definition.workflow, definition.format, list(definition.document.warnings))
    if name is not None and name != compiled.workflow.name:
        compiled = dataclasses.replace(compiled, workflow=dataclasses.replace(compiled.workflow, name=name))
    check_name(compiled.workflow.name)
    if compiled.workflow.version is not None:
        check_version(str(compiled.workflow.version))
    return compiled


def validate_text(text: str | bytes, filename: str | None = None) -> list[Diagnostic]:
    """Every diagnostic of a submitted text, as ``dwf validate`` reports them; [] when clean."""
    try:
        return compile_text(text, filename).warnings
    except errors.ServiceError as error:
        found = error.extra.get("_diagnostics")
        if found is not None:
            return list(found)
        return [Diagnostic(error.code, error.message, file=clean_filename(filename))]


def invalid(diagnostics: list[Diagnostic]) -> errors.ServiceError:
    from declarative_wf.diagnostics import to_json

    found = sort_diagnostics(diagnostics)
    problems = [d for d in found if d.severity is Severity.ERROR] or found
    head = problems[0].format() if problems else "the definition is invalid"
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    error = errors.ServiceError(
        errors.DEFINITION_INVALID,
        f"the definition is invalid: {head}{more}",
        422,
        grpc.StatusCode.INVALID_ARGUMENT,
        {"diagnostics": to_json(found)},
    )
    # The Diagnostic objects themselves, for validate_text; never serialised (leading _).
    error.extra["_diagnostics"] = found
    return error


def check_name(name: str) -> None:
    if not isinstance(name, str) or not NAME_PATTERN.match(name):
        raise errors.bad_request(
            errors.DEFINITION_NAME_INVALID,
            f"{name!r} cannot name a registered definition: use 1-128 letters, digits, '_', '-' and '.' "
            "(pass another name with the submission)",
        )


def check_version(version: str) -> None:
    if not VERSION_PATTERN.match(version):
        raise errors.bad_request(
            errors.DEFINITION_NAME_INVALID,
            f"version {version!r} cannot be registered: use 1-64 letters, digits, '_', '-', '.' and '+'",
        )
