"""Random and mutated documents: load_definition raises nothing but DiagnosticError, and
validate_file never raises (and never reports an internal error)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from declarative_wf.diagnostics import Diagnostic, DiagnosticError
from declarative_wf.formats import load_definition, load_definition_text, validate_file

KEYS = [
    "call", "workflow", "set", "switch", "parallel", "for_each", "repeat", "try", "wait", "wait_for", "goto",
    "succeed", "fail", "id", "with", "save", "output", "retry", "catch", "compensate", "timeout", "steps", "as",
    "index", "concurrency", "tolerate", "first", "if", "else", "every", "until", "max_rounds", "on", "then",
    "attempts", "delay", "backoff", "max_delay", "jitter", "where", "async", "error", "message", "failures",
    "percent", "from", "schema", "url", "method", "max_duration", "description", "cal", "$expr",
]  # fmt: skip
WORDS = [
    "${ result }", "${", "$${x}", "5m", "PT5M", "P1M", "end", "continue", "fail", "x", "a", "http", "./c.yaml",
    "${ a.b[?x] }", "${ foo(1) }", "${ sum(a, b) }", "1h30m", "-1s", "2025-01-01T00:00:00Z", "${ {a: b} }",
    "x ${ y } z", "${ `}` }", "input", "result", "/steps/0", "${ ", "GET", "Timeout", "*",
]  # fmt: skip
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 2**70), st.floats(allow_nan=True), st.sampled_from(WORDS), st.text(max_size=6)
)
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.sampled_from(KEYS), children, max_size=5)),
    max_leaves=40,
)
STEP = st.recursive(
    st.fixed_dictionaries({"call": st.sampled_from(["a", "http", "b"])}, optional={"with": VALUES, "id": st.sampled_from(["a", "b"])}),
    lambda inner: st.one_of(
        st.fixed_dictionaries({"for_each": st.sampled_from(["${ result }", "x"]), "steps": st.lists(inner, max_size=3)}),
        st.fixed_dictionaries({"try": st.lists(inner, max_size=3)}, optional={"catch": st.fixed_dictionaries(
            {"steps": st.lists(inner, max_size=2)}, optional={"then": st.sampled_from(["a", "b", "end", "fail", "zz"])})}),
        st.fixed_dictionaries({"switch": st.lists(st.fixed_dictionaries({"if": st.sampled_from(WORDS)}, optional={
            "goto": st.sampled_from(["a", "b", "end"]), "steps": st.lists(inner, max_size=2)}), max_size=3)}),
        st.fixed_dictionaries({"parallel": st.lists(st.one_of(inner, st.fixed_dictionaries({"steps": st.lists(inner, max_size=2)})), max_size=3)}),
        st.fixed_dictionaries({"goto": st.sampled_from(["a", "b", "end", "zz"])}),
        st.dictionaries(st.sampled_from(KEYS), VALUES, max_size=4),
    ),
    max_leaves=12,
)  # fmt: skip
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))


def _check(text: str | bytes, file: str) -> None:
    try:
        load_definition_text(text, file)
    except DiagnosticError as error:
        assert all(isinstance(d, Diagnostic) for d in error.diagnostics)
        assert not [d for d in error.diagnostics if d.code == "FMT-E004"], error
        assert error.diagnostics == sorted(error.diagnostics)


@SETTINGS
@given(st.dictionaries(st.sampled_from(["dwf", "name", "steps", "input", "output", "timeout", "version", "x"]), VALUES, max_size=6))
def test_random_documents(document: dict[str, Any]) -> None:
    _check(json.dumps(document), "f.json")


@SETTINGS
@given(st.lists(STEP, max_size=5), st.sampled_from([None, "${ result }", "${ x }"]))
def test_random_step_trees(steps: list[Any], output: Any) -> None:
    document: dict[str, Any] = {"dwf": 1, "name": "fuzz", "steps": steps}
    if output is not None:
        document["output"] = output
    _check(json.dumps(document), "f.json")


BASE = """\
dwf: 1
name: base
input: { schema: { type: object }, from: "${ input.order }" }
timeout: 1h
steps:
  - id: charge
    call: charge
    with: { amount: "${ result.total }", note: "for ${ input.id }" }
    save: receipt
    retry: { attempts: 5, delay: 1s, max_delay: 30s, on: [Timeout] }
    catch: [ { on: [Declined], compensate: true, steps: [ { call: notify } ], then: end } ]
    compensate: { call: refund, with: "${ compensating.result }" }
  - switch:
      - if: "${ result.total > `100` }"
        goto: charge
      - else: [ { wait: 5m } ]
  - for_each: "${ input.items }"
    steps: [ { wait_for: go, where: "${ event.id == item.id }", timeout: 1m } ]
  - repeat: { every: 2s, until: "${ result.done }", steps: [ { call: check } ] }
output: "${ {receipt: receipt} }"
"""


@SETTINGS
@given(st.lists(st.tuples(st.integers(0, len(BASE)), st.integers(0, 6), st.text(max_size=4)), min_size=1, max_size=4))
def test_mutated_documents(mutations: list[tuple[int, int, str]]) -> None:
    text = BASE
    for position, cut, insert in mutations:
        text = text[:position] + insert + text[position + cut :]
    _check(text, "f.yaml")


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.binary(max_size=200))
def test_validate_file_never_raises(content: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "x.dwf.yaml"
        path.write_bytes(b"dwf: 1\nname: x\nsteps:\n" + content)
        found = validate_file(path)
        assert not [d for d in found if d.code == "FMT-E004"], found
        try:
            load_definition(path)
        except DiagnosticError:
            pass


def test_the_base_document_is_valid() -> None:
    load_definition_text(BASE, "f.yaml")
