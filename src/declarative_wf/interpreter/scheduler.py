"""Cooperative fibers over durable tasks: how concurrent branches run inside one workflow.

The scheduler is itself a generator, driven by the engine adapter: whenever every fiber is
blocked it yields ``host.when_any(pending tasks)`` and resumes with the task that finished.
Fibers advance in a fixed order and tasks are started in the order fibers ask for them, so a
replay issues exactly the same task sequence — the determinism the engine relies on.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Generator, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Protocol, TypeVar

from .commands import (
    CallActivity, CallChild, Cancel, ContinueAsNew, DurableCommand, FiberGroup, FiberHandle, Join, Next,
    Now, Race, SetStatus, Sleep, Spawn, SpawnAll, WaitEvent, WorkflowError, runtime_error,
)

_DURABLE = (CallActivity, CallChild, Sleep, WaitEvent)

TaskT = TypeVar("TaskT")


class Host(Protocol[TaskT]):
    """What the scheduler needs from an engine (the Dapr adapter, or a test double)."""

    def start(self, command: DurableCommand) -> TaskT: ...

    def when_any(self, tasks: Iterable[TaskT]) -> Any:
        """Something the driver can yield that resumes once one of ``tasks`` has finished."""

    def finished_task(self, resumed_with: Any) -> TaskT:
        """The task that finished, from what the driver resumed the scheduler with."""

    def is_done(self, task: TaskT) -> bool: ...

    def outcome(self, task: TaskT) -> tuple[bool, Any]:
        """``(True, value)`` or ``(False, WorkflowError)`` for a finished task."""

    def now(self) -> datetime: ...

    def set_status(self, value: Any) -> None: ...


class ContinueAsNewRequested(Exception):
    def __init__(self, payload: dict[str, Any]) -> None:
        super().__init__("continue as new")
        self.payload = payload


@dataclass(eq=False, slots=True)
class _Fiber:
    handle: FiberHandle
    body: Generator[Any, Any, Any]
    # No link back to the parent: a turn's fibers must hold no reference cycle (see DaprHost).
    children: list[_Fiber] = field(default_factory=list)
    finished: bool = False
    ok: bool = True
    value: Any = None
    join: Join | None = None  # what it waits for, when blocked on other fibers
    group: FiberGroup | None = None


@dataclass(eq=False, slots=True)
class _Waiting(Generic[TaskT]):
    """A fiber blocked on engine tasks (one task, or the tasks of a race)."""

    fiber: _Fiber
    tasks: list[TaskT]
    race: bool


def run_fibers(main: Generator[Any, Any, Any], host: Host[Any]) -> Generator[Any, Any, Any]:
    """Runs ``main`` (and every fiber it spawns) to completion; returns main's result or
    raises its error. Raises :class:`ContinueAsNewRequested` to restart the instance."""
    ids = itertools.count(1)
    root = _Fiber(FiberHandle(0, "main"), main)
    fibers: dict[int, _Fiber] = {0: root}
    ready: deque[tuple[_Fiber, bool, Any]] = deque([(root, True, None)])
    waiting: dict[int, _Waiting[Any]] = {}  # id(task) -> waiter, in start order
    # id(group) -> (group, the fiber in Next on it, Next.quiet). Kept here, not on the group:
    # group -> waiter -> child fibers -> group would be a reference cycle (see DaprHost).
    group_waiters: dict[int, tuple[FiberGroup, _Fiber, bool]] = {}
    tasks_by_key: dict[int, Any] = {}

    joiners: dict[int, list[_Fiber]] = {}  # fiber id -> fibers that joined on it

    def finish(fiber: _Fiber, ok: bool, value: Any) -> None:
        fiber.finished, fiber.ok, fiber.value = True, ok, value
        group = fiber.group
        if group is not None:
            group.running -= 1
            group.finished.append((fiber.handle, ok, value))
            waiter = group_waiters.get(id(group))
            if waiter is not None and (not waiter[2] or not ok or group.running == 0):
                del group_waiters[id(group)]
                ready.append((waiter[1], True, collect(group)))
        for other in joiners.pop(fiber.handle.id, ()):
            # Entries may be stale (the joiner woke up for another fiber and moved on).
            if other.join is not None and fiber.handle in other.join.handles:
                wake_if_joined(other)

    def wake_if_joined(fiber: _Fiber) -> None:
        join = fiber.join
        assert join is not None
        done = [fibers[h.id] for h in join.handles if fibers[h.id].finished]
        if join.mode == "all" and len(done) < len(join.handles):
            return
        if join.mode == "any" and not done:
            return
        fiber.join = None
        ready.append((fiber, True, [(f.handle, f.ok, f.value) for f in done]))

    def collect(group: FiberGroup) -> list[Any]:
        finished, group.finished = group.finished, []
        return finished

    def cancel(top: _Fiber) -> None:
        # A fiber and everything it started, children first. Iterative: a recursive closure
        # would refer to itself, a reference cycle that outlives the turn (see DaprHost).
        stack: list[tuple[_Fiber, bool]] = [(top, False)]
        while stack:
            fiber, expanded = stack.pop()
            if not expanded:  # first its children, in the order they started
                stack.append((fiber, True))
                stack.extend((child, False) for child in reversed(fiber.children))
                continue
            if fiber.finished:
                continue
            for key, waiter in list(waiting.items()):
                if waiter.fiber is fiber:
                    del waiting[key]
                    tasks_by_key.pop(key, None)
            fiber.join = None
            fiber.body.close()
            fiber.finished, fiber.ok, fiber.value = True, False, runtime_error("cancelled")
            if fiber.group is not None:
                fiber.group.running -= 1

    def spawn(parent: _Fiber, body: Generator[Any, Any, Any], label: str, group: FiberGroup | None) -> FiberHandle:
        child = _Fiber(FiberHandle(next(ids), label), body, group=group)
        if group is not None:
            group.running += 1
        fibers[child.handle.id] = child
        parent.children.append(child)
        ready.append((child, True, None))  # the child runs before its parent goes on
        return child.handle

    def block_on(fiber: _Fiber, commands: tuple[DurableCommand, ...], race: bool) -> None:
        tasks = [host.start(command) for command in commands]
        waiter = _Waiting(fiber, tasks, race)
        for task in tasks:
            waiting[id(task)] = waiter
            tasks_by_key[id(task)] = task

    def handle(fiber: _Fiber, command: Any) -> None:
        if isinstance(command, _DURABLE):  # the common case, inlined
            task = host.start(command)
            key = id(task)
            waiting[key] = _Waiting(fiber, [task], False)
            tasks_by_key[key] = task
        elif isinstance(command, Race):
            block_on(fiber, command.commands, race=True)
        elif isinstance(command, Now):
            ready.append((fiber, True, host.now()))
        elif isinstance(command, Spawn):
            ready.append((fiber, True, spawn(fiber, command.body, command.label, command.group)))
        elif isinstance(command, SpawnAll):
            handles = [spawn(fiber, body, label, command.group) for body, label in command.bodies]
            ready.append((fiber, True, handles))
        elif isinstance(command, Join):
            fiber.join = command
            for target in command.handles:
                joiners.setdefault(target.id, []).append(fiber)
            wake_if_joined(fiber)
        elif isinstance(command, Next):
            group = command.group
            due = any(not ok for _, ok, _ in group.finished) if command.quiet else bool(group.finished)
            if due or group.running == 0:
                ready.append((fiber, True, collect(group)))
            else:
                group_waiters[id(group)] = (group, fiber, command.quiet)
        elif isinstance(command, Cancel):
            for target in command.handles:
                cancel(fibers[target.id])
            ready.append((fiber, True, None))
        elif isinstance(command, SetStatus):
            host.set_status(command.value)
            ready.append((fiber, True, None))
        elif isinstance(command, ContinueAsNew):
            if any(not f.finished for f in fibers.values() if f is not fiber):
                ready.append((fiber, False, runtime_error("continue-as-new while branches are running")))
            else:
                raise ContinueAsNewRequested(command.payload)
        else:
            ready.append((fiber, False, runtime_error(f"the interpreter yielded an unknown command {command!r}")))

    while True:
        while ready:
            fiber, ok, value = ready.popleft()
            if fiber.finished:
                continue
            try:
                command = fiber.body.send(value) if ok else fiber.body.throw(value)
            except StopIteration as stop:
                finish(fiber, True, stop.value)
            except WorkflowError as error:
                finish(fiber, False, error.with_traceback(None))  # its frames: a cycle via fibers
            else:
                handle(fiber, command)
            if root.finished:
                if root.ok:
                    return root.value
                raise root.value
        if not waiting:
            raise runtime_error("every branch is blocked on another: the workflow cannot make progress")
        # The engine resumes us once per finished task: handling only that one keeps a replay
        # linear in the number of tasks.
        task = host.finished_task((yield host.when_any(tasks_by_key.values())))
        waiter = waiting.get(id(task))
        if waiter is None or not host.is_done(task):
            continue
        if waiter.race:
            for other in waiter.tasks:
                waiting.pop(id(other), None)
                tasks_by_key.pop(id(other), None)
        else:
            del waiting[id(task)], tasks_by_key[id(task)]
        ok, value = host.outcome(task)
        if waiter.race and ok:
            value = (waiter.tasks.index(task), value)
        ready.append((waiter.fiber, ok, value))

