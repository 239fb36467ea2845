"""State transitions of workflow instances, applied inside one store transaction.

Everything here is synchronous and free of dispatch concerns: a :class:`UnitOfWork` wraps the
store for one transaction and records its :class:`Effects` (which inboxes got rows, which
activities were queued, which instances changed), so the backend can update its in-memory
dispatch index and wake waiters after the commit succeeds.

The semantics follow Dapr's engine (durabletask-go): the worker's actions become history
events whose ``eventId`` is the action id; timers become inbox rows that turn visible at their
fire time; a finished child reports to its parent's inbox.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from . import events as ev
from .events import AlreadyExists
from .protocol import (
    TERMINAL_STATUSES, Status, micros_to_timestamp, pb, status_name, string_value, timestamp_to_micros,
)
from .store import InboxRow, InstanceRow, Store


@dataclass
class Effects:
    """What a committed transaction changed, for the in-memory side of the engine."""

    inbox: list[tuple[str, int, str]] = field(default_factory=list)  # (instance, visible_at, kind)
    activities: list[int] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)
    #: Instances that received an activity's result while others of theirs still run: their
    #: next turn may wait a moment for more (see ``EngineOptions.coalesce_seconds``).
    coalesce: set[str] = field(default_factory=set)
    # Instances whose history was replaced or removed: workers must forget their cached copy.
    history_reset: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class StartRequest:
    instance_id: str
    name: str
    input: str | None = None
    version: str | None = None
    scheduled_start_at: int | None = None
    tags: dict[str, str] = field(default_factory=dict)
    parent: pb.ParentInstanceInfo | None = None
    enforce_unique: bool = False


class UnitOfWork:
    """One transaction's worth of changes plus the effects they have."""

    def __init__(self, store: Store, now: int) -> None:
        self.store = store
        self.now = now
        self.effects = Effects()

    def send(
        self,
        instance_id: str,
        event: pb.HistoryEvent,
        *,
        execution_id: str | None = None,
        visible_at: int | None = None,
    ) -> None:
        """Puts an event in an instance's inbox. ``execution_id`` pins it to one execution
        (timers, task results); such rows are dropped when the instance continues as new."""
        visible = self.now if visible_at is None else visible_at
        kind = ev.kind_of(event)
        self.store.add_inbox(instance_id, execution_id, visible, kind, event.SerializeToString())
        self.effects.inbox.append((instance_id, visible, kind))

    def changed(self, instance: InstanceRow) -> None:
        instance.last_updated_at = self.now
        self.store.put_instance(instance)
        self.effects.changed.add(instance.instance_id)


# -- creating instances ---------------------------------------------------------------------


def start_instance(uow: UnitOfWork, request: StartRequest) -> InstanceRow:
    """Creates (or re-creates, when the old one has finished) an instance and queues its
    ExecutionStarted event. Raises AlreadyExists for a live instance with the same id."""
    existing = uow.store.get_instance(request.instance_id)
    if existing is not None:
        if request.enforce_unique or existing.status not in TERMINAL_STATUSES:
            raise AlreadyExists(
                f"an active workflow with ID '{request.instance_id}' already exists "
                f"(status {status_name(existing.status)}); wait for it to finish, terminate it, "
                f"or start with another instance ID"
                if existing.status not in TERMINAL_STATUSES
                else f"a workflow with ID '{request.instance_id}' already exists and unique IDs were requested"
            )
        uow.store.delete_instance(request.instance_id)
        uow.effects.history_reset.add(request.instance_id)
    execution_id = uuid.uuid4().hex
    parent = request.parent
    row = InstanceRow(
        instance_id=request.instance_id,
        execution_id=execution_id,
        name=request.name,
        version=request.version,
        status=Status.PENDING,
        created_at=uow.now,
        last_updated_at=uow.now,
        scheduled_start_at=request.scheduled_start_at,
        input=request.input,
        parent_instance_id=parent.workflowInstance.instanceId if parent else None,
        parent_execution_id=parent.workflowInstance.executionId.value if parent else None,
        parent_task_id=parent.taskScheduledId if parent else None,
        tags=json.dumps(request.tags, sort_keys=True) if request.tags else None,
    )
    uow.changed(row)
    uow.send(
        row.instance_id,
        _execution_started(uow.now, row, parent),
        execution_id=execution_id,
        visible_at=request.scheduled_start_at,
    )
    return row


def _execution_started(
    now: int, row: InstanceRow, parent: pb.ParentInstanceInfo | None
) -> pb.HistoryEvent:
    started = pb.ExecutionStartedEvent(
        name=row.name,
        version=string_value(row.version),
        input=string_value(row.input),
        workflowInstance=pb.WorkflowInstance(
            instanceId=row.instance_id, executionId=string_value(row.execution_id)
        ),
        parentInstance=parent,
        tags=json.loads(row.tags) if row.tags else {},
    )
    if row.scheduled_start_at is not None:
        started.scheduledStartTimestamp.CopyFrom(micros_to_timestamp(row.scheduled_start_at))
    return ev.history_event(now, executionStarted=started)


def _parent_info(row: InstanceRow) -> pb.ParentInstanceInfo | None:
    if row.parent_instance_id is None:
        return None
    return pb.ParentInstanceInfo(
        taskScheduledId=row.parent_task_id or 0,
        workflowInstance=pb.WorkflowInstance(
            instanceId=row.parent_instance_id, executionId=string_value(row.parent_execution_id)
        ),
    )


# -- finishing instances --------------------------------------------------------------------


def finish(
    uow: UnitOfWork,
    instance: InstanceRow,
    status: int,
    output: str | None,
    failure: pb.TaskFailureDetails | None,
) -> None:
    """Marks an execution finished, drops its pending inbox and tells its parent."""
    instance.status = status
    instance.output = output
    instance.failure = failure.SerializeToString() if failure is not None else None
    instance.completed_at = uow.now
    uow.store.delete_inbox(instance.instance_id)
    uow.effects.history_reset.add(instance.instance_id)
    uow.changed(instance)
    _report_to_parent(uow, instance, status, output, failure)


def _report_to_parent(
    uow: UnitOfWork,
    child: InstanceRow,
    status: int,
    output: str | None,
    failure: pb.TaskFailureDetails | None,
) -> None:
    if child.parent_instance_id is None:
        return
    parent = uow.store.get_instance(child.parent_instance_id)
    if parent is None or parent.status in TERMINAL_STATUSES:
        return
    task_id = child.parent_task_id or 0
    if status == Status.COMPLETED:
        event = ev.history_event(
            uow.now,
            childWorkflowInstanceCompleted=pb.ChildWorkflowInstanceCompletedEvent(
                taskScheduledId=task_id, result=string_value(output)
            ),
        )
    else:
        if failure is None:
            failure = ev.failure(
                "WorkflowTerminated",
                f"child workflow '{child.instance_id}' was terminated"
                + (f": {output}" if output else ""),
            )
        event = ev.history_event(
            uow.now,
            childWorkflowInstanceFailed=pb.ChildWorkflowInstanceFailedEvent(
                taskScheduledId=task_id, failureDetails=failure
            ),
        )
    uow.send(parent.instance_id, event, execution_id=child.parent_execution_id)


def terminate(uow: UnitOfWork, instance: InstanceRow, output: str | None, recurse: bool) -> None:
    """Terminates an instance that no worker is executing right now. With ``recurse`` its
    running children get a termination request too (processed as they become free)."""
    if instance.status in TERMINAL_STATUSES:
        return
    _append_history(
        uow,
        instance,
        [
            ev.execution_terminated(uow.now, output, recurse),
            ev.execution_completed(uow.now, -1, Status.TERMINATED, output, None),
        ],
    )
    finish(uow, instance, Status.TERMINATED, output, None)
    if recurse:
        for child_id in uow.store.child_ids(instance.instance_id):
            child = uow.store.get_instance(child_id)
            if child is not None and child.status not in TERMINAL_STATUSES:
                uow.send(child_id, ev.execution_terminated(uow.now, output, True))


def _append_history(uow: UnitOfWork, instance: InstanceRow, events: Sequence[pb.HistoryEvent]) -> None:
    uow.store.append_history(
        instance.instance_id, instance.history_len, [event.SerializeToString() for event in events]
    )
    instance.history_len += len(events)


# -- one orchestrator turn ------------------------------------------------------------------


@dataclass(frozen=True)
class Turn:
    """What was dispatched to a worker: the inbox rows and the new events built from them."""

    instance_id: str
    execution_id: str
    inbox_rows: tuple[InboxRow, ...]
    new_events: tuple[pb.HistoryEvent, ...]


def apply_turn(
    uow: UnitOfWork,
    instance: InstanceRow,
    turn: Turn,
    response: pb.WorkflowResponse,
    max_history_events: int,
) -> None:
    """Commits a worker's response: the dispatched events and one history event per action
    join the history, the actions take effect, and the consumed inbox rows go."""
    uow.store.delete_inbox_rows([row.id for row in turn.inbox_rows])
    if instance.status == Status.PENDING:
        instance.status = Status.RUNNING
    if instance.started_at is None:
        instance.started_at = uow.now
    if response.HasField("customStatus"):
        instance.custom_status = response.customStatus.value
    history: list[pb.HistoryEvent] = list(turn.new_events)
    completion: pb.WorkflowAction | None = None
    for action in response.actions:
        kind = action.WhichOneof("workflowActionType")
        if kind == "completeWorkflow":
            completion = action
        elif kind is not None:
            _ACTION_HANDLERS[kind](uow, instance, action, history)

    if instance.history_len + len(history) + 1 > max_history_events and completion is None:
        completion = pb.WorkflowAction(
            id=-1,
            completeWorkflow=pb.CompleteWorkflowAction(
                workflowStatus=Status.FAILED,
                failureDetails=ev.failure(
                    "HistoryLimitExceeded",
                    f"the history of '{instance.instance_id}' would exceed {max_history_events} "
                    "events; split the work into child workflows or use continue-as-new",
                ),
            ),
        )

    if completion is not None and completion.completeWorkflow.workflowStatus == Status.CONTINUED_AS_NEW:
        _continue_as_new(uow, instance, completion.completeWorkflow, turn)
        return
    if completion is not None:
        done = completion.completeWorkflow
        result = done.result.value if done.HasField("result") else None
        failure = done.failureDetails if done.HasField("failureDetails") else None
        history.append(ev.execution_completed(uow.now, completion.id, done.workflowStatus, result, failure))
        _append_history(uow, instance, history)
        finish(uow, instance, done.workflowStatus, result, failure)
        return
    _append_history(uow, instance, history)
    uow.changed(instance)


def _schedule_task(uow: UnitOfWork, instance: InstanceRow, action: pb.WorkflowAction, history: list) -> None:
    task = action.scheduleTask
    history.append(
        ev.history_event(
            uow.now,
            action.id,
            taskScheduled=pb.TaskScheduledEvent(
                name=task.name, version=task.version, input=task.input, taskExecutionId=task.taskExecutionId
            ),
        )
    )
    request = pb.ActivityRequest(
        name=task.name,
        version=task.version,
        input=task.input,
        workflowInstance=pb.WorkflowInstance(
            instanceId=instance.instance_id, executionId=string_value(instance.execution_id)
        ),
        taskId=action.id,
        taskExecutionId=task.taskExecutionId,
    )
    row_id = uow.store.add_activity(
        instance.instance_id, instance.execution_id, action.id, request.SerializeToString()
    )
    uow.effects.activities.append(row_id)


def _create_timer(uow: UnitOfWork, instance: InstanceRow, action: pb.WorkflowAction, history: list) -> None:
    timer = action.createTimer
    created = pb.TimerCreatedEvent(fireAt=timer.fireAt)
    if timer.HasField("name"):
        created.name = timer.name
    origin = timer.WhichOneof("origin")
    if origin is not None:
        getattr(created, origin).CopyFrom(getattr(timer, origin))
    history.append(ev.history_event(uow.now, action.id, timerCreated=created))
    fired = pb.HistoryEvent(
        eventId=-1,
        timestamp=timer.fireAt,
        timerFired=pb.TimerFiredEvent(fireAt=timer.fireAt, timerId=action.id),
    )
    uow.send(
        instance.instance_id,
        fired,
        execution_id=instance.execution_id,
        visible_at=timestamp_to_micros(timer.fireAt),
    )


def _create_child(uow: UnitOfWork, instance: InstanceRow, action: pb.WorkflowAction, history: list) -> None:
    child = action.createChildWorkflow
    history.append(
        ev.history_event(
            uow.now,
            action.id,
            childWorkflowInstanceCreated=pb.ChildWorkflowInstanceCreatedEvent(
                instanceId=child.instanceId, name=child.name, version=child.version, input=child.input
            ),
        )
    )
    parent = pb.ParentInstanceInfo(
        taskScheduledId=action.id,
        name=string_value(instance.name),
        workflowInstance=pb.WorkflowInstance(
            instanceId=instance.instance_id, executionId=string_value(instance.execution_id)
        ),
    )
    request = StartRequest(
        instance_id=child.instanceId,
        name=child.name,
        input=child.input.value if child.HasField("input") else None,
        version=child.version.value if child.HasField("version") else None,
        parent=parent,
    )
    try:
        start_instance(uow, request)
    except AlreadyExists as error:
        uow.send(
            instance.instance_id,
            ev.history_event(
                uow.now,
                childWorkflowInstanceFailed=pb.ChildWorkflowInstanceFailedEvent(
                    taskScheduledId=action.id, failureDetails=ev.failure("ChildWorkflowAlreadyExists", error.message)
                ),
            ),
            execution_id=instance.execution_id,
        )


def _create_detached(uow: UnitOfWork, instance: InstanceRow, action: pb.WorkflowAction, history: list) -> None:
    detached = action.createDetachedWorkflow
    history.append(
        ev.history_event(
            uow.now,
            action.id,
            detachedWorkflowInstanceCreated=pb.DetachedWorkflowInstanceCreatedEvent(
                instanceId=detached.instanceId
            ),
        )
    )
    start = (
        timestamp_to_micros(detached.scheduledStartTimestamp)
        if detached.HasField("scheduledStartTimestamp")
        else None
    )
    try:
        start_instance(
            uow,
            StartRequest(
                instance_id=detached.instanceId,
                name=detached.name,
                input=detached.input.value if detached.HasField("input") else None,
                version=detached.version.value if detached.HasField("version") else None,
                scheduled_start_at=start,
                tags=dict(detached.tags),
            ),
        )
    except AlreadyExists:
        pass  # fire-and-forget: an existing live instance with that id is left alone


def _send_event(uow: UnitOfWork, instance: InstanceRow, action: pb.WorkflowAction, history: list) -> None:
    sent = action.sendEvent
    target_id = sent.instance.instanceId
    history.append(
        ev.history_event(
            uow.now,
            action.id,
            eventSent=pb.EventSentEvent(instanceId=target_id, name=sent.name, input=sent.data),
        )
    )
    target = uow.store.get_instance(target_id)
    if target is not None and target.status not in TERMINAL_STATUSES:
        uow.send(target_id, ev.history_event(uow.now, eventRaised=pb.EventRaisedEvent(name=sent.name, input=sent.data)))


def _terminate_other(uow: UnitOfWork, instance: InstanceRow, action: pb.WorkflowAction, history: list) -> None:
    request = action.terminateWorkflow
    target = uow.store.get_instance(request.instanceId)
    if target is not None and target.status not in TERMINAL_STATUSES:
        reason = request.reason.value if request.HasField("reason") else None
        uow.send(request.instanceId, ev.execution_terminated(uow.now, reason, request.recurse))


def _version_not_available(uow: UnitOfWork, instance: InstanceRow, action: pb.WorkflowAction, history: list) -> None:
    history.append(
        ev.history_event(
            uow.now,
            executionStalled=pb.ExecutionStalledEvent(
                reason=pb.VERSION_NOT_AVAILABLE,
                description="no connected worker has the workflow version this instance needs",
            ),
        )
    )
    instance.status = Status.STALLED


_ACTION_HANDLERS = {
    "scheduleTask": _schedule_task,
    "createTimer": _create_timer,
    "createChildWorkflow": _create_child,
    "createDetachedWorkflow": _create_detached,
    "sendEvent": _send_event,
    "terminateWorkflow": _terminate_other,
    "workflowVersionNotAvailable": _version_not_available,
}


def _continue_as_new(
    uow: UnitOfWork, instance: InstanceRow, done: pb.CompleteWorkflowAction, turn: Turn
) -> None:
    """Starts a fresh execution: empty history, the new input, and the raised events the
    worker chose to carry over ahead of any that arrived during the turn."""
    store = uow.store
    old_execution = instance.execution_id
    store.clear_history(instance.instance_id)
    store.delete_inbox_of_execution(instance.instance_id, old_execution)
    later_rows = [
        row
        for row in store.visible_inbox(instance.instance_id, now=2**62)
        if row.kind == "eventRaised"
    ]
    store.delete_inbox_rows([row.id for row in later_rows])
    uow.effects.history_reset.add(instance.instance_id)

    instance.execution_id = uuid.uuid4().hex
    instance.history_len = 0
    instance.input = done.result.value if done.HasField("result") else None
    if done.HasField("newVersion"):
        instance.version = done.newVersion.value
    instance.status = Status.RUNNING if instance.status != Status.SUSPENDED else Status.SUSPENDED
    uow.changed(instance)
    uow.send(
        instance.instance_id,
        _execution_started(uow.now, instance, _parent_info(instance)),
        execution_id=instance.execution_id,
    )
    for carried in done.carryoverEvents:
        uow.send(instance.instance_id, carried)
    for row in later_rows:
        uow.send(instance.instance_id, pb.HistoryEvent.FromString(row.event))




def payload_sizes(response: pb.WorkflowResponse) -> Iterable[tuple[str, int]]:
    """(what, bytes) for every user payload in a worker's response, to enforce the limit."""
    for action in response.actions:
        kind = action.WhichOneof("workflowActionType")
        if kind == "scheduleTask":
            yield f"input of activity '{action.scheduleTask.name}'", len(action.scheduleTask.input.value)
        elif kind == "createChildWorkflow":
            yield (
                f"input of child workflow '{action.createChildWorkflow.name}'",
                len(action.createChildWorkflow.input.value),
            )
        elif kind == "sendEvent":
            yield f"data of event '{action.sendEvent.name}'", len(action.sendEvent.data.value)
        elif kind == "completeWorkflow":
            yield "workflow output", len(action.completeWorkflow.result.value)
    yield "custom status", len(response.customStatus.value)
