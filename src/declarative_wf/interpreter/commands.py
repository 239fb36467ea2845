"""What the interpreter core asks of its host, and the errors it raises.

Node runners are generators: they ``yield`` a command and receive its result (or have the
command's error thrown into them). Durable commands become engine tasks (activity, timer,
external event, child workflow); fiber commands are handled by the scheduler itself.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from declarative_wf.ir import SourceRef

# Commands are created by the thousand on every replayed turn, so they are slotted dataclasses
# and not frozen (a frozen one initialises through object.__setattr__, several times slower).
# Treat them as immutable all the same.

# -- durable commands: each becomes one engine task ------------------------------------------


@dataclass(slots=True)
class CallActivity:
    name: str
    input: Any


@dataclass(slots=True)
class CallChild:
    """Run the interpreter on ``payload`` as a child workflow with a derived instance id."""

    payload: dict[str, Any]
    instance_id: str


@dataclass(slots=True)
class Sleep:
    until: datetime


@dataclass(slots=True)
class WaitEvent:
    name: str


DurableCommand = CallActivity | CallChild | Sleep | WaitEvent


@dataclass(slots=True)
class Race:
    """Start all; the first to finish wins. The result is ``(index, value)``; a failure of the
    winner is raised. The losers are abandoned (their results are ignored)."""

    commands: tuple[DurableCommand, ...]


# -- commands the scheduler handles ----------------------------------------------------------


@dataclass(frozen=True)
class Now:
    """The workflow's deterministic current time (the engine's, replayed identically)."""


@dataclass(eq=False)
class FiberGroup:
    """Fibers whose results are collected as they finish (see :class:`Next`). The scheduler
    keeps the group's bookkeeping here, so collecting n results costs O(n), not O(n²)."""

    finished: list[Any] = field(default_factory=list)  # (handle, ok, value) not yet collected
    running: int = 0


@dataclass(slots=True)
class Spawn:
    """Start a concurrent fiber; the result is its :class:`FiberHandle`."""

    body: Generator[Any, Any, Any]
    label: str = ""
    group: FiberGroup | None = None


@dataclass(eq=False, slots=True)
class FiberHandle:
    id: int
    label: str = ""


@dataclass(slots=True)
class SpawnAll:
    """Start several fibers at once, in order; the result is their handles. One command for a
    whole batch: a for-each starts hundreds of items on every replayed turn."""

    bodies: list[tuple[Generator[Any, Any, Any], str]]
    group: FiberGroup | None = None


@dataclass(slots=True)
class Next:
    """Wait until at least one fiber of the group has finished; the result is the list of
    ``(handle, ok, value_or_error)`` that finished since the last ``Next`` (empty when no
    fiber of the group is running). ``quiet``: wait until a fiber fails or none is running
    (for a waiter with nothing to do about each success: one wake-up instead of one each)."""

    group: FiberGroup
    quiet: bool = False


@dataclass(slots=True)
class Join:
    """Wait for fibers. ``all``: until every one has finished; ``any``: until one has. The
    result is a list of ``(handle, ok, value_or_error)`` for the fibers that finished, in the
    order given."""

    handles: tuple[FiberHandle, ...]
    mode: Literal["all", "any"] = "all"


@dataclass(slots=True)
class Cancel:
    """Stop fibers (and the fibers they started); their pending tasks are abandoned."""

    handles: tuple[FiberHandle, ...]


@dataclass(slots=True)
class SetStatus:
    """Publish progress as the instance's custom status (last write per turn wins)."""

    value: Any


@dataclass(frozen=True)
class ContinueAsNew:
    """Restart the instance with a fresh history and this payload. Only valid when no other
    fiber is running."""

    payload: dict[str, Any]


Command = DurableCommand | Race | Now | Spawn | Join | Next | Cancel | SetStatus | ContinueAsNew


# -- errors ----------------------------------------------------------------------------------


@dataclass
class WorkflowError(Exception):
    """An error inside a workflow, in the format-neutral shape catch rules match on.

    ``type`` is the error name (an activity's exception class name, ``Timeout``, a name given
    by a fail node, ...); ``kinds`` are the classes it belongs to for matching (``task``,
    ``timeout``, ``runtime``)."""

    type: str
    message: str = ""
    cause: Any = None
    kinds: frozenset[str] = field(default_factory=frozenset)
    status: int | None = None
    source: SourceRef | None = None
    #: The id of the node where the error arose (set once, by ``RunContext.locate``).
    node: str | None = None

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        where = f" (at {self.source})" if self.source else ""
        return f"{self.type}: {self.message}{where}" if self.message else f"{self.type}{where}"

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.cause is not None:
            out["cause"] = self.cause
        if self.status is not None:
            out["status"] = self.status
        if self.source is not None:
            out["source"] = {"file": self.source.file, "line": self.source.line, "column": self.source.column, "pointer": self.source.pointer}
        return out


class DefinitionError(WorkflowError):
    """The graph cannot be run (bad expression result, unknown jump, ...): a bug in the
    definition that validation could not see."""


def runtime_error(message: str, source: SourceRef | None = None, cause: Any = None) -> WorkflowError:
    return WorkflowError("Runtime", message, cause=cause, kinds=frozenset({"runtime"}), source=source)
