"""The wire contract: the Dapr fork of the Durable Task sidecar protocol.

The protobuf modules are the ones vendored inside the Dapr Python SDK
(``dapr.ext.workflow._durabletask``). We serve exactly what that SDK speaks; Microsoft's
``durabletask`` protobufs reuse field numbers with other types and must never be mixed in.
"""

from __future__ import annotations

import time
from typing import Final

from dapr.ext.workflow._durabletask.internal import protos as pb
from dapr.ext.workflow._durabletask.internal import orchestrator_service_pb2_grpc as pb_grpc
from google.protobuf import timestamp_pb2, wrappers_pb2

__all__ = [
    "pb",
    "pb_grpc",
    "SUPPORTED_SDK",
    "Status",
    "TERMINAL_STATUSES",
    "status_name",
    "micros_to_timestamp",
    "timestamp_to_micros",
    "string_value",
    "now_micros",
    "status_from_name",
]

# The SDK range this engine is tested against (see pyproject.toml and tests/engine).
SUPPORTED_SDK: Final = ">=1.19,<1.20"


class Status:
    """OrchestrationStatus values, named as Dapr names them."""

    RUNNING: Final = pb.ORCHESTRATION_STATUS_RUNNING
    COMPLETED: Final = pb.ORCHESTRATION_STATUS_COMPLETED
    CONTINUED_AS_NEW: Final = pb.ORCHESTRATION_STATUS_CONTINUED_AS_NEW
    FAILED: Final = pb.ORCHESTRATION_STATUS_FAILED
    CANCELED: Final = pb.ORCHESTRATION_STATUS_CANCELED
    TERMINATED: Final = pb.ORCHESTRATION_STATUS_TERMINATED
    PENDING: Final = pb.ORCHESTRATION_STATUS_PENDING
    SUSPENDED: Final = pb.ORCHESTRATION_STATUS_SUSPENDED
    STALLED: Final = pb.ORCHESTRATION_STATUS_STALLED


TERMINAL_STATUSES: Final = frozenset({Status.COMPLETED, Status.FAILED, Status.TERMINATED, Status.CANCELED})

_STATUS_NAMES: Final = {
    value: name.removeprefix("ORCHESTRATION_STATUS_")
    for name, value in pb.OrchestrationStatus.items()
}
_STATUS_BY_NAME: Final = {name: value for value, name in _STATUS_NAMES.items()}


def status_name(status: int) -> str:
    """`RUNNING`, `COMPLETED`, ... as Dapr's APIs print them."""
    return _STATUS_NAMES.get(status, "UNKNOWN")


def status_from_name(name: str) -> int:
    """Inverse of :func:`status_name`; accepts any letter case. Raises KeyError."""
    return _STATUS_BY_NAME[name.strip().upper()]


def now_micros() -> int:
    return time.time_ns() // 1000


def micros_to_timestamp(micros: int) -> timestamp_pb2.Timestamp:
    # Integer arithmetic on purpose: the SDK's "wait forever" timer fires in year 9999, which
    # overflows datetime conversions on some platforms.
    seconds, rest = divmod(micros, 1_000_000)
    return timestamp_pb2.Timestamp(seconds=seconds, nanos=rest * 1000)


def timestamp_to_micros(ts: timestamp_pb2.Timestamp) -> int:
    return ts.seconds * 1_000_000 + ts.nanos // 1000


def string_value(text: str | None) -> wrappers_pb2.StringValue | None:
    return None if text is None else wrappers_pb2.StringValue(value=text)
