"""0.8 definitions compiled and run on the real embedded engine (declarative_wf.run, or an
engine + worker + client when a test raises events)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from declarative_wf.runner import MissingActivityError

from .activities import CALLS
from .helpers import run_text, write

pytestmark = pytest.mark.integration

HEAD = """\
id: {id}
version: '1.0'
specVersion: '0.8'
"""


def test_operation_sequential_actions_and_filters(tmp_path: Path) -> None:
    result = run_text(
        tmp_path,
        HEAD.format(id="greeting")
        + """\
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


def test_results_merge_deeply_into_state_data(tmp_path: Path) -> None:
    """The spec's Data Merging: objects merge key by key (the result wins), arrays add the
    elements they do not have yet."""
    result = run_text(
        tmp_path,
        HEAD.format(id="merging")
        + """\
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
        {
            "customer": {"name": "Jon", "address": "1234 street", "zip": "12345"},
            "tags": ["a", "b"],
        },
    )
    assert result.output == {
        "customer": {"name": "John", "address": "1234 street", "zip": "54321"},
        "tags": ["a", "b", "c"],
    }


def test_operation_parallel_actions(tmp_path: Path) -> None:
    result = run_text(
        tmp_path,
        HEAD.format(id="par-actions")
        + """\
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
    )
    assert result.status == "COMPLETED", result
    assert result.output == {"x": 40, "echoed": True, "sum": 42}


def test_switch_data_conditions_and_default(tmp_path: Path) -> None:
    text = (
        HEAD.format(id="decide")
        + """\
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
    )
    assert run_text(tmp_path, text, {"age": 30}).output == {
        "age": 30,
        "decision": "approved",
    }
    assert run_text(tmp_path, text, {"age": 17}).output == {"age": 17}
    assert run_text(tmp_path, text, {"age": 3}).output == {
        "age": 3,
        "decision": "rejected",
    }


def test_sleep_and_inject(tmp_path: Path) -> None:
    started = time.monotonic()
    result = run_text(
        tmp_path,
        HEAD.format(id="sleepy")
        + """\
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
    )
    assert result.output == {"filled": True, "nested": {"a": 1, "b": 2}, "was": "here"}
    assert time.monotonic() - started >= 1.0


def test_parallel_state_all_and_at_least_one(tmp_path: Path) -> None:
    text = (
        HEAD.format(id="parallel")
        + """\
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
    )
    every = run_text(tmp_path, text.replace("{completion}", "allOf"), {"n": 1})
    assert every.output == {"n": 1, "fast": True, "slow": True}
    first = run_text(
        tmp_path, text.replace("{completion}", "atLeast\n    numCompleted: 1"), {"n": 2}
    )
    assert first.output == {"n": 2, "fast": True}


def test_foreach_collects_outputs(tmp_path: Path) -> None:
    result = run_text(
        tmp_path,
        HEAD.format(id="foreach")
        + """\
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
    )
    assert result.status == "COMPLETED", result
    assert result.output == {"squares": [1, 4, 9, 16]}


def test_retries_with_backoff(tmp_path: Path) -> None:
    CALLS["flaky:backoff"].clear()
    result = run_text(
        tmp_path,
        HEAD.format(id="retrying")
        + """\
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
    result = run_text(
        tmp_path,
        HEAD.format(id="exhausted")
        + """\
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


def test_unhandled_error_fails_the_workflow(tmp_path: Path) -> None:
    result = run_text(
        tmp_path,
        HEAD.format(id="failing")
        + """\
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
    )
    assert result.status == "FAILED"
    assert result.error is not None and result.error["type"] == "OutOfStock"
    assert "not enough credit" in result.error["detail"]


def test_compensation_on_error(tmp_path: Path) -> None:
    CALLS["undo"].clear()
    result = run_text(
        tmp_path,
        HEAD.format(id="saga")
        + """\
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
    result = run_text(
        tmp_path,
        HEAD.format(id="saga-end")
        + """\
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


def test_subflow_next_to_the_definition(tmp_path: Path) -> None:
    write(
        tmp_path,
        "child.sw.json",
        """\
    {"id": "doubler", "specVersion": "0.8", "start": "Double",
     "functions": [{"name": "addFunction", "type": "custom", "operation": "add"}],
     "states": [{"name": "Double", "type": "operation",
                 "actions": [{"functionRef": {"refName": "addFunction", "arguments": {"a": "${ .n }", "b": "${ .n }"}},
                              "actionDataFilter": {"toStateData": "${ .doubled }"}}],
                 "end": true}]}
    """,
    )
    result = run_text(
        tmp_path,
        HEAD.format(id="parent")
        + """\
states:
  - name: Call child
    type: operation
    actions:
      - subFlowRef: doubler
        actionDataFilter: { fromStateData: "${ {n: .value} }", results: "${ .doubled }", toStateData: "${ .result }" }
    end: true
""",
        {"value": 21},
    )
    assert result.status == "COMPLETED", result
    assert result.output == {"value": 21, "result": 42}


def test_action_timeout_is_an_error_on_errors_can_handle(tmp_path: Path) -> None:
    result = run_text(
        tmp_path,
        HEAD.format(id="action-timeout")
        + """\
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
    )
    assert result.output == {"late": True}


def test_state_exec_timeout(tmp_path: Path) -> None:
    result = run_text(
        tmp_path,
        HEAD.format(id="state-timeout")
        + """\
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
    )
    assert result.status == "FAILED"
    assert result.error is not None and result.error["type"] == "Timeout"


def test_an_error_inside_a_time_limit_fails_at_once_as_itself(tmp_path: Path) -> None:
    """A state (and a workflow with runBefore) under a time limit that fails does so with its
    own error, right away: it does not sit out the limit and turn into a Timeout (nor run
    runBefore, which is for the time running out)."""
    pay = """\
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
    run_before = (
        "timeouts: { workflowExecTimeout: { duration: PT30S, runBefore: Cleanup } }\n"
        + pay
        + "  - { name: Cleanup, type: inject, data: { cleaned: true }, end: true }\n"
    )
    for body in (pay, run_before):
        began = time.monotonic()
        result = run_text(tmp_path, HEAD.format(id="limited-failure") + body)
        assert result.status == "FAILED" and result.error is not None, result
        assert result.error["type"] == "OutOfStock", result.error
        assert time.monotonic() - began < 20


def test_workflow_exec_timeout_and_run_before(tmp_path: Path) -> None:
    text = (
        HEAD.format(id="deadline")
        + """\
timeouts:
  workflowExecTimeout: {timeout}
states:
  - name: Long nap
    type: sleep
    duration: PT30S
    end: true
  - name: Cleanup
    type: inject
    data: { cleaned: true }
    end: true
"""
    )
    plain = run_text(
        tmp_path,
        HEAD.format(id="deadline-plain")
        + """\
timeouts: { workflowExecTimeout: PT1S }
states:
  - { name: Long nap, type: sleep, duration: PT30S, end: true }
""",
    )
    assert (
        plain.status == "FAILED"
        and plain.error is not None
        and plain.error["type"] == "Timeout"
    )
    cleaned = run_text(
        tmp_path,
        text.replace("{timeout}", "{ duration: PT1S, runBefore: Cleanup }"),
        {"id": 1},
    )
    assert (cleaned.status, cleaned.output) == ("COMPLETED", {"id": 1, "cleaned": True})


def test_missing_activity_names_the_definition(tmp_path: Path) -> None:
    with pytest.raises(MissingActivityError) as raised:
        run_text(
            tmp_path,
            HEAD.format(id="missing")
            + """\
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


def test_continue_as_runs_the_next_workflow(tmp_path: Path) -> None:
    write(
        tmp_path,
        "next.sw.yaml",
        HEAD.format(id="next-step")
        + """\
states:
  - { name: Done, type: inject, data: { second: true }, end: true }
""",
    )
    result = run_text(
        tmp_path,
        HEAD.format(id="first-step")
        + """\
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
    )
    assert (result.status, result.output) == (
        "COMPLETED",
        {"n": 2, "first": True, "second": True},
    ), result


def test_auto_retries(tmp_path: Path) -> None:
    CALLS["flaky:auto"].clear()
    result = run_text(
        tmp_path,
        HEAD.format(id="auto")
        + """\
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
    result = run_text(
        tmp_path,
        HEAD.format(id="transactions")
        + """\
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
    assert [call["a"] for call in CALLS["add"]] == [
        5,
        500,
        7,
    ]  # one at a time, in order


def test_input_schema_is_checked_before_starting(tmp_path: Path) -> None:
    from declarative_wf.runner import InvalidInputError

    text = (
        HEAD.format(id="typed")
        + """\
dataInputSchema:
  schema: { type: object, required: [ order ], properties: { order: { type: integer } } }
states:
  - { name: Ok, type: inject, data: { ok: true }, end: true }
"""
    )
    assert run_text(tmp_path, text, {"order": 1}).output == {"order": 1, "ok": True}
    with pytest.raises(InvalidInputError) as raised:
        run_text(tmp_path, text, {"order": "one"})
    assert "/order" in str(raised.value)
