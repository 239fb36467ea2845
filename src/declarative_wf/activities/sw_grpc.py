"""The built-in activity behind Serverless Workflow's ``call: grpc``: a gRPC call described only by
a ``.proto`` file, without generated code.

Input: ``{proto: {endpoint}, service: {name, host, port?, authentication?}, method, arguments?, base?}``.
The proto file is compiled at run time by ``protoc`` from ``grpcio-tools`` (in process) into a
descriptor set; request and response messages are built from the descriptors with
``google.protobuf``'s dynamic message classes, so any proto works. Compiled protos are cached
per process by content. ``arguments`` is the request message as JSON (for client- and
bidirectional-streaming methods: the list of messages to send). Methods with a single response
return it as JSON (field names as in the proto); server- and bidirectional-streaming methods
return the list of messages received.

Credentials (basic, bearer, OAuth2/OIDC) travel as the ``authorization`` metadata. Port 443
uses TLS with the system roots; other ports are plaintext (the common in-cluster case).
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.descriptor import MethodDescriptor

from . import http as _http
from .auth import AuthError, SecretNotFound, StaticAuth, TokenRequestFailed, descriptor, httpx_auth, parse_auth
from .problems import ProblemError
from .sw_calls import load_resource

__all__ = ["GRPC_STATUS", "proto_services", "sw_grpc"]

DEFAULT_TIMEOUT_SECONDS = 60.0

#: gRPC status → the HTTP status a Problem carries (the mapping of google.rpc / grpc-gateway).
GRPC_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}


def _config(detail: str, title: str = "Invalid gRPC call") -> ProblemError:
    return ProblemError("configuration", title=title, detail=detail)


@dataclass(frozen=True)
class _Compiled:
    pool: descriptor_pool.DescriptorPool
    #: Full service name → its method names, in declaration order (for messages and checks).
    services: dict[str, list[str]]


_compiled: dict[str, _Compiled] = {}
# protoc's in-process entry point keeps global state: one compilation at a time.
_protoc_lock = threading.Lock()


def _compile_proto(text: str, name: str) -> _Compiled:
    key = hashlib.sha256(text.encode()).hexdigest()
    with _protoc_lock:
        if key in _compiled:
            return _compiled[key]
        try:
            from importlib.resources import files

            from grpc_tools import protoc
        except ImportError:  # pragma: no cover - grpcio-tools is a dependency
            raise _config("call: grpc needs the grpcio-tools package (pip install grpcio-tools)") from None
        include = str(files("grpc_tools") / "_proto")  # google/protobuf/*.proto
        with tempfile.TemporaryDirectory(prefix="dwf-proto-") as folder:
            source = Path(folder) / (Path(name).name if name.endswith(".proto") else "service.proto")
            source.write_text(text, encoding="utf-8")
            out = Path(folder) / "set.pb"
            code = protoc.main(
                ["protoc", f"-I{folder}", f"-I{include}", "--include_imports", f"--descriptor_set_out={out}", str(source)]
            )
            if code != 0 or not out.exists():
                raise _config(f"the proto file {name} does not compile (protoc exit code {code}); check its syntax with protoc")
            descriptor_set = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
        pool = descriptor_pool.DescriptorPool()
        for file in descriptor_set.file:
            pool.Add(file)
        services = {
            f"{file.package}.{service.name}" if file.package else service.name: [method.name for method in service.method]
            for file in descriptor_set.file
            for service in file.service
        }
        compiled = _compiled[key] = _Compiled(pool, services)
        return compiled


def proto_services(text: str, name: str) -> dict[str, list[str]]:
    """The services of a proto file and their methods (compile-time checks). Raises
    :class:`ProblemError` when it does not compile."""
    return _compile_proto(text, name).services


def _method(compiled: _Compiled, service: str, method: str) -> MethodDescriptor:
    try:
        descriptor = compiled.pool.FindServiceByName(service)
    except KeyError:
        known = ", ".join(compiled.services) or "none"
        raise _config(f"service {service!r} is not in the proto file (it defines {known}); give its full name (package.Service)") from None
    found = descriptor.methods_by_name.get(method)
    if found is None:
        raise _config(f"service {service!r} has no method {method!r}; it has {', '.join(descriptor.methods_by_name) or 'none'}")
    return found


async def _metadata(auth: Any) -> list[tuple[str, str]]:
    try:
        credentials = await httpx_auth(parse_auth(auth), _http.raw_request)
    except (AuthError, SecretNotFound) as error:
        raise ProblemError("authorization", title="Cannot authenticate", detail=str(error)) from None
    except TokenRequestFailed as error:
        raise ProblemError("authentication", status=401, title="Unauthorized", detail=str(error)) from None
    except _http.HTTPInvalidRequest as error:  # e.g. a malformed $DWF_HTTP_ROUTES
        raise _config(str(error)) from None
    if credentials is None:
        return []
    if isinstance(credentials, StaticAuth):
        return [("authorization", credentials.header)]
    import httpx

    request = httpx.Request("GET", "http://grpc.invalid/")
    flow = credentials.sync_auth_flow(request)
    sent = next(flow)  # basic auth sets its header on the first request (digest has no gRPC form)
    header = sent.headers.get("Authorization")
    return [("authorization", header)] if header else []


async def sw_grpc(call: Any) -> Any:
    """``call: grpc``. With ``expose_authorization``: ``{result, authorization}`` (the
    descriptor of the credentials sent, for Serverless Workflow's ``$authorization``)."""
    if not isinstance(call, Mapping):
        raise _config("call: grpc takes an object (proto, service, method, arguments)")
    service = call.get("service")
    metadata = await _metadata(service.get("authentication")) if isinstance(service, Mapping) else []
    result = await _call(call, metadata)
    if call.get("expose_authorization") is True:
        return {"result": result, "authorization": descriptor(dict(metadata).get("authorization"))}
    return result


async def _call(call: Mapping[str, Any], metadata: list[tuple[str, str]]) -> Any:
    service = call.get("service")
    if not isinstance(service, Mapping) or not isinstance(service.get("name"), str) or not isinstance(service.get("host"), str):
        raise _config("service must be an object with a name (package.Service) and a host")
    method_name = call.get("method")
    if not isinstance(method_name, str) or not method_name:
        raise _config("method must be the name of a method of the service")
    port = service.get("port")
    if isinstance(port, str) and port.isdigit():  # e.g. from an expression over string input
        port = int(port)
    if port is not None and (isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536):
        raise _config(f"service.port must be a port number, not {port!r}")
    text, url = await load_resource(call.get("proto"), call.get("base"), "proto")
    compiled = await asyncio.to_thread(_compile_proto, text, url.rsplit("/", 1)[-1])
    method = _method(compiled, service["name"], method_name)
    request_class = message_factory.GetMessageClass(method.input_type)
    response_class = message_factory.GetMessageClass(method.output_type)
    arguments = call.get("arguments")
    if method.client_streaming and not isinstance(arguments, list):
        raise ProblemError("validation", title="Invalid arguments",
                           detail=f"{service['name']}.{method_name} is client-streaming: arguments must be the list of messages to send")  # fmt: skip
    try:
        if method.client_streaming:
            requests = [json_format.ParseDict(item or {}, request_class()) for item in arguments or []]
        else:
            request = json_format.ParseDict(arguments or {}, request_class())
    except (json_format.ParseError, TypeError, AttributeError) as error:
        raise ProblemError("validation", title="Invalid arguments", detail=f"arguments do not fit {method.input_type.full_name}: {error}") from None
    target = f"{service['host']}:{port or 443}"
    path = f"/{method.containing_service.full_name}/{method.name}"
    channel = (
        grpc.aio.secure_channel(target, grpc.ssl_channel_credentials()) if target.endswith(":443") else grpc.aio.insecure_channel(target)
    )

    def to_json(message: Any) -> Any:
        # Fields at their default value are included, so workflows see "" and 0, not a missing key.
        return json_format.MessageToDict(message, preserving_proto_field_name=True, always_print_fields_with_no_presence=True)

    try:
        codec: dict[str, Any] = {"request_serializer": lambda m: m.SerializeToString(), "response_deserializer": response_class.FromString}
        options: dict[str, Any] = {"metadata": metadata or None, "timeout": DEFAULT_TIMEOUT_SECONDS}
        async with channel:
            if method.client_streaming and method.server_streaming:
                both = channel.stream_stream(path, **codec)
                return [to_json(item) async for item in both(iter(requests), **options)]
            if method.client_streaming:
                return to_json(await channel.stream_unary(path, **codec)(iter(requests), **options))
            if method.server_streaming:
                return [to_json(item) async for item in channel.unary_stream(path, **codec)(request, **options)]
            return to_json(await channel.unary_unary(path, **codec)(request, **options))
    except grpc.aio.AioRpcError as error:
        code = error.code()
        status = GRPC_STATUS.get(code, 500)
        kind = "authentication" if code == grpc.StatusCode.UNAUTHENTICATED else "authorization" if code == grpc.StatusCode.PERMISSION_DENIED else "communication"
        raise ProblemError(
            kind, status=status, title=code.name,
            detail=f"{path} at {target}: {error.details() or code.name}",
        ) from None  # fmt: skip
