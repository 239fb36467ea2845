"""API token and body size limits of ``dwf serve`` (HTTP and gRPC)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import dapr.ext.workflow as wf
import grpc
import httpx
import pytest
from dapr.proto.runtime.v1 import dapr_pb2_grpc
from dapr.proto.runtime.v1 import workflow_pb2 as wpb

from declarative_wf.api.protos import definitions_pb2 as dpb
from declarative_wf.api.protos import definitions_pb2_grpc as dpb_grpc

from .definitions import WAITER_V1
from .helpers import error_of
from .servers import Served, start_serve

pytestmark = pytest.mark.integration

TOKEN = "s3cret-token"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    directory: Path = tmp_path_factory.mktemp("guarded")
    server = start_serve(
        directory / "state.db", "--api-token-env", "DWF_TEST_TOKEN", "--max-request-bytes", "4096",
        extra_env={"DWF_TEST_TOKEN": TOKEN},
    )  # fmt: skip
    try:
        yield server
    finally:
        server.terminate()


def test_http_needs_the_token(guarded: Served) -> None:
    with httpx.Client(base_url=guarded.url) as http:
        for method, path in (("GET", "/api/v1/definitions"), ("POST", "/v1.0/workflows/dapr/waiter/start"), ("GET", "/openapi.json"),
                             ("GET", "/v1.0/workflows/dapr/x"), ("GET", "/no/such/path")):  # fmt: skip
            error_of(http.request(method, path), 401, "ERR_API_TOKEN_INVALID")
            error_of(http.request(method, path, headers={"dapr-api-token": "wrong"}), 401, "ERR_API_TOKEN_INVALID")
        assert http.get("/v1.0/healthz").status_code == 204  # as in Dapr, health needs no token
        ok = http.post("/api/v1/definitions", content=WAITER_V1, headers={"dapr-api-token": TOKEN})
        assert ok.status_code == 201
        assert http.get("/api/v1/definitions", headers={"dapr-api-token": TOKEN}).status_code == 200


def test_grpc_needs_the_token(guarded: Served) -> None:
    with grpc.insecure_channel(guarded.grpc) as channel:
        dapr = dapr_pb2_grpc.DaprStub(channel)
        definitions = dpb_grpc.DefinitionsStub(channel)
        calls = (
            lambda metadata: dapr.GetWorkflowBeta1(wpb.GetWorkflowRequest(instance_id="x"), metadata=metadata),
            lambda metadata: definitions.List(dpb.ListRequest(), metadata=metadata),
        )
        for call in calls:
            for metadata in ((), (("dapr-api-token", "wrong"),)):
                with pytest.raises(grpc.RpcError) as raised:
                    call(metadata)
                assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
            call((("dapr-api-token", TOKEN),))
    # The relayed workflow protocol too: the SDK sends DAPR_API_TOKEN as this metadata.
    host, port = guarded.grpc.rsplit(":", 1)
    client = wf.DaprWorkflowClient(host=host, port=port)
    try:
        with pytest.raises(grpc.RpcError) as raised:
            client.get_workflow_state("x")
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        client.close()


def test_request_body_limit(guarded: Served) -> None:
    headers = {"dapr-api-token": TOKEN}
    with httpx.Client(base_url=guarded.url, headers=headers) as http:
        big = b'"' + b"x" * 5000 + b'"'
        error_of(http.post("/v1.0/workflows/dapr/waiter/start", content=big), 413, "ERR_REQUEST_TOO_LARGE")
        error_of(http.post("/api/v1/definitions", content=b"#" * 5000), 413, "ERR_REQUEST_TOO_LARGE")

        def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts as it reads
            for _ in range(10):
                yield b" " * 1000

        error_of(http.post("/api/v1/validate", content=chunks()), 413, "ERR_REQUEST_TOO_LARGE")
        assert http.post("/api/v1/validate", content=WAITER_V1).status_code == 200
    with grpc.insecure_channel(guarded.grpc) as channel:
        with pytest.raises(grpc.RpcError) as raised:
            dpb_grpc.DefinitionsStub(channel).Validate(dpb.ValidateRequest(source="#" * 8000), metadata=(("dapr-api-token", TOKEN),))
        assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_token_variable_must_be_set(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError):
        start_serve(tmp_path / "state.db", "--api-token-env", "DWF_UNSET_VARIABLE")
