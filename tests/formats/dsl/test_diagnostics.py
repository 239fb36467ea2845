"""Every DSL diagnostic: its code, its position (line:column) and what its message says.

``CASES`` is also what tests/formats/dsl/test_docs.py checks the code table against: every code
must be produced here at least once.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from declarative_wf.diagnostics import Diagnostic, DiagnosticError, Severity
from declarative_wf.formats import load_definition, load_definition_text, validate_file

from .helpers import problems

H = "dwf: 1\nname: t\n"

# (code, document, line, column, fragment of the message)
CASES: list[tuple[str, str, int, int, str]] = [
    ("DSL-E001", H + "steps:\n  - call: a\n    wiht: {}\n", 5, 5, 'unknown key "wiht" in call step (did you mean "with"?)'),
    ("DSL-E001", H + "steps:\n  - cal: a\n", 4, 5, 'unknown key "cal" in step (did you mean "call"?)'),
    ("DSL-E001", H + "stpes: []\nsteps: [ {call: a} ]\n", 3, 1, 'unknown key "stpes" in the workflow (did you mean "steps"?)'),
    ("DSL-E001", H + "steps:\n  - call: a\n    retry: { attempt: 3 }\n", 5, 14, 'unknown key "attempt" in \'retry\' (did you mean "attempts"?)'),
    ("DSL-E001", H + "steps:\n  - set: 1\n    catch: {}\n", 5, 5, 'unknown key "catch" in set step'),
    ("DSL-E002", "dwf: 1\nsteps: [ {call: a} ]\n", 1, 1, "the workflow needs \"name\""),
    ("DSL-E002", H + "steps:\n  - for_each: '${ result }'\n", 4, 5, 'for_each step needs "steps"'),
    ("DSL-E002", H + "steps:\n  - switch:\n      - if: '${ result }'\n", 5, 9, 'case needs "goto" or "steps"'),
    ("DSL-E002", H + "steps:\n  - for_each: '${ result }'\n    tolerate: {}\n    steps: [ {call: a} ]\n", 5, 15, "'tolerate' needs"),
    ("DSL-E003", "dwf: 2\nname: t\nsteps: [ {call: a} ]\n", 1, 6, "unsupported DSL version 2"),
    ("DSL-E003", H + "version: 1.2\nsteps: [ {call: a} ]\n", 3, 10, "'version' must be a string or an integer, not a number"),
    ("DSL-E003", H + "steps:\n  - call: a\n    retry: { attempts: 0 }\n", 5, 24, "'attempts' must be at least 1, not 0"),
    ("DSL-E003", H + "steps: []\n", 3, 8, "'steps' needs at least 1 step"),
    ("DSL-E003", H + "steps:\n  - 5\n", 4, 5, "a step must be a mapping"),
    ("DSL-E003", H + "steps:\n  - id: 'a b'\n    call: x\n", 4, 9, '"a b" is not a valid step id'),
    ("DSL-E003", H + "steps:\n  - call: a\n    save: 9lives\n", 5, 11, '"9lives" is not a valid variable name'),
    ("DSL-E003", H + "steps:\n  - set: { $expr: '${ result }' }\n", 4, 10, 'a mapping whose only key is "$expr"'),
    ("DSL-E004", H + "steps:\n  - id: x\n", 4, 5, "this step has no kind"),
    ("DSL-E004", H + "steps:\n  - call: a\n    set: 1\n", 5, 5, 'a step has exactly one kind: "set" cannot be combined with "call"'),
    ("DSL-E010", H + "steps:\n  - set: '${ result. }'\n", 4, 22, "invalid expression: it ends too early"),
    ("DSL-E010", H + "steps:\n  - set: 'x ${ a b } y'\n", 4, 18, 'invalid expression: unexpected "b"'),
    ("DSL-E010", H + "steps:\n  - set: '${ result == `done` }'\n", 4, 24, "a literal in backticks must be JSON"),
    ("DSL-E011", H + "steps:\n  - set: '${ summ(result) }'\n", 4, 14, 'unknown function summ() (did you mean "sum"?)'),
    ("DSL-E011", H + "steps:\n  - set: '${ length(result, input) }'\n", 4, 14, "length() takes 1 argument, not 2"),
    ("DSL-E012", H + "steps:\n  - set: '${ resutl.total }'\n", 4, 14, 'unknown name "resutl" in expression (did you mean "result"?)'),
    ("DSL-E012", H + "steps:\n  - call: a\n    save: order\n  - set: { x: '${ input.a }', y: 'id ${ ordr.id }' }\n", 6, 41, 'unknown name "ordr"'),
    ("DSL-E013", H + "steps:\n  - switch:\n      - if: result.ok\n        goto: end\n", 5, 13, "'if' must be one expression"),
    ("DSL-E013", H + "steps:\n  - repeat: { until: 'done', steps: [ {call: a} ] }\n", 4, 22, "'until' must be one expression"),
    ("DSL-E013", H + "steps:\n  - wait_for: e\n    where: 'x ${ event } y'\n", 5, 12, "'where' must be one expression"),
    ("DSL-E014", H + "steps:\n  - set: 'a ${ result'\n", 4, 13, "unterminated '${'"),
    ("DSL-E014", H + "steps:\n  - set: 'a ${ } b'\n", 4, 13, "empty expression"),
    ("DSL-E020", H + "steps:\n  - wait: 5 minutes\n", 4, 11, "'wait'"),
    ("DSL-E020", H + "timeout: 30m1h\nsteps: [ {call: a} ]\n", 3, 10, "units go from the largest to the smallest"),
    ("DSL-E020", H + "steps:\n  - call: a\n    retry: { delay: P1M }\n", 5, 21, "years and months have no fixed length"),
    ("DSL-E020", H + "steps:\n  - call: a\n    timeout: 10\n  - call: b\n    timeout: '10'\n", 7, 14, "add a unit"),
    ("DSL-E021", H + "steps:\n  - wait: { until: '2025-13-01T00:00:00Z' }\n", 4, 20, "not a valid moment"),
    ("DSL-E021", H + "steps:\n  - wait: { until: 'tomorrow' }\n", 4, 20, "not an RFC 3339 timestamp"),
    ("DSL-E030", H + "steps:\n  - id: a\n    call: x\n  - id: a\n    call: y\n", 6, 9, 'duplicate step id "a" (first at line 4)'),
    ("DSL-E031", H + "steps:\n  - id: charge\n    call: x\n  - goto: charg\n", 6, 11, 'there is no step with id "charg" (did you mean "charge"?)'),
    ("DSL-E031", H + "steps:\n  - call: x\n    catch: { then: nowhere }\n", 5, 20, 'no step with id "nowhere"'),
    ("DSL-E031", H + "steps:\n  - switch: [ { else: nope } ]\n", 4, 23, 'no step with id "nope"'),
    ("DSL-E032", H + "steps:\n  - id: outer\n    call: x\n  - for_each: '${ result }'\n    steps:\n      - goto: outer\n", 8, 15, 'step "outer" (line 4) is in another list of steps'),
    ("DSL-E033", H + "steps:\n  - id: end\n    call: x\n", 4, 9, '"end" is reserved and cannot be a step id'),
    ("DSL-E033", H + "steps:\n  - call: x\n    save: result\n", 5, 11, '"result" is reserved and cannot be a variable'),
    ("DSL-E034", H + "steps:\n  - switch:\n      - else: end\n      - if: '${ result }'\n        goto: end\n", 6, 9, "'else' must be the last case"),
    ("DSL-E040", H + "steps:\n  - workflow: ./missing.dwf.yaml\n", 4, 15, 'child workflow "./missing.dwf.yaml" cannot be read'),
    ("DSL-E050", H + "steps:\n  - call: charge\n    async: true\n", 5, 5, "'async' is only for 'call: http'"),
    ("DSL-E051", H + "steps:\n  - call: http\n    with: { url: x, methd: GET }\n", 5, 21, 'unknown key "methd" in an http call (did you mean "method"?)'),
    ("DSL-E051", H + "steps:\n  - call: http\n    with: { url: x, method: 'GE T' }\n", 5, 29, '"GE T" is not an HTTP method'),
    ("DSL-E051", H + "steps:\n  - call: http\n    with: { method: GET }\n", 5, 11, "an http call needs 'url'"),
    ("DSL-E052", H + "input: { schema: { type: 12 } }\nsteps: [ {call: a} ]\n", 3, 26, "'input.schema' is not a valid JSON Schema"),
    ("DSL-W001", H + "steps:\n  - goto: end\n  - call: never\n  - call: never_either\n", 5, 5, "this step can never run"),
]


def _find(found: list[Diagnostic], code: str, fragment: str) -> Diagnostic:
    matching = [d for d in found if d.code == code and fragment in d.message]
    assert matching, f"no {code} with {fragment!r} in:\n" + "\n".join(map(str, found))
    return matching[0]


@pytest.mark.parametrize(("code", "text", "line", "column", "fragment"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_diagnostic(code: str, text: str, line: int, column: int, fragment: str) -> None:
    found = problems(text)
    diagnostic = _find(found, code, fragment)
    assert diagnostic.position is not None, diagnostic
    assert (diagnostic.position.line, diagnostic.position.column) == (line, column), str(diagnostic)
    assert diagnostic.position.file == "wf.dwf.yaml"
    assert diagnostic.severity is (Severity.WARNING if code.startswith("DSL-W") else Severity.ERROR)
    assert str(diagnostic).startswith(f"wf.dwf.yaml:{line}:{column}: {code} ")


def test_all_errors_at_once_sorted() -> None:
    text = H + "steps:\n  - cal: a\n  - call: b\n    timeout: 5x\n  - goto: nowhere\n  - set: '${ summ(result) }'\n"
    with pytest.raises(DiagnosticError) as info:
        load_definition_text(text, "wf.dwf.yaml")
    codes = [d.code for d in info.value.diagnostics]
    assert codes == ["DSL-E001", "DSL-E020", "DSL-E031", "DSL-E011"]
    lines = [d.position.line for d in info.value.diagnostics if d.position]
    assert lines == sorted(lines)


def test_one_problem_is_reported_once() -> None:
    # The schema and the compiler both see a bad duration: one diagnostic.
    found = problems(H + "steps:\n  - call: a\n    timeout: soon\n")
    assert [d.code for d in found] == ["DSL-E020"]


def test_warning_alone_keeps_the_file_valid() -> None:
    compiled = load_definition_text(H + "steps:\n  - goto: end\n  - call: x\n", "wf.dwf.yaml")
    assert [d.code for d in compiled.document.warnings] == ["DSL-W001"]


def test_no_warning_for_steps_reached_by_jumps() -> None:
    text = H + "steps:\n  - goto: b\n  - id: a\n    call: x\n  - id: b\n    switch: [ { if: '${ result }', goto: a } ]\n"
    assert problems(text) == []


def test_hints() -> None:
    (diagnostic,) = problems(H + "version: 1.2\nsteps: [ {call: a} ]\n")
    assert diagnostic.hint == 'quote it: version: "1.2"'
    unknown = _find(problems(H + "steps:\n  - goto: charg\n  - id: charge\n    call: a\n"), "DSL-E031", "charg")
    assert unknown.hint == "step ids in this file: charge"


def test_names_are_checked_against_every_variable_of_the_file() -> None:
    text = H + """steps:
  - for_each: '${ input.items }'
    as: it
    steps: [ { set: '${ it.price }' } ]
  - call: a
    catch: { as: oops, steps: [ { set: '${ oops.message }' } ] }
    compensate: { call: undo, with: '${ compensating.result }' }
  - wait_for: e
    where: '${ event.id == input.id }'
  - set: '${ context.instance_id }'
"""
    assert problems(text) == []


def test_event_is_only_known_in_where() -> None:
    found = problems(H + "steps:\n  - set: '${ event }'\n")
    assert [d.code for d in found] == ["DSL-E012"]


# -- child workflows ---------------------------------------------------------------------------


def test_child_errors_are_reported_with_the_childs_file(tmp_path: Path) -> None:
    (tmp_path / "child.dwf.yaml").write_text("dwf: 1\nname: kid\nsteps:\n  - cal: x\n")
    parent = tmp_path / "parent.dwf.yaml"
    parent.write_text(H + "steps:\n  - workflow: child.dwf.yaml\n")
    found = validate_file(parent)
    assert [(d.code, d.position.file, d.position.line, d.position.column) for d in found] == [
        ("DSL-E001", str(tmp_path / "child.dwf.yaml"), 4, 5),
        ("DSL-E041", str(parent), 4, 15),
    ]
    assert "its problems are listed with" in found[1].message


def test_child_in_another_format(tmp_path: Path) -> None:
    (tmp_path / "child.asl.json").write_text('{"StartAt": "A", "States": {"A": {"Type": "Succeed"}}}')
    parent = tmp_path / "parent.dwf.yaml"
    parent.write_text(H + "steps:\n  - workflow: child.asl.json\n")
    assert {d.code for d in validate_file(parent)} == {"FMT-E002", "DSL-E041"}


def test_child_with_a_syntax_error(tmp_path: Path) -> None:
    (tmp_path / "child.dwf.yaml").write_text("dwf: 1\nname: [\n")
    parent = tmp_path / "parent.dwf.yaml"
    parent.write_text(H + "steps:\n  - workflow: child.dwf.yaml\n")
    assert {d.code for d in validate_file(parent)} == {"LOAD-E007", "DSL-E041"}


@pytest.mark.parametrize("self_reference", [True, False])
def test_child_cycles(tmp_path: Path, self_reference: bool) -> None:
    a, b = tmp_path / "a.dwf.yaml", tmp_path / "b.dwf.yaml"
    if self_reference:
        a.write_text(H + "steps:\n  - workflow: a.dwf.yaml\n")
    else:
        a.write_text(H + "steps:\n  - workflow: b.dwf.yaml\n")
        b.write_text(H + "steps:\n  - call: x\n  - workflow: ./a.dwf.yaml\n")
    found = validate_file(a)
    cycle = _find(found, "DSL-E042", "cycle")
    expected_file = a if self_reference else b
    assert cycle.position is not None and cycle.position.file == str(expected_file)
    assert ("a.dwf.yaml → a.dwf.yaml" if self_reference else "a.dwf.yaml → b.dwf.yaml → a.dwf.yaml") in cycle.message


def test_the_same_child_twice_is_fine(tmp_path: Path) -> None:
    (tmp_path / "kid.dwf.yaml").write_text("dwf: 1\nname: kid\nsteps: [ { call: x } ]\n")
    parent = tmp_path / "p.dwf.yaml"
    parent.write_text(H + "steps:\n  - workflow: kid.dwf.yaml\n  - parallel: [ { workflow: kid.dwf.yaml } ]\n")
    assert load_definition(parent).workflow.body.nodes["/steps/0"].definition is not None


def test_positions_inside_expressions_of_quoted_and_flow_scalars() -> None:
    text = textwrap.dedent("""\
        dwf: 1
        name: t
        steps:
          - call: a
            with: { x: "${ input.a }", y: "${ nope }" }
        """)
    (diagnostic,) = problems(text)
    assert (diagnostic.code, diagnostic.position.line, diagnostic.position.column) == ("DSL-E012", 5, 39)


def test_expression_errors_in_block_scalars_point_at_the_scalar() -> None:
    text = H + "steps:\n  - set: |\n      ${ bad bad }\n"
    (diagnostic,) = problems(text)
    assert diagnostic.code == "DSL-E010" and (diagnostic.position.line, diagnostic.position.column) == (4, 10)


def test_http_keys_match_the_http_activity() -> None:
    http = pytest.importorskip("declarative_wf.activities.http")
    from declarative_wf.formats.dsl.steps import HTTP_KEYS

    assert set(HTTP_KEYS) == set(http._KNOWN_KEYS - http.FORMAT_KEYS)
