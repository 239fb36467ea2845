"""The built-in ``dwf.task_token`` activity: the random part of a task token.

The orchestrator cannot draw random numbers (it replays), so a task that waits for a callback
asks this activity for a nonce once per attempt; the history keeps it for replays. Called
with ``{"close": nonce}`` it only records, in the history, that the wait of that nonce timed
out, so a late callback is answered ``TaskTimedOut`` (see :mod:`declarative_wf.task_tokens`).
"""

from __future__ import annotations

import secrets
from typing import Any


def task_token(request: Any = None) -> str | None:
    if isinstance(request, dict) and "close" in request:
        return None
    return secrets.token_hex(16)
