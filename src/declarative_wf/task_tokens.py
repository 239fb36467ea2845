"""Task tokens: how a task that waits for a callback (ASL's ``.waitForTaskToken``) is found
again when the callback arrives, and what is delivered to it.

A token is ``dwf1.<instance id, base64url>.<nonce>``:

* the **instance id** says which instance waits (a for-each chunk child, for a Map item that
  runs in one);
* the **nonce** is 128 random bits drawn by the built-in activity ``dwf.task_token`` once per
  attempt of the task (an activity, so the orchestrator stays deterministic: a replay reads
  the same nonce from the history). The instance waits for the external event
  ``dwf.task.<nonce>``, so a token for another instance, or for another attempt, cannot be
  made from a token one holds: the other wait's nonce is unknown.

Before a callback is delivered its token is checked against the instance's history (the
nonce must have been issued there, and the wait must still be open), so callbacks for
unknown tokens or finished tasks get AWS's errors (``InvalidToken``, ``TaskDoesNotExist``,
``TaskTimedOut``) instead of vanishing. The service layer, :class:`~declarative_wf.client.WorkflowClient`
and through them the HTTP, gRPC and CLI callbacks all use :func:`deliver`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

__all__ = [
    "EVENT_PREFIX", "TOKEN_ACTIVITY", "TaskToken", "TaskTokenError", "decode", "deliver", "encode", "failure_event",
    "heartbeat_event", "parse_output", "success_event",
]  # fmt: skip

#: The built-in activity that draws a token's nonce (and records a timed-out wait as closed).
TOKEN_ACTIVITY = "dwf.task_token"
#: External event names of callbacks: this prefix and the nonce.
EVENT_PREFIX = "dwf.task."
TOKEN_VERSION = "dwf1"
#: AWS's limits: error names up to 256 characters, causes up to 32,768, output up to 256 KiB.
MAX_ERROR_CHARS = 256
MAX_CAUSE_CHARS = 32768
MAX_OUTPUT_BYTES = 256 * 1024

_NONCE = re.compile(r"\A[0-9a-f]{32}\Z")
#: Instance states in which a wait can still be open.
_LIVE = frozenset({"RUNNING", "SUSPENDED", "PENDING"})

CallbackKind = Literal["success", "failure", "heartbeat"]


class TaskTokenError(Exception):
    """A callback that cannot be delivered. ``code`` is AWS's error name for it:
    ``InvalidToken`` (not a token), ``TaskDoesNotExist`` (its instance does not exist),
    ``TaskTimedOut`` (the task already ended: completed, failed, timed out, or its instance
    ended), ``InvalidOutput`` (the output is not JSON or too large)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class TaskToken:
    instance_id: str
    nonce: str

    @property
    def event(self) -> str:
        return EVENT_PREFIX + self.nonce

    def __str__(self) -> str:
        return encode(self.instance_id, self.nonce)


def encode(instance_id: str, nonce: str) -> str:
    text = base64.urlsafe_b64encode(instance_id.encode()).decode().rstrip("=")
    return f"{TOKEN_VERSION}.{text}.{nonce}"


def decode(token: Any) -> TaskToken:
    """The token's parts; :class:`TaskTokenError` ``InvalidToken`` when it is not one."""
    if not isinstance(token, str) or not token:
        raise TaskTokenError("InvalidToken", "a task token is required (the value of $$.Task.Token the task received)")
    parts = token.strip().split(".")
    if len(parts) != 3 or parts[0] != TOKEN_VERSION or not _NONCE.match(parts[2]):
        raise TaskTokenError("InvalidToken", "Invalid Token: this is not a task token issued by declarative_wf (expected dwf1.<instance>.<nonce>)")
    try:
        instance_id = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise TaskTokenError("InvalidToken", "Invalid Token: its instance part is not valid") from None
    if not instance_id:
        raise TaskTokenError("InvalidToken", "Invalid Token: its instance part is empty")
    return TaskToken(instance_id, parts[2])


# -- callback payloads (the data of the external event) ------------------------------------------


def parse_output(text: str | bytes) -> Any:
    """JSON text (as AWS's SendTaskSuccess takes its output) as a value."""
    if isinstance(text, (bytes, bytearray)):
        text = text.decode("utf-8", errors="replace")
    if len(text.encode()) > MAX_OUTPUT_BYTES:
        raise TaskTokenError("InvalidOutput", f"the output is larger than {MAX_OUTPUT_BYTES} bytes")
    try:
        return json.loads(text)
    except ValueError as error:
        raise TaskTokenError("InvalidOutput", f"the output is not JSON text: {error}") from None


def success_event(value: Any) -> dict[str, Any]:
    """``value`` (a JSON value) becomes the task's result."""
    try:
        size = len(json.dumps(value, allow_nan=False).encode())
    except (TypeError, ValueError) as error:
        raise TaskTokenError("InvalidOutput", f"the output is not JSON: {error}") from None
    if size > MAX_OUTPUT_BYTES:
        raise TaskTokenError("InvalidOutput", f"the output is larger than {MAX_OUTPUT_BYTES} bytes")
    return {"kind": "success", "output": value}


def failure_event(error: str | None = None, cause: str | None = None) -> dict[str, Any]:
    for name, value, limit in (("error", error, MAX_ERROR_CHARS), ("cause", cause, MAX_CAUSE_CHARS)):
        if value is not None and not isinstance(value, str):
            raise TaskTokenError("InvalidParameter", f"the {name} must be a string")
        if value is not None and len(value) > limit:
            raise TaskTokenError("InvalidParameter", f"the {name} is longer than {limit} characters")
    return {"kind": "failure", "error": error, "cause": cause}


def heartbeat_event() -> dict[str, Any]:
    return {"kind": "heartbeat"}


# -- the check and the delivery ---------------------------------------------------------------------


class _Engine(Protocol):
    """What :func:`deliver` needs of the engine (``api.sidecar.Sidecar`` provides it)."""

    def get(self, instance_id: str, payloads: bool = True) -> Any | None: ...

    def history(self, instance_id: str) -> list[Any]: ...

    def raise_event(self, instance_id: str, name: str, data_json: str | None) -> None: ...


def _text(wrapper: Any) -> str:
    return str(getattr(wrapper, "value", "") or "")


def check_history(token: TaskToken, events: Iterable[Any]) -> None:
    """Raises unless the history shows the token issued and its wait still open."""
    issued = False
    quoted = json.dumps(token.nonce)
    for event in events:
        kind = event.WhichOneof("eventType")
        if kind == "taskCompleted" and _text(event.taskCompleted.result) == quoted:
            issued = True
        elif kind == "taskScheduled" and event.taskScheduled.name == TOKEN_ACTIVITY and token.nonce in _text(event.taskScheduled.input):
            raise TaskTokenError("TaskTimedOut", "Task Timed Out: the task of this token timed out")
        elif kind == "eventRaised" and event.eventRaised.name.casefold() == token.event.casefold():
            try:
                data = json.loads(_text(event.eventRaised.input) or "null")
            except ValueError:
                data = None
            if isinstance(data, dict) and data.get("kind") in ("success", "failure"):
                raise TaskTokenError("TaskTimedOut", f"Task Timed Out: the task of this token already received a {data['kind']} callback")
    if not issued:
        raise TaskTokenError("InvalidToken", f"Invalid Token: instance {token.instance_id!r} issued no such task token")


def deliver(engine: _Engine, token_text: Any, payload: dict[str, Any]) -> TaskToken:
    """Checks the token and raises the callback event on its instance."""
    token = decode(token_text)
    state = engine.get(token.instance_id, payloads=False)
    if state is None:
        raise TaskTokenError("TaskDoesNotExist", f"Task does not exist: no instance {token.instance_id!r}")
    from declarative_wf.engine.protocol import status_name

    status = status_name(state.workflowStatus)
    if status not in _LIVE:
        raise TaskTokenError("TaskTimedOut", f"Task Timed Out: instance {token.instance_id!r} is {status}")
    check_history(token, engine.history(token.instance_id))
    engine.raise_event(token.instance_id, token.event, json.dumps(payload, separators=(",", ":"), ensure_ascii=False))
    return token
