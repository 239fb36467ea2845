"""Tunables of the embedded engine, with the reasons for their defaults."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class EngineOptions:
    """Settings of one engine process. Every field has a safe default."""

    #: Largest input, output, event payload, activity result or custom status, in bytes.
    #: Workflow state is copied into history and work items, so big payloads make every replay
    #: slower; pass large data by reference instead.
    max_payload_bytes: int = 4 * 1024 * 1024
    #: History events one execution may hold before it is failed with ``HistoryLimitExceeded``.
    #: Long-running loops should continue-as-new; large fan-outs should use child workflows.
    max_history_events: int = 100_000
    #: Work items in flight on one worker stream. Spreads work across several workers and
    #: bounds what a disconnecting worker hands back.
    max_outstanding_per_stream: int = 256
    #: When an activity result arrives for an instance whose other activities are still running,
    #: wait up to this long (seconds) before handing it to a worker, so that one turn takes the
    #: results that arrive meanwhile. A fan-out replays all its branches on every turn, so
    #: fewer, larger turns cost less; the last result of a fan-out, and any other event, is
    #: dispatched at once. 0 turns it off.
    coalesce_seconds: float = 0.005
    #: Send only the new part of the history to workers that cache it (SDK "stateful history").
    stateful_history: bool = True
    #: ``NORMAL`` survives process crashes (kill -9); ``FULL`` also survives power loss.
    synchronous: Literal["NORMAL", "FULL"] = "NORMAL"
    #: Idle work-item streams of workers that accept health pings get one this often (seconds),
    #: so a dead connection is noticed and its work released.
    health_ping_seconds: float = 10.0
    #: Largest gRPC message the server accepts (a worker's response carries all the actions of a
    #: turn, so it is larger than one payload).
    max_message_bytes: int = 64 * 1024 * 1024
    #: Forward every event published on the engine's event bus to this CloudEvents HTTP endpoint
    #: (structured mode, with retries); None forwards nothing. See docs/events.md.
    event_sink_url: str | None = None
