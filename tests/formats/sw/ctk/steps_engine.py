"""Steps of our own features that drive the engine's event bus and scheduler: publishing
events, waiting for listeners, schedules, lifecycle events. Registered into
:data:`steps.STEPS` on import (``steps`` imports this module at its end)."""

from __future__ import annotations

import re
import time
import uuid
from typing import Any

from .steps import StepFailure, World, json_equal, show, step, yaml_value


def _bus(world: World) -> Any:
    from declarative_wf.engine.events_service import EventBusClient

    return EventBusClient(world.harness.engine.address)


@step(r"the workflow is listening")
def when_listening(world: World, where: str) -> None:
    """Waits until the instance subscribed to the bus (an event published earlier would not
    reach it: the bus matches events against the subscriptions that exist when they arrive)."""
    if world.instance_id is None:
        raise StepFailure(f"{where}: start the workflow first ('When the workflow is started')")
    deadline = time.monotonic() + 20
    with _bus(world) as bus:
        while time.monotonic() < deadline:
            if any(sub.get("instance_id") == world.instance_id for sub in bus.subscriptions()):
                return
            if world.harness.state(world.instance_id) in ("COMPLETED", "FAILED", "TERMINATED"):
                raise StepFailure(f"{where}: the workflow ended before it listened")
            time.sleep(0.05)
    raise StepFailure(f"{where}: the workflow did not subscribe to any event within 20 s")


@step(r"(?:an )?event is published:", doc=True)
def when_event_published(world: World, doc: str, where: str) -> None:
    """Publishes a CloudEvent (``specversion``, ``id`` and ``source`` filled in when absent) on
    the engine's bus, after the started workflow (if any) listens."""

    event = yaml_value(doc, where)
    if not isinstance(event, dict) or "type" not in event:
        raise StepFailure(f"{where}: the event must be a mapping with at least a type")
    event = {"specversion": "1.0", "id": uuid.uuid4().hex, "source": "/tests/ctk", **event}
    if world.instance_id is not None and world.outcome is None:
        when_listening(world, where)
    with _bus(world) as bus:
        bus.publish(event)


@step(r"the workflow is scheduled(?: for (\d+(?:\.\d+)?) seconds?)?")
def when_scheduled(world: World, seconds: str | None, where: str) -> None:
    """Runs the embedded scheduler for the definition (its ``schedule``): for N seconds, or
    until the scenario ends."""
    from declarative_wf.api.scheduler import embedded_scheduler

    if world.workflow is None:
        raise StepFailure(f"{where}: no definition given")
    world.scheduler = embedded_scheduler(world.harness.engine.address, [world.workflow])
    world.scheduler.__enter__()
    if seconds is not None:
        time.sleep(float(seconds))
        stop_scheduler(world)


@step(r"the schedule is listening")
def when_schedule_listening(world: World, where: str) -> None:
    """Waits until the scheduler subscribed to the bus for a ``schedule.on`` definition."""
    assert world.workflow is not None
    wanted = f"schedule:{world.workflow.name}"
    deadline = time.monotonic() + 20
    with _bus(world) as bus:
        while time.monotonic() < deadline:
            if any(sub.get("kind") == "queue" and sub.get("id") == wanted for sub in bus.subscriptions()):
                return
            time.sleep(0.05)
    raise StepFailure(f"{where}: the scheduler did not subscribe to the bus within 20 s")


def stop_scheduler(world: World) -> None:
    if world.scheduler is not None:
        world.scheduler.__exit__(None, None, None)
        world.scheduler = None


def scheduled_instances(world: World) -> list[str]:
    """Ids of the instances the scheduler started for this scenario's workflow."""
    from declarative_wf.client import WorkflowClient

    assert world.workflow is not None
    prefix = f"{world.workflow.name}-"
    found: list[str] = []
    with WorkflowClient(world.harness.engine.address) as client:
        token = None
        while True:
            page = client.list(page_size=500, continuation_token=token)
            found += [i.instance_id for i in page.instances if i.instance_id.startswith(prefix)]
            token = page.continuation_token
            if not token:
                return sorted(found)


@step(r"the schedule should have started at least (\d+) instances?")
def then_scheduled_count(world: World, count: str, where: str) -> None:
    started = scheduled_instances(world)
    if len(started) < int(count):
        raise StepFailure(f"{where}: the schedule started {len(started)} instance(s): {started}")


@step(r"a scheduled instance should complete with output:", doc=True)
def then_scheduled_output(world: World, doc: str, where: str) -> None:
    assert world.workflow is not None
    expected = yaml_value(doc, where)
    deadline = time.monotonic() + 20
    seen: list[Any] = []
    while time.monotonic() < deadline:
        for instance_id in scheduled_instances(world):
            outcome = world.harness.wait(world.workflow, instance_id, timeout=10)
            if outcome.status == "COMPLETED" and json_equal(outcome.output, expected):
                return
            seen.append((instance_id, outcome.status, outcome.output, outcome.error))
        time.sleep(0.2)
    raise StepFailure(f"{where}: no scheduled instance completed with {show(expected)}; seen {show(seen[-5:])}")


LIFECYCLE_PREFIX = "io.serverlessworkflow."


@step(r"the lifecycle events of the workflow should include (.+)")
def then_lifecycle(world: World, names: str, where: str) -> None:
    """``'workflow.started', 'task.completed'``: these types (``io.serverlessworkflow.<x>.v1``)
    were published for the instance, in this order (others may come between)."""
    wanted = re.findall(r"'([^']*)'", names)
    instance = world.result().instance_id
    seen: list[str] = []
    deadline = time.monotonic() + 10  # they are published from a background thread
    with _bus(world) as bus:
        while time.monotonic() < deadline:
            seen = [
                event["type"][len(LIFECYCLE_PREFIX):].removesuffix(".v1")
                for event in bus.recent(1000)
                if event.get("subject") == instance and str(event.get("type", "")).startswith(LIFECYCLE_PREFIX)
            ]
            remaining = iter(seen)
            if all(name in remaining for name in wanted):  # an ordered subsequence
                return
            time.sleep(0.1)
    raise StepFailure(f"{where}: expected lifecycle events {wanted} in this order, the bus has {seen}")
