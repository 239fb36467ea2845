"""0.8 events on the real engine: event states, callbacks, event-based switches, and events
produced by one instance and consumed by another through the engine's CloudEvents bus."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from .activities import CALLS
from .helpers import definition, session, write

pytestmark = pytest.mark.integration

# -- events -------------------------------------------------------------------------------------

EVENTS = """\
events:
  - { name: Approved, type: org.approvals.approved, source: approvals }
  - { name: Rejected, type: org.approvals.rejected, source: approvals }
  - { name: JobDone, type: org.jobs.done, source: jobs }
"""


def test_event_state_and_callback(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "events.sw.yaml",
        definition(
            "eventful",
            EVENTS
            + """\
functions:
  - { name: greetingFunction, type: custom, operation: greet }
  - { name: startJob, type: custom, operation: start }
states:
  - name: Wait approval
    type: event
    onEvents:
      - eventRefs: [ Approved ]
        eventDataFilter: { data: "${ .by }", toStateData: "${ .approver }" }
        actions:
          - functionRef: { refName: greetingFunction, arguments: { name: "${ .approver }" } }
            actionDataFilter: { results: "${ .greeting }", toStateData: "${ .greeting }" }
    transition: Run job
  - name: Run job
    type: callback
    action:
      functionRef: { refName: startJob, arguments: { what: report } }
      actionDataFilter: { toStateData: "${ .started }" }
    eventRef: JobDone
    eventDataFilter: { toStateData: "${ .job }" }
    timeouts: { eventTimeout: PT20S }
    end: true
""",
        ),
    )
    with session(tmp_path) as running:
        instance = running.start(path, {"order": 1})
        running.raise_event(instance, "org.approvals.approved", {"by": "ann"})
        deadline = time.monotonic() + 20
        while not CALLS["start_job"] and time.monotonic() < deadline:
            time.sleep(0.05)
        running.raise_event(instance, "org.jobs.done", {"status": "done"})
        status, output, error = running.wait(instance)
    assert status == "COMPLETED", (status, error)
    assert output == {
        "order": 1, "approver": "ann", "greeting": "Hello ann",
        "started": {"job": "J-1"}, "job": {"status": "done"},
    }  # fmt: skip


@pytest.mark.parametrize(
    ("id", "states", "value", "raised", "expected"),
    [
        pytest.param(
            "exclusive",
            """\
states:
  - name: Decision
    type: event
    onEvents:
      - eventRefs: [ Approved ]
        eventDataFilter: { toStateData: "${ .approved }" }
      - eventRefs: [ Rejected ]
        eventDataFilter: { toStateData: "${ .rejected }" }
    end: true
""",
            {},
            [("org.approvals.rejected", {"why": "no"})],
            {"rejected": {"why": "no"}},
            id="event-state-exclusive-takes-the-first-event",
        ),
        pytest.param(
            "all-events",
            """\
states:
  - name: Both
    type: event
    exclusive: false
    onEvents:
      - eventRefs: [ Approved ]
        eventDataFilter: { toStateData: "${ .a }" }
      - eventRefs: [ JobDone ]
        eventDataFilter: { data: "${ .status }", toStateData: "${ .b }" }
    end: true
""",
            {},
            [("org.jobs.done", {"status": "ok"}), ("org.approvals.approved", {"by": "bo"})],
            {"a": {"by": "bo"}, "b": "ok"},
            id="event-state-not-exclusive-waits-for-all",
        ),
        pytest.param(
            "no-event",
            """\
errors:
  - { name: No answer, code: Timeout }
states:
  - name: Wait
    type: event
    timeouts: { eventTimeout: PT0.5S }
    onEvents:
      - eventRefs: [ Approved ]
    onErrors: [ { errorRef: No answer, transition: Route } ]
    end: true
  - name: Route
    type: switch
    stateDataFilter: { input: "${ {n: .n} }", output: "${ {routed: .n} }" }
    dataConditions:
      - { condition: "${ .n > 1 }", end: true }
    defaultCondition: { end: true }
""",
            {"n": 5, "other": 1},
            [],  # none: the event state times out
            {"routed": 5},
            id="event-state-timeout-is-an-error-and-switch-filters-apply",
        ),
    ],
)
def test_event_states_end_with_the_events_raised(
    tmp_path: Path,
    id: str,
    states: str,
    value: Any,
    raised: list[tuple[str, Any]],
    expected: Any,
) -> None:
    """One instance of :data:`EVENTS` + ``states``, the events raised to it in this order."""
    path = write(tmp_path, f"{id}.sw.yaml", definition(id, EVENTS + states))
    with session(tmp_path) as running:
        instance = running.start(path, value)
        for event_type, data in raised:
            running.raise_event(instance, event_type, data)
        assert running.wait(instance)[:2] == ("COMPLETED", expected)


def test_switch_on_events_and_event_timeout(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "switch.sw.yaml",
        definition(
            "switch-events",
            EVENTS
            + """\
states:
  - name: Wait decision
    type: switch
    eventConditions:
      - eventRef: Approved
        eventDataFilter: { toStateData: "${ .decision }" }
        transition: Ok
      - eventRef: Rejected
        end: true
    defaultCondition:
      transition: Expired
    timeouts: { eventTimeout: PT1S }
  - name: Ok
    type: inject
    data: { ok: true }
    end: true
  - name: Expired
    type: inject
    data: { expired: true }
    end: true
""",
        ),
    )
    with session(tmp_path) as running:
        approved = running.start(path, {"n": 1})
        running.raise_event(approved, "org.approvals.approved", {"by": "cy"})
        expired = running.start(path, {"n": 2})
        assert running.wait(approved)[:2] == (
            "COMPLETED",
            {"n": 1, "decision": {"by": "cy"}, "ok": True},
        )
        assert running.wait(expired)[:2] == ("COMPLETED", {"n": 2, "expired": True})


def test_produce_and_consume_events_through_the_bus(tmp_path: Path) -> None:
    """An eventRef action publishes a request and waits for the reply; another instance waits
    for the request (subscribed on the bus) and produces the reply when it ends."""
    responder = write(
        tmp_path,
        "responder.sw.yaml",
        definition(
            "responder",
            """\
events:
  - { name: Request, type: org.example.request, source: asker }
  - { name: Reply, type: org.example.reply, source: responder, kind: produced }
states:
  - name: Respond
    type: event
    onEvents:
      - eventRefs: [ Request ]
        eventDataFilter: { toStateData: "${ .request }" }
    end:
      produceEvents:
        - eventRef: Reply
          data: "${ {answer: (.request.q * 2)} }"
          contextAttributes: { subject: answers }
""",
        ),
    )
    asker = write(
        tmp_path,
        "asker.sw.yaml",
        definition(
            "asker",
            """\
events:
  - { name: Request, type: org.example.request, source: asker, kind: produced }
  - { name: Reply, type: org.example.reply, source: responder }
states:
  - name: Ask
    type: operation
    actions:
      - eventRef:
          triggerEventRef: Request
          resultEventRef: Reply
          resultEventTimeout: PT20S
          data: "${ {q: .q} }"
        actionDataFilter: { toStateData: "${ .reply }" }
    end: true
""",
        ),
    )
    with session(tmp_path) as running:
        answering = running.start(responder, {})
        running.wait_subscribed("org.example.request")
        asking = running.start(asker, {"q": 21})
        assert running.wait(asking)[:2] == (
            "COMPLETED",
            {"q": 21, "reply": {"answer": 42}},
        )
        assert running.wait(answering)[:2] == ("COMPLETED", {"request": {"q": 21}})
        events = {event["type"]: event for event in running.published()}
    assert events["org.example.reply"]["source"] == "responder"
    assert events["org.example.reply"]["subject"] == "answers"
    assert events["org.example.request"]["data"] == {"q": 21}
