"""``dwf run``: run one instance of a definition to its end on the embedded engine.

Exit codes (a contract, design §7): 0 completed, 1 failed, terminated or timed out, 2 invalid
definition or usage. ``-o json`` prints ``{"instance_id", "status", "output", "error"}``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
import unicodedata
from pathlib import Path
from typing import Any, TextIO

from declarative_wf.activities import Registry, RegistryError
from declarative_wf.activities.sw_run import add_enable_option, apply_enable_option
from declarative_wf.diagnostics import Diagnostic, DiagnosticError, render, use_color
from declarative_wf.engine import EngineLockedError, StoreError
from declarative_wf.ir import IRFormatError, Workflow
from declarative_wf.progress import ProgressEvent
from declarative_wf.runner import (
    MissingActivityError,
    RunError,
    RunResult,
    check_activities,
    check_input,
    compile_definition,
    default_instance_id,
    run,
)

from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, JsonArg, UsageError, usage


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "run",
        help="run one instance of a definition to its end on the embedded engine",
        description=(
            "Run FILE with the given input on an embedded engine and wait for the end. "
            "Exit 0 when it completed, 1 when it failed or was terminated, 2 when the "
            "definition or the arguments are invalid. With --db, running the same FILE with "
            "the same input again after a crash resumes the unfinished instance."
        ),
    )
    parser.add_argument("file", metavar="FILE", help="the definition (YAML or JSON, any supported format)")
    JsonArg("--input", "the workflow input, as JSON text", "input").add_to(parser)
    parser.add_argument(
        "--activities",
        metavar="MODULE",
        action="append",
        default=[],
        help="import MODULE (dotted name, or a .py file) and register its functions as activities; "
        "repeatable. The current directory is importable",
    )
    parser.add_argument("--db", metavar="PATH", help="keep state in this SQLite file (default: a temporary one)")
    parser.add_argument("--instance-id", metavar="ID", help="instance id (default: derived from the definition and input)")
    parser.add_argument("--timeout", metavar="SECONDS", type=float, help="stop waiting after SECONDS (exit 1)")
    parser.add_argument("-o", "--output", choices=["text", "json"], default="text", help="result format (default text)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines, even on a terminal")
    parser.add_argument("--log-level", metavar="LEVEL", help="log level of the Dapr SDK (default ERROR)")
    add_enable_option(parser)  # run: shell/script/container (Serverless Workflow), off by default
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    try:
        workflow_input = _read_input(args)
        if args.timeout is not None and not args.timeout > 0:
            raise UsageError(f"--timeout must be a positive number of seconds, not {args.timeout:g}")
        if args.log_level and not isinstance(logging.getLevelName(args.log_level.upper()), int):
            raise UsageError(f"--log-level {args.log_level!r} is not DEBUG, INFO, WARNING, ERROR or CRITICAL")
        if (problem := apply_enable_option(args)) is not None:  # before compiling: its warnings depend on it
            raise UsageError(problem)
        _make_cwd_importable()
        workflow = _load(args.file, args.quiet)
        if workflow is None:
            return EXIT_USAGE
        check_input(workflow, workflow_input)
        registry = Registry()
        for module in args.activities:
            registry.import_module(module)
        check_activities(workflow, registry)
        instance_id = args.instance_id or default_instance_id(workflow, workflow_input)
    except UsageError as error:
        return _usage(str(error))
    except MissingActivityError as error:
        print(f"{error}\npass the module that defines it with --activities MODULE", file=sys.stderr)
        return EXIT_USAGE
    except (RegistryError, RunError) as error:
        return _usage(str(error))

    progress = _Progress(sys.stderr) if sys.stderr.isatty() and not args.quiet else None
    log_level = args.log_level.upper() if args.log_level else None
    if progress is not None:
        progress.begin(workflow, instance_id)
    try:
        result = run(
            workflow,
            workflow_input,
            activities=registry,
            db=args.db,
            instance_id=instance_id,
            timeout=args.timeout,
            on_progress=progress.step if progress is not None else None,
            log_level=log_level,
        )
    except (EngineLockedError, StoreError, RegistryError, RunError, OSError) as error:
        return _usage(str(error))
    if progress is not None:
        progress.end(result)
    return _report(args, result)


# -- input ------------------------------------------------------------------------------------


def _read_input(args: argparse.Namespace) -> Any:
    if args.input is not None:
        text, what = args.input, "--input"
    elif args.input_file is not None:
        what = f"--input-file {args.input_file}"
        try:
            text = sys.stdin.read() if args.input_file == "-" else Path(args.input_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"cannot read {what}: {getattr(error, 'strerror', None) or error}") from None
    else:
        return None
    try:
        return json.loads(text)
    except ValueError as error:
        raise UsageError(f"{what} is not valid JSON: {error}") from None


def _make_cwd_importable() -> None:
    # Like `python -m`: modules in the current directory can be named with --activities.
    cwd = os.getcwd()
    if "" not in sys.path and cwd not in sys.path:
        sys.path.insert(0, cwd)


def _load(file: str, quiet: bool) -> Workflow | None:
    path = Path(file)
    if not path.is_file():
        raise UsageError(f"{file}: no such file" if not path.exists() else f"{file}: not a file")
    try:
        workflow, warnings = compile_definition(path)
    except DiagnosticError as error:
        _print_diagnostics(error.diagnostics)
        return None
    except IRFormatError as error:
        raise UsageError(f"{file}: {error}") from None
    except ImportError as error:
        raise UsageError(f"{file}: cannot load definitions: {error}") from None
    if warnings and not quiet:
        _print_diagnostics(warnings)
    return workflow


def _print_diagnostics(diagnostics: list[Diagnostic]) -> None:
    tty = sys.stderr.isatty()
    sources: dict[str, str] | None = None
    if tty:  # carets under the columns on a terminal, plain FILE:LINE:COL lines otherwise
        sources = {}
        for diagnostic in diagnostics:
            name = diagnostic.source_file
            if name and name not in sources:
                try:
                    sources[name] = Path(name).read_text(encoding="utf-8")
                except (OSError, UnicodeDecodeError):
                    pass
    print(render(diagnostics, sources, color=use_color(sys.stderr)), file=sys.stderr)


def _usage(message: str) -> int:
    return usage("run", message)


# -- output -----------------------------------------------------------------------------------


def _report(args: argparse.Namespace, result: RunResult) -> int:
    if args.output == "json":
        print(json.dumps(result.as_json(), ensure_ascii=False))
    elif result.ok:
        print(json.dumps(result.output, indent=2, ensure_ascii=False))
    if result.timed_out:
        where = f"; run again with --db {args.db} to resume it" if args.db else ""
        print(
            f"dwf run: instance {result.instance_id} did not finish within {args.timeout:g} seconds "
            f"(it is {result.status}){where}",
            file=sys.stderr,
        )
    elif not result.ok and args.output != "json":
        print(f"dwf run: instance {result.instance_id} {result.status}: {_clean(_describe(result.error))}", file=sys.stderr)
    return EXIT_OK if result.ok else EXIT_FAILED


def _describe(error: dict[str, Any] | None) -> str:
    if not error:
        return "no details"
    kind = error.get("type") or error.get("Error") or "Error"
    message = error.get("message") or error.get("Cause") or error.get("detail") or ""
    return f"{kind}: {message}" if message else str(kind)


def _clean(text: str) -> str:
    # Messages can come from remote servers (HTTP bodies): never echo control characters.
    return "".join("\ufffd" if unicodedata.category(c) == "Cc" else c for c in text)


class _Progress:
    """One line per step started and finished, on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        fancy = (getattr(stream, "encoding", "") or "").lower().replace("-", "").startswith("utf")
        self.marks = {
            "begin": "▶" if fancy else ">",
            "started": "→" if fancy else "->",
            "completed": "✓" if fancy else "ok",
            "failed": "✗" if fancy else "x",
            "waiting": "⏱" if fancy else "..",
        }
        self.started = time.monotonic()

    def begin(self, workflow: Workflow, instance_id: str) -> None:
        self.started = time.monotonic()
        self._line(f"{self.marks['begin']} {workflow.name} · instance {instance_id}")

    def step(self, event: ProgressEvent) -> None:
        mark = self.marks[event.kind]
        label = event.label + (f" (attempt {event.attempt})" if event.attempt > 1 else "")
        if event.kind == "started":
            self._line(f"  {mark} {label}")
        elif event.kind == "completed":
            self._line(f"  {mark} {label}  {_seconds(event.seconds)}")
        elif event.kind == "failed":
            self._line(f"  {mark} {label}  {_seconds(event.seconds)}  {event.error}")
        else:  # a durable timer: a wait node, a retry's delay, a poll interval
            self._line(f"  {mark} waiting {_seconds(event.seconds)}")

    def end(self, result: RunResult) -> None:
        elapsed = _seconds(time.monotonic() - self.started)
        if result.timed_out:
            self._line(f"{self.marks['waiting']} still {result.status} after {elapsed}")
            return
        mark = self.marks["completed"] if result.ok else self.marks["failed"]
        resumed = " (resumed)" if result.resumed else ""
        self._line(f"{mark} {result.status} in {elapsed}{resumed}")

    def _line(self, text: str) -> None:
        self.stream.write(_clean(text) + "\n")
        self.stream.flush()


def _seconds(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value * 1000:.0f}ms" if value < 1 else f"{value:.2f}s"
