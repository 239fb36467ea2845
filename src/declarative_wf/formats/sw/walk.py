"""Finding the task lists and tasks of a Serverless Workflow 1.x document, whatever its shape.

Validation walks documents that may be broken anywhere, so every step here checks types and
skips what it cannot read (the schema reports it). A task list is an array of single-key maps
``[{name: task}, ...]``; flow directives (``then``) resolve within one list, so the walk yields
lists with their tasks rather than a flat sequence of tasks.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from declarative_wf.loading import pointer_join

from .sw1_schema import TASK_KINDS

__all__ = ["Task", "TaskList", "task_kind", "task_lists"]


@dataclass(frozen=True)
class Task:
    name: str
    body: Mapping[str, Any]
    #: JSON Pointer of the task's mapping (``/do/0/getPet``).
    pointer: str


@dataclass(frozen=True)
class TaskList:
    pointer: str
    #: The well-formed items (single-key maps whose value is a mapping), in order.
    tasks: tuple[Task, ...]
    #: False for a ``use.functions`` entry: a lone task with no siblings to jump to.
    is_list: bool = True


def task_kind(task: Mapping[str, Any]) -> str | None:
    """The task's kind: the first of :data:`TASK_KINDS` among its keys (an explicit, ordered
    rule: a ``for`` task also has ``do``, so ``do`` comes last)."""
    return next((kind for kind in TASK_KINDS if kind in task), None)


def task_lists(data: Any) -> Iterator[TaskList]:
    """Every task list of the document (top-level ``do``, nested lists, ``use.functions``,
    extension ``before``/``after``), parents before children."""
    if not isinstance(data, dict):
        return
    yield from _list(data.get("do"), "/do")
    use = data.get("use")
    if isinstance(use, dict):
        functions = use.get("functions")
        if isinstance(functions, dict):
            for name, body in functions.items():
                pointer = pointer_join("/use/functions", name)
                if isinstance(body, dict):
                    yield TaskList(pointer, (Task(str(name), body, pointer),), is_list=False)
                    yield from _nested(body, pointer)
        extensions = use.get("extensions")
        if isinstance(extensions, list):
            for index, item in enumerate(extensions):
                if not isinstance(item, dict):
                    continue
                for name, extension in item.items():
                    if isinstance(extension, dict):
                        base = pointer_join(pointer_join("/use/extensions", index), name)
                        for key in ("before", "after"):
                            yield from _list(extension.get(key), pointer_join(base, key))


def _list(items: Any, pointer: str) -> Iterator[TaskList]:
    if not isinstance(items, list):
        return
    tasks: list[Task] = []
    for index, item in enumerate(items):
        if isinstance(item, dict) and len(item) == 1:
            name, body = next(iter(item.items()))
            if isinstance(body, dict):
                tasks.append(Task(str(name), body, pointer_join(pointer_join(pointer, index), name)))
    yield TaskList(pointer, tuple(tasks))
    for task in tasks:
        yield from _nested(task.body, task.pointer)


def _get(value: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _nested(task: Mapping[str, Any], pointer: str) -> Iterator[TaskList]:
    """The task lists directly inside one task."""
    places: list[tuple[str, ...]] = [("do",), ("fork", "branches"), ("try",), ("catch", "do"), ("foreach", "do")]
    if task.get("call") == "asyncapi":
        places.append(("with", "subscription", "foreach", "do"))
    for keys in places:
        found = _get(task, *keys)
        if isinstance(found, list):
            here = pointer
            for key in keys:
                here = pointer_join(here, key)
            yield from _list(found, here)
