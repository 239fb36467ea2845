"""Options and error reporting shared by the commands that talk to a running ``dwf serve``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from declarative_wf.api.remote import ApiClient, ServerError, default_server

from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, Argument, CommandExit, UsageError
from .output import add_output_option

__all__ = [
    "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "UsageError", "add_server_options", "ask", "client", "read_json",
    "report_server_error", "server_action",
]  # fmt: skip

T = TypeVar("T")


def add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server", metavar="URL", default=None,
        help="the server's HTTP address (default $DWF_SERVER or http://127.0.0.1:3500); the token is read from $DAPR_API_TOKEN",
    )  # fmt: skip
    add_output_option(parser)


def server_action(
    actions: Any, name: str, help: str, run: Callable[[argparse.Namespace], int], *arguments: Argument, **defaults: Any
) -> argparse.ArgumentParser:
    """The subcommand ``name`` of a server command: its own ``arguments`` (``common.arg``,
    ``common.JsonArg``), then ``--server`` and ``-o``; ``run`` (and ``defaults``) end up in
    the parsed arguments."""
    parser: argparse.ArgumentParser = actions.add_parser(name, help=help)
    for argument in arguments:
        argument.add_to(parser)
    add_server_options(parser)
    parser.set_defaults(run=run, **defaults)
    return parser


def client(args: argparse.Namespace) -> ApiClient:
    return ApiClient(args.server or default_server())


def report_server_error(command: str, error: ServerError) -> int:
    where = "" if error.status == 0 else f" ({error.status})"
    print(f"dwf {command}: {error.code}{where}: {error.message}", file=sys.stderr)
    return EXIT_FAILED


def ask(args: argparse.Namespace, command: str, request: Callable[[ApiClient], T]) -> T:
    """``request``'s answer from the server; a refusal (or no answer) is reported as
    ``dwf COMMAND: CODE (STATUS): message`` and ends the command with exit 1."""
    try:
        with client(args) as api:
            return request(api)
    except ServerError as error:
        raise CommandExit(report_server_error(command, error)) from None


def read_json(text: str | None, path: str | None, what: str) -> Any:
    """A JSON value from ``--X JSON`` or ``--X-file PATH`` (``-`` is stdin); None when neither."""
    if text is None and path is None:
        return None
    if path is not None:
        try:
            text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise UsageError(f"cannot read {what} file {path}: {getattr(error, 'strerror', None) or error}") from None
    try:
        return json.loads(text or "")
    except ValueError as error:
        raise UsageError(f"{what} is not valid JSON: {error}") from None
