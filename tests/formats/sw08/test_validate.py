"""Bad definitions: every problem is a diagnostic with a code, FILE:LINE:COL and a fix — never
a traceback."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from declarative_wf.diagnostics import Diagnostic
from declarative_wf.formats import load_definition_text, validate_file, validate_text
from declarative_wf.formats.sw08 import SW08_CODES

HEAD = "id: wf\nspecVersion: '0.8'\n"


def check(body: str, file: str = "wf.sw.yaml") -> list[Diagnostic]:
    return validate_text(HEAD + textwrap.dedent(body), file)


def errors(body: str) -> list[tuple[str, int, int, str]]:
    return [
        (d.code, d.position.line, d.position.column, d.message)
        for d in check(body)
        if d.is_error and d.position
    ]


def one(body: str, code: str) -> Diagnostic:
    found = [d for d in check(body) if d.code == code]
    assert len(found) == 1, [d.format() for d in check(body)]
    return found[0]


def test_a_clean_definition_has_no_diagnostics() -> None:
    assert (
        check("""\
        functions: [ { name: f, type: custom, operation: f } ]
        states:
          - { name: A, type: operation, actions: [ { functionRef: f } ], end: true }
        """)
        == []
    )


def test_transition_to_a_missing_state_suggests_the_name() -> None:
    found = one(
        """\
        states:
          - { name: Start, type: inject, data: { a: 1 }, transition: Finsh }
          - { name: Finish, type: inject, data: { b: 1 }, end: true }
        """,
        "SW08-W007",
    )
    assert found.position is not None and (
        found.position.line,
        found.position.column,
    ) == (4, 62)
    assert (
        "Finsh" in found.message and found.hint is not None and "Finish" in found.hint
    )
    assert not found.is_error  # reaching it fails at run time (test_undefined.py)
    assert found.format().startswith("wf.sw.yaml:4:62: SW08-W007 ")


def test_start_unreachable_and_duplicate_states() -> None:
    found = errors("""\
        start: Begin
        states:
          - { name: A, type: inject, data: { a: 1 }, end: true }
          - { name: A, type: inject, data: { a: 2 }, end: true }
        """)
    assert [code for code, *_ in found] == ["SW08-E011", "SW08-E010"]
    unreachable = errors("""\
        states:
          - { name: A, type: inject, data: { a: 1 }, end: true }
          - { name: Lonely, type: inject, data: { a: 2 }, end: true }
        """)
    assert unreachable == [
        (
            "SW08-E015",
            5,
            13,
            'state "Lonely" cannot be reached from the start state "A"',
        )
    ]


DEFINITIONS_BODY = """\
        functions: [ { name: chargeCard, type: custom, operation: charge } ]
        events: [ { name: Paid, type: org.paid } ]
        retries: [ { name: Backoff, delay: PT1S } ]
        errors: [ { name: Declined, code: CardDeclined } ]
        states:
          - name: A
            type: operation
            actions:
              - functionRef: chargeCrd
                retryRef: Bakoff
                nonRetryableErrors: [ Declned ]
            onErrors: [ { errorRef: Declined, end: true } ]
            transition: B
          - name: B
            type: callback
            action: { functionRef: chargeCard }
            eventRef: Payd
            end: true
        """


def test_references_to_definitions() -> None:
    found = errors(DEFINITIONS_BODY)
    assert [(code, line) for code, line, *_ in found] == [
        ("SW08-E022", 12),
        ("SW08-E023", 13),
    ]
    # An undefined function or event is a warning (SW08-W007, test_undefined.py).
    warned = [d for d in check(DEFINITIONS_BODY) if d.code == "SW08-W007"]
    assert [(d.position.line if d.position else 0) for d in warned] == [11, 19]


def test_fragment_without_definitions_only_warns() -> None:
    found = check("""\
        states:
          - { name: A, type: operation, actions: [ { functionRef: shared } ], end: true }
        """)
    assert [(d.code, d.is_error) for d in found] == [("SW08-W005", False)]
    assert "runs the activity" in found[0].message


def test_bad_jq_is_reported_where_it_is() -> None:
    found = one(
        """\
        states:
          - name: A
            type: switch
            dataConditions:
              - condition: "${ .a == }"
                end: true
            defaultCondition: { end: true }
        """,
        "SW08-E030",
    )
    assert found.position is not None and found.position.line == 7
    assert "does not compile" in found.message


def test_bad_and_misplaced_durations() -> None:
    bad = one(
        "states: [ { name: A, type: sleep, duration: 10 seconds, end: true } ]\n",
        "SW08-E031",
    )
    assert bad.hint is not None and "PT30S" in bad.hint
    misplaced = one(
        "states: [ { name: A, type: sleep, duration: PT2W, end: true } ]\n", "SW08-W004"
    )
    assert not misplaced.is_error and "P2W" in misplaced.message


def test_compensation_rules() -> None:
    found = errors("""\
        states:
          - { name: A, type: inject, data: { a: 1 }, compensatedBy: B, transition: C }
          - { name: B, type: inject, data: { b: 1 }, end: true }
          - { name: C, type: inject, data: { c: 1 }, transition: Undo }
          - { name: Undo, type: inject, data: { u: 1 }, usedForCompensation: true, end: true }
        """)
    # B is no compensation state (E013), so nothing reaches it (E015); C may not go to Undo (E014).
    assert [code for code, *_ in found] == ["SW08-E013", "SW08-E015", "SW08-E014"]


def test_schema_errors_name_the_field_and_the_fix() -> None:
    unknown = one(
        "states: [ { name: A, type: inject, data: { a: 1 }, end: true, Next: B } ]\n",
        "SW08-E001",
    )
    assert (
        unknown.message == 'unknown field "Next" in inject state "A"'
        and unknown.hint is not None
    )
    kind = one("states: [ { name: A, type: task, end: true } ]\n", "SW08-E002")
    assert kind.hint is not None and "operation" in kind.hint
    both = one(
        "states: [ { name: A, type: inject, data: { a: 1 }, end: true, transition: A } ]\n",
        "SW08-E001",
    )
    assert "give only one of" in both.message
    legacy = one(
        """\
        events: [ { name: E, type: e } ]
        states:
          - name: A
            type: switch
            eventConditions: [ { eventRef: E, end: true } ]
            eventTimeout: PT1M
            defaultCondition: { end: true }
        """,
        "SW08-W008",
    )  # the 0.7 layout: accepted with a warning (docs/sw08.md)
    assert (
        not legacy.is_error
        and legacy.position is not None
        and legacy.position.line == 8
    )
    assert legacy.hint is not None and "timeouts" in legacy.hint
    old = one(
        """\
        events: [ { name: E, type: e } ]
        states:
          - name: A
            type: switch
            eventConditions: [ { eventRef: E, end: true } ]
            eventTimeout: PT1M
            timeouts: { eventTimeout: PT2M }
            defaultCondition: { end: true }
        """,
        "SW08-E001",
    )  # both layouts at once: which would win? still an error
    assert old.hint is not None and "timeouts" in old.hint and "0.7" in old.hint


def test_unsupported_constructs_are_errors() -> None:
    assert one(
        "expressionLang: jsonpath\nstates: [ { name: A, type: inject, data: { a: 1 }, end: true } ]\n",
        "SW08-E040",
    )
    at_least = errors("""\
        functions: [ { name: f, type: custom, operation: f } ]
        states:
          - name: A
            type: parallel
            completionType: atLeast
            numCompleted: 2
            branches:
              - { name: a, actions: [ { functionRef: f } ] }
              - { name: b, actions: [ { functionRef: f } ] }
              - { name: c, actions: [ { functionRef: f } ] }
            end: true
        """)
    assert [code for code, *_ in at_least] == ["SW08-E040"]
    rest = one(
        """\
        functions: [ { name: f, operation: "http://example.test/api.json" } ]
        states: [ { name: A, type: operation, actions: [ { functionRef: f } ], end: true } ]
        """,
        "SW08-E040",
    )
    assert "operationId" in rest.message


def test_numCompleted_larger_than_branches() -> None:
    found = errors("""\
        functions: [ { name: f, type: custom, operation: f } ]
        states:
          - name: A
            type: parallel
            completionType: atLeast
            numCompleted: 5
            branches: [ { name: a, actions: [ { functionRef: f } ] } ]
            end: true
        """)
    assert [code for code, *_ in found] == ["SW08-E016"]


def test_subflows(tmp_path: Path) -> None:
    (tmp_path / "broken.sw.yaml").write_text(
        HEAD.replace("id: wf", "id: kid") + "states: [ { name: A, type: nope } ]\n"
    )
    parent = tmp_path / "parent.sw.yaml"
    parent.write_text(
        HEAD
        + "states:\n  - { name: A, type: operation, actions: [ { subFlowRef: kid } ], transition: B }\n"
        "  - { name: B, type: operation, actions: [ { subFlowRef: nobody } ], end: true }\n"
    )
    found = validate_file(parent)
    assert [(d.code, d.is_error) for d in found] == [
        ("SW08-E041", True),
        ("SW08-W002", False),
    ]
    assert "broken.sw.yaml" in found[0].message


def test_garbage_never_raises() -> None:
    for body in ("states: [1, x, null]\n", "states: {}\n", "states: []\n", "functions: 3\nstates: [ { name: 1 } ]\n",
                 "states: [ { name: A, type: operation, actions: 5, end: true } ]\n"):  # fmt: skip
        found = check(body)
        assert found and all(
            d.code.startswith("SW08-E") for d in found if d.is_error
        ), body


def test_everything_is_reported_at_once_and_sorted() -> None:
    found = check("""\
        states:
          - { name: A, type: inject, data: { a: 1 }, transition: X }
          - { name: B, type: switch, dataConditions: [ { condition: "${ ( }", end: true } ], defaultCondition: { transition: Y } }
        """)
    codes = sorted(d.code for d in found if d.is_error)
    assert codes == ["SW08-E015", "SW08-E030"]
    assert sorted(d.code for d in found if not d.is_error) == ["SW08-W007", "SW08-W007"]
    places = [(d.position.line, d.position.column) for d in found if d.position]
    assert places == sorted(places)


def test_warnings_are_kept_on_a_valid_definition() -> None:
    compiled = load_definition_text(
        HEAD
        + "secrets: [ token ]\nstates: [ { name: A, type: inject, data: { a: 1 }, end: true } ]\n"
    )
    assert [d.code for d in compiled.document.warnings] == ["SW08-W001"]
    assert compiled.workflow.format == "sw08"


@pytest.mark.parametrize("code", sorted(SW08_CODES))
def test_code_format(code: str) -> None:
    assert code.startswith(("SW08-E", "SW08-W"))


def test_numbers_written_as_strings_and_auth_refs() -> None:
    found = errors("""\
        retries: [ { name: R, maxAttempts: many, multiplier: "1.5" } ]
        auth: [ { name: somebody, scheme: bearer, properties: { token: t } } ]
        functions: [ { name: f, operation: "api.json#op", authRef: nobody } ]
        states:
          - name: A
            type: foreach
            inputCollection: "${ .items }"
            batchSize: "two"
            actions: [ { functionRef: f, retryRef: R } ]
            end: true
        """)
    assert [(code, line) for code, line, *_ in found] == [
        ("SW08-E032", 3),
        ("SW08-E025", 5),
        ("SW08-E032", 10),
    ]
