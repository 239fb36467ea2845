"""The ``dwf`` command. Its options and exit codes are a contract (see docs/cli.md)."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Sequence

from .common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, CommandExit

__all__ = ["COMMAND_MODULES", "EXIT_FAILED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main"]

#: One module per subcommand, each with ``register(subparsers)``; listed in --help order.
COMMAND_MODULES = (
    "validate_command", "run_command", "graph_command", "engine_command",
    "serve_command", "submit_command", "workflow_command", "worker_command", "task_command",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dwf",
        description="Declarative durable workflows on Dapr Workflow.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    for name in COMMAND_MODULES:
        if importlib.util.find_spec(f"{__name__}.{name}") is not None:
            importlib.import_module(f"{__name__}.{name}").register(commands)
    return parser


def _version() -> str:
    from declarative_wf import __version__

    return __version__


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except CommandExit as done:  # the command reported why already
        return done.code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
