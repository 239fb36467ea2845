"""End-to-end runs of the core task kinds on the real embedded engine: set, do, switch, for,
fork, raise, wait, flow directives, data flow ($context, input.from, output.as, schemas),
timeouts, runtime expression arguments and lifecycle events."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from declarative_wf.formats.sw import runtime

from .run_helpers import lifecycle, run_completed, run_sw, timer_delays

pytestmark = pytest.mark.integration

STD = "https://serverlessworkflow.io/spec/1.0.0/errors/"


RUNS = [
    pytest.param(
        """
            do:
              - shape:
                  set:
                    kind: circle
                    size: ${ .size * 2 }
                    both: '${ [.size, $input.size] }'
        """,
        {"size": 3, "dropped": True},
        {"kind": "circle", "size": 6, "both": [3, 3]},
        id="set-replaces-the-data-with-expressions-evaluated-on-the-input",
    ),
    pytest.param(
        """
            do:
              - outer:
                  do:
                    - first:
                        set: '${ {n: (.n + 1)} }'
                    - second:
                        set: '${ {n: (.n * 10)} }'
              - after:
                  set: { total: '${ .n }' }
        """,
        {"n": 1},
        {"total": 20},
        id="set-as-one-expression-and-nested-do",
    ),
    pytest.param(
        """
            do:
              - pick:
                  switch:
                    - red:
                        when: .color == "red"
                        then: paint
                  then: end
              - paint:
                  set: { painted: true }
        """,
        {"color": "blue"},
        {"color": "blue"},
        id="switch-without-a-match-follows-its-own-then-and-keeps-the-input",
    ),
    pytest.param(
        """
            do:
              - loop:
                  for:
                    each: word
                    in: .words
                  while: $index < 3
                  do:
                    - add:
                        set:
                          text: '${ (.text // "") + $word }'
                          at: '${ $index }'
        """,
        {"words": ["a", "b", "c", "d"]},
        {"text": "abc", "at": 2},
        id="for-runs-in-order-passing-each-output-on",
    ),
    pytest.param(
        """
            do:
              - loop:
                  for: { in: .items }
                  do:
                    - touch:
                        set: { touched: '${ $item }' }
        """,
        {"items": []},
        {"items": []},
        id="for-over-an-empty-list-passes-the-input-through",
    ),
    pytest.param(
        """
            do:
              - all:
                  fork:
                    branches:
                      - slow:
                          wait: { milliseconds: 200 }
                      - one:
                          set: { v: 1 }
                      - two:
                          set: { v: 2 }
              - race:
                  fork:
                    compete: true
                    branches:
                      - slow:
                          do:
                            - pause:
                                wait: PT5S
                            - late:
                                set: { winner: slow }
                      - fast:
                          set: { winner: fast }
        """,
        {"x": 0},
        {"winner": "fast"},
        id="fork-collects-every-branch-in-order-or-the-winner",
    ),
    pytest.param(
        """
            do:
              - all:
                  fork:
                    branches:
                      - slow:
                          wait: { milliseconds: 100 }
                      - one:
                          set: { v: 1 }
        """,
        {"x": 0},
        [{"x": 0}, {"v": 1}],
        id="fork-all-output-is-the-list-of-branch-outputs",
    ),
    pytest.param(
        """
            do:
              - count:
                  set: { n: '${ .n + 1 }' }
              - again:
                  switch:
                    - more:
                        when: .n < 5
                        then: count
              - nested:
                  do:
                    - leave:
                        set: { n: '${ .n }', left: true }
                        then: exit
                    - skipped:
                        set: { skipped: true }
              - last:
                  set: { n: '${ .n }', left: '${ .left }', last: true }
        """,
        {"n": 0},
        {"n": 5, "left": True, "last": True},
        id="flow-directives-jump-backwards-to-loop-and-exit-a-nested-list",
    ),
    pytest.param(
        """
            do:
              - nested:
                  do:
                    - stop:
                        set: { stopped: true }
                        export:
                          as: '{why: "early"}'
                        then: end
              - never:
                  set: { reached: true }
            output:
              as: '{result: ., context: $context}'
        """,
        None,
        {"result": {"stopped": True}, "context": {"why": "early"}},
        id="then-end-inside-a-nested-list-ends-the-workflow",
    ),
    pytest.param(
        """
            input:
              from: .order
            do:
              - remember:
                  input:
                    from: '{id: .id}'
                  set: { id: '${ .id }', seen: '${ $context }' }
                  output:
                    as: .id
                  export:
                    as: '{lastId: ., count: (($context.count // 0) + 1)}'
              - useContext:
                  set: { ctx: '${ $context }', input: '${ . }' }
                  export:
                    as: '$context + {done: true}'
            output:
              as: '{result: ., context: $context}'
        """,
        {"order": {"id": "o-1", "lines": 3}},
        {
            "result": {"ctx": {"lastId": "o-1", "count": 1}, "input": "o-1"},
            "context": {"lastId": "o-1", "count": 1, "done": True},
        },
        id="input-from-output-as-export-and-context",
    ),
    pytest.param(
        """
            do:
              - look:
                  set: { context: '${ $context }' }
        """,
        None,
        {"context": {}},
        id="context-starts-empty",
    ),
    pytest.param(
        """
            do:
              - quick:
                  timeout: { after: PT5S }
                  do:
                    - fine:
                        wait: { milliseconds: 10 }
              - guarded:
                  try:
                    - slowWait:
                        timeout: { after: { milliseconds: 100 } }
                        wait: PT10S
                  catch:
                    errors:
                      with: { type: https://serverlessworkflow.io/spec/1.0.0/errors/timeout }
                    as: late
                    do:
                      - note:
                          set: { timedOut: '${ $late.instance }', status: '${ $late.status }' }
        """,
        None,
        {"timedOut": "/do/1/guarded/try/0/slowWait", "status": 408},
        id="timeouts-of-waits-and-composite-tasks",
    ),
]


@pytest.mark.parametrize(("body", "input", "output"), RUNS)
def test_runs_to_the_expected_output(tmp_path: Path, body: str, input: Any, output: Any) -> None:
    """Each row: a definition and its input, and the output it completes with."""
    assert run_completed(tmp_path, body, input).output == output


SWITCH = """
    do:
      - pick:
          switch:
            - big:
                when: .n > 10
                then: sayBig
            - other:
                then: sayOther
      - sayBig:
          set: { size: big }
          then: end
      - sayOther:
          set: { size: other }
"""


@pytest.mark.parametrize(("n", "expected"), [(50, "big"), (1, "other")])
def test_switch_goes_to_the_matching_case_or_the_default(tmp_path: Path, n: int, expected: str) -> None:
    with lifecycle() as seen:
        result = run_sw(tmp_path, SWITCH, {"n": n})
    assert result.output == {"size": expected}
    started = [record["task"] for kind, record in seen if kind == "task.started"]
    assert started == ["pick", "sayBig" if expected == "big" else "sayOther"]


def test_if_skips_a_task_whose_condition_is_false(tmp_path: Path) -> None:
    with lifecycle() as seen:
        result = run_sw(tmp_path, """
            do:
              - maybe:
                  if: .go
                  set: { went: true }
              - after:
                  set: { went: '${ .went // false }' }
        """, {"go": False})
    assert result.output == {"went": False}
    assert [r["task"] for k, r in seen if k == "task.started"] == ["after"]


def test_raise_faults_with_problem_details_and_the_task_pointer(tmp_path: Path) -> None:
    result = run_sw(tmp_path, """
        use:
          errors:
            notAllowed:
              type: https://example.com/errors/not-allowed
              status: 403
              title: Not allowed
        do:
          - check:
              do:
                - refuse:
                    raise:
                      error: notAllowed
    """)
    assert result.status == "FAILED"
    assert result.error == {"type": "https://example.com/errors/not-allowed", "status": 403, "title": "Not allowed",
                            "detail": None, "instance": "/do/0/check/do/0/refuse"}


def test_raise_with_expressions_in_the_error(tmp_path: Path) -> None:
    result = run_sw(tmp_path, """
        do:
          - refuse:
              raise:
                error:
                  type: https://example.com/errors/limit
                  status: 422
                  detail: '${ "too many \\(.n)" }'
    """, {"n": 7})
    assert result.error["detail"] == "too many 7"
    assert result.error["status"] == 422


def test_wait_uses_a_durable_timer_of_the_given_duration(tmp_path: Path) -> None:
    result = run_sw(tmp_path, """
        do:
          - inline:
              wait: { milliseconds: 150 }
          - iso:
              wait: PT0.25S
          - computed:
              wait: ${ .pause }
    """, {"pause": {"milliseconds": 50}})
    assert result.status == "COMPLETED"
    assert result.output == {"pause": {"milliseconds": 50}}
    assert timer_delays(tmp_path / "run.db", result.instance_id) == [0.15, 0.25, 0.05]


def test_export_sees_input_and_output_and_checks_its_schema(tmp_path: Path) -> None:
    body = """
        do:
          - compute:
              input:
                from: .n
              set: { doubled: '${ . * 2 }' }
              output:
                as: .doubled
              export:
                as: '{input: $input, output: $output, dot: .}'
                schema:
                  format: json
                  document: { type: object, properties: { output: { maximum: 10 } } }
          - after:
              set: { data: '${ . }', context: '${ $context }' }
    """
    result = run_sw(tmp_path, body, {"n": 3})
    assert result.output == {"data": 6, "context": {"input": 3, "output": 6, "dot": 6}}
    invalid = run_sw(tmp_path, body, {"n": 30})
    assert invalid.error["type"] == STD + "validation" and invalid.error["instance"] == "/do/0/compute"
    assert "60 is greater than the maximum of 10" in invalid.error["detail"]


def test_runtime_arguments_workflow_task_and_runtime(tmp_path: Path) -> None:
    result = run_sw(tmp_path, """
        input:
          from: .inner
        do:
          - describe:
              set:
                workflowId: ${ $workflow.id }
                workflowInput: ${ $workflow.input }
                name: ${ $workflow.definition.document.name }
                startedAt: ${ $workflow.startedAt.epoch.milliseconds > 0 }
                task: ${ $task.name }
                reference: ${ $task.reference }
                taskDefinitionKeys: ${ $task.definition | keys }
                taskInput: ${ $task.input }
                taskStarted: ${ $task.startedAt.iso8601 | test("Z$") }
                runtime: ${ $runtime.name }
    """, {"inner": {"a": 1}})
    out = result.output
    assert out["workflowId"] == result.instance_id
    assert out["workflowInput"] == {"inner": {"a": 1}}
    assert out["name"] == "test"
    assert out["startedAt"] is True and out["taskStarted"] is True
    assert (out["task"], out["reference"]) == ("describe", "/do/0/describe")
    assert out["taskDefinitionKeys"] == ["set"]
    assert out["taskInput"] == {"a": 1}
    assert out["runtime"] == "declarative_wf"


def test_secrets_come_from_the_configured_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"apiKey": "s3cr3t"}), encoding="utf-8")
    monkeypatch.setenv(runtime.SECRETS_FILE_ENV, str(secrets))
    runtime.reset_secrets()
    try:
        result = run_sw(tmp_path, """
            use:
              secrets: [apiKey]
            input:
              from: '{key: $secrets.apiKey}'
            do:
              - keep:
                  set: { length: '${ .key | length }' }
        """)
        assert result.output == {"length": 6}
        monkeypatch.setenv(runtime.SECRETS_FILE_ENV, str(tmp_path / "missing.json"))
        runtime.reset_secrets()
        missing = run_sw(tmp_path, """
            use:
              secrets: [apiKey]
            do:
              - keep:
                  set: { ok: true }
        """)
        assert missing.status == "FAILED"
        assert missing.error["type"] == STD + "authorization" and missing.error["status"] == 403
        assert "s3cr3t" not in json.dumps(missing.error)
    finally:
        runtime.reset_secrets()


def test_task_schemas_fault_with_a_validation_error(tmp_path: Path) -> None:
    body = """
        do:
          - checked:
              input:
                schema:
                  format: json
                  document: { type: object, required: [n] }
              output:
                schema:
                  format: json
                  document: { type: object, properties: { n: { type: integer, maximum: 10 } } }
              set: { n: '${ .n * 2 }' }
    """
    assert run_sw(tmp_path, body, {"n": 2}).output == {"n": 4}
    no_input = run_sw(tmp_path, body, {"m": 1})
    assert no_input.error["type"] == STD + "validation" and no_input.error["status"] == 400
    assert no_input.error["instance"] == "/do/0/checked"
    assert "'n' is a required property" in no_input.error["detail"]
    too_big = run_sw(tmp_path, body, {"n": 6})
    assert too_big.error["type"] == STD + "validation"
    assert "12 is greater than the maximum of 10" in too_big.error["detail"]


def test_workflow_output_schema_faults_and_input_schema_refuses_to_start(tmp_path: Path) -> None:
    from declarative_wf.runner import InvalidInputError

    body = """
        input:
          schema:
            format: json
            document: { type: object, required: [n] }
        output:
          schema:
            format: json
            document: { type: object, required: [total] }
        do:
          - compute:
              set: { total: '${ .n }' }
              if: .n > 0
    """
    assert run_sw(tmp_path, body, {"n": 1}).output == {"total": 1}
    bad_output = run_sw(tmp_path, body, {"n": 0})
    assert bad_output.error["type"] == STD + "validation" and bad_output.error["instance"] == "/"
    with pytest.raises(InvalidInputError):
        run_sw(tmp_path, body, {"m": 1})


def test_task_and_workflow_timeouts_raise_the_timeout_error(tmp_path: Path) -> None:
    def slow(args: dict[str, float]) -> str:
        import time

        time.sleep(args["seconds"])
        return "done"

    task_timeout = run_sw(tmp_path, """
        do:
          - call:
              call: slow
              with: { seconds: 2 }
              timeout:
                after: { milliseconds: 200 }
    """, activities=[slow])
    assert task_timeout.status == "FAILED"
    assert task_timeout.error["type"] == STD + "timeout" and task_timeout.error["status"] == 408
    assert task_timeout.error["instance"] == "/do/0/call"
    workflow_timeout = run_sw(tmp_path, """
        use:
          timeouts:
            short:
              after: PT0.2S
        timeout: short
        do:
          - pause:
              wait: PT5S
    """)
    assert workflow_timeout.error["type"] == STD + "timeout" and workflow_timeout.error["instance"] == "/"


def test_expression_failures_are_expression_errors(tmp_path: Path) -> None:
    result = run_sw(tmp_path, """
        do:
          - broken:
              set: { n: '${ .text + 1 }' }
    """, {"text": "a"})
    assert result.error["type"] == STD + "expression" and result.error["status"] == 400
    assert result.error["instance"] == "/do/0/broken"


def test_lifecycle_events_in_order(tmp_path: Path) -> None:
    with lifecycle() as seen:
        result = run_sw(tmp_path, """
            do:
              - first:
                  set: { a: 1 }
              - second:
                  raise:
                    error: { type: https://example.com/boom, status: 500 }
        """)
    assert result.status == "FAILED"
    kinds = [(kind, record["task"]) for kind, record in seen if record["instance"] == result.instance_id]
    assert kinds == [
        ("workflow.started", None), ("task.started", "first"), ("task.completed", "first"),
        ("task.started", "second"), ("task.faulted", "second"), ("workflow.faulted", None),
    ]
    faulted = next(record for kind, record in seen if kind == "workflow.faulted")
    assert faulted["error"]["instance"] == "/do/1/second"
    assert [kind for kind, _ in seen].count("workflow.faulted") == 1
    completed = next(record for kind, record in seen if kind == "task.completed")
    assert completed["output"] == {"a": 1} and completed["reference"] == "/do/0/first"
    assert completed["time"].endswith("Z")
