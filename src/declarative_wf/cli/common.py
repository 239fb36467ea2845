"""What several ``dwf`` commands share: exit codes, usage errors, argparse building blocks, and
the start-up of the commands that run workers in this process (``dwf serve``, ``dwf worker``).

The options' texts are part of the ``--help`` contract (docs/cli.md): a text defined here is
the one every command using the option shows, so a wording change is made once.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from declarative_wf.activities import Registry

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class UsageError(Exception):
    """Bad arguments: reported in one line, exit 2."""


class CommandExit(Exception):
    """Ends a command with ``code`` once the reason has been reported (``dwf.cli.main`` turns it
    into the exit status), so a helper deep in a command can stop it without every caller
    checking a return value."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


def usage(command: str, message: str) -> int:
    """Reports a usage problem as ``dwf COMMAND: message`` on stderr; the exit code (2)."""
    print(f"dwf {command}: {message}", file=sys.stderr)
    return EXIT_USAGE


# -- argparse building blocks ---------------------------------------------------------------


@dataclass(frozen=True)
class Arg:
    """One ``add_argument`` call, declared (see :func:`arg`), so a subcommand can be declared
    as a list of its own arguments."""

    names: tuple[str, ...]
    options: dict[str, Any] = field(default_factory=dict)

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(*self.names, **self.options)


def arg(*names: str, **options: Any) -> Arg:
    """``arg("--reason", help=...)``: the arguments of ``parser.add_argument``."""
    return Arg(names, options)


@dataclass(frozen=True)
class OneOf:
    """Mutually exclusive arguments."""

    arguments: tuple[Arg, ...]

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        group = parser.add_mutually_exclusive_group()
        for argument in self.arguments:
            group.add_argument(*argument.names, **argument.options)


def one_of(*arguments: Arg) -> OneOf:
    return OneOf(arguments)


@dataclass(frozen=True)
class JsonArg:
    """A JSON value given as ``--OPTION JSON`` or read from ``--OPTION-file PATH`` (``-`` is
    stdin), the two mutually exclusive; ``what`` names the value in the file option's help."""

    option: str
    text_help: str
    what: str

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        one_of(
            arg(self.option, metavar="JSON", help=self.text_help),
            arg(f"{self.option}-file", metavar="PATH", help=f"read the {self.what} (JSON) from PATH; - is stdin"),
        ).add_to(parser)


#: What a declared subcommand is made of (see ``server_args.server_action``).
Argument = Arg | OneOf | JsonArg


def add_actions(commands: Any, name: str, help: str) -> Any:
    """The command ``name`` with required subcommands (``dwf NAME ACTION ...``); their
    ``argparse`` subparsers, for ``add_parser``."""
    parser = commands.add_parser(name, help=help)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True
    return actions


# -- commands that run workers here (dwf serve, dwf worker) ------------------------------------


def add_activities_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--activities", metavar="MODULE", action="append", default=[],
        help="import MODULE (dotted name or .py file) and register its functions as activities; repeatable",
    )  # fmt: skip


def add_log_level_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--log-level", default="WARNING", help="DEBUG, INFO, WARNING (default) or ERROR")


def log_level(args: argparse.Namespace) -> str | None:
    """``--log-level`` upper-cased, or None when it names no level."""
    level: str = args.log_level.upper()
    return level if isinstance(logging.getLevelName(level), int) else None


def bad_log_level(args: argparse.Namespace) -> str:
    return f"--log-level {args.log_level!r} is not DEBUG, INFO, WARNING or ERROR"


def configure_logging(level: str) -> None:
    logging.basicConfig(level=level, format=_LOG_FORMAT)


def import_activities(modules: list[str]) -> Registry:
    """A registry of the functions of ``modules`` (``--activities``). Like ``python -m``, the
    current directory is importable, so a module beside the definitions can be named. Raises
    ``RegistryError``."""
    from declarative_wf.activities import Registry

    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    activities = Registry()
    for module in modules:
        activities.import_module(module)
    return activities


def stop_on_signals() -> threading.Event:
    """An event set by SIGTERM or SIGINT. Installed before start-up, so a signal during it
    still shuts down in order."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    return stop
