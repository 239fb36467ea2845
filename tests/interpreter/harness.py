"""A deterministic in-memory host for the interpreter core: no engine, a virtual clock.

Activities are Python functions run when the harness completes their task; timers fire when
the virtual clock reaches them; events come from a script. Every durable command is recorded,
so a second run fed the same completions can be checked to issue the same commands (replay).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from declarative_wf.interpreter.commands import CallActivity, CallChild, Sleep, WaitEvent, WorkflowError
from declarative_wf.interpreter.scheduler import ContinueAsNewRequested, run_fibers
from declarative_wf.interpreter.workflow import (
    WorkflowSucceeded, finish_workflow, make_payload, new_run_context, run_workflow,
)
from declarative_wf.ir import Workflow

EPOCH = datetime(2026, 1, 1, tzinfo=timezone.utc)


@dataclass(eq=False)
class FakeTask:
    seq: int
    command: Any
    done: bool = False
    ok: bool = True
    value: Any = None


@dataclass
class Outcome:
    status: str  # completed | failed | continued
    value: Any
    commands: list[Any]
    completions: list[int]
    clock: datetime
    statuses: list[Any] = field(default_factory=list)


class FakeHost:
    def __init__(self, activities: dict[str, Callable[[Any], Any]], events: list[tuple[float, str, Any]] | None = None,
                 children: Callable[[dict[str, Any], str], Any] | None = None) -> None:
        self.activities = activities
        self.events = sorted(events or [], key=lambda e: e[0])
        self.children = children
        self.clock = EPOCH
        self.tasks: list[FakeTask] = []
        self.seq = itertools.count()
        self.statuses: list[Any] = []
        self.calls: dict[str, int] = {}

    def start(self, command: Any) -> FakeTask:
        task = FakeTask(next(self.seq), command)
        self.tasks.append(task)
        return task

    def when_any(self, tasks: Any) -> list[FakeTask]:
        return list(tasks)

    def finished_task(self, resumed_with: FakeTask) -> FakeTask:
        return resumed_with

    def is_done(self, task: FakeTask) -> bool:
        return task.done

    def outcome(self, task: FakeTask) -> tuple[bool, Any]:
        return task.ok, task.value

    def now(self) -> datetime:
        return self.clock

    def set_status(self, value: Any) -> None:
        self.statuses.append(value)

    # -- the "engine": decide which pending task finishes next ------------------------------

    def complete_next(self, pending: list[FakeTask]) -> FakeTask:
        for task in pending:  # activities and children finish first, in start order
            if isinstance(task.command, CallActivity):
                return self._run_activity(task)
            if isinstance(task.command, CallChild):
                task.done = True
                try:
                    task.value = self.children(task.command.payload, task.command.instance_id) if self.children else None
                except WorkflowError as error:
                    task.ok, task.value = False, error
                return task
        waits = [t for t in pending if isinstance(t.command, WaitEvent)]
        timers = sorted((t for t in pending if isinstance(t.command, Sleep)), key=lambda t: (t.command.until, t.seq))
        next_timer = timers[0].command.until if timers else None
        for index, (offset, name, data) in enumerate(self.events):
            at = EPOCH + timedelta(seconds=offset)
            waiting = [t for t in waits if t.command.name == name]
            if waiting and (next_timer is None or at <= next_timer):
                self.events.pop(index)
                self.clock = max(self.clock, at)
                task = waiting[0]
                task.done, task.value = True, data
                return task
        if not timers:
            raise AssertionError("deadlock: nothing can complete")
        task = timers[0]
        self.clock = max(self.clock, task.command.until)
        task.done = True
        return task

    def _run_activity(self, task: FakeTask) -> FakeTask:
        name = task.command.name
        envelope = task.command.input
        self.calls[name] = self.calls.get(name, 0) + 1
        task.done = True
        try:
            task.value = self.activities[name](envelope["input"])
        except WorkflowError as error:
            task.ok, task.value = False, error
        except Exception as error:  # like Dapr: the exception class name is the error type
            task.ok, task.value = False, WorkflowError(type(error).__name__, str(error), kinds=frozenset({"task"}))
        return task


def drive(workflow: Workflow, workflow_input: Any = None, *, host: FakeHost | None = None,
          payload: dict[str, Any] | None = None, instance_id: str = "test-instance", step_budget: int | None = None) -> Outcome:
    host = host or FakeHost({})
    payload = payload or make_payload(workflow, workflow_input)
    rt = new_run_context(workflow, payload, instance_id)
    rt.clock = host.now
    if step_budget is not None:
        rt.step_budget = step_budget
    generator = run_fibers(run_workflow(rt, payload), host)
    completions: list[int] = []
    try:
        pending = generator.send(None)
        while True:
            task = host.complete_next(pending)
            completions.append(task.seq)
            pending = generator.send(task)
    except StopIteration as stop:
        status, value = "completed", stop.value
    except WorkflowSucceeded as succeeded:
        status, value = "completed", finish_workflow(rt, succeeded.data)
    except WorkflowError as error:
        status, value = "failed", error
    except ContinueAsNewRequested as request:
        status, value = "continued", request.payload
    return Outcome(status, value, [t.command for t in host.tasks], completions, host.clock, host.statuses)
