"""History events the engine itself writes, and the errors it reports to clients."""

from __future__ import annotations

import grpc

from .protocol import micros_to_timestamp, pb, string_value


class EngineError(Exception):
    """A request the engine refuses; carries the gRPC status the servicer answers with."""

    code = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgument(EngineError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class NotFound(EngineError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(EngineError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(EngineError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class PayloadTooLarge(EngineError):
    # RESOURCE_EXHAUSTED is what the SDK recognises as "too large to deliver": it then fails
    # the activity or workflow with a clear message instead of retrying forever.
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class StaleCompletion(EngineError):
    """A completion whose lease is gone: the work item was released and given to another
    worker (or its instance was purged). Rejected so a stale worker cannot overwrite history."""

    code = grpc.StatusCode.FAILED_PRECONDITION


def history_event(timestamp: int, event_id: int = -1, **event: object) -> pb.HistoryEvent:
    return pb.HistoryEvent(eventId=event_id, timestamp=micros_to_timestamp(timestamp), **event)


def workflow_started(now: int) -> pb.HistoryEvent:
    return history_event(now, workflowStarted=pb.WorkflowStartedEvent())


def event_raised(now: int, name: str, data: str | None) -> pb.HistoryEvent:
    return history_event(now, eventRaised=pb.EventRaisedEvent(name=name, input=string_value(data)))


def execution_terminated(now: int, output: str | None, recurse: bool) -> pb.HistoryEvent:
    return history_event(
        now, executionTerminated=pb.ExecutionTerminatedEvent(input=string_value(output), recurse=recurse)
    )


def execution_suspended(now: int, reason: str | None) -> pb.HistoryEvent:
    return history_event(now, executionSuspended=pb.ExecutionSuspendedEvent(input=string_value(reason)))


def execution_resumed(now: int, reason: str | None) -> pb.HistoryEvent:
    return history_event(now, executionResumed=pb.ExecutionResumedEvent(input=string_value(reason)))


def execution_completed(
    now: int, event_id: int, status: int, result: str | None, failure: pb.TaskFailureDetails | None
) -> pb.HistoryEvent:
    return history_event(
        now,
        event_id,
        executionCompleted=pb.ExecutionCompletedEvent(
            workflowStatus=status, result=string_value(result), failureDetails=failure
        ),
    )


def failure(error_type: str, message: str) -> pb.TaskFailureDetails:
    return pb.TaskFailureDetails(errorType=error_type, errorMessage=message)


def kind_of(event: pb.HistoryEvent) -> str:
    kind = event.WhichOneof("eventType")
    assert kind is not None, "a history event without a type"
    return kind
