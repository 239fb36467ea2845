"""What the engine hands out to workers: a work-item stream, and the leases held on it.

A lease's token is the fencing token of one work item (see :mod:`.backend`): a completion is
accepted only with the current token, and closing a stream releases every lease on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .protocol import pb
from .turns import Turn
from .workqueue import WorkQueue

__all__ = ["ActivityLease", "OrchestrationLease", "WorkStream"]


@dataclass(eq=False)
class WorkStream:
    """One worker's GetWorkItems stream."""

    id: int
    stateful_history: bool
    health_ping: bool
    queue: WorkQueue[pb.WorkItem] = field(default_factory=WorkQueue)
    outstanding: set[str] = field(default_factory=set)  # tokens of leases on this stream
    # instance id -> number of committed events this worker has cached ("stateful history")
    cached: dict[str, int] = field(default_factory=dict)
    closed: bool = False


@dataclass(eq=False)
class OrchestrationLease:
    token: str
    stream: WorkStream
    turn: Turn
    history_len: int


@dataclass(eq=False)
class ActivityLease:
    token: str
    stream: WorkStream
    row_id: int
