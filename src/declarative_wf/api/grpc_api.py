"""The gRPC API: Dapr's workflow methods and our definitions service, over the service layer.

* ``dapr.proto.runtime.v1.Dapr``: only the workflow methods (``Start``/``Get``/``Terminate``/
  ``RaiseEvent``/``Pause``/``Resume``/``Purge`` + ``WorkflowBeta1``, and the deprecated
  ``…Alpha1`` aliases), with the request and response messages of the ``dapr`` package
  (``dapr.proto.runtime.v1.workflow_pb2``). They are registered as a generic handler for
  exactly those names, so every other method of Dapr's runtime service answers
  ``UNIMPLEMENTED``. Errors carry Dapr's gRPC code, message, and a ``google.rpc.ErrorInfo``
  whose ``reason`` is Dapr's error code (``ERR_INSTANCE_ID_NOT_FOUND``...), as daprd does.
* ``declarative_wf.api.v1.Definitions`` (``protos/definitions.proto``).
* ``TaskHubSidecarService``, relayed to the engine (``api.sidecar_proxy``), so Dapr's workflow
  SDK (``DaprWorkflowClient``, ``WorkflowRuntime``) works on this port as on daprd's.

With an API token, every call needs the ``dapr-api-token`` metadata (``UNAUTHENTICATED``
otherwise), like daprd.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import grpc
from dapr.proto.runtime.v1 import workflow_pb2 as wpb
from google.protobuf import any_pb2, empty_pb2, timestamp_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from declarative_wf.diagnostics import Diagnostic

from . import errors
from .errors import ServiceError
from .protos import definitions_pb2 as dpb
from .protos import definitions_pb2_grpc as dpb_grpc
from .registry import DefinitionRecord
from .service import WorkflowService
from .sidecar_proxy import SidecarProxy

DAPR_SERVICE = "dapr.proto.runtime.v1.Dapr"
TOKEN_METADATA = "dapr-api-token"
START_TIME_OPTION = "dapr.workflow.start_time"
#: Largest request of the Dapr and definitions methods (RESOURCE_EXHAUSTED above it).
DEFAULT_MAX_MESSAGE = 4 * 1024 * 1024 + 64 * 1024
#: What gRPC itself accepts: relayed worker turns may be as large as the engine allows.
TRANSPORT_MAX_MESSAGE = 64 * 1024 * 1024


def _abort(context: grpc.ServicerContext, error: ServiceError) -> None:
    info = error_details_pb2.ErrorInfo(reason=error.code, domain="dapr.io")
    detail = any_pb2.Any()
    detail.Pack(info)
    status = status_pb2.Status(code=error.grpc_status.value[0], message=error.message, details=[detail])
    context.abort_with_status(rpc_status.to_status(status))


def _guard(fn: Callable[[Any, grpc.ServicerContext], Any], limit: int) -> Callable[[Any, grpc.ServicerContext], Any]:
    def run(request: Any, context: grpc.ServicerContext) -> Any:
        try:
            if request.ByteSize() > limit:
                raise ServiceError(
                    errors.REQUEST_TOO_LARGE, f"the request is larger than {limit} bytes", 413, grpc.StatusCode.RESOURCE_EXHAUSTED
                )
            return fn(request, context)
        except ServiceError as error:
            _abort(context, error)
            raise AssertionError("unreachable") from None

    return run


def _input(raw: bytes, what: str) -> Any:
    """Dapr passes input bytes through; the interpreter needs JSON (empty: no input)."""
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise errors.bad_request(errors.MALFORMED_REQUEST, f"the {what} is not JSON: {error}") from None


def _check_component(component: str) -> None:
    # Old clients send "dapr", current daprd ignores the field: accept both, refuse others.
    if component not in ("", "dapr"):
        raise errors.bad_request(errors.COMPONENT_NOT_FOUND, f"workflow component {component!r} does not exist")


def _timestamp(text: str) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromJsonString(text)
    return stamp


class DaprWorkflowApi:
    """The workflow methods of Dapr's runtime service."""

    def __init__(self, service: WorkflowService, limit: int = DEFAULT_MAX_MESSAGE) -> None:
        self.service = service
        self.limit = limit

    def start(self, request: wpb.StartWorkflowRequest, context: grpc.ServicerContext) -> wpb.StartWorkflowResponse:
        _check_component(request.workflow_component)
        start_at = None
        option = request.options.get(START_TIME_OPTION)
        if option:
            try:
                start_at = datetime.fromisoformat(option)
            except ValueError:
                raise errors.bad_request(errors.MALFORMED_REQUEST, f"{START_TIME_OPTION} {option!r} is not an RFC 3339 time") from None
            if start_at.tzinfo is None:
                start_at = start_at.replace(tzinfo=UTC)
        started = self.service.start(
            request.workflow_name, _input(request.input, "input"), instance_id=request.instance_id or None, start_at=start_at
        )
        return wpb.StartWorkflowResponse(instance_id=started.instance_id)

    def get(self, request: wpb.GetWorkflowRequest, context: grpc.ServicerContext) -> wpb.GetWorkflowResponse:
        _check_component(request.workflow_component)
        try:
            view = self.service.get(request.instance_id)
        except ServiceError as error:
            if error.code == errors.INSTANCE_ID_NOT_FOUND:
                # daprd answers an unknown instance with an empty response, not an error
                # (pkg/api/universal/workflow.go); its HTTP API turns that into the 404.
                return wpb.GetWorkflowResponse(instance_id=request.instance_id)
            raise
        return wpb.GetWorkflowResponse(
            instance_id=view.instance_id,
            workflow_name=view.workflow_name,
            created_at=_timestamp(view.created_at),
            last_updated_at=_timestamp(view.last_updated_at),
            runtime_status=view.dapr_status,
            properties=view.dapr_properties(),
        )

    def terminate(self, request: wpb.TerminateWorkflowRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        _check_component(request.workflow_component)
        self.service.terminate(request.instance_id)
        return empty_pb2.Empty()

    def raise_event(self, request: wpb.RaiseEventWorkflowRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        _check_component(request.workflow_component)
        self.service.raise_event(request.instance_id, request.event_name, _input(request.event_data, "event data"))
        return empty_pb2.Empty()

    def pause(self, request: wpb.PauseWorkflowRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        _check_component(request.workflow_component)
        self.service.suspend(request.instance_id)
        return empty_pb2.Empty()

    def resume(self, request: wpb.ResumeWorkflowRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        _check_component(request.workflow_component)
        self.service.resume(request.instance_id)
        return empty_pb2.Empty()

    def purge(self, request: wpb.PurgeWorkflowRequest, context: grpc.ServicerContext) -> empty_pb2.Empty:
        _check_component(request.workflow_component)
        self.service.purge(request.instance_id)
        return empty_pb2.Empty()

    def handler(self) -> grpc.GenericRpcHandler:
        table: dict[str, tuple[Any, Any, Callable[..., Any]]] = {
            "StartWorkflow": (wpb.StartWorkflowRequest, wpb.StartWorkflowResponse, self.start),
            "GetWorkflow": (wpb.GetWorkflowRequest, wpb.GetWorkflowResponse, self.get),
            "TerminateWorkflow": (wpb.TerminateWorkflowRequest, empty_pb2.Empty, self.terminate),
            "RaiseEventWorkflow": (wpb.RaiseEventWorkflowRequest, empty_pb2.Empty, self.raise_event),
            "PauseWorkflow": (wpb.PauseWorkflowRequest, empty_pb2.Empty, self.pause),
            "ResumeWorkflow": (wpb.ResumeWorkflowRequest, empty_pb2.Empty, self.resume),
            "PurgeWorkflow": (wpb.PurgeWorkflowRequest, empty_pb2.Empty, self.purge),
        }
        methods = {}
        for name, (request_type, response_type, fn) in table.items():
            method = grpc.unary_unary_rpc_method_handler(
                _guard(fn, self.limit), request_deserializer=request_type.FromString, response_serializer=response_type.SerializeToString
            )
            methods[f"{name}Beta1"] = method
            methods[f"{name}Alpha1"] = method
        return grpc.method_handlers_generic_handler(DAPR_SERVICE, methods)


def _diagnostic(d: Diagnostic) -> dpb.Diagnostic:
    return dpb.Diagnostic(
        file=d.source_file or "",
        line=d.position.line if d.position is not None else 0,
        column=d.position.column if d.position is not None else 0,
        code=d.code,
        message=d.message,
        pointer=d.pointer,
        severity=d.severity.value,
        hint=d.hint or "",
    )


def _definition(record: DefinitionRecord) -> dpb.Definition:
    return dpb.Definition(
        name=record.name,
        version=record.version,
        hash=record.hash,
        format=record.format,
        filename=record.filename,
        created_at=record.created_at,
        auto_version=record.auto_version,
        source=record.source or "",
        graph_json="" if record.graph is None else json.dumps(record.graph, separators=(",", ":")),
    )


class DefinitionsApi(dpb_grpc.DefinitionsServicer):
    """``declarative_wf.api.v1.Definitions``."""

    def __init__(self, service: WorkflowService, limit: int = DEFAULT_MAX_MESSAGE) -> None:
        self.service = service
        for name in ("Submit", "Validate", "List", "Get", "Delete"):
            setattr(self, name, _guard(getattr(self, f"_{name.lower()}"), limit))

    def _submit(self, request: dpb.SubmitRequest, context: grpc.ServicerContext) -> dpb.SubmitResponse:
        try:
            submitted = self.service.submit(request.source, request.filename or None, request.name or None)
        except ServiceError as error:
            found = error.extra.get("_diagnostics")
            if found:  # every diagnostic, one per line, as dwf validate prints them
                error = ServiceError(error.code, "\n".join(d.format() for d in found), error.http_status, error.grpc_status)
            raise error from None
        return dpb.SubmitResponse(
            definition=_definition(submitted.definition),
            created=submitted.created,
            warnings=[_diagnostic(d) for d in submitted.warnings],
        )

    def _validate(self, request: dpb.ValidateRequest, context: grpc.ServicerContext) -> dpb.ValidateResponse:
        found = self.service.validate(request.source, request.filename or None)
        return dpb.ValidateResponse(valid=not any(d.is_error for d in found), diagnostics=[_diagnostic(d) for d in found])

    def _list(self, request: dpb.ListRequest, context: grpc.ServicerContext) -> dpb.ListResponse:
        if request.name:
            records = self.service.versions(request.name)
        else:
            records = [summary.latest for summary in self.service.definitions()]
        return dpb.ListResponse(definitions=[_definition(record) for record in records])

    def _get(self, request: dpb.GetRequest, context: grpc.ServicerContext) -> dpb.Definition:
        return _definition(self.service.definition(request.ref))

    def _delete(self, request: dpb.DeleteRequest, context: grpc.ServicerContext) -> dpb.DeleteResponse:
        return dpb.DeleteResponse(deleted=[_definition(record) for record in self.service.delete_definition(request.ref)])


class TaskCallbacksApi(dpb_grpc.TaskCallbacksServicer):
    """``declarative_wf.api.v1.TaskCallbacks``: callbacks of ASL ``.waitForTaskToken`` tasks."""

    def __init__(self, service: WorkflowService, limit: int = DEFAULT_MAX_MESSAGE) -> None:
        self.service = service
        for name, method in (("SendTaskSuccess", self._success), ("SendTaskFailure", self._failure), ("SendTaskHeartbeat", self._heartbeat)):
            setattr(self, name, _guard(method, limit))

    def _success(self, request: dpb.TaskSuccessRequest, context: grpc.ServicerContext) -> dpb.TaskCallbackResponse:
        from declarative_wf import task_tokens

        from .service import task_token_error

        try:
            output = task_tokens.parse_output(request.output_json) if request.output_json.strip() else None
        except task_tokens.TaskTokenError as error:
            raise task_token_error(error) from None
        self.service.send_task_success(request.task_token, output)
        return dpb.TaskCallbackResponse()

    def _failure(self, request: dpb.TaskFailureRequest, context: grpc.ServicerContext) -> dpb.TaskCallbackResponse:
        error = request.error if request.HasField("error") else None
        cause = request.cause if request.HasField("cause") else None
        self.service.send_task_failure(request.task_token, error, cause)
        return dpb.TaskCallbackResponse()

    def _heartbeat(self, request: dpb.TaskHeartbeatRequest, context: grpc.ServicerContext) -> dpb.TaskCallbackResponse:
        self.service.send_task_heartbeat(request.task_token)
        return dpb.TaskCallbackResponse()


class TokenInterceptor(grpc.ServerInterceptor):  # type: ignore[misc]
    """Refuses every call without the right ``dapr-api-token`` metadata."""

    def __init__(self, token: str) -> None:
        self.token = token.encode()

        def refuse(request: Any, context: grpc.ServicerContext) -> Any:
            context.abort(grpc.StatusCode.UNAUTHENTICATED, "authentication error: missing or invalid dapr-api-token metadata")

        self._refusal = grpc.unary_unary_rpc_method_handler(refuse)

    def intercept_service(self, continuation: Any, details: grpc.HandlerCallDetails) -> Any:
        given = next((value for key, value in details.invocation_metadata if key == TOKEN_METADATA), "")
        given_bytes = given if isinstance(given, bytes) else str(given).encode()
        if hmac.compare_digest(given_bytes, self.token):
            return continuation(details)
        return self._refusal


def create_server(
    service: WorkflowService,
    address: str,
    *,
    api_token: str | None = None,
    max_message: int = DEFAULT_MAX_MESSAGE,
    threads: int = 64,
    relay: SidecarProxy | None = None,
) -> tuple[grpc.Server, int]:
    """A gRPC server bound to ``address`` (not started yet); returns it and its port.
    ``relay``: also serve the sidecar protocol by relaying it to the engine. Each relayed
    worker stream or long wait holds one of ``threads`` while it lasts."""
    interceptors = [TokenInterceptor(api_token)] if api_token else []
    server = grpc.server(
        ThreadPoolExecutor(max_workers=threads, thread_name_prefix="dwf-grpc-api"),
        interceptors=interceptors,
        options=[("grpc.max_receive_message_length", TRANSPORT_MAX_MESSAGE), ("grpc.so_reuseport", 0)],
    )
    server.add_generic_rpc_handlers((DaprWorkflowApi(service, max_message).handler(),))
    dpb_grpc.add_DefinitionsServicer_to_server(DefinitionsApi(service, max_message), server)  # type: ignore[no-untyped-call]
    dpb_grpc.add_TaskCallbacksServicer_to_server(TaskCallbacksApi(service, max_message), server)  # type: ignore[no-untyped-call]
    if relay is not None:
        server.add_generic_rpc_handlers((relay.handler(),))
    try:
        port = server.add_insecure_port(address)
    except RuntimeError:  # newer grpcio raises instead of returning 0
        port = 0
    if port == 0:
        raise OSError(f"cannot listen on {address} for gRPC: the port is taken or the host is not local")
    return server, port
