"""A real gRPC server for the ``call: grpc`` tests: ``greeter.v1.Greeter`` of
``fixtures/greeter.proto``, implemented with code protoc generates at test time (the activity
under test uses no generated code)."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import grpc

from .petstore import FIXTURES

PROTO = FIXTURES / "greeter.proto"
SERVICE = "greeter.v1.Greeter"


def generated(folder: Path) -> tuple[ModuleType, ModuleType]:
    from importlib.resources import files

    from grpc_tools import protoc

    include = str(files("grpc_tools") / "_proto")
    code = protoc.main(["protoc", f"-I{FIXTURES}", f"-I{include}", f"--python_out={folder}", f"--grpc_python_out={folder}", str(PROTO)])
    assert code == 0, "protoc failed on fixtures/greeter.proto"
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module("greeter_pb2"), importlib.import_module("greeter_pb2_grpc")
    finally:
        sys.path.remove(str(folder))


@contextmanager
def running_greeter(folder: Path) -> Iterator[int]:
    """Starts the service on 127.0.0.1; yields its port. ``SayHello`` fails with NOT_FOUND for
    ``nobody`` and UNAUTHENTICATED for ``intruder``, and echoes the authorization metadata."""
    pb2, pb2_grpc = generated(folder)

    class Greeter(pb2_grpc.GreeterServicer):  # type: ignore[misc, name-defined]
        def SayHello(self, request: Any, context: grpc.ServicerContext) -> Any:
            if request.name == "nobody":
                context.abort(grpc.StatusCode.NOT_FOUND, "no such person")
            if request.name == "intruder":
                context.abort(grpc.StatusCode.UNAUTHENTICATED, "who are you?")
            auth = dict(context.invocation_metadata()).get("authorization", "")
            message = f"Hello {request.name}" + "!" * request.times + "".join(f" #{t}" for t in request.tags)
            reply = pb2.HelloReply(message=message, authorization=auth)
            reply.at.FromSeconds(0)
            return reply

        def CountTo(self, request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
            for value in range(1, request.up_to + 1):
                yield pb2.Number(value=value)

        def Upload(self, requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
            return pb2.HelloReply(message=f"sum {sum(number.value for number in requests)}")

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    pb2_grpc.add_GreeterServicer_to_server(Greeter(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield port
    finally:
        server.stop(None)
