"""``dwf submit FILE...`` and ``dwf definitions list|get|delete`` against a running server."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from declarative_wf.api.remote import ServerError

from .common import add_actions, arg, one_of
from .output import emit, fields, output_format, short_hash, table
from .server_args import (
    EXIT_OK,
    EXIT_USAGE,
    add_server_options,
    ask,
    client,
    report_server_error,
    server_action,
)

_REF = arg("ref", metavar="REF")


def register(commands: Any) -> None:
    submit = commands.add_parser(
        "submit",
        help="validate and register definitions on a server (exit 2 if one is invalid)",
        description=(
            "Send each FILE to the server's registry. The server validates it first and refuses it with the "
            "same diagnostics as 'dwf validate' (printed as FILE:LINE:COL: CODE message, exit 2). "
            "Submitting identical content again is a no-op; the version is the definition's 'version', or the "
            "next integer."
        ),
    )
    submit.add_argument("files", nargs="+", metavar="FILE", help="definition files")
    submit.add_argument("--name", help="register under this name instead of the definition's own (one FILE only)")
    submit.add_argument(
        "--compiled", action="store_true",
        help="compile here and send the graph (needed when the definition embeds child workflow files)",
    )  # fmt: skip
    add_server_options(submit)
    submit.set_defaults(run=run_submit)

    actions = add_actions(commands, "definitions", "list, show or delete registered definitions")
    server_action(
        actions, "list", "every name with its latest version, or every version of NAME", run_list,
        arg("name", nargs="?", metavar="NAME"),
    )  # fmt: skip
    server_action(
        actions, "get", "one version: NAME (latest), NAME@VERSION or sha256:HASH", run_get, _REF,
        one_of(
            arg("--source", action="store_true", help="print only the source text"),
            arg("--graph", action="store_true", help="print only the compiled graph (IR JSON)"),
        ),
    )  # fmt: skip
    server_action(actions, "delete", "delete NAME@VERSION, sha256:HASH, or every version of NAME", run_delete, _REF)


def _source(path: Path, compiled: bool) -> tuple[str | None, int]:
    try:
        if not compiled:
            return path.read_text(encoding="utf-8"), EXIT_OK
        from declarative_wf.diagnostics import DiagnosticError, render
        from declarative_wf.ir import workflow_to_json
        from declarative_wf.runner import load_workflow

        try:
            return json.dumps(workflow_to_json(load_workflow(path))), EXIT_OK
        except DiagnosticError as error:
            print(render(error.diagnostics, None, color=False), file=sys.stderr)
            return None, EXIT_USAGE
    except (OSError, UnicodeDecodeError) as error:
        print(f"{path}: LOAD-E001 cannot read the file: {getattr(error, 'strerror', None) or error}", file=sys.stderr)
        return None, EXIT_USAGE


def _print_diagnostics(path: str, diagnostics: list[dict[str, Any]]) -> None:
    """The server's diagnostics, naming the local file so FILE:LINE:COL points at it."""
    for item in diagnostics:
        where = path if item.get("line") is None else f"{path}:{item['line']}:{item['column']}"
        print(f"{where}: {item['code']} {item['message']}", file=sys.stderr)


def run_submit(args: argparse.Namespace) -> int:
    if args.name and len(args.files) > 1:
        print("dwf submit: --name needs exactly one FILE", file=sys.stderr)
        return EXIT_USAGE
    fmt = output_format(args)
    results: list[dict[str, Any]] = []
    status = EXIT_OK
    with client(args) as api:
        for file in args.files:
            path = Path(file)
            text, code = _source(path, args.compiled)
            if text is None:
                status = max(status, code)
                continue
            try:
                answer = api.submit(text, filename=path.name, name=args.name)
            except ServerError as error:
                if error.code == "ERR_DEFINITION_INVALID" and isinstance(error.body, dict):
                    _print_diagnostics(file, error.body.get("diagnostics") or [])
                    status = max(status, EXIT_USAGE)
                    continue
                if error.code == "ERR_DEFINITION_NAME_INVALID":
                    print(f"{file}: {error.code} {error.message}", file=sys.stderr)
                    status = max(status, EXIT_USAGE)
                    continue
                return report_server_error("submit", error)
            _print_diagnostics(file, answer.get("warnings") or [])
            results.append({"file": file, **answer})
    if fmt == "table":
        rows = [
            [r["file"], r["definition"]["ref"], "registered" if r["created"] else "unchanged", short_hash(r["definition"]["hash"])]
            for r in results
        ]
        if rows:
            table(["FILE", "DEFINITION", "RESULT", "HASH"], rows)
    else:
        emit(results, fmt)
    return status


def run_list(args: argparse.Namespace) -> int:
    fmt = output_format(args)
    data: Any = ask(args, "definitions list", lambda api: api.versions(args.name) if args.name else api.definitions())
    if fmt != "table":
        emit(data, fmt)
    elif args.name:
        table(["VERSION", "HASH", "FORMAT", "CREATED"], [[d["version"], short_hash(d["hash"]), d["format"], d["createdAt"]] for d in data])
    else:
        rows = [[d["name"], d["latest"]["version"], d["versions"], d["latest"]["format"], d["latest"]["createdAt"]] for d in data]
        table(["NAME", "LATEST", "VERSIONS", "FORMAT", "SUBMITTED"], rows)
    return EXIT_OK


def run_get(args: argparse.Namespace) -> int:
    data = ask(args, "definitions get", lambda api: api.definition(args.ref))
    if args.source:
        sys.stdout.write(data["source"] if data["source"].endswith("\n") else data["source"] + "\n")
        return EXIT_OK
    if args.graph:
        print(json.dumps(data["graph"], indent=2, ensure_ascii=False))
        return EXIT_OK
    fmt = output_format(args)
    if fmt != "table":
        emit(data, fmt)
        return EXIT_OK
    keys = ("name", "version", "hash", "format", "filename", "createdAt", "autoVersion")
    fields([(key, data[key]) for key in keys])
    return EXIT_OK


def run_delete(args: argparse.Namespace) -> int:
    deleted = ask(args, "definitions delete", lambda api: api.delete_definition(args.ref))
    fmt = output_format(args)
    if fmt == "table":
        table(["DELETED", "HASH"], [[d["ref"], short_hash(d["hash"])] for d in deleted])
    else:
        emit(deleted, fmt)
    return EXIT_OK
