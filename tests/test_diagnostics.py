"""Tests for declarative_wf.diagnostics: formatting, ordering, rendering, JSON, suggestions."""

from __future__ import annotations

import io
import json
import re

import pytest

from declarative_wf.diagnostics import (
    Diagnostic,
    DiagnosticError,
    Severity,
    SourcePosition,
    quote,
    render,
    sort_diagnostics,
    suggest,
    to_json,
    use_color,
)


def diag(code: str = "ASL-E012", message: str = "boom", line: int = 3, column: int = 5,
         file: str = "wf.yaml", **extra: object) -> Diagnostic:  # fmt: skip
    position = SourcePosition(file, line, column)
    return Diagnostic(code, message, "/States/A", position, **extra)  # type: ignore[arg-type]


def at(d: Diagnostic) -> tuple[int, int]:
    assert d.position is not None
    return d.position.line, d.position.column


# --------------------------------------------------------------------------- data classes


def test_source_position_str_is_file_line_col() -> None:
    assert str(SourcePosition("orders.asl.json", 14, 17)) == "orders.asl.json:14:17"


def test_source_position_is_frozen_and_hashable() -> None:
    pos = SourcePosition("a", 1, 1)
    with pytest.raises(AttributeError):
        pos.line = 2  # type: ignore[misc]
    assert {pos, SourcePosition("a", 1, 1)} == {pos}


def test_severity_values() -> None:
    assert Severity.ERROR.value == "error" and str(Severity.WARNING) == "warning"


def test_format_with_position_matches_cli_contract() -> None:
    d = diag(message='state "Charge" → Next "Shipp" does not exist', line=14, column=17,
             file="orders.asl.json")  # fmt: skip
    assert d.format() == (
        'orders.asl.json:14:17: ASL-E012 state "Charge" → Next "Shipp" does not exist'
    )
    assert str(d) == d.format()


def test_format_without_position_uses_file_or_nothing() -> None:
    assert Diagnostic("LOAD-E001", "cannot read", file="x.yaml").format() == (
        "x.yaml: LOAD-E001 cannot read"
    )
    assert Diagnostic("X-E1", "no file").format() == "X-E1 no file"


def test_format_leaves_hint_out() -> None:
    assert "hint" not in diag(hint="try this").format()
    assert "try this" not in diag(hint="try this").format()


def test_source_file_prefers_position() -> None:
    d = Diagnostic("C", "m", position=SourcePosition("a", 1, 1), file="b")
    assert d.source_file == "a"
    assert Diagnostic("C", "m", file="b").source_file == "b"


def test_defaults() -> None:
    d = Diagnostic("C", "m")
    assert (d.pointer, d.position, d.hint, d.file) == ("", None, None, None)
    assert d.severity is Severity.ERROR
    assert d.is_error and not Diagnostic("C", "m", severity=Severity.WARNING).is_error


# --------------------------------------------------------------------------- ordering


def test_sorted_by_file_line_column_code_message() -> None:
    items = [
        diag("B", "z", 2, 1),
        diag("A", "z", 2, 1),
        diag("A", "a", 2, 1),
        diag("A", "a", 1, 9),
        diag("A", "a", 1, 2),
        diag("A", "a", 1, 1, file="b.yaml"),
        diag("A", "a", 99, 1, file="a.yaml"),
    ]
    ordered = sorted(items)
    keys = [(d.source_file, *at(d), d.code, d.message) for d in ordered]
    assert keys == [
        ("a.yaml", 99, 1, "A", "a"),
        ("b.yaml", 1, 1, "A", "a"),
        ("wf.yaml", 1, 2, "A", "a"),
        ("wf.yaml", 1, 9, "A", "a"),
        ("wf.yaml", 2, 1, "A", "a"),
        ("wf.yaml", 2, 1, "A", "z"),
        ("wf.yaml", 2, 1, "B", "z"),
    ]


def test_line_sorts_numerically_not_as_text() -> None:
    assert [at(d)[0] for d in sorted([diag(line=10), diag(line=9)])] == [9, 10]


def test_file_level_diagnostics_sort_first_in_their_file() -> None:
    whole = Diagnostic("Z-E9", "file problem", file="wf.yaml")
    assert sorted([diag(line=1, column=1), whole])[0] is whole


def test_sort_diagnostics_removes_exact_duplicates() -> None:
    assert sort_diagnostics([diag(), diag(), diag(line=1)]) == [diag(line=1), diag()]


def test_compare_with_other_types_is_not_supported() -> None:
    with pytest.raises(TypeError):
        _ = diag() < 3  # type: ignore[operator]


# --------------------------------------------------------------------------- DiagnosticError


def test_diagnostic_error_sorts_and_formats() -> None:
    err = DiagnosticError([diag(line=5), diag(line=2)])
    assert [d.position.line for d in err.diagnostics] == [2, 5]  # type: ignore[union-attr]
    assert str(err) == "wf.yaml:2:5: ASL-E012 boom\nwf.yaml:5:5: ASL-E012 boom"


def test_diagnostic_error_needs_a_diagnostic() -> None:
    with pytest.raises(ValueError):
        DiagnosticError([])


def test_diagnostic_error_errors_excludes_warnings() -> None:
    warn = diag("W", severity=Severity.WARNING)
    err = DiagnosticError([warn, diag("E")])
    assert [d.code for d in err.errors] == ["E"]
    assert len(err.diagnostics) == 2


def test_diagnostic_error_accepts_a_generator() -> None:
    assert len(DiagnosticError(diag(line=i) for i in range(1, 4)).diagnostics) == 3


# --------------------------------------------------------------------------- helpers


def test_quote_uses_double_quotes_and_escapes_controls() -> None:
    assert quote("Ship") == '"Ship"'
    assert quote('a"b') == '"a\\"b"'
    assert quote("é") == '"é"'
    for control in ("\x1b[31m", "\x9b", "\x7f", "\n"):
        assert control[0] not in quote(control)


@pytest.mark.parametrize(
    ("name", "candidates", "expected"),
    [
        ("Shipp", ["Ship", "Charge", "Done"], 'did you mean "Ship"?'),
        ("next", ["Next", "End"], 'did you mean "Next"?'),
        ("Tpye", ["Type", "Next"], 'did you mean "Type"?'),
        ("zzzz", ["Ship", "Charge"], None),
        ("Ship", ["Ship"], None),  # the name itself is no suggestion
        ("x", [], None),
    ],
)
def test_suggest(name: str, candidates: list[str], expected: str | None) -> None:
    assert suggest(name, candidates) == expected


def test_suggest_is_deterministic_and_accepts_iterables() -> None:
    assert suggest("abd", iter(["abc", "abe"])) == suggest("abd", ["abe", "abc"])


def test_to_json_fields_and_types() -> None:
    out = to_json([
        diag(hint="h", line=2),
        Diagnostic("LOAD-E001", "cannot read", file="x.yaml", severity=Severity.WARNING),
    ])  # fmt: skip
    assert out == [
        {"file": "wf.yaml", "line": 2, "column": 5, "code": "ASL-E012", "message": "boom",
         "pointer": "/States/A", "severity": "error", "hint": "h"},
        {"file": "x.yaml", "line": None, "column": None, "code": "LOAD-E001",
         "message": "cannot read", "pointer": "", "severity": "warning", "hint": None},
    ]  # fmt: skip
    assert json.loads(json.dumps(out)) == out


def test_to_json_of_nothing_is_empty() -> None:
    assert to_json([]) == []


class _Tty(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.mark.parametrize(
    ("env", "tty", "expected"),
    [
        ({}, True, True),
        ({}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"FORCE_COLOR": "1"}, False, True),
        ({"TERM": "dumb"}, True, False),
    ],
)
def test_use_color(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], tty: bool, expected: bool
) -> None:
    for name in ("NO_COLOR", "FORCE_COLOR", "TERM"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert use_color(_Tty(tty)) is expected


# --------------------------------------------------------------------------- render

SOURCE = "name: demo\nstates:\n  Charge:\n    Next: Shipp\n"


def test_render_plain_is_one_line_per_problem_sorted() -> None:
    out = render([diag(line=4), diag(line=2)])
    assert out == "wf.yaml:2:5: ASL-E012 boom\nwf.yaml:4:5: ASL-E012 boom"
    assert render([]) == ""


def test_render_with_source_shows_line_and_caret() -> None:
    d = diag("ASL-E012", 'Next "Shipp" does not exist', 4, 11, hint='did you mean "Ship"?')
    assert render([d], {"wf.yaml": SOURCE}) == "\n".join([
        'wf.yaml:4:11: ASL-E012 Next "Shipp" does not exist',
        "4 |     Next: Shipp",
        "  |           ^",
        '  = hint: did you mean "Ship"?',
    ])  # fmt: skip


def test_render_gutter_width_follows_line_number() -> None:
    source = "\n" * 11 + "abc\n"
    lines = render([diag(line=12, column=2)], {"wf.yaml": source}).splitlines()
    assert lines[1:] == ["12 | abc", "   |  ^"]


def test_render_expands_tabs_and_counts_wide_characters() -> None:
    source = "\tx: 漢字y\n"
    lines = render([diag(line=1, column=7)], {"wf.yaml": source}).splitlines()
    assert lines[1] == "1 |     x: 漢字y"
    # tab = 4 cells, "x: " = 3, two wide characters = 4: the caret is under "y".
    assert lines[2] == "  | " + " " * 11 + "^"


def test_render_replaces_control_characters_in_source() -> None:
    out = render([diag(line=1, column=1)], {"wf.yaml": "\x1b[31mred\n"})
    assert "\x1b" not in out and "\ufffd" in out


def test_render_end_of_file_line_and_out_of_range_lines() -> None:
    eof = render([diag(line=2, column=1)], {"wf.yaml": "a: 1\n"}).splitlines()
    assert eof[1:] == ["2 |", "  | ^"]
    beyond = diag(line=9, column=1)
    assert render([beyond], {"wf.yaml": "a: 1\n"}) == beyond.format()


def test_render_caret_clamped_past_end_of_line() -> None:
    lines = render([diag(line=1, column=50)], {"wf.yaml": "ab\n"}).splitlines()
    assert lines[2] == "  |   ^"


def test_render_cuts_long_lines_around_the_caret() -> None:
    source = "x" * 5000 + "HERE" + "y" * 5000
    lines = render([diag(line=1, column=5001)], {"wf.yaml": source}).splitlines()
    shown = lines[1][len("1 | "):]
    assert len(shown) < 130 and shown.startswith("…") and shown.endswith("…")
    caret = lines[2].index("^") - len("  | ")
    assert shown[caret:caret + 4] == "HERE"


def test_render_crlf_and_missing_file_in_sources() -> None:
    lines = render([diag(line=2, column=1)], {"wf.yaml": "a\r\nb\r\n"}).splitlines()
    assert lines[1] == "2 | b"
    assert render([diag()], {"other.yaml": "x"}) == diag().format()


def test_render_without_position_has_no_excerpt_but_keeps_hint() -> None:
    d = Diagnostic("LOAD-E001", "cannot read", file="wf.yaml", hint="check the path")
    expected = "wf.yaml: LOAD-E001 cannot read\n  = hint: check the path"
    assert render([d], {"wf.yaml": "a"}) == expected


def test_render_color_adds_ansi_only_when_asked() -> None:
    d = diag(hint="h")
    plain = render([d], {"wf.yaml": SOURCE}, color=False)
    colored = render([d], {"wf.yaml": SOURCE}, color=True)
    assert "\x1b[" not in plain
    assert "\x1b[1;31m" in colored and "\x1b[0m" in colored
    assert "\x1b[1;33m" in render([diag(severity=Severity.WARNING)], color=True)
    assert re.sub(r"\x1b\[[0-9;]*m", "", colored) == plain
