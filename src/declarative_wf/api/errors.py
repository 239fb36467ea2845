"""Errors of the service layer, with the codes and statuses every adapter answers with.

One :class:`ServiceError` carries everything: Dapr's ``errorCode`` string (``ERR_…``), a
message, the HTTP status and the gRPC status code. The HTTP adapter turns it into
``{"errorCode", "message"}`` with that status; the gRPC adapter aborts with that code. Codes
Dapr defines keep Dapr's spelling (``pkg/messages/predefined.go``); ours start with
``ERR_DEFINITION_``, ``ERR_REQUEST_`` or ``ERR_API_``.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

import grpc

# -- Dapr's codes (same spelling, same meaning) ---------------------------------------------------
INSTANCE_ID_NOT_FOUND = "ERR_INSTANCE_ID_NOT_FOUND"
INSTANCE_ID_MISSING = "ERR_INSTANCE_ID_PROVIDED_MISSING"
INSTANCE_ID_TOO_LONG = "ERR_INSTANCE_ID_TOO_LONG"
INSTANCE_ID_INVALID = "ERR_INSTANCE_ID_INVALID"
WORKFLOW_NAME_MISSING = "ERR_WORKFLOW_NAME_MISSING"
EVENT_NAME_MISSING = "ERR_WORKFLOW_EVENT_NAME_MISSING"
COMPONENT_NOT_FOUND = "ERR_WORKFLOW_COMPONENT_NOT_FOUND"
APP_ID_INVALID = "ERR_WORKFLOW_APP_ID_INVALID"
MALFORMED_REQUEST = "ERR_MALFORMED_REQUEST"
START = "ERR_START_WORKFLOW"
GET = "ERR_GET_WORKFLOW"
TERMINATE = "ERR_TERMINATE_WORKFLOW"
RAISE_EVENT = "ERR_RAISE_EVENT_WORKFLOW"
PAUSE = "ERR_PAUSE_WORKFLOW"
RESUME = "ERR_RESUME_WORKFLOW"
PURGE = "ERR_PURGE_WORKFLOW"

# -- ours ----------------------------------------------------------------------------------------
DEFINITION_NOT_FOUND = "ERR_DEFINITION_NOT_FOUND"
DEFINITION_INVALID = "ERR_DEFINITION_INVALID"
DEFINITION_VERSION_EXISTS = "ERR_DEFINITION_VERSION_EXISTS"
DEFINITION_NAME_INVALID = "ERR_DEFINITION_NAME_INVALID"
INPUT_INVALID = "ERR_WORKFLOW_INPUT_INVALID"
LIST = "ERR_LIST_WORKFLOWS"
HISTORY = "ERR_GET_WORKFLOW_HISTORY"
REQUEST_TOO_LARGE = "ERR_REQUEST_TOO_LARGE"
UNAUTHORIZED = "ERR_API_TOKEN_INVALID"
NOT_FOUND = "ERR_NOT_FOUND"
METHOD_NOT_ALLOWED = "ERR_METHOD_NOT_ALLOWED"

#: The longest instance id Dapr accepts on start, counted in UTF-8 bytes as Dapr (Go) does.
MAX_INSTANCE_ID_BYTES = 64


@dataclass
class ServiceError(Exception):
    """A refusal or failure every adapter reports the same way."""

    code: str
    message: str
    http_status: int = 400
    grpc_status: grpc.StatusCode = grpc.StatusCode.INVALID_ARGUMENT
    #: Extra JSON fields of the HTTP error body (``diagnostics`` of an invalid definition).
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def body(self) -> dict[str, Any]:
        # Keys starting with "_" carry objects for Python callers, never sent.
        public = {key: value for key, value in self.extra.items() if not key.startswith("_")}
        return {"errorCode": self.code, "message": self.message, **public}


def bad_request(code: str, message: str, **extra: Any) -> ServiceError:
    return ServiceError(code, message, 400, grpc.StatusCode.INVALID_ARGUMENT, extra)


def not_found(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, 404, grpc.StatusCode.NOT_FOUND)


def conflict(code: str, message: str) -> ServiceError:
    return ServiceError(code, message, 409, grpc.StatusCode.FAILED_PRECONDITION)


def instance_not_found(instance_id: str) -> ServiceError:
    return not_found(INSTANCE_ID_NOT_FOUND, f"unable to find workflow with the provided instance ID: {instance_id}")


def check_instance_id(instance_id: str | None, *, creating: bool) -> None:
    """Dapr's rule (``validateInstanceID``): any operation needs an id; a new one has at most 64
    bytes of letters, digits, ``-`` and ``_`` (Unicode letters and digits count, as in Go)."""
    if not instance_id:
        raise bad_request(INSTANCE_ID_MISSING, "no instance ID was provided")
    if not creating:
        return
    if len(instance_id.encode("utf-8")) > MAX_INSTANCE_ID_BYTES:
        raise bad_request(INSTANCE_ID_TOO_LONG, f"workflow instance ID exceeds the max length of {MAX_INSTANCE_ID_BYTES} characters")
    for char in instance_id:
        if not (char.isalpha() or unicodedata.category(char) == "Nd" or char in "-_"):
            raise bad_request(
                INSTANCE_ID_INVALID,
                f"workflow instance ID {instance_id!r} is invalid: only letters, digits, '-' and '_' are allowed",
            )


def from_engine(error: grpc.RpcError, code: str, instance_id: str | None = None) -> ServiceError:
    """The engine's gRPC refusal as the error of operation ``code`` (``ERR_TERMINATE_WORKFLOW``...).

    Dapr answers 500 for every engine error except an unknown instance on terminate and purge.
    We answer a client mistake as one: unknown instance → 404 ``ERR_INSTANCE_ID_NOT_FOUND`` on
    every operation, an id already running or an instance in the wrong state → 409 with the
    operation's code, a payload over the limit → 413. Only real faults are 5xx.
    """
    status = error.code() if hasattr(error, "code") else grpc.StatusCode.UNKNOWN
    details = (error.details() if hasattr(error, "details") else None) or str(error)
    if status == grpc.StatusCode.NOT_FOUND and instance_id is not None:
        return instance_not_found(instance_id)
    if status in (grpc.StatusCode.ALREADY_EXISTS, grpc.StatusCode.FAILED_PRECONDITION):
        return ServiceError(code, details, 409, status)
    if status == grpc.StatusCode.INVALID_ARGUMENT:
        return ServiceError(code, details, 400, status)
    if status == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return ServiceError(code, details, 413, status)
    if status in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED):
        return ServiceError(code, f"the engine is not reachable: {details}", 503, grpc.StatusCode.UNAVAILABLE)
    return ServiceError(code, details, 500, grpc.StatusCode.INTERNAL)
