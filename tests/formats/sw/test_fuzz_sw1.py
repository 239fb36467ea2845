"""Fuzzing Serverless Workflow 1.x: random and mutated documents never produce a traceback —
not from ``validate_document``, not from ``formats.validate_text``, not from ``dwf validate``
and not from ``dwf run`` (only diagnostics, and the documented exit codes 0/1/2)."""

from __future__ import annotations

import json
import random
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from declarative_wf.cli import main
from declarative_wf.diagnostics import DiagnosticError
from declarative_wf.formats import validate_text
from declarative_wf.formats.sw.validate import validate_document
from declarative_wf.loading import load_text

from .test_validate_differential import mutate
from .validate_corpus import documents

HEADER = {"document": {"dsl": "1.0.3", "namespace": "fuzz", "name": "fuzz", "version": "1.0.0"}}

#: Small workflows that run offline and quickly: the seeds of `dwf run` fuzzing.
RUNNABLE: list[dict[str, Any]] = [
    {**HEADER, "do": [{"a": {"set": {"x": "${ 1 + 1 }"}}}, {"b": {"set": "${ .x * 2 }", "then": "end"}}]},
    {**HEADER, "do": [{"pick": {"switch": [{"big": {"when": ".n > 1", "then": "big"}}, {"other": {"then": "small"}}]}},
                      {"big": {"set": {"r": "big"}, "then": "end"}}, {"small": {"set": {"r": "small"}}}]},
    {**HEADER, "do": [{"loop": {"for": {"in": "${ [1, 2, 3] }", "each": "i"}, "do": [{"s": {"set": {"v": "${ $i }"}}}]}}]},
    {**HEADER, "do": [{"t": {"try": [{"boom": {"raise": {"error": {"type": "https://x.org/e", "status": 400}}}}],
                             "catch": {"as": "e", "do": [{"h": {"set": {"caught": "${ $e.status }"}}}]}}}]},
    {**HEADER, "do": [{"f": {"fork": {"branches": [{"x": {"set": {"a": 1}}}, {"y": {"set": {"b": 2}}}]}}},
                      {"w": {"wait": {"milliseconds": 10}}}]},
    {**HEADER, "input": {"from": "{ n: (.n // 0) }"}, "output": {"as": ".n"}, "do": [{"d": {"do": [{"i": {"set": {"n": "${ .n + 1 }"}}}]}}]},
]  # fmt: skip


def _corpus_seeds() -> list[Any]:
    seeds: list[Any] = []
    for name, text in documents("examples", "doc-examples", "ctk", "ows-examples"):
        try:
            seeds.append(load_text(text, name).data)
        except DiagnosticError:  # the one invalid file with a duplicate key
            continue
    return seeds or list(RUNNABLE)


SEEDS = _corpus_seeds()

_KEYS = ["document", "do", "use", "call", "with", "set", "switch", "then", "for", "in", "each", "try", "catch", "errors",
         "raise", "error", "type", "status", "wait", "listen", "to", "one", "any", "all", "until", "emit", "event", "fork",
         "branches", "run", "workflow", "shell", "input", "output", "export", "as", "from", "schema", "timeout", "after",
         "retry", "functions", "secrets", "authentication", "endpoint", "uri", "when", "if", "dsl", "name"]  # fmt: skip
_SCALARS = st.none() | st.booleans() | st.integers(-3, 70000) | st.floats(allow_nan=True, allow_infinity=True) | st.sampled_from(
    ["", "${ . }", "${", "}", ".a", "${ $secrets.x }", "PT1S", "P", "http", "https://x.org/{a}", "end", "exit", "1.0.3",
     "\u0000", "\x1b[31m", "é", "a" * 300, "${ .a } ${ .b }", "$secrets", "x@y", "a:1@b", "-"]
)  # fmt: skip
JSON = st.recursive(
    _SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_KEYS) | st.text(max_size=4), inner, max_size=4),
    max_leaves=12,
)


def _no_internal_error(found: list[Any], text: str) -> None:
    """No FMT-E004 from validation. One from the compiler of a document that validation
    passed is a compiler bug: reported as a warning (the compiler is not under test here)."""
    internal = [d.format() for d in found if d.code == "FMT-E004"]
    if not internal:
        return
    try:
        document = load_text(text, "again")
    except DiagnosticError:
        raise AssertionError(internal) from None
    errors = [d for d in validate_document(document) if d.is_error]  # must not raise
    assert not errors, internal  # validation failed, yet something crashed: validation's fault
    warnings.warn(f"compiler crash on a valid document: {internal[0]}", stacklevel=2)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(JSON, st.booleans())
def test_random_documents_only_give_diagnostics(body: Any, with_header: bool) -> None:
    data = {**HEADER, **body} if with_header and isinstance(body, dict) else body
    if not isinstance(data, dict):
        data = {**HEADER, "do": data}
    text = json.dumps(data)
    document = load_text(text, "random.json")
    for diagnostic in validate_document(document):
        assert diagnostic.code.startswith("SW-") and diagnostic.position is not None
    _no_internal_error(validate_text(text, "random.json"), text)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.integers(1, 4))
def test_mutated_corpus_documents_only_give_diagnostics(seed: int, rounds: int) -> None:
    rng = random.Random(seed)
    data = rng.choice(SEEDS)
    for _ in range(rounds):
        data, _what = mutate(data, rng)
    # As YAML (block style), so that the loader's YAML path and its positions are fuzzed too.
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    found = validate_text(text, "mutated.yaml")
    _no_internal_error(found, text)
    for diagnostic in found:
        assert diagnostic.position is not None or diagnostic.code.startswith(("LOAD-", "FMT-")), diagnostic.format()


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.data())
def test_broken_text_only_gives_diagnostics(seed: int, data: st.DataObject) -> None:
    """Character-level damage (deleted, duplicated or inserted characters) of a corpus document."""
    rng = random.Random(seed)
    text = yaml.safe_dump(rng.choice(SEEDS), sort_keys=False)
    for _ in range(data.draw(st.integers(1, 5))):
        at = rng.randrange(len(text) + 1)
        action = rng.choice(["delete", "insert", "duplicate"])
        if action == "delete":
            text = text[:at] + text[at + rng.randint(1, 8):]
        elif action == "insert":
            text = text[:at] + rng.choice([":", "-", " ", "\n", "\t", "'", '"', "{", "[", "&a", "*a", "!!int ", "${"]) + text[at:]
        else:
            text = text[:at] + text[max(0, at - 20):at] + text[at:]
    _no_internal_error(validate_text(text, "broken.yaml"), text)


# --------------------------------------------------------------------------- the command line


def _cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.integers(0, 2**32 - 1))
def test_dwf_validate_never_shows_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: int) -> None:
    rng = random.Random(seed)
    data, _what = mutate(rng.choice(SEEDS), rng)
    path = tmp_path / f"w{seed}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code, output = _cli(capsys, "validate", str(path))
    assert code in (0, 1), output
    assert "Traceback" not in output, output
    code, output = _cli(capsys, "validate", "-o", "json", str(path))
    assert code in (0, 1) and isinstance(json.loads(output), list), output


@pytest.mark.integration
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(st.integers(0, 2**32 - 1), st.integers(0, 2))
def test_dwf_run_never_shows_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str], seed: int, rounds: int) -> None:
    """Runs on the embedded engine; exit 0 (completed), 1 (failed) or 2 (invalid definition)."""
    rng = random.Random(seed)
    data: Any = rng.choice(RUNNABLE)
    for _ in range(rounds):
        data, _what = mutate(data, rng)
    path = tmp_path / f"r{seed}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    code, output = _cli(capsys, "run", str(path), "--input", '{"n": 2}', "--timeout", "5", "-q", "-o", "json",
                        "--db", str(tmp_path / f"r{seed}.db"))  # fmt: skip
    assert code in (0, 1, 2), output
    assert "Traceback" not in output, output
    if code == 2:
        assert any(line.split(": ")[1:2] and line.split(": ")[1][:3] in ("SW-", "LOA", "FMT") for line in output.splitlines()), output
    else:
        assert json.loads(output.strip().splitlines()[-1])["status"] in ("COMPLETED", "FAILED", "TERMINATED"), output


def test_runnable_seeds_run() -> None:
    """The seeds of the run fuzzing are themselves valid (so mutations start from real workflows)."""
    for data in RUNNABLE:
        found = [d.format() for d in validate_text(json.dumps(data), "seed.json") if d.is_error]
        assert found == [], found
