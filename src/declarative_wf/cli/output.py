"""Output of the server commands: a table on a terminal, JSON or YAML for tools (``-o``).

Without ``-o``, a terminal gets the table and a pipe gets JSON, so ``dwf workflow list | jq``
works without flags.
"""

from __future__ import annotations

import argparse
import json
import sys
import unicodedata
from collections.abc import Sequence
from typing import Any, TextIO

FORMATS = ("table", "json", "yaml")


def add_output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-o", "--output", choices=FORMATS, default=None,
        help="table (default on a terminal), json (default when piped) or yaml",
    )  # fmt: skip


def output_format(args: argparse.Namespace, stream: TextIO | None = None) -> str:
    chosen: str | None = getattr(args, "output", None)
    if chosen:
        return chosen
    stream = stream or sys.stdout
    isatty = getattr(stream, "isatty", None)
    return "table" if isatty is not None and isatty() else "json"


def clean(text: Any) -> str:
    """One table cell: control characters (from remote data) never reach the terminal."""
    value = "" if text is None else str(text)
    return "".join(" " if unicodedata.category(c) == "Cc" else c for c in value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], stream: TextIO | None = None) -> None:
    stream = stream or sys.stdout
    cells = [[clean(cell) for cell in row] for row in rows]
    widths = [max([len(header), *(len(row[i]) for row in cells)]) for i, header in enumerate(headers)]
    lines = ["  ".join(header.ljust(widths[i]) for i, header in enumerate(headers)).rstrip()]
    lines += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in cells]
    stream.write("\n".join(lines) + "\n")


def fields(pairs: Sequence[tuple[str, Any]], stream: TextIO | None = None) -> None:
    """``key: value`` lines; JSON values are shown compact."""
    stream = stream or sys.stdout
    width = max((len(key) for key, _ in pairs), default=0)
    for key, value in pairs:
        if isinstance(value, (dict, list)):
            value = json.dumps(value, ensure_ascii=False)
        stream.write(f"{key.ljust(width)}  {clean('-' if value is None else value)}\n")


def emit(data: Any, fmt: str, stream: TextIO | None = None) -> None:
    """JSON or YAML of ``data`` (the table form is each command's own)."""
    stream = stream or sys.stdout
    if fmt == "yaml":
        import yaml

        stream.write(yaml.safe_dump(data, sort_keys=False, allow_unicode=True))
    else:
        stream.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def short_hash(value: str | None) -> str:
    if not value:
        return "-"
    return value[:19] + "…" if len(value) > 20 else value
