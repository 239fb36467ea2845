"""Options and error reporting shared by the commands that talk to a running ``dwf serve``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from declarative_wf.api.remote import ApiClient, ServerError, default_server

from .output import add_output_option

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """Bad arguments: reported in one line, exit 2."""


def add_server_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--server", metavar="URL", default=None,
        help="the server's HTTP address (default $DWF_SERVER or http://127.0.0.1:3500); the token is read from $DAPR_API_TOKEN",
    )  # fmt: skip
    add_output_option(parser)


def client(args: argparse.Namespace) -> ApiClient:
    return ApiClient(args.server or default_server())


def report_server_error(command: str, error: ServerError) -> int:
    where = "" if error.status == 0 else f" ({error.status})"
    print(f"dwf {command}: {error.code}{where}: {error.message}", file=sys.stderr)
    return EXIT_FAILED


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
