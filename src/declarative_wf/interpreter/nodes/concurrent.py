"""Concurrent nodes: parallel branches and for-each.

Branches and items run as fibers of the same workflow. A for-each over more than
``CHUNK_SIZE`` items runs in child workflows of at most ``CHUNK_SIZE`` items each (recursively
for very large inputs), so no single history grows with the size of the input.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import uuid
from collections.abc import Generator
from datetime import UTC
from typing import Any

from declarative_wf.ir import Block, ForEachNode, ParallelNode

from ..blocks import NodeGen, run_block, run_guarded, runner
from ..commands import (
    CallActivity,
    CallChild,
    Cancel,
    FiberGroup,
    FiberHandle,
    Next,
    Spawn,
    SpawnAll,
    WorkflowError,
    runtime_error,
)
from ..runtime import RunContext, Step, error_object
from .tasks import activity_envelope

#: The built-in activity that reads the items of a for-each with a ``reader``.
READER_ACTIVITY = "dwf.read_items"
#: The built-in activity that writes out the results of a for-each with a ``writer``.
WRITER_ACTIVITY = "dwf.write_results"

CHUNK_SIZE = 100
CHUNKS_AT_ONCE = 4
CHILDREN_PER_PARENT = 10
#: Up to this many items run inline; beyond it, in child workflows of CHUNK_SIZE items. Every
#: turn replays every inline item, so past a chunk's worth, chunks are cheaper as well as
#: bounded: 10 instances x 200 items ran 10% faster in chunks of 100 than inline (with 256 here).
INLINE_LIMIT = CHUNK_SIZE


def _branch(rt: RunContext, block: Block, data: Any, variables: dict[str, Any]) -> Generator[Any, Any, Any]:
    # Each branch gets its own copy of the variables: assignments do not leak out.
    result, _ = yield from run_block(rt, block, data, dict(variables))
    return result


@runner("parallel")
def run_parallel(rt: RunContext, node: ParallelNode, data: Any, variables: dict[str, Any]) -> NodeGen:
    def attempt(effective: Any, number: int, step: Step) -> Generator[Any, Any, Any]:
        branch_input = rt.eval_optional(node.args, effective, variables, node, effective, step)
        group = FiberGroup()
        handles: list[FiberHandle] = []
        for index, branch in enumerate(node.branches):
            body = _branch(rt, branch, branch_input, variables)
            handles.append((yield Spawn(body, f"{node.id}[{index}]", group)))
        if node.mode == "any":
            return (yield from _first_success(group, handles))
        outcomes = yield from _gather(group, handles, tolerated=0)
        return [value for _, value in outcomes]

    return (yield from run_guarded(rt, node, data, variables, attempt))


def _first_success(group: FiberGroup, handles: list[FiberHandle]) -> Generator[Any, Any, Any]:
    running = {handle.id: handle for handle in handles}
    first_error: WorkflowError | None = None
    while running:
        for handle, ok, value in (yield Next(group)):
            del running[handle.id]
            if ok:
                yield Cancel(tuple(running.values()))
                return value
            first_error = first_error or value
    assert first_error is not None
    raise first_error


def _gather(group: FiberGroup, handles: list[FiberHandle], tolerated: int | None) -> Generator[Any, Any, list[tuple[bool, Any]]]:
    """Waits for every fiber; more than ``tolerated`` failures (None: any number) cancels the
    rest and raises the failure that crossed the line."""
    position = {handle.id: index for index, handle in enumerate(handles)}
    outcomes: list[tuple[bool, Any]] = [(True, None)] * len(handles)
    running = {handle.id: handle for handle in handles}
    failures = 0
    while running:
        for handle, ok, value in (yield Next(group)):
            del running[handle.id]
            outcomes[position[handle.id]] = (ok, value)
            if not ok:
                failures += 1
                if tolerated is not None and failures > tolerated:
                    yield Cancel(tuple(running.values()))
                    raise value
    return outcomes


@runner("foreach")
def run_foreach(rt: RunContext, node: ForEachNode, data: Any, variables: dict[str, Any]) -> NodeGen:
    def attempt(effective: Any, number: int, step: Step) -> Generator[Any, Any, Any]:
        if node.reader is not None:
            # Items from a file or URL: read by an activity (the orchestrator does no I/O).
            request = rt.eval(node.reader, effective, variables, node, step)
            rt.count_step()
            read = yield CallActivity(READER_ACTIVITY, activity_envelope(request, number, rt, node))
            step = {**step, "read": read}
        items = rt.eval(node.items, effective, variables, node, step)
        if not isinstance(items, list):
            raise runtime_error(f"for-each needs a list of items, got {type(items).__name__}", node.source)
        limited = _with_limits(rt, node, effective, variables, step)
        if len(items) > INLINE_LIMIT:
            outcomes = yield from run_in_children(rt, limited, items, effective, variables)
        else:
            outcomes = yield from run_items(rt, limited, items, 0, effective, variables, fail_fast=True)
        results = _tolerate(limited, outcomes)
        if node.writer is None:
            return results
        return (yield from _write_results(rt, node, effective, variables, step, number, items, outcomes))

    return (yield from run_guarded(rt, node, data, variables, attempt))


_LIMITS = ("max_concurrency", "tolerated_failure_count", "tolerated_failure_percent")


def _with_limits(rt: RunContext, node: ForEachNode, effective: Any, variables: dict[str, Any], step: Step) -> ForEachNode:
    """The node with the limits its ``limits`` expression computes for this attempt."""
    if node.limits is None:
        return node
    limits = rt.eval(node.limits, effective, variables, node, step)
    if not isinstance(limits, dict):
        raise runtime_error(f"the limits of a for-each must be an object, got {type(limits).__name__}", node.source)
    changes = {key: limits[key] for key in _LIMITS if limits.get(key) is not None}
    return dataclasses.replace(node, **changes) if changes else node


def _allowed_failures(node: ForEachNode, total: int) -> int:
    allowed = [0]
    if node.tolerated_failure_count is not None:
        allowed.append(node.tolerated_failure_count)
    if node.tolerated_failure_percent is not None:
        allowed.append(math.floor(total * node.tolerated_failure_percent / 100))
    return max(allowed)


def _tolerate(node: ForEachNode, outcomes: list[tuple[bool, Any]]) -> list[Any]:
    failures = [value for ok, value in outcomes if not ok]
    if len(failures) > _allowed_failures(node, len(outcomes)):
        first = failures[0]
        if node.tolerated_failure_count is None and node.tolerated_failure_percent is None:
            raise first
        raise WorkflowError(
            "ToleratedFailureExceeded",
            f"{len(failures)} of {len(outcomes)} items failed, more than tolerated; first: {first}",
            cause=error_object(first),
            kinds=frozenset({"task"}),
        )
    return [value if ok else error_object(value) for ok, value in outcomes]


def run_items(
    rt: RunContext,
    node: ForEachNode,
    items: list[Any],
    offset: int,
    effective: Any,
    variables: dict[str, Any],
    *,
    fail_fast: bool,
) -> Generator[Any, Any, list[tuple[bool, Any]]]:
    """Runs the body for every item as a fiber, at most ``max_concurrency`` at a time."""
    limit = node.max_concurrency or len(items) or 1
    tolerated = _allowed_failures(node, len(items)) if fail_fast else None
    outcomes: list[tuple[bool, Any]] = [(True, None)] * len(items)
    group = FiberGroup()
    running: dict[int, tuple[FiberHandle, int]] = {}
    failures = 0
    next_index = 0
    while next_index < len(items) or running:
        batch = range(next_index, min(len(items), next_index + limit - len(running)))
        if batch:
            bodies = [(_item_body(rt, node, items[index], offset + index, effective, variables), f"{node.id}[{offset + index}]")
                      for index in batch]  # fmt: skip
            for handle, index in zip((yield SpawnAll(bodies, group)), batch):
                running[handle.id] = (handle, index)
            next_index = batch.stop
        # Once every item has started, only a failure (or the end) needs this loop again.
        for handle, ok, value in (yield Next(group, quiet=next_index == len(items))):
            _, index = running.pop(handle.id)
            outcomes[index] = (ok, value)
            failures += not ok
        if tolerated is not None and failures > tolerated:
            # Past the tolerance the node fails anyway: stop the items still running.
            yield Cancel(tuple(handle for handle, _ in running.values()))
            return outcomes
    return outcomes


def _item_body(
    rt: RunContext, node: ForEachNode, item: Any, index: int, effective: Any, variables: dict[str, Any]
) -> Generator[Any, Any, Any]:
    scope = {**variables, node.item_var: item} if node.item_var else dict(variables)
    if node.index_var:
        scope[node.index_var] = index
    if node.item_input is not None:
        step = {"input": effective, "effective": effective, "item": item, "index": index}
        data = rt.eval(node.item_input, item, scope, node, step)
    else:
        data = item
    if node.body is None:
        return data
    result, _ = yield from run_block(rt, node.body, data, scope)
    return result


def run_in_children(
    rt: RunContext, node: ForEachNode, items: list[Any], effective: Any, variables: dict[str, Any],
    budget: int = CHUNKS_AT_ONCE,
) -> Generator[Any, Any, list[tuple[bool, Any]]]:
    """Splits the items over child workflows of bounded history; each returns its outcomes.
    ``budget``: how many chunks of items may run at once in this part of the tree."""
    # A tree: at most CHILDREN_PER_PARENT chunks per level, re-split below, so no workflow
    # replays more than a few child results (a flat split of 10,000 items made the parent
    # replay 100 results per turn and doubled the time per item).
    size = max(CHUNK_SIZE, math.ceil(len(items) / CHILDREN_PER_PARENT))
    chunks = [(start, items[start : start + size]) for start in range(0, len(items), size)]
    # A few chunks at a time keep the worker busy while each chunk's completions still arrive
    # in large batches (every batch replays the chunk's fibers once). The budget is shared
    # down the tree: with 4 at every level, 10,000 items ran 16 chunks at once, in smaller
    # batches, and cost 1.3x per item what 1,000 did.
    limit = min(len(chunks), budget)
    if node.max_concurrency:
        limit = max(1, min(limit, math.ceil(node.max_concurrency / CHUNK_SIZE)))
    child_budget = max(1, budget // limit)
    outcomes: list[tuple[bool, Any]] = []
    running: dict[int, tuple[FiberHandle, int]] = {}
    by_chunk: dict[int, list[tuple[bool, Any]]] = {}
    group = FiberGroup()
    next_chunk = 0
    while next_chunk < len(chunks) or running:
        while next_chunk < len(chunks) and len(running) < limit:
            start, chunk = chunks[next_chunk]
            payload = {
                "ir": rt.ir_json,
                **({"ir_hash": rt.ir_hash} if rt.ir_hash else {}),
                "foreach_chunk": {
                    "node": node.id, "offset": start, "items": chunk, "variables": variables,
                    # The node's input is only read to build each item's input; without an
                    # item_input it would copy the whole input into every chunk's history.
                    "data": effective if node.item_input is not None else None,
                    "limits": {key: getattr(node, key) for key in _LIMITS},
                    "budget": child_budget,
                    # The execution the items belong to (the top instance, not this chunk).
                    "execution": execution_of(rt),
                },
            }
            if rt.workflow.options.get("chunks_read_execution_input"):
                payload["input"] = rt.input  # expressions of the body read the execution's input
            rt.count_step()
            handle = yield Spawn(_call_child(payload, rt.next_child_id(node)), f"{node.id}@{start}", group)
            running[handle.id] = (handle, next_chunk)
            next_chunk += 1
        for handle, ok, value in (yield Next(group)):
            _, chunk_index = running.pop(handle.id)
            if not ok:
                raise value
            by_chunk[chunk_index] = [
                (True, entry.get("value")) if entry.get("ok") else (False, _error_from_json(entry["error"]))
                for entry in value
            ]
    for chunk_index in range(len(chunks)):
        outcomes.extend(by_chunk[chunk_index])
    return outcomes


def _write_results(
    rt: RunContext,
    node: ForEachNode,
    effective: Any,
    variables: dict[str, Any],
    step: Step,
    number: int,
    items: list[Any],
    outcomes: list[tuple[bool, Any]],
) -> Generator[Any, Any, Any]:
    """Hands every outcome to the writer activity; what it returns is the node's result."""
    assert node.writer is not None
    request = rt.eval(node.writer, effective, variables, node, step)
    if not isinstance(request, dict):
        raise runtime_error(f"the writer of a for-each must be an object, got {type(request).__name__}", node.source)
    execution = execution_of(rt)
    # A run id derived from the execution, the node and the attempt: a retried activity
    # rewrites the same files, and a replay computes the same id.
    run = hashlib.sha256(f"{execution['instance_id']}|{node.id}|{number}".encode()).hexdigest()[:32]
    request = {
        **request,
        "Outcomes": [{"ok": True, "value": value} if ok else {"ok": False, "error": error_object(value)} for ok, value in outcomes],
        "Items": items,
        "Run": str(uuid.UUID(run)),
        "Workflow": rt.workflow.name,
    }
    rt.count_step()
    return (yield CallActivity(WRITER_ACTIVITY, activity_envelope(request, number, rt, node)))


def execution_of(rt: RunContext) -> dict[str, Any]:
    """The instance id and start time of the execution ``rt`` belongs to: its own, or (in a
    for-each chunk child) the one its chunk payload names."""
    inherited = rt.context.get("execution")
    if isinstance(inherited, dict):
        return inherited
    started = rt.started_at
    if started is not None and started.tzinfo is not None:
        started = started.astimezone(UTC)
    text = None
    if started is not None:
        text = started.strftime("%Y-%m-%dT%H:%M:%S.") + f"{started.microsecond // 1000:03d}Z"
    return {"instance_id": rt.instance_id, "started_at": text}


def _call_child(payload: dict[str, Any], instance_id: str) -> Generator[Any, Any, Any]:
    return (yield CallChild(payload, instance_id))


def _error_from_json(data: dict[str, Any]) -> WorkflowError:
    return WorkflowError(
        str(data.get("type", "Error")),
        str(data.get("message", "")),
        cause=data.get("cause"),
        kinds=frozenset(data.get("kinds", [])),
        status=data.get("status"),
    )


def run_chunk(rt: RunContext, spec: dict[str, Any]) -> Generator[Any, Any, list[dict[str, Any]]]:
    """The body of a for-each chunk child: every outcome is returned, failures included."""
    if isinstance(spec.get("execution"), dict):
        rt.context["execution"] = spec["execution"]
    node = rt.node(spec["node"])
    if not isinstance(node, ForEachNode):
        raise runtime_error(f"{spec['node']!r} is not a for-each node")
    if spec.get("limits"):
        node = dataclasses.replace(node, **{key: spec["limits"].get(key) for key in _LIMITS})
    items = spec["items"]
    if len(items) > INLINE_LIMIT:
        budget = int(spec.get("budget") or CHUNKS_AT_ONCE)  # chunks of earlier versions carry none
        outcomes = yield from run_in_children(rt, node, items, spec.get("data"), spec["variables"], budget)
    else:
        outcomes = yield from run_items(rt, node, items, spec["offset"], spec.get("data"), spec["variables"], fail_fast=False)
    return [
        {"ok": True, "value": value} if ok else {"ok": False, "error": {**error_object(value), "kinds": sorted(value.kinds)}}
        for ok, value in outcomes
    ]
