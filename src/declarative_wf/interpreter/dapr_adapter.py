"""The interpreter as an ordinary Dapr workflow.

``interpreter_workflow`` is registered under the name ``dwf`` in a ``WorkflowRuntime``; every
instance receives the graph it runs in its input, so it keeps running the definition it started
with even after a newer version is submitted.
"""

from __future__ import annotations

import json
import weakref
from collections import deque
from collections.abc import Callable, Generator, Iterable
from datetime import datetime, timezone
from typing import Any

import dapr.ext.workflow as wf
from dapr.ext.workflow._durabletask import task as dt_task

from .commands import CallActivity, CallChild, DurableCommand, Sleep, WaitEvent, WorkflowError, runtime_error
from .scheduler import ContinueAsNewRequested, run_fibers
from .workflow import WorkflowSucceeded, finish_workflow, load_workflow, new_run_context, run_workflow

WORKFLOW_NAME = "dwf"

#: Resolves a child workflow named by a definition reference to its start payload. Given to
#: :func:`register` per runtime (a server's worker has its registry; a plain worker none).
DefinitionResolver = Callable[[str, Any], dict[str, Any]]


class WorkflowFailure(Exception):
    """Base of the exceptions a failed interpreted workflow ends with. Each error type gets a
    subclass *named after it*, because Dapr reports the exception's class name as the
    failure's ``error_type``."""


_FAILURE_TYPES: dict[str, type[WorkflowFailure]] = {}


def as_failure(error: WorkflowError) -> WorkflowFailure:
    cls = _FAILURE_TYPES.get(error.type)
    if cls is None:
        cls = _FAILURE_TYPES[error.type] = type(error.type, (WorkflowFailure,), {})
    return cls(error.message)


class _Mailbox(dt_task.Task[Any]):
    """One long-lived "when any" over every task the workflow started.

    ``wf.when_any`` builds a new composite over all pending tasks at every resume, which makes
    a replay quadratic in the number of concurrent tasks. The mailbox is each task's parent
    from the moment it starts; it is complete whenever a finished task waits to be collected,
    and the SDK resumes the workflow with it once per finished task, in history order."""

    def __init__(self) -> None:
        super().__init__()
        self._finished: deque[dt_task.Task[Any]] = deque()
        self._result = None  # what the SDK resumes us with; the host takes the task instead

    def adopt(self, task: dt_task.Task[Any]) -> None:
        if task.is_complete:
            self.on_child_completed(task)
        else:
            task._parent = self  # type: ignore[assignment]  # the SDK's parent link

    def on_child_completed(self, task: dt_task.Task[Any]) -> None:
        self._finished.append(task)
        self._is_complete = True

    def take(self) -> dt_task.Task[Any]:
        task = self._finished.popleft()
        self._is_complete = bool(self._finished)
        return task


class DaprHost:
    """Maps interpreter commands onto the durabletask context a ``DaprWorkflowContext`` wraps.

    Two choices keep a replayed turn cheap:

    * Commands go to the wrapped context directly: for the string names we use, the wrapper
      only adds a debug log line, whose message it formats on every call, logging or not.
    * The host holds that context *weakly*. The context holds our generator, so a strong
      reference back would make every turn's objects (fibers, frames, tasks: thousands in a
      for-each) a reference cycle that only the garbage collector frees; without one they are
      freed the moment the SDK drops the context, and collections stay rare and short.
    """

    def __init__(self, ctx: wf.DaprWorkflowContext, resolver: DefinitionResolver | None = None) -> None:
        self.resolver = resolver
        self._inner = weakref.proxy(getattr(ctx, "_DaprWorkflowContext__obj", ctx))
        self._status: str | None = None
        self._mailbox = _Mailbox()

    def start(self, command: DurableCommand) -> dt_task.Task[Any]:
        task = self._start(command)
        self._mailbox.adopt(task)
        return task

    def _start(self, command: DurableCommand) -> dt_task.Task[Any]:
        if isinstance(command, CallActivity):
            return self._inner.call_activity(command.name, input=command.input)
        if isinstance(command, Sleep):
            until = command.until
            if until.tzinfo is not None:
                until = until.astimezone(timezone.utc).replace(tzinfo=None)
            return self._inner.create_timer(until)
        if isinstance(command, WaitEvent):
            return self._inner.wait_for_external_event(command.name)
        if isinstance(command, CallChild):
            payload = command.payload
            if "definition" in payload:
                if self.resolver is None:
                    raise runtime_error(f"child workflow {payload['definition']!r} cannot be resolved by this worker")
                payload = self.resolver(payload["definition"], payload.get("input"))
            return self._inner.call_sub_orchestrator(WORKFLOW_NAME, input=payload, instance_id=command.instance_id)
        raise TypeError(f"not a durable command: {command!r}")

    def when_any(self, tasks: Iterable[dt_task.Task[Any]]) -> dt_task.Task[Any]:
        return self._mailbox  # every started task already reports to it

    def finished_task(self, resumed_with: Any) -> dt_task.Task[Any]:
        return self._mailbox.take()

    def is_done(self, task: dt_task.Task[Any]) -> bool:
        return task.is_complete

    def outcome(self, task: dt_task.Task[Any]) -> tuple[bool, Any]:
        if not task.is_failed:
            return True, task.get_result()
        exception = task.get_exception()
        details = getattr(exception, "details", None)
        error_type = getattr(details, "error_type", None) or type(exception).__name__
        message = getattr(details, "message", None) or str(exception)
        return False, WorkflowError(error_type, message, kinds=frozenset({"task"}))

    def now(self) -> datetime:
        return self._inner.current_utc_datetime.replace(tzinfo=timezone.utc)

    def replaying(self) -> bool:
        return bool(self._inner.is_replaying)

    def continue_as_new(self, payload: dict[str, Any]) -> None:
        self._inner.continue_as_new(payload)

    def set_status(self, value: Any) -> None:
        # Only asked outside replay (run_block skips the command while ``rt.replaying()``).
        text = json.dumps(value, separators=(",", ":"))
        if text != self._status:
            self._status = text
            self._inner.set_custom_status(text)


def interpreter_workflow(
    ctx: wf.DaprWorkflowContext, payload: dict[str, Any], resolver: DefinitionResolver | None = None,
    engine_address: str | None = None,
) -> Generator[Any, Any, Any]:
    """The one Dapr workflow that runs every definition."""
    workflow = load_workflow(payload)
    rt = new_run_context(workflow, payload, ctx.instance_id)
    host = DaprHost(ctx, resolver)
    del ctx  # the host's weak reference only (see DaprHost)
    rt.clock = host.now
    rt.replaying = host.replaying
    rt.engine_address = engine_address
    try:
        try:
            return (yield from run_fibers(run_workflow(rt, payload), host))
        except WorkflowSucceeded as succeeded:
            return finish_workflow(rt, succeeded.data, succeeded.variables)
    except ContinueAsNewRequested as request:
        base = {key: payload[key] for key in ("ir", "ir_hash", "input") if key in payload}
        host.continue_as_new({**base, **request.payload, "generation": rt.generation + 1})
        return None
    except WorkflowError as error:
        rt.profile.failed(rt, error)
        raise as_failure(error) from None


def register(runtime: wf.WorkflowRuntime, resolver: DefinitionResolver | None = None, engine_address: str | None = None) -> None:
    """Registers the interpreter as ``dwf``; ``resolver`` finds the child workflows that
    definitions name. The SDK marks a function once it is registered and refuses it in a
    second runtime, so each runtime gets its own wrapper."""

    def dwf(ctx: wf.DaprWorkflowContext, payload: dict[str, Any]) -> Generator[Any, Any, Any]:
        # Returns the generator itself (the SDK drives any generator it gets back): no extra
        # frame between the SDK and the interpreter on each of the instance's resumes.
        return interpreter_workflow(ctx, payload, resolver, engine_address)

    runtime.register_workflow(dwf, name=WORKFLOW_NAME)
