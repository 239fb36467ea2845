"""Bad requests get a precise gRPC status and message, and never damage what is stored."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta, timezone

import dapr.ext.workflow as wf
import grpc
import pytest

from declarative_wf.engine import EngineAdminClient
from declarative_wf.engine.protocol import pb, pb_grpc

from . import sdk_workflows as flows
from .conftest import db_path

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def stub(engine):
    channel = grpc.insecure_channel(engine.address)
    yield pb_grpc.TaskHubSidecarServiceStub(channel)
    channel.close()


@pytest.fixture(scope="module")
def finished(client):
    """A completed instance whose stored state every test below must leave intact."""
    instance_id = "bad-input-witness"
    client.schedule_new_workflow(flows.chain, input=1, instance_id=instance_id)
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=30)
    return instance_id, state.serialized_output, len(client.get_workflow_history(instance_id))


def code_of(call) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as error:
        call()
    return error.value.code(), error.value.details()


@pytest.mark.parametrize(
    "operation",
    [
        lambda c: c.raise_workflow_event("no-such-id", "go"),
        lambda c: c.terminate_workflow("no-such-id"),
        lambda c: c.pause_workflow("no-such-id"),
        lambda c: c.resume_workflow("no-such-id"),
        lambda c: c.purge_workflow("no-such-id"),
        lambda c: c.get_workflow_history("no-such-id"),
        lambda c: c.wait_for_workflow_completion("no-such-id", timeout_in_seconds=2),
    ],
    ids=["raise", "terminate", "pause", "resume", "purge", "history", "wait"],
)
def test_unknown_instance_is_not_found(client, operation):
    code, details = code_of(lambda: operation(client))
    assert code == grpc.StatusCode.NOT_FOUND
    assert "no-such-id" in details


def test_get_of_unknown_instance_is_none(client):
    assert client.get_workflow_state("no-such-id") is None


def test_events_for_a_finished_instance_are_refused(client, finished):
    instance_id, _, _ = finished
    code, details = code_of(lambda: client.raise_workflow_event(instance_id, "late", data=1))
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    assert "COMPLETED" in details


def test_suspending_a_finished_instance_is_refused(client, finished):
    code, details = code_of(lambda: client.pause_workflow(finished[0]))
    assert code == grpc.StatusCode.FAILED_PRECONDITION


def test_terminating_a_finished_instance_changes_nothing(client, finished):
    instance_id, output, _ = finished
    client.terminate_workflow(instance_id)
    state = client.get_workflow_state(instance_id)
    assert state.runtime_status == wf.WorkflowStatus.COMPLETED
    assert state.serialized_output == output


def test_oversized_input_is_refused(client, engine):
    big = "x" * (engine._runtime.options.max_payload_bytes + 1)
    code, details = code_of(lambda: client.schedule_new_workflow(flows.chain, input=big, instance_id="too-big"))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "at most" in details
    assert client.get_workflow_state("too-big") is None


def test_oversized_event_is_refused(client, engine, new_id):
    instance_id = new_id()
    client.schedule_new_workflow(flows.waiter, input={"name": "e"}, instance_id=instance_id)
    big = "y" * (engine._runtime.options.max_payload_bytes + 1)
    code, details = code_of(lambda: client.raise_workflow_event(instance_id, "e", data=big))
    assert code == grpc.StatusCode.RESOURCE_EXHAUSTED
    client.raise_workflow_event(instance_id, "e", data="small")
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=10)
    assert json.loads(state.serialized_output) == ["small"]


def test_oversized_activity_result_fails_the_workflow_cleanly(client, engine):
    # The SDK turns RESOURCE_EXHAUSTED into a failed activity; the workflow reports it.
    size = engine._runtime.options.max_payload_bytes + 10
    instance_id = client.schedule_new_workflow(flows.make_big, input=size)
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=30)
    assert state.runtime_status == wf.WorkflowStatus.COMPLETED
    outcome = json.loads(state.serialized_output)
    assert outcome.startswith("caught") and "at most" in outcome


def test_missing_workflow_name(stub):
    code, details = code_of(lambda: stub.StartInstance(pb.CreateInstanceRequest(instanceId="x")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "name" in details


@pytest.mark.parametrize("instance_id", ["has space", "tab\there", "x" * 257])
def test_invalid_instance_ids(stub, instance_id):
    code, details = code_of(lambda: stub.StartInstance(pb.CreateInstanceRequest(instanceId=instance_id, name="chain")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT


def test_missing_event_name(stub, client, new_id):
    instance_id = new_id()
    client.schedule_new_workflow(flows.waiter, input={"name": "e"}, instance_id=instance_id)
    code, _ = code_of(lambda: stub.RaiseEvent(pb.RaiseEventRequest(instanceId=instance_id)))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    client.terminate_workflow(instance_id)


def test_enforce_unique_refuses_a_finished_id(stub, finished):
    request = pb.CreateInstanceRequest(instanceId=finished[0], name="chain", enforceUniqueInstanceId=True)
    code, _ = code_of(lambda: stub.StartInstance(request))
    assert code == grpc.StatusCode.ALREADY_EXISTS


def test_purge_without_target(stub):
    code, _ = code_of(lambda: stub.PurgeInstances(pb.PurgeInstancesRequest()))
    assert code == grpc.StatusCode.INVALID_ARGUMENT


def test_unsupported_rpc_is_unimplemented_not_a_hang(stub):
    code, details = code_of(
        lambda: stub.RerunWorkflowFromEvent(pb.RerunWorkflowFromEventRequest(sourceInstanceID="x"), timeout=5)
    )
    assert code == grpc.StatusCode.UNIMPLEMENTED
    assert "rerun" in details


def test_bad_continuation_token(stub):
    code, details = code_of(lambda: stub.ListInstanceIDs(pb.ListInstanceIDsRequest(continuationToken="garbage!")))
    assert code == grpc.StatusCode.INVALID_ARGUMENT
    assert "continuation token" in details


def test_stale_completion_tokens_are_rejected(stub):
    code, details = code_of(
        lambda: stub.CompleteActivityTask(pb.ActivityResponse(instanceId="x", taskId=1, completionToken="forged-1"))
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION
    code, _ = code_of(
        lambda: stub.CompleteOrchestratorTask(pb.WorkflowResponse(instanceId="x", completionToken="forged-2"))
    )
    assert code == grpc.StatusCode.FAILED_PRECONDITION


def test_admin_listing_filters_and_rejects_bad_filters(engine, client, new_id):
    marker = new_id("listed")
    for index in range(4):
        client.schedule_new_workflow(flows.chain, input=0, instance_id=f"{marker}-{index}")
    for index in range(4):
        client.wait_for_workflow_completion(f"{marker}-{index}", timeout_in_seconds=30)
    with EngineAdminClient(engine.address) as admin:
        since = datetime.now(timezone.utc) - timedelta(minutes=5)
        page = admin.list_instances(statuses=["completed"], name="chain", created_from=since, page_size=2)
        assert len(page.instances) == 2 and page.continuation_token
        assert all(item.status == "COMPLETED" and item.name == "chain" for item in page.instances)
        everything: list[str] = []
        token = None
        while True:
            page = admin.list_instances(name="chain", page_size=3, continuation_token=token)
            everything += [item.instance_id for item in page.instances]
            token = page.continuation_token
            if token is None:
                break
        assert {f"{marker}-{index}" for index in range(4)} <= set(everything)
        future = admin.list_instances(created_from=datetime.now(timezone.utc) + timedelta(days=1))
        assert future.instances == []
        for bad in ({"statuses": ["SLEEPING"]}, {"created_from": "yesterday"}, {"page_size": 0}):
            with pytest.raises(grpc.RpcError) as error:
                admin.list_instances(**bad)
            assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert admin.stats()["instances"] >= 4


def test_nothing_stored_was_damaged(engine, client, finished):
    instance_id, output, history_length = finished
    state = client.get_workflow_state(instance_id)
    assert state.serialized_output == output
    assert len(client.get_workflow_history(instance_id)) == history_length
    with sqlite3.connect(db_path(engine)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
