"""References to definitions that do not exist (SW08-W007): a warning with FILE:LINE:COL and a
"did you mean" hint at validate time; at run time a node that fails with ``UndefinedReference``
naming the missing definition — only when an instance reaches it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from declarative_wf import run
from declarative_wf.activities import Registry
from declarative_wf.formats import load_definition, validate_text
from declarative_wf.ir import FailNode, workflow_from_json, workflow_to_json

from .corpus import MISSING, corpus_dir
from .helpers import run_text

HEAD = "id: wf\nspecVersion: '0.8'\n"

#: A switch whose first path goes to a state that does not exist (a typo of "Big").
MISSING_STATE = (
    HEAD
    + """\
states:
  - name: Route
    type: switch
    dataConditions:
      - { condition: "${ .n > 10 }", transition: Bgi }
      - { condition: "${ .n > 5 }", transition: Big }
    defaultCondition: { transition: Small }
  - { name: Small, type: inject, data: { size: small }, end: true }
  - { name: Big, type: inject, data: { size: big }, end: true }
"""
)

#: An action with a condition that calls a function under a name that is not defined.
MISSING_FUNCTION = (
    HEAD
    + """\
functions: [ { name: double, type: expression, operation: "{n: (.n * 2)}" } ]
states:
  - name: Work
    type: operation
    actions:
      - functionRef: double
      - { functionRef: tripel, condition: "${ .n > 100 }" }
    end: true
"""
)


def _warnings(text: str) -> list[tuple[str, int, int, str, str | None]]:
    return [
        (d.code, d.position.line, d.position.column, d.message, d.hint)
        for d in validate_text(text, "wf.sw.yaml")
        if d.position is not None
    ]


def test_missing_state_is_a_warning_with_place_and_hint() -> None:
    found = _warnings(MISSING_STATE)
    assert [(code, line, column) for code, line, column, *_ in found] == [
        ("SW08-W007", 7, 50)
    ]
    message, hint = found[0][3], found[0][4]
    assert '"Bgi"' in message and "UndefinedReference" in message
    assert hint is not None and '"Big"' in hint
    diagnostic = validate_text(MISSING_STATE, "wf.sw.yaml")[0]
    assert not diagnostic.is_error
    assert diagnostic.format().startswith("wf.sw.yaml:7:50: SW08-W007 ")


def test_missing_function_and_event_are_warnings_with_hints() -> None:
    found = validate_text(HEAD + """\
functions: [ { name: chargeCard, type: custom, operation: charge } ]
events: [ { name: Paid, type: org.paid } ]
states:
  - name: A
    type: callback
    action: { functionRef: chargeCrd }
    eventRef: Payd
    end: true
""", "wf.sw.yaml")  # fmt: skip
    assert [
        (d.code, d.is_error, d.position.line if d.position else 0) for d in found
    ] == [
        ("SW08-W007", False, 8),
        ("SW08-W007", False, 9),
    ]
    assert found[0].hint is not None and "chargeCard" in found[0].hint
    assert found[1].hint is not None and "Paid" in found[1].hint


def test_other_unresolved_references_stay_errors() -> None:
    """Retries and errors change how a state behaves on every path: no sensible run-time
    stand-in, so they remain errors; so do a missing ``start`` and ``runBefore``."""
    found = validate_text(HEAD + """\
functions: [ { name: f, type: custom, operation: f } ]
start: Begni
states:
  - name: Begin
    type: operation
    actions: [ { functionRef: f, retryRef: nope } ]
    end: true
""", "wf.sw.yaml")  # fmt: skip
    assert sorted(d.code for d in found if d.is_error) == ["SW08-E011", "SW08-E022"]


def test_the_compiled_graph_holds_a_failing_node_and_round_trips(
    tmp_path: Path,
) -> None:
    path = tmp_path / "wf.sw.yaml"
    path.write_text(MISSING_STATE, encoding="utf-8")
    workflow = load_definition(path).workflow
    fails = [n for n in workflow.body.nodes.values() if isinstance(n, FailNode)]
    assert len(fails) == 1 and fails[0].error.value == "UndefinedReference"
    assert fails[0].source is not None and fails[0].source.line == 7
    graph = workflow_to_json(workflow)
    assert workflow_to_json(workflow_from_json(graph)) == graph


@pytest.mark.integration
def test_paths_that_do_not_reach_the_reference_run(tmp_path: Path) -> None:
    small = run_text(tmp_path, MISSING_STATE, {"n": 1})
    assert (small.status, small.output) == ("COMPLETED", {"n": 1, "size": "small"}), (
        small
    )
    big = run_text(tmp_path, MISSING_STATE, {"n": 50})
    assert big.status == "FAILED" and big.error is not None, big
    assert big.error["type"] == "UndefinedReference"
    assert 'state "Bgi" is not defined' in big.error["detail"]
    assert "wf.sw.yaml:7:50" in big.error["detail"]


@pytest.mark.integration
def test_a_skipped_action_with_a_missing_function_runs(tmp_path: Path) -> None:
    done = run_text(tmp_path, MISSING_FUNCTION, {"n": 3})
    assert (done.status, done.output) == ("COMPLETED", {"n": 6}), done
    failed = run_text(tmp_path, MISSING_FUNCTION, {"n": 60})
    assert failed.status == "FAILED" and failed.error is not None, failed
    assert failed.error["type"] == "UndefinedReference"
    assert 'function "tripel" is not defined' in failed.error["detail"]


@pytest.mark.integration
def test_on_errors_can_handle_an_undefined_reference(tmp_path: Path) -> None:
    """The failure is an ordinary error: an error definition with code UndefinedReference catches it."""
    text = HEAD + textwrap.dedent("""\
        errors: [ { name: Broken, code: UndefinedReference } ]
        events: [ { name: Paid, type: org.paid } ]
        states:
          - name: Wait
            type: event
            onEvents: [ { eventRefs: [ Payed ] } ]
            onErrors: [ { errorRef: Broken, transition: Fallback } ]
            end: true
          - { name: Fallback, type: inject, data: { fallback: true }, end: true }
        """)
    done = run_text(tmp_path, text, {"a": 1})
    assert (done.status, done.output) == ("COMPLETED", {"a": 1, "fallback": True}), done


@pytest.mark.integration
def test_corpus_example_15_fails_naming_the_missing_function() -> None:
    """Example 15's callback calls 'callCreditCheckMicroservice' (defined as
    'creditCheckFunction'): it validates, and running it fails at once with that name."""
    folder = corpus_dir()
    if folder is None:
        pytest.skip(MISSING)
    path = (
        folder / "examples" / "yaml" / "15-perform-customer-credit-check-example.yaml"
    )
    result = run(path, {"customer": {"id": "c1"}}, activities=Registry(), timeout=60)
    assert result.status == "FAILED" and result.error is not None, result
    assert result.error["type"] == "UndefinedReference"
    assert '"callCreditCheckMicroservice"' in result.error["detail"]
    assert (
        "15-perform-customer-credit-check-example.yaml:23:16" in result.error["detail"]
    )
