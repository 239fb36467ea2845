"""End-to-end runs closing the Serverless Workflow 1.x runtime gaps of issue #5 on the real
embedded engine: ``limit.attempt.duration``, the data a ``catch`` starts from, ``$input`` in
``export.as``, schemas of functions and of embedded child workflows, a child's own
``$workflow.definition``."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

import declarative_wf

from .run_helpers import compile_text, definition, run_completed, run_sw, write

pytestmark = pytest.mark.integration

STD = "https://serverlessworkflow.io/spec/1.0.0/errors/"


class Slow:
    """An activity sleeping ``delays[n]`` seconds on its n-th call, then answering the call number."""

    def __init__(self, *delays: float) -> None:
        self.delays = list(delays)
        self.calls = 0
        self.__name__ = "slow"

    def __call__(self, args: Any) -> dict[str, Any]:
        self.calls += 1
        time.sleep(self.delays[min(self.calls, len(self.delays)) - 1])
        return {"calls": self.calls}


ATTEMPT_LIMITED = """
    do:
      - attempt:
          try:
            - call:
                call: slow
          catch:
            errors:
              with: { type: https://serverlessworkflow.io/spec/1.0.0/errors/timeout }
            retry:
              delay: { milliseconds: 10 }
              limit:
                attempt: { count: %d, duration: { milliseconds: 400 } }
"""


# -- limit.attempt.duration -------------------------------------------------------------------


def test_an_attempt_over_its_duration_times_out_and_is_retried(tmp_path: Path) -> None:
    slow = Slow(3.0, 0.0)
    result = run_sw(tmp_path, ATTEMPT_LIMITED % 2, {}, activities=[slow])
    assert result.status == "COMPLETED", result.error
    assert result.output == {"calls": 2}


def test_attempts_that_all_time_out_end_in_the_catch_with_the_timeout_error(tmp_path: Path) -> None:
    body = ATTEMPT_LIMITED.replace("catch:", "catch:\n            as: e", 1) % 1
    body += "            do:\n              - note:\n                  set: { caught: '${ $e.type }', at: '${ $e.instance }' }\n"
    slow = Slow(3.0)
    result = run_sw(tmp_path, body, {}, activities=[slow])
    assert result.status == "COMPLETED", result.error
    assert slow.calls == 2  # the first attempt and one retry, each cut at 400 ms
    assert result.output == {"caught": STD + "timeout", "at": "/do/0/attempt"}


def test_attempt_duration_compiles_without_the_not_enforced_warning() -> None:
    workflow = compile_text(ATTEMPT_LIMITED % 2)
    node = workflow.body.nodes["/do/0/attempt"]
    inner = node.body.nodes["/do/0/attempt#attempt"]  # type: ignore[attr-defined]
    assert inner.timeout_seconds.value == 0.4


# -- catch data, export $input ----------------------------------------------------------------

CATCH_AND_EXPORT_RUNS = [
    pytest.param(
        """
            do:
              - guarded:
                  input:
                    from: '${ .inner }'
                  try:
                    - fail:
                        raise:
                          error: { type: https://example.com/boom, status: 500 }
                  catch:
                    as: oops
                    do:
                      - handle:
                          set: { seen: '${ . }', status: '${ $oops.status }' }
                  output:
                    as: '{wrapped: .}'
        """,
        {"inner": {"v": 1}, "other": 2},
        {"wrapped": {"seen": {"v": 1}, "status": 500}},
        id="catch-do-starts-from-the-transformed-input-and-output-as-applies",
    ),
    pytest.param(
        """
            do:
              - guarded:
                  input:
                    from: '${ {v: .a} }'
                  try:
                    - fail:
                        raise:
                          error: { type: https://example.com/boom, status: 500 }
                  catch: {}
        """,
        {"a": 7, "b": 8},
        {"v": 7},
        id="a-caught-task-without-do-outputs-its-transformed-input",
    ),
    pytest.param(
        """
            do:
              - plain:
                  input:
                    from: '${ {picked: .a} }'
                  set: { literal: true }
                  export:
                    as: '{in: $input, out: $output}'
              - show:
                  set: { ctx: '${ $context }' }
        """,
        {"a": 1},
        {"ctx": {"in": {"picked": 1}, "out": {"literal": True}}},
        id="export-input-is-the-transformed-input-even-without-other-expressions",
    ),
]


@pytest.mark.parametrize(("body", "input", "output"), CATCH_AND_EXPORT_RUNS)
def test_catch_data_and_export_input(tmp_path: Path, body: str, input: Any, output: Any) -> None:
    """Each row: a definition and its input, and the output it completes with."""
    assert run_completed(tmp_path, body, input).output == output


# -- schemas of functions and of embedded children ----------------------------------------------

FUNCTION = """
    use:
      functions:
        double:
          input:
            schema:
              format: json
              document: { type: object, required: [n], properties: { n: { type: integer } } }
          output:
            schema:
              format: json
              document: { type: object, properties: { n: { maximum: 10 } } }
          set: { n: '${ .n * 2 }' }
    do:
      - twice:
          call: double
          with: { n: '${ .n }' }
"""


def test_use_functions_schemas_are_checked_when_the_function_runs(tmp_path: Path) -> None:
    assert run_sw(tmp_path, FUNCTION, {"n": 2}).output == {"n": 4}
    bad_input = run_sw(tmp_path, FUNCTION, {"n": "x"})
    assert bad_input.status == "FAILED"
    assert bad_input.error["type"] == STD + "validation" and bad_input.error["instance"] == "/use/functions/double"
    assert "is not of type 'integer'" in bad_input.error["detail"]
    too_big = run_sw(tmp_path, FUNCTION, {"n": 6})
    assert too_big.error["type"] == STD + "validation"
    assert "12 is greater than the maximum of 10" in too_big.error["detail"]


CHILD = """
input:
  schema:
    format: json
    document: { type: object, properties: { n: { type: integer } } }
output:
  schema:
    format: json
    document: { type: object, properties: { n: { maximum: 10 } } }
do:
  - work:
      set: { n: '${ .n * 2 }', name: '${ $workflow.definition.document.name }' }
"""

PARENT = """
    do:
      - callChild:
          run:
            workflow:
              namespace: test
              name: child
              version: '1.0.0'
              input: { n: '${ .n }' }
"""


def test_an_embedded_child_checks_its_own_schemas_and_sees_its_own_definition(tmp_path: Path) -> None:
    (tmp_path / "child.sw.yaml").write_text(definition(CHILD, name="child"), encoding="utf-8")
    path = write(tmp_path, PARENT, name="parent")
    good = declarative_wf.run(path, {"n": 2}, db=tmp_path / "run.db")
    assert good.status == "COMPLETED", good.error
    assert good.output == {"n": 4, "name": "child"}
    no_n = declarative_wf.run(path, {"m": 2}, db=tmp_path / "run.db")
    assert no_n.status == "FAILED"
    assert no_n.error["type"] == STD + "validation" and "None is not of type 'integer'" in no_n.error["detail"]
    too_big = declarative_wf.run(path, {"n": 6}, db=tmp_path / "run.db")
    assert too_big.status == "FAILED"
    assert "12 is greater than the maximum of 10" in too_big.error["detail"]
