"""End-to-end tests: the official Dapr SDK (worker and client) against the embedded engine."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

import dapr.ext.workflow as wf
import grpc
import pytest

from . import sdk_workflows as flows

pytestmark = pytest.mark.integration

COMPLETED = wf.WorkflowStatus.COMPLETED


def run(client: wf.DaprWorkflowClient, workflow, value=None, instance_id=None, timeout=30):
    instance_id = client.schedule_new_workflow(workflow, input=value, instance_id=instance_id)
    return client.wait_for_workflow_completion(instance_id, timeout_in_seconds=timeout)


def wait_status(client, instance_id, status, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = client.get_workflow_state(instance_id)
        if state is not None and state.runtime_status == status:
            return state
        time.sleep(0.02)
    raise AssertionError(f"{instance_id} never reached {status}; last {state.runtime_status if state else None}")


# -- starting --------------------------------------------------------------------------------


def test_start_with_given_id_and_read_state(client, new_id):
    instance_id = new_id()
    state = run(client, flows.chain, 10, instance_id)
    assert state.instance_id == instance_id
    assert state.runtime_status == COMPLETED
    assert json.loads(state.serialized_input) == 10
    assert json.loads(state.serialized_output) == 15
    assert state.name == "chain"
    assert state.created_at <= state.last_updated_at
    assert state.failure_details is None


def test_start_generates_an_id(client):
    instance_id = client.schedule_new_workflow(flows.chain, input=0)
    assert len(instance_id) >= 16
    assert client.wait_for_workflow_completion(instance_id, timeout_in_seconds=30).runtime_status == COMPLETED


def test_duplicate_start_of_a_running_instance_is_refused(client, new_id):
    instance_id = new_id()
    client.schedule_new_workflow(flows.waiter, input={"name": "go"}, instance_id=instance_id)
    with pytest.raises(grpc.RpcError) as error:
        client.schedule_new_workflow(flows.waiter, input={"name": "go"}, instance_id=instance_id)
    assert error.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert instance_id in error.value.details()
    client.raise_workflow_event(instance_id, "go", data=1)
    assert client.wait_for_workflow_completion(instance_id, timeout_in_seconds=30).runtime_status == COMPLETED


def test_a_finished_id_can_be_reused(client, new_id):
    instance_id = new_id()
    assert json.loads(run(client, flows.chain, 1, instance_id).serialized_output) == 6
    second = run(client, flows.chain, 100, instance_id)
    assert json.loads(second.serialized_output) == 105
    history = client.get_workflow_history(instance_id)
    assert sum(1 for event in history if event.event_type.value == "executionStarted") == 1


def test_start_in_the_future_stays_pending_until_then(client, new_id):
    instance_id = new_id()
    start_at = datetime.now(timezone.utc) + timedelta(seconds=1.0)
    client.schedule_new_workflow(flows.chain, input=0, instance_id=instance_id, start_at=start_at)
    assert client.get_workflow_state(instance_id).runtime_status == wf.WorkflowStatus.PENDING
    with pytest.raises(TimeoutError):
        client.wait_for_workflow_start(instance_id, timeout_in_seconds=0.3)
    started = client.wait_for_workflow_start(instance_id, timeout_in_seconds=10)
    assert started.runtime_status in (wf.WorkflowStatus.RUNNING, COMPLETED)
    done = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=10)
    assert done.runtime_status == COMPLETED
    assert datetime.now(timezone.utc) >= start_at


# -- activities, retries, failures -------------------------------------------------------------


def test_fan_out_fan_in(client):
    state = run(client, flows.fan_out, 50)
    assert json.loads(state.serialized_output) == sum(range(1, 51))


def test_retry_policy_retries_until_success(client, new_id):
    key = new_id("flaky")
    state = run(client, flows.retried, {"key": key, "failures": 2, "max_attempts": 5})
    assert json.loads(state.serialized_output) == 3
    assert flows.CALLS[key] == 3


def test_retry_policy_gives_up_after_max_attempts(client, new_id):
    key = new_id("flaky")
    state = run(client, flows.retried, {"key": key, "failures": 10, "max_attempts": 3})
    assert json.loads(state.serialized_output).startswith("gave up")
    assert flows.CALLS[key] == 3


def test_activity_failure_fails_the_workflow_with_details(client):
    state = run(client, flows.failing, "disk on fire")
    assert state.runtime_status == wf.WorkflowStatus.FAILED
    assert state.failure_details is not None
    assert "disk on fire" in state.failure_details.message
    assert state.serialized_output is None


def test_activity_failure_can_be_caught(client):
    state = run(client, flows.catching, "nope")
    assert state.runtime_status == COMPLETED
    assert "nope" in json.loads(state.serialized_output)


# -- timers and events ---------------------------------------------------------------------------


def test_durable_timer_waits(client):
    started = time.monotonic()
    state = run(client, flows.sleeper, 300)
    assert state.runtime_status == COMPLETED
    assert time.monotonic() - started >= 0.3


def test_event_raised_after_the_wait_without_timeout(client, new_id):
    # The SDK creates a far-future "optional" timer for an indefinite wait: it must not overflow.
    instance_id = new_id()
    client.schedule_new_workflow(flows.waiter, input={"name": "approve"}, instance_id=instance_id)
    wait_status(client, instance_id, wf.WorkflowStatus.RUNNING)
    time.sleep(0.1)
    client.raise_workflow_event(instance_id, "approve", data={"by": "ann"})
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=10)
    assert json.loads(state.serialized_output) == [{"by": "ann"}]


def test_events_raised_before_the_wait_are_buffered_in_order(client, new_id):
    instance_id = new_id()
    start_at = datetime.now(timezone.utc) + timedelta(milliseconds=400)
    client.schedule_new_workflow(
        flows.waiter, input={"name": "item", "count": 3}, instance_id=instance_id, start_at=start_at
    )
    for value in ("a", "b", "c"):
        client.raise_workflow_event(instance_id, "item", data=value)
    time.sleep(0.1)
    assert client.get_workflow_state(instance_id).runtime_status == wf.WorkflowStatus.PENDING
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=10)
    assert json.loads(state.serialized_output) == ["a", "b", "c"]


def test_event_wait_with_timeout_expires(client):
    state = run(client, flows.waiter, {"name": "never", "timeout_ms": 200})
    assert json.loads(state.serialized_output) == ["timeout"]


def test_event_wait_with_timeout_receives_event(client, new_id):
    instance_id = new_id()
    client.schedule_new_workflow(flows.waiter, input={"name": "ok", "timeout_ms": 20000}, instance_id=instance_id)
    client.raise_workflow_event(instance_id, "ok", data=7)
    assert json.loads(client.wait_for_workflow_completion(instance_id, timeout_in_seconds=10).serialized_output) == [7]


def test_when_any_event_beats_timer(client, new_id):
    instance_id = new_id()
    client.schedule_new_workflow(flows.first_wins, instance_id=instance_id)
    client.raise_workflow_event(instance_id, "approve")
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=10)
    assert json.loads(state.serialized_output) == "approved"


def test_custom_status(client, new_id):
    instance_id = new_id()
    client.schedule_new_workflow(flows.status_setter, instance_id=instance_id)
    deadline = time.monotonic() + 10
    while (client.get_workflow_state(instance_id).serialized_custom_status or "") != 'step 1':
        assert time.monotonic() < deadline
        time.sleep(0.02)
    client.raise_workflow_event(instance_id, "next")
    client.raise_workflow_event(instance_id, "next")
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=10)
    assert state.serialized_custom_status == 'step 2'


# -- child workflows and continue-as-new -------------------------------------------------------


def test_child_workflow_results_and_failures_propagate(client, new_id):
    instance_id = new_id()
    state = run(client, flows.parent, [1, "fail", 41], instance_id)
    first, second, third = json.loads(state.serialized_output)
    assert (first, third) == (2, 42)
    assert second.startswith("child error") and "child failed" in second
    children = [client.get_workflow_state(f"{instance_id}-child-{index}") for index in range(3)]
    assert [c.runtime_status for c in children] == [COMPLETED, wf.WorkflowStatus.FAILED, COMPLETED]


def test_continue_as_new_loops_with_bounded_history(client, new_id):
    instance_id = new_id()
    state = run(client, flows.counter, {"n": 0, "until": 20}, instance_id)
    assert json.loads(state.serialized_output)["n"] == 20
    # Each execution starts a fresh history.
    assert len(client.get_workflow_history(instance_id)) < 10


def test_continue_as_new_with_save_events_keeps_raised_events(client, new_id):
    instance_id = new_id()
    start_at = datetime.now(timezone.utc) + timedelta(milliseconds=300)
    client.schedule_new_workflow(
        flows.counter,
        input={"n": 0, "until": 3, "wait_event": True, "save_events": True},
        instance_id=instance_id,
        start_at=start_at,
    )
    for tick in range(3):
        client.raise_workflow_event(instance_id, "tick", data=f"t{tick}")
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=10)
    assert json.loads(state.serialized_output)["seen"] == ["t0", "t1", "t2"]


# -- suspend, resume, terminate, purge ------------------------------------------------------------


def test_suspend_keeps_events_until_resume(client, new_id):
    instance_id = new_id()
    client.schedule_new_workflow(flows.waiter, input={"name": "go", "count": 2}, instance_id=instance_id)
    wait_status(client, instance_id, wf.WorkflowStatus.RUNNING)
    client.pause_workflow(instance_id)
    assert client.get_workflow_state(instance_id).runtime_status == wf.WorkflowStatus.SUSPENDED
    client.raise_workflow_event(instance_id, "go", data=1)
    client.raise_workflow_event(instance_id, "go", data=2)
    time.sleep(0.3)
    assert client.get_workflow_state(instance_id).runtime_status == wf.WorkflowStatus.SUSPENDED
    client.resume_workflow(instance_id)
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=10)
    assert json.loads(state.serialized_output) == [1, 2]


def test_terminate_is_recursive(client, new_id):
    instance_id = new_id()
    client.schedule_new_workflow(flows.parent_of_waiters, input=3, instance_id=instance_id)
    for index in range(3):
        wait_status(client, f"{instance_id}-c{index}", wf.WorkflowStatus.RUNNING)
    client.terminate_workflow(instance_id, output="stop")
    state = client.wait_for_workflow_completion(instance_id, timeout_in_seconds=10)
    assert state.runtime_status == wf.WorkflowStatus.TERMINATED
    for index in range(3):
        child = client.wait_for_workflow_completion(f"{instance_id}-c{index}", timeout_in_seconds=10)
        assert child.runtime_status == wf.WorkflowStatus.TERMINATED


def test_terminate_a_suspended_instance(client, new_id):
    instance_id = new_id()
    client.schedule_new_workflow(flows.waiter, input={"name": "x"}, instance_id=instance_id)
    wait_status(client, instance_id, wf.WorkflowStatus.RUNNING)
    client.pause_workflow(instance_id)
    client.terminate_workflow(instance_id)
    assert client.wait_for_workflow_completion(instance_id, timeout_in_seconds=5).runtime_status == wf.WorkflowStatus.TERMINATED


def test_purge_is_recursive_and_refuses_running_instances(client, new_id):
    instance_id = new_id()
    run(client, flows.parent, [1, 2], instance_id)
    running = new_id("running")
    client.schedule_new_workflow(flows.waiter, input={"name": "x"}, instance_id=running)
    with pytest.raises(grpc.RpcError) as error:
        client.purge_workflow(running)
    assert error.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    client.purge_workflow(instance_id)
    assert client.get_workflow_state(instance_id) is None
    assert client.get_workflow_state(f"{instance_id}-child-0") is None
    assert client.get_workflow_state(running) is not None
    client.terminate_workflow(running)


def test_wait_for_completion_times_out(client, new_id):
    instance_id = new_id()
    client.schedule_new_workflow(flows.waiter, input={"name": "x"}, instance_id=instance_id)
    with pytest.raises(TimeoutError):
        client.wait_for_workflow_completion(instance_id, timeout_in_seconds=0.3)
    client.terminate_workflow(instance_id)


# -- listing and history ---------------------------------------------------------------------------


def test_list_instance_ids_pages_through_everything(client, new_id):
    ids = {client.schedule_new_workflow(flows.chain, input=0, instance_id=new_id()) for _ in range(7)}
    seen: list[str] = []
    token = None
    while True:
        page = client.list_workflow_instance_ids(page_size=3, continuation_token=token)
        assert len(page.instance_ids) <= 3
        seen.extend(page.instance_ids)
        token = page.continuation_token
        if not token:
            break
    assert ids <= set(seen)
    assert len(seen) == len(set(seen))


def test_history_records_the_turns(client, new_id):
    instance_id = new_id()
    run(client, flows.chain, 0, instance_id)
    kinds = [event.event_type.value for event in client.get_workflow_history(instance_id)]
    assert kinds[:2] == ["workflowStarted", "executionStarted"]
    assert kinds.count("taskScheduled") == 5 and kinds.count("taskCompleted") == 5
    assert kinds[-1] == "executionCompleted"
