"""The one service layer under the HTTP API, the gRPC API and (through HTTP) the CLI.

Adapters parse their transport's request, call one method here and render the result or the
:class:`~declarative_wf.api.errors.ServiceError` it raises. Everything a client may get wrong
is checked here, once: instance ids (Dapr's rule), definition references, inputs against the
definition's input schema, event names, listing filters.

Starting an instance: the definition is looked up in the registry (``name`` → latest version,
``name@version``, or ``sha256:…``) and its graph is copied into the instance's input, so the
instance runs that version to its end whatever is submitted later. The engine's workflow name
is the definition's name, so Dapr's ``workflowName``, the engine's listing filter and Dapr
tooling all show it; workers run any name through the interpreter (see ``api.workers``).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import grpc

from declarative_wf import task_tokens
from declarative_wf.diagnostics import Diagnostic
from declarative_wf.engine.admin import EngineAdminClient
from declarative_wf.interpreter.workflow import make_payload

from . import errors
from .compiling import clean_filename, compile_text, validate_text
from .instances import LIST_STATUSES, InstanceView, history_json, summary_json
from .registry import DefinitionRecord, DefinitionRegistry, NameSummary
from .sidecar import Sidecar

#: Largest page of instances one listing returns (the engine's own limit).
MAX_PAGE_SIZE = 1000


@dataclass(frozen=True)
class Started:
    instance_id: str
    definition: DefinitionRecord

    def to_json(self) -> dict[str, Any]:
        return {
            "instanceID": self.instance_id,
            "workflowName": self.definition.name,
            "version": self.definition.version,
            "hash": self.definition.hash,
        }


@dataclass(frozen=True)
class Submitted:
    definition: DefinitionRecord
    created: bool
    warnings: list[Diagnostic] = field(default_factory=list)


@dataclass(frozen=True)
class InstancePage:
    instances: list[dict[str, Any]]
    continuation_token: str | None

    def to_json(self) -> dict[str, Any]:
        return {"instances": self.instances, "continuationToken": self.continuation_token}


def dumps(value: Any) -> str:
    """Compact JSON; a value JSON cannot carry (NaN) is the client's mistake."""
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise errors.bad_request(errors.MALFORMED_REQUEST, f"the value is not JSON: {error}") from None


class WorkflowService:
    """Definitions and instances over one registry and one engine (``engine_address``)."""

    def __init__(self, registry: DefinitionRegistry, engine_address: str, *, engine_token: str | None = None) -> None:
        self.registry = registry
        self.engine_address = engine_address
        self._sidecar = Sidecar(engine_address, engine_token)
        self._admin = EngineAdminClient(engine_address)
        self._templates: dict[str, dict[str, Any]] = {}

    def close(self) -> None:
        self._sidecar.close()
        self._admin.close()

    # -- definitions ------------------------------------------------------------------------------

    def submit(self, source: str | bytes, filename: str | None = None, name: str | None = None) -> Submitted:
        """Validates and registers a definition (idempotent for identical content)."""
        text = _text(source)
        label = clean_filename(filename)
        compiled = compile_text(text, label, name)
        record, created = self.registry.submit(compiled, text, label)
        return Submitted(record, created, compiled.warnings)

    def validate(self, source: str | bytes, filename: str | None = None) -> list[Diagnostic]:
        return validate_text(_text(source), filename)

    def definitions(self) -> list[NameSummary]:
        return self.registry.names()

    def versions(self, name: str) -> list[DefinitionRecord]:
        return self.registry.versions(name)

    def definition(self, ref: str) -> DefinitionRecord:
        return self.registry.get(ref)

    def delete_definition(self, ref: str) -> list[DefinitionRecord]:
        return self.registry.delete(ref)

    # -- instances --------------------------------------------------------------------------------

    def start(
        self, ref: str | None, value: Any = None, *, instance_id: str | None = None, start_at: datetime | None = None
    ) -> Started:
        """Starts ``ref`` with input ``value`` (a JSON value), pinned to the version ``ref``
        names now. Without ``instance_id`` a random one is made, as Dapr does."""
        if not ref:
            raise errors.bad_request(errors.WORKFLOW_NAME_MISSING, "workflow name is not configured")
        instance_id = instance_id or str(uuid.uuid4())
        errors.check_instance_id(instance_id, creating=True)
        record, workflow = self.registry.workflow(ref)
        from declarative_wf.formats import check_input

        problems = check_input(workflow, value)
        if problems:
            raise errors.bad_request(
                errors.INPUT_INVALID,
                f"the input does not match the input schema of {record.ref}: " + "; ".join(problems[:10]),
                problems=problems,
            )
        payload = dumps({**self._template(record.hash, workflow), "input": value})
        try:
            self._sidecar.start(record.name, payload, instance_id, start_at)
        except grpc.RpcError as error:
            raise errors.from_engine(error, errors.START) from None
        return Started(instance_id, record)

    def _template(self, digest: str, workflow: Any) -> dict[str, Any]:
        """The start payload of a graph without its input, built once per content hash:
        ``make_payload`` serialises and hashes the whole graph, the same for every start."""
        template = self._templates.get(digest)
        if template is None:
            if len(self._templates) >= 256:
                self._templates.pop(next(iter(self._templates)))
            template = self._templates[digest] = make_payload(workflow, None)
        return template

    def get(self, instance_id: str) -> InstanceView:
        errors.check_instance_id(instance_id, creating=False)
        try:
            state = self._sidecar.get(instance_id)
        except grpc.RpcError as error:
            raise errors.from_engine(error, errors.GET, instance_id) from None
        if state is None:
            raise errors.instance_not_found(instance_id)
        return InstanceView.from_state(state, self._version_of)

    def _version_of(self, digest: str) -> str | None:
        record = self.registry.find(digest)
        return None if record is None else record.version

    def list_instances(
        self,
        *,
        statuses: list[str] | None = None,
        definition: str | None = None,
        created_from: str | None = None,
        created_to: str | None = None,
        page_size: int | None = None,
        continuation_token: str | None = None,
    ) -> InstancePage:
        """A page of instances in creation order, filtered by status, definition name and
        creation time (``[created_from, created_to)``, RFC 3339)."""
        wanted = [status.strip().upper() for status in statuses or [] if status.strip()]
        unknown = [status for status in wanted if status not in LIST_STATUSES]
        if unknown:
            raise errors.bad_request(errors.LIST, f"unknown status {unknown[0]!r}: use {', '.join(LIST_STATUSES)}")
        if page_size is not None and not 0 < page_size <= MAX_PAGE_SIZE:
            raise errors.bad_request(errors.LIST, f"page size {page_size} is out of range: use 1 to {MAX_PAGE_SIZE}")
        if definition is not None and "@" in definition:
            raise errors.bad_request(errors.LIST, "filter by a definition's name (instances of every version are listed)")
        try:
            page = self._admin.list_instances(
                statuses=wanted,
                name=definition or None,
                created_from=created_from or None,
                created_to=created_to or None,
                page_size=page_size,
                continuation_token=continuation_token or None,
            )
        except grpc.RpcError as error:
            raise errors.from_engine(error, errors.LIST) from None
        return InstancePage([summary_json(item) for item in page.instances], page.continuation_token)

    def history(self, instance_id: str) -> list[dict[str, Any]]:
        errors.check_instance_id(instance_id, creating=False)
        try:
            events = self._sidecar.history(instance_id)
        except grpc.RpcError as error:
            raise errors.from_engine(error, errors.HISTORY, instance_id) from None
        return [history_json(event) for event in events]

    def raise_event(self, instance_id: str, event_name: str | None, data: Any = None) -> None:
        errors.check_instance_id(instance_id, creating=False)
        if not event_name:
            raise errors.bad_request(errors.EVENT_NAME_MISSING, "missing workflow event name")
        text = None if data is None else dumps(data)
        self._engine(errors.RAISE_EVENT, instance_id, lambda: self._sidecar.raise_event(instance_id, event_name, text))

    def suspend(self, instance_id: str, reason: str | None = None) -> None:
        errors.check_instance_id(instance_id, creating=False)
        self._engine(errors.PAUSE, instance_id, lambda: self._sidecar.suspend(instance_id, reason))

    def resume(self, instance_id: str, reason: str | None = None) -> None:
        errors.check_instance_id(instance_id, creating=False)
        self._engine(errors.RESUME, instance_id, lambda: self._sidecar.resume(instance_id, reason))

    def terminate(self, instance_id: str, output: Any = None) -> None:
        """Terminates the instance and its children (Dapr's terminate is recursive)."""
        errors.check_instance_id(instance_id, creating=False)
        text = None if output is None else dumps(output)
        self._engine(errors.TERMINATE, instance_id, lambda: self._sidecar.terminate(instance_id, text))

    def purge(self, instance_id: str) -> None:
        """Deletes a finished instance and its children (Dapr's purge is recursive)."""
        errors.check_instance_id(instance_id, creating=False)
        deleted = self._engine(errors.PURGE, instance_id, lambda: self._sidecar.purge(instance_id))
        if deleted == 0:
            raise errors.instance_not_found(instance_id)

    # -- task token callbacks (ASL .waitForTaskToken; see declarative_wf.task_tokens) -----------------

    def send_task_success(self, token: Any, output: Any = None) -> None:
        """``output`` (a JSON value) becomes the result of the task waiting with ``token``."""
        self._callback(token, lambda: task_tokens.success_event(output))

    def send_task_failure(self, token: Any, error: Any = None, cause: Any = None) -> None:
        self._callback(token, lambda: task_tokens.failure_event(error, cause))

    def send_task_heartbeat(self, token: Any) -> None:
        self._callback(token, task_tokens.heartbeat_event)

    def _callback(self, token: Any, payload: Any) -> None:
        try:
            task_tokens.deliver(self._sidecar, token, payload())
        except task_tokens.TaskTokenError as error:
            raise task_token_error(error) from None
        except grpc.RpcError as error:
            raise errors.from_engine(error, errors.RAISE_EVENT) from None

    @staticmethod
    def _engine(code: str, instance_id: str, call: Any) -> Any:
        try:
            return call()
        except grpc.RpcError as error:
            raise errors.from_engine(error, code, instance_id) from None


#: AWS's callback errors → (our errorCode, HTTP status, gRPC status). The body also carries
#: ``awsError``, AWS's own name, for clients ported from Step Functions.
TASK_TOKEN_ERRORS: dict[str, tuple[str, int, grpc.StatusCode]] = {
    "InvalidToken": ("ERR_TASK_TOKEN_INVALID", 400, grpc.StatusCode.INVALID_ARGUMENT),
    "InvalidOutput": ("ERR_TASK_OUTPUT_INVALID", 400, grpc.StatusCode.INVALID_ARGUMENT),
    "InvalidParameter": (errors.MALFORMED_REQUEST, 400, grpc.StatusCode.INVALID_ARGUMENT),
    "TaskDoesNotExist": ("ERR_TASK_DOES_NOT_EXIST", 404, grpc.StatusCode.NOT_FOUND),
    "TaskTimedOut": ("ERR_TASK_TIMED_OUT", 409, grpc.StatusCode.FAILED_PRECONDITION),
}


def task_token_error(error: task_tokens.TaskTokenError) -> errors.ServiceError:
    code, http_status, grpc_status = TASK_TOKEN_ERRORS.get(error.code, TASK_TOKEN_ERRORS["InvalidToken"])
    return errors.ServiceError(code, error.message, http_status, grpc_status, {"awsError": error.code})


def _text(source: str | bytes) -> str:
    if isinstance(source, str):
        return source
    try:
        return source.decode("utf-8")
    except UnicodeDecodeError as error:
        raise errors.bad_request(errors.MALFORMED_REQUEST, f"the definition is not UTF-8 text: {error}") from None
