"""Durations, timestamps and ``${ ... }`` strings."""

from __future__ import annotations

import jmespath
import pytest
from hypothesis import given
from hypothesis import strategies as st

from declarative_wf.formats.dsl import DurationError, parse_duration, parse_timestamp
from declarative_wf.formats.dsl.expressions import (
    TemplateSyntaxError,
    json_literal,
    split_template,
)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5), ("30s", 30), ("5m", 300), ("1h", 3600), ("1d", 86400), ("1h30m", 5400),
        ("1d2h3m4s5ms", 93784.005), ("1.5h", 5400), ("0s", 0), (" 10s ", 10),
        ("PT5M", 300), ("PT1H30M", 5400), ("P1D", 86400), ("P1DT2H", 93600), ("P2W", 1209600),
        ("PT0.5S", 0.5), ("PT1,5S", 1.5), ("pt5m", 300), (30, 30), (2.5, 2.5), (0, 0),
    ],
)  # fmt: skip
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("", "empty"), ("5", "add a unit"), ("5x", 'unknown unit "x"'), ("30m1h", "largest to the smallest"),
        ("1h1h", "largest to the smallest"), ("P1M", "years and months"), ("P1Y", "years and months"),
        ("P", "not an ISO 8601 duration"), ("PT", "not an ISO 8601 duration"), ("P1DT", "not an ISO 8601 duration"),
        ("-5s", "not a duration"), (-1, ">= 0"), (float("inf"), "finite"), (float("nan"), "finite"),
        (True, "not a boolean"), (None, "not null"), ([1], "not a list"), ("5 m", "not a duration"),
    ],
)  # fmt: skip
def test_bad_durations(value: object, fragment: str) -> None:
    with pytest.raises(DurationError) as info:
        parse_duration(value)
    assert fragment in str(info.value)


@given(st.integers(0, 10**6), st.sampled_from(["ms", "s", "m", "h", "d"]))
def test_compact_durations_scale(amount: int, unit: str) -> None:
    factor = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}[unit]
    assert parse_duration(f"{amount}{unit}") == pytest.approx(amount * factor)


@pytest.mark.parametrize("text", ["2025-01-01T09:00:00Z", "2025-01-01T09:00:00.5+01:00", "2025-01-01 09:00:00z", "2025-01-01t09:00:00Z"])
def test_timestamps(text: str) -> None:
    assert parse_timestamp(text).tzinfo is not None


@pytest.mark.parametrize("text", ["2025-01-01", "2025-01-01T09:00:00", "2025-13-01T00:00:00Z", "tomorrow", 5])
def test_bad_timestamps(text: object) -> None:
    with pytest.raises(ValueError):
        parse_timestamp(text)


@pytest.mark.parametrize(
    ("text", "pieces"),
    [
        ("plain", [("plain", False, 0)]),
        ("${ a }", [(" a ", True, 2)]),
        ("x ${a} y", [("x ", False, 0), ("a", True, 4), (" y", False, 6)]),
        ("$${a}", [("${a}", False, 0)]),
        ("${ {k: v} }", [(" {k: v} ", True, 2)]),
        ("${ '}' }", [(" '}' ", True, 2)]),
        ("${ `\"}\"` }", [(' `"}"` ', True, 2)]),
        ("${a}${b}", [("a", True, 2), ("b", True, 6)]),
    ],
)
def test_split_template(text: str, pieces: list[tuple[str, bool, int]]) -> None:
    assert [(p.text, p.is_expr, p.offset) for p in split_template(text)] == pieces


@pytest.mark.parametrize(("text", "offset"), [("a ${ b", 2), ("${}", 0), ("x ${   }", 2), ("${ '} ", 0)])
def test_split_template_errors(text: str, offset: int) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        split_template(text)
    assert info.value.offset == offset


@given(st.text())
def test_json_literal_round_trips_any_text(text: str) -> None:
    assert jmespath.compile(json_literal(text)).search(None) == text


@given(st.text())
def test_split_template_never_crashes(text: str) -> None:
    try:
        pieces = split_template(text)
    except TemplateSyntaxError:
        return
    assert all(isinstance(piece.text, str) for piece in pieces)
