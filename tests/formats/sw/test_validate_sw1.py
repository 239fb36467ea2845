"""Serverless Workflow 1.x validation: the schema file, the messages of schema errors, and every
semantic check (good and bad documents), each diagnostic positioned as FILE:LINE:COL."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import jsonschema
import pytest

from declarative_wf.diagnostics import Diagnostic, Severity
from declarative_wf.formats.sw.codes import SW_CODES
from declarative_wf.formats.sw.sw1_schema import build_schema, render
from declarative_wf.formats.sw.validate import load_schema, validate_document
from declarative_wf.loading import LoadedDocument, PositionMap, load_text

REPO = Path(__file__).resolve().parents[3]

HEADER = """\
document:
  dsl: '1.0.3'
  namespace: test
  name: checks
  version: '1.0.0'
"""


def diagnostics(body: str, *, ows: bool = True) -> list[Diagnostic]:
    """Validate HEADER + ``body`` (dedented); the document is named t.yaml."""
    document = load_text(HEADER + textwrap.dedent(body), "t.yaml")
    return sorted(validate_document(document, ows=ows))


def errors(body: str, **options: bool) -> list[str]:
    """'LINE:COL CODE message' of every error."""
    return [f"{d.position.line}:{d.position.column} {d.code} {d.message}" for d in diagnostics(body, **options)
            if d.severity is Severity.ERROR and d.position]  # fmt: skip


def only(body: str, code: str) -> Diagnostic:
    found = [d for d in diagnostics(body) if d.code == code]
    assert len(found) == 1, [d.format() for d in diagnostics(body)]
    return found[0]


# --------------------------------------------------------------------------- the schema file


def test_schema_file_is_generated_from_its_source() -> None:
    """schemas/sw1.schema.json is what sw1_schema.py renders (regenerate with
    `python -m declarative_wf.formats.sw.sw1_schema`)."""
    assert (REPO / "schemas" / "sw1.schema.json").read_text(encoding="utf-8") == render()
    assert load_schema() == build_schema()


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(load_schema())
    assert load_schema()["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_codes_are_documented() -> None:
    text = (REPO / "docs" / "sw-validation.md").read_text(encoding="utf-8")
    for code in SW_CODES:
        assert code in text, f"{code} is not in docs/sw-validation.md"
    assert all(re.fullmatch(r"SW-[EW]\d{3}", code) for code in SW_CODES)


# --------------------------------------------------------------------------- valid documents

VALID = """\
use:
  secrets: [ apiToken ]
  functions:
    greet:
      call: http
      with: { method: get, endpoint: 'https://example.com/greet' }
  errors:
    notFound: { type: 'https://example.com/errors/not-found', status: 404 }
  retries:
    thrice: { delay: PT1S, backoff: { exponential: {} }, limit: { attempt: { count: 3 } } }
  timeouts:
    short: { after: PT10S }
  authentications:
    token: { bearer: { token: '${ $secrets.apiToken }' } }
    fromSecret: { bearer: { use: apiToken } }
  catalogs:
    shared: { endpoint: 'https://example.com/catalog' }
schedule:
  on:
    one: { with: { type: com.example.start } }
do:
  - start:
      set: { count: 0, token: '${ $secrets.apiToken }' }
      timeout: short
  - loop:
      switch:
        - done: { when: .count >= 3, then: finish }
        - default: { then: step }
  - step:
      set: '${ .count + 1 | { count: . } }'
      then: loop
  - call1:
      call: greet
  - call2:
      call: log:1.0.0@shared
  - call3:
      call: 'https://example.com/functions/f.yaml'
  - guarded:
      try:
        - risky:
            call: http
            with:
              method: get
              endpoint: { uri: 'https://example.com', authentication: { use: token } }
      catch:
        errors: { with: { status: 404 } }
        when: .status == 404
        retry: thrice
  - child:
      run: { workflow: { namespace: test, name: child, version: latest } }
  - pause:
      wait: PT1M30.5S
  - finish:
      raise: { error: notFound }
      if: '${ .count > 10 }'
"""


def test_a_document_using_every_checked_reference_is_clean() -> None:
    assert [d.format() for d in diagnostics(VALID)] == []


def test_on_is_a_key_not_true() -> None:
    """YAML 1.2: schedule.on stays the key "on" (YAML 1.1 would make it the boolean true)."""
    document = load_text(HEADER + VALID, "t.yaml")
    assert "on" in document.data["schedule"]


def test_not_a_mapping() -> None:
    document = LoadedDocument([1, 2], PositionMap(), "[1, 2]", "t.yaml")
    found = validate_document(document)
    assert [d.code for d in found] == ["SW-E001"]


# --------------------------------------------------------------------------- schema messages


def test_unknown_key_points_at_the_key_and_suggests() -> None:
    found = only("""\
    do:
      - a:
          call: http
          with: { method: get, endpoint: 'https://x.org' }
          thn: end
    """, "SW-E001")  # fmt: skip
    assert (found.position.line, found.position.column) == (10, 7)
    assert 'unknown field "thn" in the call http task "a"' in found.message
    assert found.hint == 'did you mean "then"?'


def test_missing_required_field() -> None:
    assert errors("""\
    do:
      - a:
          call: http
          with: { method: get }
    """) == ['9:7 SW-E001 "with" needs the field "endpoint"']  # fmt: skip


def test_wrong_type_and_enum() -> None:
    assert errors("""\
    do:
      - a:
          wait: { hours: "2" }
      - b:
          listen: { to: { one: { with: { type: x } } }, read: body }
    """) == ['8:22 SW-E001 "hours" must be an integer', '10:59 SW-E001 "read" must be one of "data", "envelope", "raw"']  # fmt: skip


def test_two_tasks_in_one_item() -> None:
    found = only("""\
    do:
      - first:
          set: { a: 1 }
        second:
          set: { b: 2 }
    """, "SW-E003")  # fmt: skip
    assert found.position.line == 7 and '2 keys ("first", "second")' in found.message and "'- name:'" in (found.hint or "")


def test_task_without_kind_suggests_one() -> None:
    found = only("""\
    do:
      - a:
          sett: { x: 1 }
    """, "SW-E002")  # fmt: skip
    assert found.position.line == 7 and found.hint == 'did you mean "set"?'


def test_alternatives_messages() -> None:
    assert errors("""\
    do:
      - a:
          raise: { error: { type: 'https://x.org/e', status: 400, instance: '${ .where }' } }
      - b:
          listen: { to: { any: [], one: { with: { type: x } } } }
      - c:
          run: { container: { image: x, lifetime: { cleanup: never, after: PT1S } } }
      - d:
          call: http
          with: { method: get, endpoint: 'https://x.org', headers: 7 }
    """) == [
        '8:73 SW-E001 "instance" cannot be an expression here (the 1.0 schema accepts only a literal value)',
        '10:21 SW-E001 "to" mixes alternatives that exclude each other ("any", "one")',
        '12:65 SW-E001 "lifetime" has \'after\' although cleanup is not "eventually"',
        '15:64 SW-E001 "headers" must be a mapping or a runtime expression written as ${ ... }',
    ]  # fmt: skip


def test_nested_tasks_are_checked_at_their_place() -> None:
    assert errors("""\
    do:
      - outer:
          fork:
            branches:
              - inner:
                  try:
                    - deepest:
                        emit: { event: { with: { type: x } } }
                  catch: {}
    """) == ['13:38 SW-E001 "with" needs the field "source"']  # fmt: skip


# --------------------------------------------------------------------------- semantic checks


def test_then_to_a_missing_task_suggests_the_closest() -> None:
    found = only("""\
    do:
      - first:
          set: { a: 1 }
          then: secnd
      - second:
          set: { b: 2 }
    """, "SW-E010")  # fmt: skip
    assert (found.position.line, found.position.column) == (9, 13) and found.hint == 'did you mean "second"?'


def test_then_resolves_only_within_its_own_list() -> None:
    body = """\
    do:
      - outer:
          do:
            - inner:
                set: { a: 1 }
                then: after
      - after:
          set: { b: 2 }
    """
    assert errors(body) == ['11:19 SW-E010 then: "after" is not a task in the same task list']
    assert errors(body.replace("then: after", "then: exit")) == []


def test_switch_then_and_duplicate_default() -> None:
    assert errors("""\
    do:
      - pick:
          switch:
            - one: { when: .a, then: nowhere }
            - two: { then: end }
            - three: { then: end }
    """) == ['9:34 SW-E010 then: "nowhere" is not a task in the same task list',
             '11:11 SW-E012 this switch already has a default case (a case without when)']  # fmt: skip


def test_duplicate_task_names() -> None:
    assert errors("""\
    do:
      - same: { set: { a: 1 } }
      - same: { set: { a: 2 } }
    """) == ['8:5 SW-E011 a task named "same" is already in this task list']  # fmt: skip


@pytest.mark.parametrize(("body", "expected"), [
    ("do:\n  - a: { call: nope }\n", '7:16 SW-E020 the function "nope" is not declared in use.functions'),
    ("do:\n  - a: { call: 'f:1.0@elsewhere' }\n", '7:16 SW-E020 the catalog "elsewhere" is not declared in use.catalogs'),
    ("do:\n  - a: { call: 'f@elsewhere' }\n", '7:16 SW-E020 call "f@elsewhere": a catalog function is written name:version@catalog'),
    ("do:\n  - a: { raise: { error: nope } }\n", '7:26 SW-E021 the error "nope" is not declared in use.errors'),
    ("do:\n  - a: { try: [ b: { set: { x: 1 } } ], catch: { retry: nope } }\n",
     '7:57 SW-E022 the retry policy "nope" is not declared in use.retries'),
    ("timeout: nope\ndo:\n  - a: { set: { x: 1 } }\n", '6:10 SW-E024 the timeout "nope" is not declared in use.timeouts'),
    ("do:\n  - a: { set: { x: 1 }, timeout: nope }\n", '7:34 SW-E024 the timeout "nope" is not declared in use.timeouts'),
    ("do:\n  - a: { call: http, with: { method: get, endpoint: { uri: 'https://x.org', authentication: { use: nope } } } }\n",
     '7:100 SW-E023 the authentication "nope" is not declared in use.authentications'),
    ("use: { authentications: { a: { basic: { use: nope } } } }\ndo:\n  - a: { set: { x: 1 } }\n",
     '6:46 SW-E025 the secret "nope" is not declared in use.secrets'),
    ("do:\n  - a: { set: { x: '${ $secrets.nope }' } }\n", '7:20 SW-E025 the secret "nope" is not declared in use.secrets'),
    ("use: { authentications: { a: { bearer: { token: '${ $secrets.nope }' } } } }\ndo:\n  - a: { set: { x: 1 } }\n",
     '6:49 SW-E025 the secret "nope" is not declared in use.secrets'),
    ("do:\n  - a: { set: { x: '${ $secrets[\"no pe\"] }' } }\n", '7:20 SW-E025 the secret "no pe" is not declared in use.secrets'),
    ("do:\n  - a: { wait: PT1.5H30M }\n",
     '7:16 SW-E040 "PT1.5H30M": only the smallest unit of an ISO 8601 duration may have a fraction'),
    ("do:\n  - a: { run: { workflow: { namespace: x, name: Not_Valid, version: latest } } }\n",
     '7:49 SW-E050 run.workflow.name "Not_Valid" cannot name a workflow'),
    ("do:\n  - a: { run: { workflow: { namespace: x, name: y, version: '2' } } }\n",
     '7:61 SW-E050 run.workflow.version "2" is neither a semantic version nor "latest"'),
])  # fmt: skip
def test_undeclared_references(body: str, expected: str) -> None:
    assert errors(body) == [expected]


@pytest.mark.parametrize(("field", "value", "at"), [
    ("if", "'.a =='", "=="),              # libjq points at the token it could not use...
    ("if", "'${ .a == }'", " }"),         # ...or just past the end of the program
    ("input", "{ from: '.a | ' }", " ' }"),
    ("output", "{ as: '{ a: }' }", "}' }"),
    ("export", "{ as: '${ $context + }' }", " }'"),
])  # fmt: skip
def test_expression_fields_are_jq_with_or_without_braces(field: str, value: str, at: str) -> None:
    """The diagnostic points at the character libjq complains about, inside the string."""
    line = f"      {field}: {value}"
    found = only(f"do:\n  - a:\n      set: {{ x: 1 }}\n{line}\n", "SW-E030")
    assert found.message.startswith("not a valid jq expression: syntax error, unexpected ")
    assert (found.position.line, found.position.column) == (9, line.rindex(at) + 1)


def test_free_form_strings_are_literal_unless_wholly_an_expression() -> None:
    """`set` values, `with` arguments and bodies are data: 'hello world' is not jq; '${ x + }' is."""
    assert errors("""\
    do:
      - a:
          set: { greeting: 'hello world', when: 'not jq ((' }
      - b:
          call: http
          with: { method: post, endpoint: 'https://x.org', body: { text: '.a ==' , expr: '${ .a == }' } }
    """) == ["11:95 SW-E030 not a valid jq expression: syntax error, unexpected end of file"]  # fmt: skip


def test_other_expression_languages_are_not_checked() -> None:
    found = diagnostics("evaluate: { language: javascript }\ndo:\n  - a: { set: { x: '${ not jq ( }' } }\n")
    assert [d.code for d in found] == ["SW-W003"]


def test_evaluate_shape() -> None:
    assert errors("evaluate: { language: jq, mode: strict }\ndo:\n  - a: { set: { x: 1 } }\n") == []
    assert errors("evaluate: { mode: lose, lang: jq }\ndo:\n  - a: { set: { x: 1 } }\n") == [
        '6:19 SW-E004 evaluate.mode must be "strict" or "loose"', '6:25 SW-E004 unknown field "lang" in evaluate',
    ]  # fmt: skip


def test_unknown_top_level_key_is_a_warning() -> None:
    found = diagnostics("ouput: { as: .a }\ndo:\n  - a: { set: { x: 1 } }\n")
    assert [(d.code, d.severity, d.hint) for d in found] == [("SW-W002", Severity.WARNING, 'did you mean "output"?')]


# --------------------------------------------------------------------------- OWS main constructs

OWS = """\
do:
  - loop:
      for: { in: [ 1, 2, 3 ] }
      do:
        - step: { set: { x: '${ $item }' } }
  - guarded:
      try:
        - risky: { raise: { error: { type: 'https://x.org/e', status: 500 } } }
      catch:
        then: done
  - done: { set: { ok: true } }
"""


def test_ows_main_constructs_are_warnings_by_default() -> None:
    found = diagnostics(OWS)
    assert [(d.code, d.position.line) for d in found] == [("SW-W001", 8), ("SW-W001", 15)]


def test_ows_main_constructs_are_errors_in_strict_1_0() -> None:
    assert errors(OWS, ows=False) == ['8:18 SW-E001 "in" must be a string', '15:9 SW-E001 unknown field "then" in "catch"']


def test_catch_then_is_checked_like_then() -> None:
    found = [d for d in diagnostics(OWS.replace("then: done", "then: dnoe")) if d.is_error]
    assert [(d.code, d.hint) for d in found] == [("SW-E010", 'did you mean "done"?')]


def test_every_code_used_is_registered() -> None:
    bodies = [VALID, OWS, "ouput: 1\ndo:\n  - a: { sett: 1 }\n  - a: { call: x, then: y }\n"]
    for body in bodies:
        for diagnostic in diagnostics(body):
            assert diagnostic.code in SW_CODES
            assert diagnostic.position is not None
    assert json.loads(json.dumps(load_schema()))  # plain JSON
