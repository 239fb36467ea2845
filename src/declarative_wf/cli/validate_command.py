"""``dwf validate FILE...``: check definitions without running them.

The output is a contract (design §7): exit 0 when every file is valid, 1 otherwise (2 for
usage errors, from argparse); one line per problem, ``FILE:LINE:COL: CODE message``. On a
terminal each line is followed by the source line with a caret, and a summary goes to stderr;
piped output stays one line per problem so scripts and editors can parse it. ``-o json``
prints one JSON list of every diagnostic of every file.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, TextIO

from declarative_wf.diagnostics import (
    Diagnostic,
    DiagnosticError,
    Severity,
    render,
    to_json,
    use_color,
)

__all__ = ["print_diagnostics", "read_sources", "register", "run", "validate_paths", "write_text"]

#: Source excerpts are only for reading; a huge file is not worth loading twice for them.
_MAX_EXCERPT_FILE = 8 * 1024 * 1024


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "validate",
        help="check workflow definitions; exit 1 if any is invalid",
        description=(
            "Load, validate and compile each FILE without running it. Prints one line per "
            "problem as FILE:LINE:COL: CODE message (with the source line and a caret on a "
            "terminal). Exit status: 0 all valid (warnings allowed), 1 some file invalid or "
            "unreadable, 2 usage error."
        ),
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help="definition files (YAML or JSON)")
    parser.add_argument(
        "-o", "--output", choices=["text", "json"], default="text",
        help="text (default): one line per problem; json: a list of diagnostics",
    )  # fmt: skip
    parser.set_defaults(run=run)


def _file_diagnostic(path: str, message: str, code: str = "LOAD-E001") -> Diagnostic:
    return Diagnostic(code, message, file=path)


def validate_paths(paths: Sequence[str]) -> list[tuple[str, list[Diagnostic]]]:
    """Each path with its diagnostics (sorted). Never raises for bad input."""
    from declarative_wf.formats import validate_file

    results: list[tuple[str, list[Diagnostic]]] = []
    for path in paths:
        try:
            found = list(validate_file(path))
        except DiagnosticError as error:  # validate_file should return these; be forgiving
            found = list(error.diagnostics)
        except OSError as error:
            found = [_file_diagnostic(path, f"cannot read the file: {error.strerror or error}")]
        except Exception as error:  # one broken file must not hide the others
            if os.environ.get("DWF_DEBUG"):
                raise
            message = f"internal error while validating ({type(error).__name__}: {error}); please report it"
            found = [_file_diagnostic(path, message, "DWF-E000")]
        # The one-line form must start with FILE: give every diagnostic a file.
        found = [d if d.source_file is not None else dataclasses.replace(d, file=path) for d in found]
        results.append((path, sorted(found, key=Diagnostic.sort_key)))
    return results


def read_sources(paths: Sequence[str]) -> dict[str, str]:
    """File name → text, for source excerpts; unreadable or binary files are left out."""
    sources: dict[str, str] = {}
    for path in paths:
        try:
            if os.path.getsize(path) > _MAX_EXCERPT_FILE:
                continue
            with open(path, "rb") as handle:
                raw = handle.read()
        except OSError:
            continue
        if b"\x00" in raw:
            continue
        text = raw.decode("utf-8", "replace")
        # The loader drops a BOM before counting columns; so must the excerpt.
        sources[path] = text.removeprefix("\ufeff")
    return sources


def write_text(stream: TextIO, text: str) -> None:
    """Write ``text``, falling back to escapes on a stream that cannot encode it.

    A reader that went away (``dwf validate *.yaml | head -1``) is not an error of ours: the
    rest of the output is dropped and the exit status still tells whether the files are valid.
    """
    try:
        try:
            stream.write(text)
        except UnicodeEncodeError:
            encoding = getattr(stream, "encoding", None) or "ascii"
            stream.write(text.encode(encoding, "backslashreplace").decode(encoding))
        stream.flush()
    except BrokenPipeError:
        _silence(stream)


def _silence(stream: TextIO) -> None:
    """Point the stream's descriptor at /dev/null, so the flush at exit cannot fail again."""
    try:
        fileno = stream.fileno()
    except (OSError, ValueError):  # not a real file (a test's StringIO)
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fileno)
    os.close(devnull)


def print_diagnostics(diagnostics: Sequence[Diagnostic], stream: TextIO) -> None:
    """One line per diagnostic; on a terminal, with source excerpts (and colour unless NO_COLOR)."""
    if not diagnostics:
        return
    isatty = getattr(stream, "isatty", None)
    sources = None
    if isatty is not None and isatty():
        sources = read_sources(sorted({d.source_file for d in diagnostics if d.source_file is not None}))
    write_text(stream, render(diagnostics, sources, color=use_color(stream)) + "\n")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary(results: Sequence[tuple[str, list[Diagnostic]]]) -> str:
    """``2 files, 1 invalid, 3 errors`` (and warnings when there are any)."""
    invalid = sum(1 for _, found in results if any(d.is_error for d in found))
    errors = sum(1 for _, found in results for d in found if d.is_error)
    warnings = sum(1 for _, found in results for d in found if d.severity is Severity.WARNING)
    text = f"{_plural(len(results), 'file')}, {invalid} invalid, {_plural(errors, 'error')}"
    return text + (f", {_plural(warnings, 'warning')}" if warnings else "")


def run(args: argparse.Namespace) -> int:
    try:
        results = validate_paths(args.files)
    except ImportError as error:  # the formats package is missing from this installation
        print(f"dwf validate: definition formats are not available: {error}", file=sys.stderr)
        return 2
    everything = [d for _, found in results for d in found]
    if args.output == "json":
        write_text(sys.stdout, json.dumps(to_json(everything), indent=2, ensure_ascii=False) + "\n")
    else:
        for _, found in results:
            print_diagnostics(found, sys.stdout)
    if sys.stderr.isatty():
        write_text(sys.stderr, summary(results) + "\n")
    return 1 if any(d.is_error for d in everything) else 0
