"""End-to-end runs of try / catch / retry: error filters (standard, legacy and OWS type URIs),
when / exceptWhen, the catch variable, and the retry delays of each backoff, read from the
durable timers of the instance history."""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Any

import pytest

from declarative_wf.activities.problems import ProblemError

from .run_helpers import lifecycle, run_sw, timer_delays

pytestmark = pytest.mark.integration

STD = "https://serverlessworkflow.io/spec/1.0.0/errors/"


class Flaky:
    """An activity failing with a communication error (503) until its ``fail`` count is used."""

    def __init__(self, fail: int) -> None:
        self.fail = fail
        self.calls = 0
        self.__name__ = "flaky"

    def __call__(self, args: Any) -> dict[str, Any]:
        self.calls += 1
        if self.calls <= self.fail:
            raise ProblemError("communication", status=503, title="Unavailable", detail=f"call {self.calls}")
        return {"calls": self.calls}


def guarded_flaky(catch: str, task: str = "guarded", use: str = "") -> str:
    """A definition whose one task tries ``call: flaky`` and catches with ``catch`` (the YAML
    under ``catch:``); ``use`` (YAML) goes before ``do``."""
    return (
        textwrap.indent(textwrap.dedent(use), " " * 8)
        + f"""
        do:
          - {task}:
              try:
                - call:
                    call: flaky
              catch:
"""
        + textwrap.indent(textwrap.dedent(catch).lstrip("\n"), " " * 16)
    )


def retry_body(backoff: str, count: int = 3, extra: str = "") -> str:
    return guarded_flaky(f"""
        errors:
          with:
            type: https://serverlessworkflow.io/spec/1.0.0/errors/communication
        retry:
          delay: {{ milliseconds: 100 }}
          backoff: {{ {backoff}: {{}} }}
          limit:
            attempt: {{ count: {count} }}
          {extra}
    """, task="attempt")


@pytest.mark.parametrize(
    ("backoff", "delays"),
    [("constant", [0.1, 0.1, 0.1]), ("linear", [0.1, 0.2, 0.3]), ("exponential", [0.2, 0.4, 0.8])],
)
def test_retry_delays_follow_the_backoff(tmp_path: Path, backoff: str, delays: list[float]) -> None:
    flaky = Flaky(fail=3)
    with lifecycle() as seen:
        result = run_sw(tmp_path, retry_body(backoff), activities=[flaky])
    assert result.status == "COMPLETED", result.error
    assert result.output == {"calls": 4}
    assert timer_delays(tmp_path / "run.db", result.instance_id) == delays
    retried = [record for kind, record in seen if kind == "task.retried"]
    assert [record["retry"] for record in retried] == [1, 2, 3]
    assert retried[0]["task"] == "attempt" and retried[0]["error"]["status"] == 503


def test_jitter_adds_a_stable_amount_within_its_range(tmp_path: Path) -> None:
    body = retry_body("constant", extra="jitter: { from: { milliseconds: 50 }, to: { milliseconds: 150 } }")
    result = run_sw(tmp_path, body, activities=[Flaky(fail=2)])
    delays = timer_delays(tmp_path / "run.db", result.instance_id)
    assert len(delays) == 2
    assert all(0.15 <= delay <= 0.25 for delay in delays), delays


def test_retries_exhausted_then_the_catch_handles_the_error(tmp_path: Path) -> None:
    flaky = Flaky(fail=10)
    body = retry_body("constant", count=2).replace(
        "                retry:", "                as: failure\n                do:\n                  - note:\n"
        "                      set: { gaveUp: '${ $failure.status }', detail: '${ $failure.detail }' }\n                retry:"
    )
    result = run_sw(tmp_path, body, activities=[flaky])
    assert result.status == "COMPLETED"
    assert result.output == {"gaveUp": 503, "detail": "call 3"}
    assert flaky.calls == 3


@pytest.mark.parametrize(
    "filter_type",
    [
        "https://serverlessworkflow.io/spec/1.0.0/errors/communication",
        "https://serverlessworkflow.io/dsl/errors/types/communication",  # the CTK's legacy URI
        "https://open-workflow-specification.org/spec/1.0.0/errors/communication",
    ],
)
def test_type_filters_accept_every_standard_spelling(tmp_path: Path, filter_type: str) -> None:
    result = run_sw(tmp_path, guarded_flaky(f"""
        errors:
          with: {{ type: "{filter_type}", status: 503 }}
        as: err
        do:
          - keep:
              set: {{ caught: '${{ $err }}' }}
    """), activities=[Flaky(fail=1)])
    assert result.status == "COMPLETED"
    caught = result.output["caught"]
    assert caught["type"] == STD + "communication" and caught["status"] == 503
    assert caught["instance"] == "/do/0/guarded/try/0/call" and caught["title"] == "Unavailable"


@pytest.mark.parametrize(
    "with_",
    [
        '{ type: "https://serverlessworkflow.io/spec/1.0.0/errors/communication", status: 404 }',
        '{ type: "https://example.com/errors/communication" }',  # not a standard type: exact only
        '{ type: "https://serverlessworkflow.io/spec/1.0.0/errors/timeout" }',
    ],
)
def test_unmatched_filters_let_the_error_through(tmp_path: Path, with_: str) -> None:
    result = run_sw(tmp_path, guarded_flaky(f"errors:\n  with: {with_}\n"), activities=[Flaky(fail=1)])
    assert result.status == "FAILED"
    assert result.error["status"] == 503 and result.error["instance"] == "/do/0/guarded/try/0/call"


def test_when_and_except_when_see_the_error(tmp_path: Path) -> None:
    body = """
        do:
          - guarded:
              try:
                - refuse:
                    raise:
                      error: { type: https://example.com/e, status: 409, title: '${ .title }' }
              catch:
                as: problem
                when: $problem.status >= 400
                exceptWhen: .title == "keep"
                do:
                  - handled:
                      set: { handled: '${ $problem.status }' }
    """
    assert run_sw(tmp_path, body, {"title": "x"}).output == {"handled": 409}
    assert run_sw(tmp_path, body, {"title": "keep"}).status == "FAILED"


def test_catch_without_do_continues_with_the_try_input(tmp_path: Path) -> None:
    result = run_sw(tmp_path, """
        do:
          - guarded:
              try:
                - refuse:
                    raise:
                      error: { type: https://example.com/e, status: 400 }
              catch: {}
          - next:
              set: { after: '${ .before }' }
    """, {"before": 1})
    assert result.output == {"after": 1}


def test_reusable_retry_policy_and_error(tmp_path: Path) -> None:
    flaky = Flaky(fail=1)
    use = """
        use:
          retries:
            quick:
              delay: { milliseconds: 10 }
              limit: { attempt: { count: 1 } }
    """
    result = run_sw(tmp_path, guarded_flaky("retry: quick\n", use=use), activities=[flaky])
    assert result.output == {"calls": 2}
    assert timer_delays(tmp_path / "run.db", result.instance_id) == [0.01]


def test_a_python_exception_becomes_a_runtime_error(tmp_path: Path) -> None:
    def explode(args: Any) -> None:
        raise KeyError("missing")

    result = run_sw(tmp_path, """
        do:
          - call:
              call: explode
    """, activities=[explode])
    assert result.error["type"] == STD + "runtime" and result.error["status"] == 500
    assert result.error["title"] == "KeyError"
