"""The gRPC API against a running ``dwf serve``: Dapr's workflow methods through the official
``dapr`` client, Dapr's workflow SDK on the same port, and our definitions service.

``dapr`` 1.19's ``DaprClient`` no longer has workflow helper methods (``start_workflow``... were
removed in favour of ``dapr-ext-workflow``), so the calls go through the client's own stub
(``DaprClient._stub``, the generated ``DaprStub`` over the client's channel with its
interceptors): the exact bytes an older ``DaprClient.start_workflow`` sent.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import dapr.ext.workflow as wf
import grpc
import httpx
import pytest
from dapr.clients import DaprClient
from dapr.proto.runtime.v1 import dapr_pb2_grpc
from dapr.proto.runtime.v1 import workflow_pb2 as wpb
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from declarative_wf.api.protos import definitions_pb2 as dpb
from declarative_wf.api.protos import definitions_pb2_grpc as dpb_grpc

from .definitions import BROKEN, DOUBLER, WAITER_V1
from .helpers import submit, wait_for
from .servers import Served

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def dapr_client(served: Served, http: httpx.Client, monkeypatch_module: pytest.MonkeyPatch) -> Iterator[DaprClient]:
    submit(http, WAITER_V1, "waiter.yaml")
    submit(http, DOUBLER, "doubler.yaml")
    # DaprClient waits for <DAPR_HTTP_ENDPOINT>/v1.0/healthz/outbound before its first call.
    from dapr.conf import settings

    monkeypatch_module.setattr(settings, "DAPR_HTTP_ENDPOINT", served.url)
    with DaprClient(address=served.grpc) as client:
        yield client


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def _reason(error: grpc.RpcError) -> str | None:
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    if status is None:
        return None
    for detail in status.details:
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason
    return None


def test_beta1_workflow_methods(dapr_client: DaprClient, http: httpx.Client) -> None:
    stub = dapr_client._stub
    started = stub.StartWorkflowBeta1(
        wpb.StartWorkflowRequest(instance_id="grpc-1", workflow_component="dapr", workflow_name="waiter", input=b'{"a": 1}')
    )
    assert started.instance_id == "grpc-1"
    wait_for(http, "grpc-1", {"RUNNING"})
    state = stub.GetWorkflowBeta1(wpb.GetWorkflowRequest(instance_id="grpc-1", workflow_component="dapr"))
    assert (state.instance_id, state.workflow_name, state.runtime_status) == ("grpc-1", "waiter", "RUNNING")
    assert json.loads(state.properties["dapr.workflow.input"]) == {"a": 1}
    assert state.created_at.seconds > 0
    stub.PauseWorkflowBeta1(wpb.PauseWorkflowRequest(instance_id="grpc-1", workflow_component="dapr"))
    assert stub.GetWorkflowBeta1(wpb.GetWorkflowRequest(instance_id="grpc-1")).runtime_status == "SUSPENDED"
    stub.ResumeWorkflowBeta1(wpb.ResumeWorkflowRequest(instance_id="grpc-1", workflow_component="dapr"))
    stub.RaiseEventWorkflowBeta1(
        wpb.RaiseEventWorkflowRequest(instance_id="grpc-1", workflow_component="dapr", event_name="go", event_data=b'"yes"')
    )
    assert wait_for(http, "grpc-1", {"COMPLETED"})["output"] == {"got": "yes", "logic": "v1"}
    stub.PurgeWorkflowBeta1(wpb.PurgeWorkflowRequest(instance_id="grpc-1", workflow_component="dapr"))
    empty = stub.GetWorkflowBeta1(wpb.GetWorkflowRequest(instance_id="grpc-1", workflow_component="dapr"))
    assert empty.instance_id == "grpc-1" and empty.runtime_status == "" and not empty.properties  # as daprd

    stub.StartWorkflowBeta1(wpb.StartWorkflowRequest(instance_id="grpc-2", workflow_component="dapr", workflow_name="waiter"))
    stub.TerminateWorkflowBeta1(wpb.TerminateWorkflowRequest(instance_id="grpc-2", workflow_component="dapr"))
    assert wait_for(http, "grpc-2", {"TERMINATED"})


def test_alpha1_aliases_and_generated_ids(served: Served, http: httpx.Client) -> None:
    submit(http, DOUBLER, "doubler.yaml")
    with grpc.insecure_channel(served.grpc) as channel:
        stub = dapr_pb2_grpc.DaprStub(channel)
        started = stub.StartWorkflowAlpha1(wpb.StartWorkflowRequest(workflow_component="dapr", workflow_name="doubler@1.0", input=b'{"n": 5}'))
        assert len(started.instance_id) == 36
        wait_for(http, started.instance_id, {"COMPLETED"})
        state = stub.GetWorkflowAlpha1(wpb.GetWorkflowRequest(instance_id=started.instance_id, workflow_component="dapr"))
        assert json.loads(state.properties["dapr.workflow.output"]) == {"n": 10}
        for method, request in (
            (stub.TerminateWorkflowAlpha1, wpb.TerminateWorkflowRequest(instance_id=started.instance_id)),
            (stub.PurgeWorkflowAlpha1, wpb.PurgeWorkflowRequest(instance_id=started.instance_id)),
        ):
            method(request)
        with pytest.raises(grpc.RpcError) as raised:
            stub.ResumeWorkflowAlpha1(wpb.ResumeWorkflowRequest(instance_id=started.instance_id))
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND and _reason(raised.value) == "ERR_INSTANCE_ID_NOT_FOUND"


def test_errors_carry_dapr_codes(dapr_client: DaprClient) -> None:
    stub = dapr_client._stub
    cases = [
        (stub.StartWorkflowBeta1, wpb.StartWorkflowRequest(instance_id="a.b", workflow_name="waiter"), grpc.StatusCode.INVALID_ARGUMENT, "ERR_INSTANCE_ID_INVALID"),
        (stub.StartWorkflowBeta1, wpb.StartWorkflowRequest(instance_id="x" * 65, workflow_name="waiter"), grpc.StatusCode.INVALID_ARGUMENT, "ERR_INSTANCE_ID_TOO_LONG"),
        (stub.StartWorkflowBeta1, wpb.StartWorkflowRequest(instance_id="ok"), grpc.StatusCode.INVALID_ARGUMENT, "ERR_WORKFLOW_NAME_MISSING"),
        (stub.StartWorkflowBeta1, wpb.StartWorkflowRequest(workflow_name="nope"), grpc.StatusCode.NOT_FOUND, "ERR_DEFINITION_NOT_FOUND"),
        (stub.StartWorkflowBeta1, wpb.StartWorkflowRequest(workflow_name="waiter", input=b"{"), grpc.StatusCode.INVALID_ARGUMENT, "ERR_MALFORMED_REQUEST"),
        (stub.StartWorkflowBeta1, wpb.StartWorkflowRequest(workflow_name="waiter", workflow_component="x"), grpc.StatusCode.INVALID_ARGUMENT, "ERR_WORKFLOW_COMPONENT_NOT_FOUND"),
        (stub.GetWorkflowBeta1, wpb.GetWorkflowRequest(), grpc.StatusCode.INVALID_ARGUMENT, "ERR_INSTANCE_ID_PROVIDED_MISSING"),
        (stub.TerminateWorkflowBeta1, wpb.TerminateWorkflowRequest(instance_id="nobody"), grpc.StatusCode.NOT_FOUND, "ERR_INSTANCE_ID_NOT_FOUND"),
        (stub.RaiseEventWorkflowBeta1, wpb.RaiseEventWorkflowRequest(instance_id="nobody"), grpc.StatusCode.INVALID_ARGUMENT, "ERR_WORKFLOW_EVENT_NAME_MISSING"),
        (stub.PauseWorkflowBeta1, wpb.PauseWorkflowRequest(instance_id="nobody"), grpc.StatusCode.NOT_FOUND, "ERR_INSTANCE_ID_NOT_FOUND"),
        (stub.PurgeWorkflowBeta1, wpb.PurgeWorkflowRequest(instance_id="nobody"), grpc.StatusCode.NOT_FOUND, "ERR_INSTANCE_ID_NOT_FOUND"),
    ]
    for method, request, code, reason in cases:
        with pytest.raises(grpc.RpcError) as raised:
            method(request)
        assert (raised.value.code(), _reason(raised.value)) == (code, reason), request


def test_other_dapr_methods_are_unimplemented(dapr_client: DaprClient) -> None:
    for call in (lambda: dapr_client.get_state("store", "key"), lambda: dapr_client.get_metadata()):
        with pytest.raises(grpc.RpcError) as raised:  # DaprClient raises DaprGrpcError, an RpcError
            call()
        assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_workflow_sdk_on_the_api_port(served: Served, http: httpx.Client) -> None:
    """DaprWorkflowClient talks to daprd's gRPC port; it does to ours. A start by name without a
    graph is resolved by the workers from the registry (latest version) and pinned."""
    submit(http, WAITER_V1, "waiter.yaml")
    host, port = served.grpc.rsplit(":", 1)
    client = wf.DaprWorkflowClient(host=host, port=port)
    try:
        instance = client.schedule_new_workflow("waiter", input={"sdk": True}, instance_id="sdk-1")
        client.wait_for_workflow_start(instance, timeout_in_seconds=30)
        client.raise_workflow_event(instance, "go", data=[1, 2])
        state = client.wait_for_workflow_completion(instance, timeout_in_seconds=30)
        assert state is not None and state.runtime_status.name == "COMPLETED"
        assert json.loads(state.serialized_output) == {"got": [1, 2], "logic": "v1"}
        ours = http.get("/api/v1/instances/sdk-1").json()
        assert ours["input"] == {"sdk": True} and ours["version"] == "1"
        missing = client.schedule_new_workflow("not-registered", input=1)
        failed = client.wait_for_workflow_completion(missing, timeout_in_seconds=30)
        assert failed is not None and failed.runtime_status.name == "FAILED"
        assert failed.failure_details.error_type == "DefinitionNotFound"
    finally:
        client.close()


def test_definitions_service(served: Served) -> None:
    with grpc.insecure_channel(served.grpc) as channel:
        stub = dpb_grpc.DefinitionsStub(channel)
        answer = stub.Submit(dpb.SubmitRequest(source=WAITER_V1.replace("name: waiter", "name: viagrpc"), filename="w.yaml"))
        assert answer.created
        assert (answer.definition.name, answer.definition.version) == ("viagrpc", "1")
        assert not stub.Submit(dpb.SubmitRequest(source=WAITER_V1.replace("name: waiter", "name: viagrpc"), filename="w.yaml")).created
        got = stub.Get(dpb.GetRequest(ref="viagrpc@1"))
        assert got.source.startswith("dwf: 1") and json.loads(got.graph_json)["name"] == "viagrpc"
        assert [d.name for d in stub.List(dpb.ListRequest()).definitions].count("viagrpc") == 1
        assert [d.version for d in stub.List(dpb.ListRequest(name="viagrpc")).definitions] == ["1"]
        checked = stub.Validate(dpb.ValidateRequest(source=BROKEN, filename="broken.yaml"))
        assert not checked.valid and len(checked.diagnostics) == 2 and checked.diagnostics[0].line == 4
        with pytest.raises(grpc.RpcError) as raised:
            stub.Submit(dpb.SubmitRequest(source=BROKEN, filename="broken.yaml"))
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert raised.value.details().splitlines()[0].startswith("broken.yaml:4:")
        assert [d.version for d in stub.Delete(dpb.DeleteRequest(ref="viagrpc")).deleted] == ["1"]
        with pytest.raises(grpc.RpcError) as raised:
            stub.Get(dpb.GetRequest(ref="viagrpc"))
        assert raised.value.code() == grpc.StatusCode.NOT_FOUND and _reason(raised.value) == "ERR_DEFINITION_NOT_FOUND"


def test_oversized_request_is_refused(dapr_client: DaprClient) -> None:
    with pytest.raises(grpc.RpcError) as raised:
        dapr_client._stub.StartWorkflowBeta1(wpb.StartWorkflowRequest(workflow_name="waiter", input=b'"' + b"x" * (5 * 1024 * 1024) + b'"'))
    assert raised.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_generated_ids_differ(dapr_client: DaprClient) -> None:
    ids = {dapr_client._stub.StartWorkflowBeta1(wpb.StartWorkflowRequest(workflow_name="doubler", input=b'{"n":1}')).instance_id for _ in range(3)}
    assert len(ids) == 3
    time.sleep(0.1)
