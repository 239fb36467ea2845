"""0.8 definitions compiled and run on the real embedded engine (declarative_wf.run, or an
engine + worker + client when a test raises events).

Runs that differ only in data (definition, input, expected end) are rows of :data:`CASES`;
runs that also check the calls the activities saw, or their timing, are tests of their own."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from declarative_wf.runner import InvalidInputError, MissingActivityError

from .activities import CALLS
from .helpers import definition, run_definition, write

pytestmark = pytest.mark.integration


@dataclass(frozen=True)
class Case:
    """One run: the definition (``id`` + ``body``), its input and how it must end."""

    id: str
    body: str
    input: Any = None
    output: Any = None  # checked when the run completes
    status: str = "COMPLETED"
    error: str | None = None  # the error type a failed run must report
    detail: str | None = None  # a piece of the failed run's error detail
    files: dict[str, str] = field(default_factory=dict)  # other definitions next to it
    seconds: tuple[float, float] = (0.0, math.inf)  # bounds of the run's wall-clock time


SWITCH = """\
functions:
  - name: isAdult
    type: expression
    operation: '.age >= 18'
states:
  - name: Decide
    type: switch
    dataConditions:
      - name: adult
        condition: "${ fn:isAdult }"
        transition: Approve
      - condition: "${ .age >= 16 }"
        end: true
    defaultCondition:
      transition: Reject
  - name: Approve
    type: inject
    data: { decision: approved }
    end: true
  - name: Reject
    type: inject
    data: { decision: rejected }
    end: true
"""

PARALLEL = """\
functions:
  - { name: slowEcho, type: custom, operation: echo }
states:
  - name: Fan
    type: parallel
    completionType: {completion}
    branches:
      - name: fast
        actions:
          - functionRef: { refName: slowEcho, arguments: { seconds: 0, value: { fast: true } } }
      - name: slow
        actions:
          - functionRef: { refName: slowEcho, arguments: { seconds: 1.5, value: { slow: true } } }
    end: true
"""

# A state (and a workflow with runBefore) under a time limit that fails does so with its own
# error, right away: it does not sit out the limit and turn into a Timeout (nor run runBefore,
# which is for the time running out).
LIMITED_PAY = """\
functions:
  - { name: chargeCard, type: custom, operation: charge }
states:
  - name: Pay
    type: operation
    timeouts: { stateExecTimeout: PT30S }
    actions:
      - functionRef: { refName: chargeCard, arguments: { amount: 1000 } }
    end: true
"""

CASES = [
    # The spec's Data Merging: objects merge key by key (the result wins), arrays add the
    # elements they do not have yet.
    Case(
        "results-merge-deeply-into-state-data",
        """\
functions:
  - name: payload
    type: expression
    operation: '{customer: {name: "John", zip: "54321"}, tags: ["b", "c"]}'
states:
  - name: Merge
    type: operation
    actions:
      - functionRef: payload
    end: true
""",
        {"customer": {"name": "Jon", "address": "1234 street", "zip": "12345"}, "tags": ["a", "b"]},
        {"customer": {"name": "John", "address": "1234 street", "zip": "54321"}, "tags": ["a", "b", "c"]},
    ),
    Case(
        "operation-parallel-actions",
        """\
functions:
  - { name: slowEcho, type: custom, operation: echo }
  - { name: addFunction, type: custom, operation: add }
states:
  - name: Both
    type: operation
    actionMode: parallel
    actions:
      - functionRef: { refName: slowEcho, arguments: { seconds: 0.3, value: { echoed: true } } }
      - functionRef: { refName: addFunction, arguments: { a: "${ .x }", b: 2 } }
        actionDataFilter: { toStateData: "${ .sum }" }
      - functionRef: { refName: addFunction, arguments: { a: 1, b: 1 } }
        actionDataFilter: { useResults: false }
    end: true
""",
        {"x": 40},
        {"x": 40, "echoed": True, "sum": 42},
    ),
    Case("switch-data-condition-by-function", SWITCH, {"age": 30}, {"age": 30, "decision": "approved"}),
    Case("switch-data-condition-ends", SWITCH, {"age": 17}, {"age": 17}),
    Case("switch-default-condition", SWITCH, {"age": 3}, {"age": 3, "decision": "rejected"}),
    Case(
        "sleep-and-inject",
        """\
states:
  - name: Nap
    type: sleep
    duration: PT1S
    transition: Fill
  - name: Fill
    type: inject
    data: { filled: true, nested: { a: 1 } }
    stateDataFilter: { output: "${ {filled, nested, was: .was} }" }
    end: true
""",
        {"was": "here", "nested": {"b": 2}},
        {"filled": True, "nested": {"a": 1, "b": 2}, "was": "here"},
        seconds=(1.0, math.inf),
    ),
    Case(
        "parallel-state-all-of",
        PARALLEL.replace("{completion}", "allOf"),
        {"n": 1},
        {"n": 1, "fast": True, "slow": True},
    ),
    Case(
        "parallel-state-at-least-one",
        PARALLEL.replace("{completion}", "atLeast\n    numCompleted: 1"),
        {"n": 2},
        {"n": 2, "fast": True},
    ),
    Case(
        "foreach-collects-outputs",
        """\
constants:
  offset: 100
functions:
  - { name: squareFunction, type: custom, operation: square }
states:
  - name: Squares
    type: foreach
    inputCollection: "${ .numbers }"
    iterationParam: "${ .n }"
    outputCollection: "${ .squares }"
    batchSize: 2
    actions:
      - functionRef: { refName: squareFunction, arguments: { n: "${ .n + $CONST.offset - 100 }" } }
        actionDataFilter: { results: "${ {square: ., of: .} | .square }" }
    stateDataFilter: { output: "${ {squares} }" }
    end: true
""",
        {"numbers": [1, 2, 3, 4]},
        {"squares": [1, 4, 9, 16]},
    ),
    Case(
        "unhandled-error-fails-the-workflow",
        """\
functions:
  - { name: chargeCard, type: custom, operation: charge }
errors:
  - { name: Unrelated, code: SomethingElse }
states:
  - name: Charge
    type: operation
    actions:
      - functionRef: { refName: chargeCard, arguments: { amount: 500 } }
    onErrors:
      - errorRef: Unrelated
        end: true
    end: true
""",
        status="FAILED",
        error="OutOfStock",
        detail="not enough credit",
    ),
    Case(
        "subflow-next-to-the-definition",
        """\
states:
  - name: Call child
    type: operation
    actions:
      - subFlowRef: doubler
        actionDataFilter: { fromStateData: "${ {n: .value} }", results: "${ .doubled }", toStateData: "${ .result }" }
    end: true
""",
        {"value": 21},
        {"value": 21, "result": 42},
        files={
            "child.sw.json": """\
    {"id": "doubler", "specVersion": "0.8", "start": "Double",
     "functions": [{"name": "addFunction", "type": "custom", "operation": "add"}],
     "states": [{"name": "Double", "type": "operation",
                 "actions": [{"functionRef": {"refName": "addFunction", "arguments": {"a": "${ .n }", "b": "${ .n }"}},
                              "actionDataFilter": {"toStateData": "${ .doubled }"}}],
                 "end": true}]}
    """
        },
    ),
    Case(
        "action-timeout-is-an-error-on-errors-can-handle",
        """\
functions:
  - { name: slowEcho, type: custom, operation: echo }
errors:
  - { name: Too slow, code: Timeout }
states:
  - name: Slow
    type: operation
    timeouts: { actionExecTimeout: PT0.5S }
    actions:
      - functionRef: { refName: slowEcho, arguments: { seconds: 3, value: late } }
    onErrors:
      - errorRef: Too slow
        transition: Late
    end: true
  - name: Late
    type: inject
    data: { late: true }
    end: true
""",
        output={"late": True},
    ),
    Case(
        "state-exec-timeout",
        """\
functions:
  - { name: slowEcho, type: custom, operation: echo }
states:
  - name: Slow
    type: operation
    timeouts: { stateExecTimeout: PT0.5S }
    actions:
      - functionRef: { refName: slowEcho, arguments: { seconds: 0.2, value: { a: 1 } } }
      - functionRef: { refName: slowEcho, arguments: { seconds: 3, value: { b: 1 } } }
    end: true
""",
        status="FAILED",
        error="Timeout",
    ),
    Case(
        "error-inside-a-state-time-limit-fails-at-once-as-itself",
        LIMITED_PAY,
        status="FAILED",
        error="OutOfStock",
        seconds=(0.0, 20.0),
    ),
    Case(
        "error-inside-a-workflow-time-limit-fails-at-once-as-itself",
        "timeouts: { workflowExecTimeout: { duration: PT30S, runBefore: Cleanup } }\n"
        + LIMITED_PAY
        + "  - { name: Cleanup, type: inject, data: { cleaned: true }, end: true }\n",
        status="FAILED",
        error="OutOfStock",
        seconds=(0.0, 20.0),
    ),
    Case(
        "workflow-exec-timeout",
        """\
timeouts: { workflowExecTimeout: PT1S }
states:
  - { name: Long nap, type: sleep, duration: PT30S, end: true }
""",
        status="FAILED",
        error="Timeout",
    ),
    Case(
        "workflow-exec-timeout-run-before",
        """\
timeouts:
  workflowExecTimeout: { duration: PT1S, runBefore: Cleanup }
states:
  - name: Long nap
    type: sleep
    duration: PT30S
    end: true
  - name: Cleanup
    type: inject
    data: { cleaned: true }
    end: true
""",
        {"id": 1},
        {"id": 1, "cleaned": True},
    ),
    Case(
        "continue-as-runs-the-next-workflow",
        """\
states:
  - name: Start
    type: inject
    data: { first: true }
    end:
      continueAs:
        workflowId: next-step
        data: "${ {n: (.n + 1), first} }"
""",
        {"n": 1},
        {"n": 2, "first": True, "second": True},
        files={
            "next.sw.yaml": definition(
                "next-step",
                """\
states:
  - { name: Done, type: inject, data: { second: true }, end: true }
""",
            )
        },
    ),
    Case(
        "input-schema-accepts-a-valid-input",
        """\
dataInputSchema:
  schema: { type: object, required: [ order ], properties: { order: { type: integer } } }
states:
  - { name: Ok, type: inject, data: { ok: true }, end: true }
""",
        {"order": 1},
        {"order": 1, "ok": True},
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_runs_to_the_expected_end(tmp_path: Path, case: Case) -> None:
    for name, text in case.files.items():
        write(tmp_path, name, text)
    began = time.monotonic()
    result = run_definition(tmp_path, case.id, case.body, case.input)
    took = time.monotonic() - began
    assert result.status == case.status, result
    if case.error is None:
        assert result.output == case.output, result
    else:
        assert result.error is not None and result.error["type"] == case.error, result.error
        assert case.detail is None or case.detail in result.error["detail"], result.error
    low, high = case.seconds
    assert low <= took < high, took


def test_operation_sequential_actions_and_filters(tmp_path: Path) -> None:
    result = run_definition(
        tmp_path,
        "greeting",
        """\
functions:
  - name: greetingFunction
    type: custom
    operation: greet
  - name: shout
    type: expression
    operation: '.greeting | ascii_upcase'
states:
  - name: Greet
    type: operation
    stateDataFilter:
      input: "${ {person: .person, keep: .keep} }"
      output: "${ {message: .message, loud: .loud, keep: .keep} }"
    actions:
      - functionRef:
          refName: greetingFunction
          arguments:
            name: "${ .person.name }"
            note: "for ${ .person.name } (${ .person.age })"
        actionDataFilter:
          results: "${ .greeting }"
          toStateData: "${ .message }"
      - functionRef: shout
        actionDataFilter:
          fromStateData: "${ {greeting: .message} }"
          toStateData: "${ .loud }"
      - functionRef: { refName: greetingFunction, arguments: { name: again } }
        actionDataFilter:
          useResults: false
    end: true
""",
        {"person": {"name": "Ann", "age": 41}, "keep": [1], "dropped": True},
    )
    assert result.status == "COMPLETED", result
    assert result.output == {"message": "Hello Ann", "loud": "HELLO ANN", "keep": [1]}
    assert CALLS["greet"][-2] == {"name": "Ann", "note": "for Ann (41)"}


def test_retries_with_backoff(tmp_path: Path) -> None:
    CALLS["flaky:backoff"].clear()
    result = run_definition(
        tmp_path,
        "retrying",
        """\
functions:
  - { name: flakyService, type: custom, operation: flaky }
errors:
  - { name: Service not available, code: ServiceNotAvailable }
retries:
  - name: Backoff
    delay: PT0.3S
    multiplier: 2
    maxAttempts: 4
states:
  - name: Call
    type: operation
    actions:
      - functionRef: { refName: flakyService, arguments: { tag: backoff, fail_times: 2 } }
        retryRef: Backoff
        retryableErrors: [ Service not available ]
    end: true
""",
    )
    assert result.status == "COMPLETED", result
    assert result.output == {"attempts": 3}
    times = CALLS["flaky:backoff"]
    assert len(times) == 3
    assert times[1] - times[0] >= 0.3 and times[2] - times[1] >= 0.6  # PT0.3S, then × 2


def test_retries_stop_at_max_attempts_then_on_errors(tmp_path: Path) -> None:
    CALLS["flaky:exhaust"].clear()
    result = run_definition(
        tmp_path,
        "exhausted",
        """\
functions:
  - { name: flakyService, type: custom, operation: flaky }
errors:
  - { name: Service not available, code: ServiceNotAvailable }
retries:
  - { name: Twice, delay: PT0.1S, maxAttempts: 2 }
states:
  - name: Call
    type: operation
    actions:
      - functionRef: { refName: flakyService, arguments: { tag: exhaust, fail_times: 5 } }
        retryRef: Twice
    onErrors:
      - errorRef: Service not available
        transition: Fallback
    end: true
  - name: Fallback
    type: inject
    data: { fallback: true }
    end: true
""",
        {"order": 7},
    )
    assert result.output == {"order": 7, "fallback": True}
    assert len(CALLS["flaky:exhaust"]) == 2  # maxAttempts counts the first attempt


def test_compensation_on_error(tmp_path: Path) -> None:
    CALLS["undo"].clear()
    result = run_definition(
        tmp_path,
        "saga",
        """\
functions:
  - { name: reserveItem, type: custom, operation: reserve }
  - { name: chargeCard, type: custom, operation: charge }
  - { name: undoReservation, type: custom, operation: undo }
errors:
  - { name: Declined, code: OutOfStock }
states:
  - name: Reserve
    type: operation
    actions:
      - functionRef: { refName: reserveItem, arguments: { item: "${ .item }" } }
    compensatedBy: Unreserve
    transition: Charge
  - name: Charge
    type: operation
    actions:
      - functionRef: { refName: chargeCard, arguments: { amount: "${ .amount }" } }
    onErrors:
      - errorRef: Declined
        transition:
          nextState: Cancelled
          compensate: true
    end: true
  - name: Unreserve
    type: operation
    usedForCompensation: true
    actions:
      - functionRef: { refName: undoReservation, arguments: { item: "${ .reserved }" } }
    end: true
  - name: Cancelled
    type: inject
    data: { cancelled: true }
    end: true
""",
        {"item": "book", "amount": 500},
    )
    assert result.status == "COMPLETED", result
    assert result.output == {
        "item": "book",
        "amount": 500,
        "reserved": "book",
        "cancelled": True,
    }
    assert CALLS["undo"][-1] == {"item": "book"}


def test_end_with_compensate_and_terminate(tmp_path: Path) -> None:
    CALLS["undo"].clear()
    result = run_definition(
        tmp_path,
        "saga-end",
        """\
functions:
  - { name: reserveItem, type: custom, operation: reserve }
  - { name: undoReservation, type: custom, operation: undo }
states:
  - name: Reserve
    type: operation
    actions:
      - functionRef: { refName: reserveItem, arguments: { item: pen } }
    compensatedBy: Unreserve
    transition: Done
  - name: Done
    type: inject
    data: { done: true }
    end: { compensate: true, terminate: true }
  - name: Unreserve
    type: inject
    usedForCompensation: true
    data: { unused: true }
    transition: UndoCall
  - name: UndoCall
    type: operation
    usedForCompensation: true
    actions:
      - functionRef: { refName: undoReservation, arguments: { item: "${ .reserved }", unused: "${ .unused }" } }
    end: true
""",
    )
    assert result.output == {"reserved": "pen", "done": True}
    assert CALLS["undo"] == [{"item": "pen", "unused": True}]


def test_missing_activity_names_the_definition(tmp_path: Path) -> None:
    with pytest.raises(MissingActivityError) as raised:
        run_definition(
            tmp_path,
            "missing",
            """\
functions:
  - { name: nowhere, type: custom, operation: nowhere }
states:
  - name: Call
    type: operation
    actions: [ { functionRef: nowhere } ]
    end: true
""",
        )
    assert "wf.sw.yaml:9:" in str(raised.value) and "'nowhere'" in str(raised.value)


def test_auto_retries(tmp_path: Path) -> None:
    CALLS["flaky:auto"].clear()
    result = run_definition(
        tmp_path,
        "auto",
        """\
autoRetries: true
functions:
  - { name: flakyService, type: custom, operation: flaky }
  - { name: chargeCard, type: custom, operation: charge }
errors:
  - { name: Declined, code: OutOfStock }
states:
  - name: Call
    type: operation
    actions:
      - functionRef: { refName: flakyService, arguments: { tag: auto, fail_times: 1 } }
      - functionRef: { refName: chargeCard, arguments: { amount: 500 } }
        nonRetryableErrors: [ Declined ]
    onErrors: [ { errorRef: Declined, end: true } ]
    end: true
""",
    )
    assert (result.status, result.output) == ("COMPLETED", None), result
    assert len(CALLS["flaky:auto"]) == 2  # the default strategy retried once, after 1 s
    assert CALLS["flaky:auto"][1] - CALLS["flaky:auto"][0] >= 1.0


def test_foreach_sequential_with_conditions(tmp_path: Path) -> None:
    CALLS["add"].clear()
    result = run_definition(
        tmp_path,
        "transactions",
        """\
constants: { large: 100 }
functions:
  - { name: addFunction, type: custom, operation: add }
states:
  - name: Process
    type: foreach
    mode: sequential
    inputCollection: "${ .amounts }"
    iterationParam: amount
    outputCollection: "${ .processed }"
    actions:
      - name: large
        condition: "${ .amount >= $CONST.large }"
        functionRef: { refName: addFunction, arguments: { a: "${ $amount }", b: 1000 } }
        actionDataFilter: { toStateData: "${ .large }" }
      - name: small
        condition: "${ .amount < $CONST.large }"
        functionRef: { refName: addFunction, arguments: { a: "${ .amount }", b: 1 } }
        actionDataFilter: { toStateData: "${ .small }" }
    stateDataFilter: { output: "${ .processed | map(del(.amounts, .processed)) }" }
    end: true
""",
        {"amounts": [5, 500, 7]},
    )
    assert result.status == "COMPLETED", result
    assert result.output == [
        {"amount": 5, "small": 6},
        {"amount": 500, "large": 1500},
        {"amount": 7, "small": 8},
    ]
    assert [call["a"] for call in CALLS["add"]] == [5, 500, 7]  # one at a time, in order


def test_input_schema_is_checked_before_starting(tmp_path: Path) -> None:
    """The valid input runs (a row of :data:`CASES`); an invalid one is refused before any
    instance starts, naming the offending field."""
    typed = next(case for case in CASES if case.id == "input-schema-accepts-a-valid-input")
    with pytest.raises(InvalidInputError) as raised:
        run_definition(tmp_path, "typed", typed.body, {"order": "one"})
    assert "/order" in str(raised.value)
