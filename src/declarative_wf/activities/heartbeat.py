"""Activity heartbeats: liveness, progress that outlives an attempt, and cancellation.

A long activity calls ``context.heartbeat(details)`` now and then. The engine records the
details against the activity's *step* (the instance, the definition's node and the activity's
input), so when the step is retried the next attempt reads them with
``context.last_heartbeat_details()`` and resumes instead of starting over. The answer also
says whether the instance still runs: once it is terminated (or finished, or purged) the
heartbeat raises :class:`ActivityCancelled`, so the work stops early instead of running on
for nothing.

Heartbeats go to the embedded engine's admin service. A real Dapr sidecar has no such
service: there heartbeats are accepted and ignored (details are not kept, no cancellation),
which the first one logs once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from typing import Any

import grpc

log = logging.getLogger(__name__)

__all__ = ["ActivityCancelled", "EngineLink", "step_key"]

#: At most one heartbeat RPC per call in this many seconds; a heartbeat in between only keeps
#: its details, which the next RPC sends (or :meth:`Heartbeater.flush` when the attempt fails).
MIN_INTERVAL_SECONDS = 0.5


class ActivityCancelled(Exception):
    """The workflow instance of this activity no longer runs (terminated, finished or purged)."""


def step_key(node: str | None, activity: str, value: Any) -> str:
    """The step an activity call belongs to: the same node with the same input is the same
    step across retries, while the iterations of a for-each (different inputs) are not."""
    digest = hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return f"{node or activity}:{digest}"


class EngineLink:
    """One worker's connection for heartbeats, shared by all its activity calls."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._lock = threading.Lock()
        self._client: Any = None
        self._unsupported = False

    def _admin(self) -> Any:
        with self._lock:
            if self._client is None:
                from declarative_wf.engine.admin import EngineAdminClient

                self._client = EngineAdminClient(self.address)
            return self._client

    def send(self, instance_id: str, step: str, details: Any) -> bool:
        """True while the instance runs; False once it does not."""
        if self._unsupported:
            return True
        try:
            return bool(self._admin().heartbeat(instance_id, step, details))
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                self._unsupported = True
                log.warning("the engine at %s keeps no heartbeats (a Dapr sidecar?): heartbeats are ignored", self.address)
                return True
            # A heartbeat must never fail the activity it reports on: the engine may be restarting.
            log.debug("heartbeat to %s failed: %s", self.address, error)
            return True

    def last(self, instance_id: str, step: str) -> Any:
        if self._unsupported:
            return None
        try:
            found = self._admin().last_heartbeat(instance_id, step)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.UNIMPLEMENTED:
                self._unsupported = True
            return None
        return None if found is None else found[0]


class Heartbeater:
    """The per-call state behind ``ActivityContext.heartbeat`` (throttling)."""

    def __init__(self, link: EngineLink | None, instance_id: str, step: str) -> None:
        self.link = link
        self.instance_id = instance_id
        self.step = step
        self._last_sent = float("-inf")
        self._pending: tuple[Any] | None = None

    def beat(self, details: Any) -> None:
        if self.link is None:
            return
        now = time.monotonic()
        if now - self._last_sent < MIN_INTERVAL_SECONDS:
            self._pending = (details,)
            return
        self._last_sent = now
        self._pending = None
        if not self.link.send(self.instance_id, self.step, details):
            raise ActivityCancelled(f"workflow instance '{self.instance_id}' no longer runs; stop this activity")

    def flush(self) -> None:
        """Sends the details of a throttled heartbeat (the attempt is ending with an error, and
        the next attempt should see the newest progress)."""
        if self.link is not None and self._pending is not None:
            details, self._pending = self._pending[0], None
            self.link.send(self.instance_id, self.step, details)

    def last_details(self) -> Any:
        return None if self.link is None else self.link.last(self.instance_id, self.step)
