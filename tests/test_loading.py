"""Tests for declarative_wf.loading: YAML 1.2 / JSON loading with positions and diagnostics."""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from declarative_wf import loading
from declarative_wf.diagnostics import Diagnostic, DiagnosticError, Severity, SourcePosition
from declarative_wf.loading import (
    LOAD_CODES,
    LoadedDocument,
    PositionMap,
    escape_pointer_token,
    json_pointer,
    load_file,
    load_text,
    parse_pointer,
    pointer_join,
)

COMPOSERS = ["libyaml", "python"] if hasattr(loading, "_CComposer") else ["python"]


@pytest.fixture(params=COMPOSERS)
def composer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Runs a test with libyaml's composer and with PyYAML's pure-Python one."""
    monkeypatch.setattr(loading, "_USE_LIBYAML", request.param == "libyaml")
    return str(request.param)


def load(text: str | bytes, file: str = "wf.yaml", **kw: Any) -> LoadedDocument:
    return load_text(text, file, **kw)


def problems(text: str | bytes, file: str = "wf.yaml", **kw: Any) -> list[Diagnostic]:
    with pytest.raises(DiagnosticError) as info:
        load_text(text, file, **kw)
    return info.value.diagnostics


def only(text: str | bytes, file: str = "wf.yaml", **kw: Any) -> Diagnostic:
    found = problems(text, file, **kw)
    assert len(found) == 1, found
    return found[0]


def at(d: Diagnostic) -> tuple[int, int]:
    assert d.position is not None, d
    return d.position.line, d.position.column


# --------------------------------------------------------------------------- JSON Pointer


@pytest.mark.parametrize(
    ("token", "escaped"),
    [("a", "a"), ("a/b", "a~1b"), ("m~n", "m~0n"), ("~1", "~01"), ("/~", "~1~0"), ("", ""),
     (3, "3")],  # fmt: skip
)
def test_escape_pointer_token(token: str | int, escaped: str) -> None:
    assert escape_pointer_token(token) == escaped


def test_json_pointer_and_join() -> None:
    assert json_pointer() == ""
    assert json_pointer("do", 0, "a/b", "c~d") == "/do/0/a~1b/c~0d"
    assert pointer_join("", "states") == "/states"
    assert pointer_join("/states", "x/y") == "/states/x~1y"
    assert pointer_join("/a", "") == "/a/"


def test_parse_pointer_rfc6901_examples() -> None:
    assert parse_pointer("") == []
    assert parse_pointer("/") == [""]
    assert parse_pointer("/a~1b/m~0n/~01") == ["a/b", "m~n", "~1"]
    for bad in ("a", "/a~2", "/a~"):
        with pytest.raises(ValueError):
            parse_pointer(bad)


@given(st.lists(st.text(alphabet="ab~/01 ", max_size=6), max_size=5))
def test_pointer_round_trip(parts: list[str]) -> None:
    assert parse_pointer(json_pointer(*parts)) == parts


# --------------------------------------------------------------------------- PositionMap


def test_position_map_falls_back_to_nearest_ancestor() -> None:
    root, states = SourcePosition("f", 1, 1), SourcePosition("f", 2, 3)
    pm = PositionMap({"": root, "/states": states}, {"/states": SourcePosition("f", 2, 1)})
    assert pm.at("/states") == states
    assert pm.at("/states/A/Next") == states
    assert pm.at("/other") == root
    assert pm.key_at("/states") == SourcePosition("f", 2, 1)
    assert pm.key_at("/states/0") == states  # no key there: the node itself
    assert PositionMap().at("/x") is None and PositionMap().at("") is None


# --------------------------------------------------------------------------- good YAML

WORKFLOW = """\
document:
  dsl: '1.0.0'
  name: order
do:
  - charge:
      call: http
      with: {method: post, endpoint: "https://x/y"}
  - ship:
      set:
        done: true
"""


def test_loads_plain_data_in_order(composer: str) -> None:
    doc = load(WORKFLOW)
    assert doc.data == {
        "document": {"dsl": "1.0.0", "name": "order"},
        "do": [
            {"charge": {"call": "http", "with": {"method": "post", "endpoint": "https://x/y"}}},
            {"ship": {"set": {"done": True}}},
        ],
    }
    assert list(doc.data) == ["document", "do"]
    assert doc.syntax == "yaml" and doc.file == "wf.yaml" and doc.source == WORKFLOW
    assert doc.warnings == []


def test_positions_of_values_keys_and_list_items(composer: str) -> None:
    pos = load(WORKFLOW).positions
    assert (pos.at("").line, pos.at("").column) == (1, 1)  # type: ignore[union-attr]
    expect = {
        "/document/name": (3, 9),
        "/do": (5, 3),
        "/do/0": (5, 5),
        "/do/0/charge/with": (7, 13),
        "/do/0/charge/with/endpoint": (7, 38),
        "/do/1/ship/set/done": (10, 15),
    }
    for pointer, (line, column) in expect.items():
        assert pos.nodes[pointer] == SourcePosition("wf.yaml", line, column), pointer
    assert pos.keys["/document/name"] == SourcePosition("wf.yaml", 3, 3)
    assert pos.keys["/do/0/charge/with/endpoint"] == SourcePosition("wf.yaml", 7, 28)
    assert "/do/0" not in pos.keys


def test_positions_are_character_columns_with_unicode_and_crlf(composer: str) -> None:
    doc = load("é😀: x\r\nb:\r\n  - ü: [1, 2]\r\n")
    assert doc.positions.nodes["/é😀"] == SourcePosition("wf.yaml", 1, 5)
    assert doc.positions.nodes["/b/0/ü/1"] == SourcePosition("wf.yaml", 3, 12)


def test_pointer_escaping_in_positions(composer: str) -> None:
    doc = load('"a/b": {"m~n": 1}\n')
    assert doc.data == {"a/b": {"m~n": 1}}
    assert doc.positions.keys["/a~1b/m~0n"] == SourcePosition("wf.yaml", 1, 9)


def test_loaded_document_builds_positioned_diagnostics() -> None:
    doc = load(WORKFLOW)
    d = doc.diagnostic("DSL-E001", "unknown key", "/document/name", key=True, hint="h")
    assert d.format() == "wf.yaml:3:3: DSL-E001 unknown key"
    assert d.hint == "h" and d.pointer == "/document/name" and d.severity is Severity.ERROR
    assert at(doc.diagnostic("X", "m", "/document/name/missing")) == (3, 9)


def test_block_scalars_and_comments(composer: str) -> None:
    doc = load("# c\nscript: |\n  echo 1\n  echo 2\nfold: >\n  a\n  b\n")
    assert doc.data == {"script": "echo 1\necho 2\n", "fold": "a b\n"}


def test_utf8_bom_is_accepted(composer: str) -> None:
    doc = load("\ufeffa: 1\n".encode())
    assert doc.data == {"a": 1} and doc.source == "a: 1\n"
    assert doc.positions.nodes["/a"] == SourcePosition("wf.yaml", 1, 4)


def test_yaml_directive_and_explicit_document_markers(composer: str) -> None:
    assert load("%YAML 1.2\n---\na: 1\n...\n").data == {"a": 1}


# --------------------------------------------------------------------------- YAML 1.2 scalars


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("on", "on"), ("off", "off"), ("yes", "yes"), ("no", "no"), ("y", "y"), ("n", "n"),
        ("Yes", "Yes"), ("ON", "ON"),
        ("true", True), ("True", True), ("TRUE", True), ("false", False), ("FALSE", False),
        ("tRUE", "tRUE"),
        ("null", None), ("Null", None), ("NULL", None), ("~", None), ("", None), ("nULL", "nULL"),
        ("17", 17), ("-17", -17), ("+17", 17), ("017", 17), ("0", 0),
        ("0o17", 15), ("0x1F", 31), ("0xff", 255), ("0b101", "0b101"), ("0O17", "0O17"),
        ("1_000", "1_000"), ("1:20", "1:20"), ("190:20:30", "190:20:30"),
        ("1.5", 1.5), ("-1.", -1.0), (".5", 0.5), ("1e3", 1000.0), ("1E-2", 0.01),
        ("+12.5e+1", 125.0), ("1,000", "1,000"),
        (".inf", math.inf), ("-.Inf", -math.inf), ("+.INF", math.inf),
        ("2001-12-14", "2001-12-14"), ("=", "="), ("<<", "<<"),
        ("'017'", "017"), ('"true"', "true"), ("'on'", "on"),
    ],
)
def test_core_schema_scalars(composer: str, text: str, value: Any) -> None:
    data = load(f"v: {text}\n").data
    assert data["v"] == value and type(data["v"]) is type(value)


def test_nan(composer: str) -> None:
    data = load("a: .nan\nb: .NaN\nc: .NAN\nd: .Nan\n").data
    assert all(math.isnan(data[k]) for k in "abc") and data["d"] == ".Nan"


def test_yaml_11_boolean_words_are_keys(composer: str) -> None:
    # The classic trap: GitHub-Actions-like "on:" must stay the string "on".
    assert load("on: push\nyes: 1\nno: 2\ny: 3\nn: 4\noff: 5\n").data == {
        "on": "push", "yes": 1, "no": 2, "y": 3, "n": 4, "off": 5,
    }  # fmt: skip


def test_large_integers_keep_precision(composer: str) -> None:
    assert load("a: 123456789012345678901234567890\n").data["a"] == 123456789012345678901234567890


def test_integer_with_too_many_digits_is_a_diagnostic(composer: str) -> None:
    d = only("a: " + "9" * 5000 + "\n")
    assert d.code == "LOAD-E014" and at(d) == (1, 4)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("!!str 17", "17"), ("!!str true", "true"), ("!!str", ""), ('!!int "3"', 3),
        ("!!int 0x10", 16), ("!!float 1", 1.0), ("!!float '2.5'", 2.5), ("!!bool 'true'", True),
        ("!!null ''", None), ("!!null ~", None), ("! 'x'", "x"), ("!!seq [1]", [1]),
        ("!!map {a: 1}", {"a": 1}), ("!<tag:yaml.org,2002:str> 5", "5"),
    ],
)
def test_explicit_core_tags(composer: str, text: str, value: Any) -> None:
    data = load(f"v: {text}\n").data
    assert data["v"] == value and type(data["v"]) is type(value)


@pytest.mark.parametrize(
    "text",
    ["!!int x", "!!int 1.5", "!!bool yes", "!!float abc", "!!null 0", "!Ref x", "!!binary aGk=",
     "!!timestamp 2001-12-14", "!!set {a}", "!!omap [a: 1]", "!!str [1]", "!custom {a: 1}"],
)  # fmt: skip
def test_unsupported_tags_and_bad_tagged_values(composer: str, text: str) -> None:
    d = only(f"v: {text}\n")
    assert d.code == "LOAD-E014" and at(d) == (1, 4) and d.pointer == "/v"


# --------------------------------------------------------------------------- keys


def test_duplicate_key_points_at_second_key(composer: str) -> None:
    d = only("name: a\nother: 1\nname: b\n")
    assert (d.code, d.pointer, at(d)) == ("LOAD-E012", "/name", (3, 1))
    assert d.message == 'duplicate key "name"' and "line 1" in (d.hint or "")


def test_all_duplicates_are_collected_and_sorted(composer: str) -> None:
    found = problems("a:\n  x: 1\n  x: 2\nb: [{y: 1, y: 2}]\na: 3\n")
    assert [(d.code, d.pointer, at(d)) for d in found] == [
        ("LOAD-E012", "/a/x", (3, 3)),
        ("LOAD-E012", "/b/0/y", (4, 12)),
        ("LOAD-E012", "/a", (5, 1)),
    ]


def test_quoted_and_plain_forms_of_one_key_are_duplicates(composer: str) -> None:
    assert only("on: 1\n'on': 2\n").code == "LOAD-E012"


@pytest.mark.parametrize(
    ("text", "where"),
    [("1: a\n", (1, 1)), ("true: a\n", (1, 1)), ("null: a\n", (1, 1)), ("~: a\n", (1, 1)),
     ("x: {1.5: a}\n", (1, 5)), ("? [a]\n: b\n", (1, 3)), ("? {a: 1}\n: b\n", (1, 3)),
     ("? \n: a\n", (1, 2))],
)  # fmt: skip
def test_non_string_keys(composer: str, text: str, where: tuple[int, int]) -> None:
    d = only(text)
    assert d.code == "LOAD-E013" and at(d) == where


def test_quoted_keys_are_fine(composer: str) -> None:
    assert load("'1': a\n\"true\": b\n!!str 2: c\n").data == {"1": "a", "true": "b", "2": "c"}


def test_merge_key_is_an_ordinary_key_with_a_warning(composer: str) -> None:
    doc = load("base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2\n")
    assert doc.data["derived"] == {"<<": {"x": 1}, "y": 2}
    assert [(w.code, w.severity, at(w)) for w in doc.warnings] == [
        ("LOAD-W001", Severity.WARNING, (3, 3))
    ]
    assert load("'<<': 1\n").warnings == []


def test_warnings_travel_with_errors(composer: str) -> None:
    codes = [d.code for d in problems("<<: 1\na: 1\na: 2\n")]
    assert codes == ["LOAD-W001", "LOAD-E012"]


# --------------------------------------------------------------------------- anchors and aliases


def test_anchors_and_aliases_expand_into_independent_copies(composer: str) -> None:
    doc = load("defaults: &d {retry: 3, on: [a]}\ntask1: *d\ntask2: *d\n")
    assert doc.data["task1"] == doc.data["task2"] == {"retry": 3, "on": ["a"]}
    assert doc.data["task1"] is not doc.data["task2"]
    doc.data["task1"]["on"].append("b")
    assert doc.data["task2"]["on"] == ["a"]
    # Aliased nodes are positioned at the anchored node.
    assert doc.positions.nodes["/task2/retry"] == doc.positions.nodes["/defaults/retry"]


def test_alias_to_a_scalar_and_as_key(composer: str) -> None:
    assert load("k: &k name\n*k : v\n").data == {"k": "name", "name": "v"}


def test_recursive_alias(composer: str) -> None:
    d = only("a: &x [1, *x]\n")
    assert d.code == "LOAD-E015" and at(d) == (1, 4)


def test_recursive_mapping_alias(composer: str) -> None:
    assert only("a: &x {b: *x}\n").code == "LOAD-E015"


BILLION_LAUGHS = "\n".join(
    [f"l0: &l0 [{', '.join(['lol'] * 9)}]"]
    + [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]" for i in range(1, 9)]
    + [f"l9: [{', '.join(['*l8'] * 9)}]"]
)


def test_billion_laughs_is_rejected_quickly(composer: str) -> None:
    started = time.perf_counter()
    d = only(BILLION_LAUGHS)
    assert d.code == "LOAD-E016" and "1000000" in d.message
    assert time.perf_counter() - started < 1.0


def test_node_limit_is_configurable(composer: str) -> None:
    text = "a: &a [1, 2, 3, 4]\nb: [*a, *a, *a]\n"
    assert load(text, max_nodes=100).data["b"][2] == [1, 2, 3, 4]
    assert only(text, max_nodes=15).code == "LOAD-E016"


def test_undefined_alias(composer: str) -> None:
    d = only("a: *nope\n")
    assert d.code == "LOAD-E007" and at(d)[0] == 1


# --------------------------------------------------------------------------- documents


@pytest.mark.parametrize("text", ["", "   \n\n", "\t\n", "---\n", "--- # c\n"])
def test_empty_file(composer: str, text: str) -> None:
    d = only(text)
    assert d.code == "LOAD-E006" and "empty" in d.message and "mapping" in d.message


def test_file_with_only_comments(composer: str) -> None:
    d = only("# a comment\n\n   # another\n")
    assert d.code == "LOAD-E006" and "only comments" in d.message and at(d) == (1, 1)


def test_multiple_documents(composer: str) -> None:
    d = only("a: 1\n---\nb: 2\n")
    assert d.code == "LOAD-E010" and at(d) == (2, 1)
    assert only("---\na: 1\n---\n").code == "LOAD-E010"


@pytest.mark.parametrize(
    ("text", "kind"),
    [("- a\n- b\n", "a list"), ("hello\n", "a string"), ("42\n", "a number"), ("~\n", "null"),
     ("true\n", "a boolean"), ("[1, 2]\n", "a list")],
)  # fmt: skip
def test_top_level_must_be_a_mapping(composer: str, text: str, kind: str) -> None:
    d = only(text)
    assert d.code == "LOAD-E011" and d.message.endswith(kind) and at(d) == (1, 1)


def test_top_level_problem_collected_with_others(composer: str) -> None:
    assert [d.code for d in problems("- {a: 1, a: 2}\n")] == ["LOAD-E011", "LOAD-E012"]


# --------------------------------------------------------------------------- syntax errors


def test_tab_indentation(composer: str) -> None:
    d = only("a:\n\tb: 1\n")
    assert (d.code, at(d)) == ("LOAD-E008", (2, 1)) and "spaces" in (d.hint or "")


def test_tab_after_spaces_in_indentation(composer: str) -> None:
    d = only("a:\n  b: 1\n  \tc: 2\n")
    assert d.code in ("LOAD-E008", "LOAD-E007") and at(d)[0] == 3


@pytest.mark.parametrize(
    ("text", "where"),
    [("a: b: c\n", (1, 5)), ("a: 1\n b: 2\n", (2, 3)), ("a: [1, 2\nb: 3\n", None),
     ('a: "open\nb: 2\n', None), ("a: @x\n", (1, 4)), ("- a\nb: 1\n", (2, 1)),
     ("a: {b\n", None), ("key\nother: 1\n", None)],
)  # fmt: skip
def test_syntax_errors_have_positions(
    composer: str, text: str, where: tuple[int, int] | None
) -> None:
    d = only(text)
    assert d.code == "LOAD-E007" and d.message.startswith("invalid YAML: ")
    assert d.position is not None and 1 <= d.position.line <= text.count("\n") + 1
    if where is not None:
        assert at(d) == where


def test_syntax_error_hints(composer: str) -> None:
    assert "quote" in (only("a: b: c\n").hint or "")
    assert "reserved" in (only("a: @x\n").hint or "")


def test_duplicate_anchor_is_a_syntax_error(composer: str) -> None:
    # YAML 1.2 allows redefining an anchor; PyYAML and libyaml do not.  Report it cleanly.
    assert only("a: &x 1\nb: &x 2\n").code == "LOAD-E007"


# --------------------------------------------------------------------------- characters


def test_nul_bytes_are_binary() -> None:
    d = only(b"a: 1\n\x00\x01\x02")
    assert d.code == "LOAD-E003" and d.position is None and "binary" in d.message
    assert d.format().startswith("wf.yaml: LOAD-E003")


def test_nul_in_text_is_binary() -> None:
    d = only("a: 1\nb: \x00\n")
    assert d.code == "LOAD-E003" and at(d) == (2, 4)


def test_invalid_utf8_points_at_the_byte() -> None:
    d = only("a: 1\nb: caf".encode() + b"\xe9\n")
    assert d.code == "LOAD-E004" and at(d) == (2, 7) and "0xe9" in d.message


@pytest.mark.parametrize(("bom", "name"), [(b"\xff\xfe", "UTF-16"), (b"\xfe\xff", "UTF-16"),
                                          (b"\xff\xfe\x00\x00", "UTF-32")])  # fmt: skip
def test_utf16_and_utf32_files_are_named(bom: bytes, name: str) -> None:
    d = only(bom + "a: 1".encode("utf-16-le"))
    assert d.code == "LOAD-E004" and name in d.message


def test_lone_surrogate_in_text() -> None:
    assert only("a: \ud800\n").code == "LOAD-E004"


def test_surrogate_escape_is_rejected(composer: str) -> None:
    assert only('a: "\\ud83d"\n').code in ("LOAD-E004", "LOAD-E007")


@pytest.mark.parametrize("char", ["\x01", "\x1b", "\x7f", "\x9b", "\ufffe"])
def test_control_characters(composer: str, char: str) -> None:
    d = only(f"a: 1\nb: x{char}y\n")
    assert d.code == "LOAD-E005" and at(d) == (2, 5) and f"U+{ord(char):04X}" in d.message


def test_deep_nesting_block(composer: str) -> None:
    text = "".join(f"{'  ' * i}k{i}:\n" for i in range(300)) + "  " * 300 + "x\n"
    d = only(text)
    assert d.code == "LOAD-E017"


@pytest.mark.parametrize("depth", [300, 5000])
def test_deep_nesting_flow(composer: str, depth: int) -> None:
    d = only("a: " + "[" * depth + "]" * depth + "\n")
    assert d.code == "LOAD-E017"


def test_depth_limit_is_configurable(composer: str) -> None:
    assert load("a: [[[1]]]\n", max_depth=5).data == {"a": [[[1]]]}
    assert at(only("a: [[[1]]]\n", max_depth=4)) == (1, 7)


def test_depth_counts_aliases_where_they_are_used(composer: str) -> None:
    text = "x: &x [[1]]\ny: [[[[*x]]]]\n"
    assert load(text, max_depth=8).data["y"] == [[[[[[1]]]]]]
    assert only(text, max_depth=7).code == "LOAD-E017"


# --------------------------------------------------------------------------- JSON

JSON_DOC = """{
  "Comment": "demo",
  "StartAt": "A",
  "States": {
    "A": {"Type": "Pass", "Next": "B"},
    "B": {"Type": "Succeed", "List": [1, 2.5, true, null, "x"]}
  }
}
"""


def test_json_document(composer: str) -> None:
    doc = load(JSON_DOC, "wf.asl.json")
    assert doc.syntax == "json"
    assert doc.data["States"]["B"]["List"] == [1, 2.5, True, None, "x"]
    assert doc.positions.nodes["/States/A/Next"] == SourcePosition("wf.asl.json", 5, 35)
    assert doc.positions.keys["/States/B"] == SourcePosition("wf.asl.json", 6, 5)
    line = JSON_DOC.splitlines()[5]
    expected = SourcePosition("wf.asl.json", 6, line.index('"x"') + 1)
    assert doc.positions.nodes["/States/B/List/4"] == expected


def test_json_detected_from_content(composer: str) -> None:
    assert load(JSON_DOC, "<string>").syntax == "json"
    assert load("  [1]".replace("[1]", '{"a": [1]}')).syntax == "json"


def test_yaml_flow_mapping_is_not_mistaken_for_json(composer: str) -> None:
    doc = load("{a: on, b: [1, 2]}\n")
    assert doc.syntax == "yaml" and doc.data == {"a": "on", "b": [1, 2]}


def test_json_escapes_tabs_and_positions(composer: str) -> None:
    text = '{\n\t"a\\/b": "\\ud83d\\ude00\\n",\n\t"\\u00e9\\"": [\t1,\t{"c": "\\\\"}]\n}'
    doc = load(text, "x.json")
    assert doc.data == {"a/b": "😀\n", 'é"': [1, {"c": "\\"}]}
    assert doc.positions.keys["/a~1b"] == SourcePosition("x.json", 2, 2)
    assert doc.positions.nodes['/é"/1/c'] == SourcePosition("x.json", 3, 25)


def test_json_allows_control_characters_yaml_would_not(composer: str) -> None:
    doc = load('{"a": "x\x7fy\x85z", "b": 1}', "x.json")
    assert doc.data == {"a": "x\x7fy\x85z", "b": 1}
    assert doc.positions.nodes["/b"] == SourcePosition("x.json", 1, 21)


def test_json_numbers_follow_json(composer: str) -> None:
    data = load('{"a": 1.0, "b": 10000000000000000000001, "c": -0, "d": 1E400}', "x.json").data
    assert data == {"a": 1.0, "b": 10000000000000000000001, "c": 0, "d": math.inf}
    assert type(data["a"]) is float


@pytest.mark.parametrize(
    ("text", "where", "valid_yaml"),
    [('{"a": 1,}', (1, 9), True), ("{'a': 1}", (1, 2), True), ('{"a": tru}', (1, 7), True),
     ('{"a": "b\tc"}', (1, 9), True), ('{\n  "a": 1\n  "b": 2\n}', (3, 3), False),
     ('{"a": [1, 2}', (1, 12), False), ('{"a":\n', (2, 1), False), ('[1, 2', (1, 6), False),
     ('{"a": 1} x', (1, 10), False), ('{"a": 1}}', (1, 9), False)],
)  # fmt: skip
def test_json_syntax_errors_have_json_positions(
    composer: str, text: str, where: tuple[int, int], valid_yaml: bool
) -> None:
    d = only(text, "x.json")
    assert (d.code, at(d)) == ("LOAD-E009", where)
    assert d.message.startswith("invalid JSON: ")
    # Without the .json extension a text that starts like JSON is still YAML if YAML can read
    # it; when neither can, the JSON error is the one that makes sense to its author.
    if valid_yaml:
        assert load(text, "<string>").syntax == "yaml"
    else:
        assert (only(text, "<string>").code, at(only(text, "<string>"))) == ("LOAD-E009", where)


def test_json_with_trailing_comment_is_read_as_yaml(composer: str) -> None:
    doc = load('{"a": 1}\n# note\n')
    assert doc.syntax == "yaml" and doc.data == {"a": 1}


def test_json_duplicate_keys(composer: str) -> None:
    found = problems('{\n  "a": 1,\n  "b": {"x": 1, "x": 2},\n  "a": 3\n}', "x.json")
    assert [(d.code, d.pointer, at(d)) for d in found] == [
        ("LOAD-E012", "/b/x", (3, 17)),
        ("LOAD-E012", "/a", (4, 3)),
    ]


def test_json_top_level_must_be_an_object(composer: str) -> None:
    d = only("\n  [1, 2]", "x.json")
    assert d.code == "LOAD-E011" and at(d) == (2, 3)


def test_json_empty_and_deep(composer: str) -> None:
    assert only("  \n", "x.json").code == "LOAD-E006"
    assert only('{"a": ' + "[" * 300 + "]" * 300 + "}", "x.json").code == "LOAD-E017"
    assert only("[" * 100000 + "]" * 100000, "x.json").code == "LOAD-E017"


def test_json_long_key_keeps_data_even_without_positions(composer: str) -> None:
    key = "k" * 2000
    doc = load(f'{{"{key}": {{"a": 1}}}}', "x.json")
    assert doc.data == {key: {"a": 1}}
    assert doc.positions.at(json_pointer(key, "a")) is not None


def test_syntax_override(composer: str) -> None:
    assert load('{"a": 1}', "x.json", syntax="yaml").syntax == "yaml"
    assert only("a: 1\n", "x.yaml", syntax="json").code == "LOAD-E009"


# --------------------------------------------------------------------------- files


def test_load_file_keeps_the_name_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "wf.yaml").write_text("a: 1\nb: [x]\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    doc = load_file("wf.yaml")
    assert doc.data == {"a": 1, "b": ["x"]}
    assert doc.positions.nodes["/b/0"] == SourcePosition("wf.yaml", 2, 5)
    assert load_file(tmp_path / "wf.yaml").file == str(tmp_path / "wf.yaml")


def test_load_file_json_by_extension(tmp_path: Path) -> None:
    path = tmp_path / "sm.json"
    path.write_text('{"a": 1,}', encoding="utf-8")
    with pytest.raises(DiagnosticError) as info:
        load_file(path)
    assert info.value.diagnostics[0].format() == (
        f"{path}:1:9: LOAD-E009 invalid JSON: Expecting property name enclosed in double quotes"
    )


def test_load_file_errors(tmp_path: Path) -> None:
    for path in (tmp_path / "missing.yaml", tmp_path):
        with pytest.raises(DiagnosticError) as info:
            load_file(path)
        d = info.value.diagnostics[0]
        assert d.code == "LOAD-E001" and d.file == str(path) and d.position is None


def test_load_file_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 100 + "\n", encoding="utf-8")
    with pytest.raises(DiagnosticError) as info:
        load_file(path, max_bytes=50)
    assert info.value.diagnostics[0].code == "LOAD-E002"
    assert load_file(path, max_bytes=104).data == {"a": "x" * 100}


def test_load_file_binary(tmp_path: Path) -> None:
    path = tmp_path / "image.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    with pytest.raises(DiagnosticError) as info:
        load_file(path)
    assert info.value.diagnostics[0].code == "LOAD-E003"


# --------------------------------------------------------------------------- codes


def test_code_table_is_complete_and_stable() -> None:
    assert all(code.startswith("LOAD-") for code in LOAD_CODES)
    assert [c for c in LOAD_CODES if "-E" in c] == [f"LOAD-E{i:03d}" for i in range(1, 18)]


def test_every_diagnostic_code_is_in_the_table() -> None:
    source = Path(loading.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r'"(LOAD-[EW]\d{3})"', source))
    assert used == set(LOAD_CODES)


# --------------------------------------------------------------------------- properties


def _both_composers() -> Iterator[None]:
    saved = loading._USE_LIBYAML
    try:
        for name in COMPOSERS:
            loading._USE_LIBYAML = name == "libyaml"
            yield
    finally:
        loading._USE_LIBYAML = saved


def _check_never_crashes(payload: str | bytes, file: str) -> None:
    for _ in _both_composers():
        try:
            doc = load_text(payload, file)
        except DiagnosticError as exc:
            text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
            lines = text.count("\n") + text.count("\r") + 2
            for d in exc.diagnostics:
                assert d.code in LOAD_CODES
                if d.position is not None:
                    assert 1 <= d.position.line <= lines and d.position.column >= 1
        else:
            assert isinstance(doc.data, dict)


YAMLISH = st.text(st.sampled_from(list("ab1: -[]{},\"'#&*!|>%@`?\n\t~.\\\x85é")), max_size=60)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(st.text(max_size=200))
def test_random_text_only_raises_diagnostic_error(text: str) -> None:
    _check_never_crashes(text, "wf.yaml")


@FAST
@given(YAMLISH)
def test_random_yamlish_text_only_raises_diagnostic_error(text: str) -> None:
    _check_never_crashes(text, "wf.yaml")


@FAST
@given(st.binary(max_size=200))
def test_random_bytes_only_raise_diagnostic_error(data: bytes) -> None:
    _check_never_crashes(data, "wf.yaml")


@FAST
@given(st.text(alphabet=st.sampled_from(list('{}[]:," ab1\\u/\n\t')), max_size=40))
def test_random_jsonish_text_only_raises_diagnostic_error(text: str) -> None:
    _check_never_crashes(text, "x.json")
    _check_never_crashes("{" + text, "<string>")


INDENTS = [None, 1, "\t"]
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=20,
)


@FAST
@given(st.dictionaries(st.text(max_size=6), JSON_VALUES, max_size=5), st.sampled_from(INDENTS))
def test_json_round_trip_with_positions_for_every_node(data: dict[str, Any], indent: Any) -> None:
    text = json.dumps(data, indent=indent, ensure_ascii=False)
    doc = load_text(text, "x.json")
    assert doc.data == data

    def pointers(value: Any, base: str = "") -> Iterator[str]:
        yield base
        if isinstance(value, dict):
            items: Any = value.items()
        else:
            items = enumerate(value) if isinstance(value, list) else []
        for key, child in items:
            yield from pointers(child, pointer_join(base, key))

    for pointer in pointers(data):
        assert pointer in doc.positions.nodes, pointer
