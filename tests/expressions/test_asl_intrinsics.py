"""ASL intrinsic functions: parsing, all 18 functions, errors, paths, and the AWS corpus.

Reference values marked "Java 17" were produced by running the JDK's own classes
(``java.util.Random``, ``Math.round``, ``Double.toString``, ``java.util.Base64``) once;
values marked "corpus" come from real AWS executions in ``shared/corpus/asl-aws-recorded``.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from declarative_wf.expressions.asl_intrinsic_functions import JavaRandom, java_round
from declarative_wf.expressions.asl_intrinsics import (
    FUNCTION_ARITY,
    IntrinsicCall,
    IntrinsicFailure,
    IntrinsicSyntaxError,
    Literal,
    PathReference,
    StringLiteral,
    evaluate,
    parse_intrinsic,
)
from declarative_wf.expressions.asl_paths import (
    AslRuntimeError,
    PathKind,
    PathNotFound,
    PathSyntaxError,
    compile_path,
    java_double_text,
    json_text,
    resolve_path,
)


class FakeRandom:
    """A scripted random source, as the orchestrator would derive one for replay."""

    def __init__(
        self, fractions: list[float] | None = None, uuids: list[str] | None = None
    ) -> None:
        self.fractions = list(fractions or [0.5])
        self.uuids = list(uuids or ["8f8a1b2c-3d4e-4f50-8a6b-7c8d9e0f1a2b"])
        self.calls: list[str] = []

    def random(self) -> float:
        self.calls.append("random")
        return self.fractions.pop(0)

    def uuid(self) -> str:
        self.calls.append("uuid")
        return self.uuids.pop(0)


def run(
    text: str,
    input: Any = None,
    *,
    context: Any = None,
    variables: Mapping[str, Any] | None = None,
    random_source: FakeRandom | None = None,
) -> Any:
    return evaluate(
        parse_intrinsic(text),
        input=input if input is not None else {},
        context=context if context is not None else {},
        variables=variables or {},
        random_source=random_source or FakeRandom(),
    )


def failure(text: str, input: Any = None, **kwargs: Any) -> IntrinsicFailure:
    with pytest.raises(IntrinsicFailure) as caught:
        run(text, input, **kwargs)
    assert caught.value.error == "States.IntrinsicFailure"
    return caught.value


def syntax_error(text: str) -> IntrinsicSyntaxError:
    with pytest.raises(IntrinsicSyntaxError) as caught:
        parse_intrinsic(text)
    return caught.value


# --------------------------------------------------------------------------- parsing


def test_parse_builds_the_tree_with_positions() -> None:
    call = parse_intrinsic(
        "States.Format('a {}', $.x, States.MathAdd(1, -2.5e1), true, false, null)"
    )
    assert call.name == "States.Format"
    assert call.position == 0
    first, path, nested, yes, no, nothing = call.args
    assert first == StringLiteral("a {}", "a {}", 14)
    assert path == PathReference("$.x", PathKind.INPUT, 22)
    assert isinstance(nested, IntrinsicCall)
    assert nested.text == "States.MathAdd(1, -2.5e1)"
    assert nested.args == (Literal(1, 42), Literal(-25.0, 45))
    assert (yes, no, nothing) == (Literal(True, 54), Literal(False, 60), Literal(None, 67))


def test_parse_accepts_whitespace_and_newlines_between_tokens() -> None:
    call = parse_intrinsic("  States.Array (\n  1 ,\t'x' )  ")
    assert [arg.value for arg in call.args if isinstance(arg, (Literal, StringLiteral))] == [1, "x"]


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("$", PathKind.INPUT),
        ("$.a.b", PathKind.INPUT),
        ("$['a b']['c,d'][0]", PathKind.INPUT),
        ("$.items[-1]", PathKind.INPUT),
        ("$.items[*].id", PathKind.INPUT),
        ("$.items[1:3]", PathKind.INPUT),
        ("$..id", PathKind.INPUT),
        ("$.items[?(@.price > 10)]", PathKind.INPUT),
        ("$.items[?(@.tags[0] == 'x, y')]", PathKind.INPUT),
        ("$.abc.['def ghi']", PathKind.INPUT),
        ("$$", PathKind.CONTEXT),
        ("$$.Execution.Input", PathKind.CONTEXT),
        ("$$.Map.Item.Value", PathKind.CONTEXT),
        ("$myVar", PathKind.VARIABLE),
        ("$_x.a[0]", PathKind.VARIABLE),
    ],
)
def test_parse_classifies_paths(path: str, kind: PathKind) -> None:
    (arg,) = parse_intrinsic(f"States.Array({path})").args
    assert arg == PathReference(path, kind, 13)


def test_string_escapes_are_the_four_aws_allows() -> None:
    (arg,) = parse_intrinsic(r"States.Array('it\'s \{x\} a\\b')").args
    assert isinstance(arg, StringLiteral)
    assert arg.value == "it's {x} a\\b"
    assert arg.source == r"it\'s \{x\} a\\b"


def test_raw_newlines_are_allowed_in_strings() -> None:
    # corpus: States.StringSplit('Hello<LF>World', '<LF>') ran on AWS
    assert run("States.StringSplit('Hello\nWorld', '\n')") == ["Hello", "World"]


@pytest.mark.parametrize("escape", [r"\n", r"\"", r"\u0041", r"\t", r"\/"])
def test_other_escapes_are_rejected_at_the_backslash(escape: str) -> None:
    text = f"States.Array('ab{escape}')"
    error = syntax_error(text)
    assert error.column == text.index("\\") + 1
    assert "invalid escape" in error.message


@pytest.mark.parametrize(
    ("text", "column", "fragment"),
    [
        ("", 1, "unexpected end"),
        ("States.Array(", 14, "unexpected end"),
        ("States.Array(1 2)", 16, "unexpected '2'"),
        ("States.Array(1))", 16, "unexpected ')'"),
        ("States.Array('abc)", 14, "unexpected character"),
        ("States.Array(#)", 14, "unexpected character '#'"),
        ("$.a", 1, "must be a function call"),
        ("'text'", 1, "must be a function call"),
        ("States.Array($.)", 15, "unexpected character '.'"),
        ("States.Array(01)", 15, "unexpected '1'"),
        ("States.Array(truex)", 19, "unexpected ')'; expected '('"),
        ("States.Array($.a[?(@.x >)])", 25, "not a valid JSONPath"),
        ("States.Array(1e999)", 14, "out of range"),
    ],
)
def test_syntax_errors_carry_the_column(text: str, column: int, fragment: str) -> None:
    error = syntax_error(text)
    assert error.column == column, error
    assert fragment in error.message
    assert f"(column {column})" in str(error)


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [
        ("States.format('x')", "States.Format"),
        ("States.ArrayGetitem($.a, 0)", "States.ArrayGetItem"),
        ("States.StringSplt($.a, ',')", "States.StringSplit"),
        ("States.Uuid()", "States.UUID"),
        ("MathAdd(1, 2)", "States.MathAdd"),
        ("States.Compare($.a, $.b)", None),
    ],
)
def test_unknown_function_suggests_the_nearest_name(text: str, suggestion: str | None) -> None:
    error = syntax_error(text)
    assert "unknown intrinsic function" in error.message
    assert error.suggestion == suggestion
    assert error.column == 1
    if suggestion:
        assert f"did you mean '{suggestion}'" in error.message


def test_unknown_nested_function_points_at_its_own_column() -> None:
    error = syntax_error("States.Array(1, States.Nope())")
    assert error.column == 17


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("States.UUID(1)", "takes 0 arguments, got 1"),
        ("States.ArrayRange(1, 2)", "takes 3 arguments, got 2"),
        ("States.MathRandom(1)", "takes 2 to 3 arguments, got 1"),
        ("States.MathRandom(1, 2, 3, 4)", "takes 2 to 3 arguments, got 4"),
        ("States.Format()", "takes at least 1 argument, got 0"),
        ("States.JsonMerge($.a, $.b)", "takes 3 arguments, got 2"),
    ],
)
def test_wrong_argument_counts_are_syntax_errors(text: str, fragment: str) -> None:
    assert fragment in syntax_error(text).message


def test_every_function_has_an_arity() -> None:
    assert len(FUNCTION_ARITY) == 18


def test_nesting_is_limited_to_ten() -> None:
    ten = "States.Array(" * 10 + ")" * 10
    assert parse_intrinsic(ten).name == "States.Array"
    eleven = "States.Array(" * 11 + ")" * 11
    error = syntax_error(eleven)
    assert "nest more than 10" in error.message
    assert error.column == 10 * len("States.Array(") + 1


def test_absurd_nesting_is_a_syntax_error_not_a_crash() -> None:
    assert "nest more than" in syntax_error("States.Array(" * 3000 + ")" * 3000).message


_TOKENS = st.sampled_from(
    [
        "States.",
        "Format",
        "Array",
        "MathAdd",
        "UUID",
        "(",
        ")",
        ",",
        " ",
        "'",
        "\\",
        "{",
        "}",
        "$",
        "$$",
        ".",
        "[",
        "]",
        "*",
        "?(@.a > 1)",
        "0",
        "-1.5",
        "e9",
        "true",
        "null",
        "x",
        "\n",
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=60), st.lists(_TOKENS, max_size=25).map("".join)))
def test_random_text_raises_only_the_documented_error(text: str) -> None:
    try:
        call = parse_intrinsic(text)
    except IntrinsicSyntaxError as error:
        assert 1 <= error.column <= len(text) + 1
    else:
        assert call.name in FUNCTION_ARITY


# --------------------------------------------------------------------------- the functions


def test_format_examples() -> None:
    people = {"name": "Arnav", "template": "Hello, my name is {}."}
    assert (
        run("States.Format('Hello, my name is {}.', $.name)", people) == "Hello, my name is Arnav."
    )
    assert run("States.Format($.template, $.name)", people) == "Hello, my name is Arnav."
    assert run("States.Format('no placeholders')") == "no placeholders"


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("", ""),
        (" ", " "),
        (None, "null"),
        (1, "1"),
        (1.1, "1.1"),
        (True, "true"),
        ('{"Arg1": 1, "Arg2": []}', '{"Arg1": 1, "Arg2": []}'),  # corpus: a string stays as is
        ({"Arg1": 1, "Arg2": []}, "{Arg1=1, Arg2=[]}"),  # corpus: Java Map.toString
        ([1, "a", None, [2.5]], "[1, a, null, [2.5]]"),
        (1e20, "1.0E20"),
    ],
)
def test_format_renders_values_like_aws(value: Any, shown: str) -> None:
    assert run("States.Format('<{}>', $.v)", {"v": value}) == f"<{shown}>"


def test_format_escaped_braces_are_not_placeholders() -> None:
    assert run(r"States.Format('\{\} {} \{x\}', $.a)", {"a": 1}) == "{} 1 {x}"
    assert run("States.Format('{ {} }', 'v')") == "{ v }"


def test_format_template_from_a_path_has_no_escapes() -> None:
    assert run("States.Format($.t, 'v')", {"t": "a\\{}"}) == "a\\v"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("States.Format('{} {}', 'a')", "2 placeholders but 1 value was given"),
        ("States.Format('{}', 'a', 'b')", "1 placeholder but 2 values were given"),
        ("States.Format('x', 'a')", "0 placeholders but 1 value was given"),
    ],
)
def test_format_placeholder_count_must_match(text: str, fragment: str) -> None:
    error = failure(text)
    assert fragment in error.cause
    assert error.function == "States.Format"
    assert text in error.cause


def test_format_template_must_be_a_string() -> None:
    assert "argument 1 must be a string" in failure("States.Format($.t)", {"t": 5}).detail


@pytest.mark.parametrize(
    ("text", "parsed"),
    [
        ("", None),  # corpus
        (" ", None),  # corpus
        ("null", None),
        ("-0", 0),  # corpus
        ("1.1", 1.1),
        ('"HelloWorld"', "HelloWorld"),
        ('{"Arg1": 1, "Arg2": []}', {"Arg1": 1, "Arg2": []}),
    ],
)
def test_string_to_json(text: str, parsed: Any) -> None:
    assert run("States.StringToJson($.s)", {"s": text}) == parsed


def test_string_to_json_of_a_literal() -> None:
    assert run("""States.StringToJson('{"a": [1, "\\'"]}')""") == {"a": [1, "'"]}


@pytest.mark.parametrize("text", ["{bad", "NaN", "[1,]", "{'a': 1}", "Infinity"])
def test_string_to_json_rejects_invalid_json(text: str) -> None:
    assert "not valid JSON" in failure("States.StringToJson($.s)", {"s": text}).detail


def test_string_to_json_needs_a_string() -> None:
    assert "must be a string" in failure("States.StringToJson($.s)", {"s": 5}).detail


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, "null"),  # corpus, all rows
        (0, "0"),
        (1.1, "1.1"),
        (True, "true"),
        ("HelloWorld", '"HelloWorld"'),
        ([1, 2, "HelloWorld"], '[1,2,"HelloWorld"]'),
        ({"Arg1": 1, "Arg2": []}, '{"Arg1":1,"Arg2":[]}'),
        ({"f": 1e-5, "u": "é\u001f\n"}, '{"f":1.0E-5,"u":"é\\u001F\\n"}'),
    ],
)
def test_json_to_string(value: Any, text: str) -> None:
    assert run("States.JsonToString($.v)", {"v": value}) == text


def test_array() -> None:
    assert run("States.Array()") == []  # corpus
    assert run("States.Array($.Id, 'x', null)", {"Id": 123456}) == [123456, "x", None]


@pytest.mark.parametrize(
    ("items", "size", "chunks"),
    [
        ([], 1, []),  # corpus
        ([0, 1, 2], 2, [[0, 1], [2]]),  # corpus
        ([0, 1, 2, 3], 5, [[0, 1, 2, 3]]),  # corpus
        ([1, 2, 3, 4, 5, 6, 7, 8, 9], 4, [[1, 2, 3, 4], [5, 6, 7, 8], [9]]),  # AWS guide
        ([1, 2, 3], 1.5, [[1, 2], [3]]),  # rounded half up
    ],
)
def test_array_partition(items: list[Any], size: Any, chunks: list[Any]) -> None:
    assert run("States.ArrayPartition($.a, $.n)", {"a": items, "n": size}) == chunks


@pytest.mark.parametrize(
    ("items", "size"), [([1], 0), ([1], -1), ([1], 0.4), ("abc", 1), ([1], "2")]
)
def test_array_partition_errors(items: Any, size: Any) -> None:
    failure("States.ArrayPartition($.a, $.n)", {"a": items, "n": size})


@pytest.mark.parametrize(
    ("items", "value", "found"),
    [
        ([], None, False),  # corpus
        ([], [], False),  # corpus
        ([[1, 2, 3], 2], [1, 2, 3], True),  # corpus
        ([{"1": 2, "2": []}], {"1": 2, "2": []}, True),  # corpus
        ([{"a": 1, "b": 2}], {"b": 2, "a": 1}, True),  # key order does not matter
        ([True, False], False, True),  # corpus
        ([1, 2], True, False),  # true is not 1
        ([1, 2], 1.0, False),  # 1 is not 1.0 (Jackson IntNode vs DoubleNode)
        ([None], None, True),
    ],
)
def test_array_contains(items: list[Any], value: Any, found: bool) -> None:
    assert run("States.ArrayContains($.a, $.v)", {"a": items, "v": value}) is found


def test_array_contains_needs_an_array() -> None:
    assert "must be an array" in failure("States.ArrayContains($.a, 1)", {"a": {"x": 1}}).detail


@pytest.mark.parametrize(
    ("args", "numbers"),
    [
        ("0, 9, 3", [0, 3, 6, 9]),  # corpus
        ("0, 10, 3", [0, 3, 6, 9]),  # corpus
        ("1, 9, 9", [1]),  # corpus
        ("1, 9, 2", [1, 3, 5, 7, 9]),  # corpus
        ("9, 1, -4", [9, 5, 1]),
        ("5, 1, 1", []),
        ("0.5, 2.4, 1", [1, 2]),
        ("1, 1000, 1", list(range(1, 1001))),
    ],
)
def test_array_range(args: str, numbers: list[int]) -> None:
    assert run(f"States.ArrayRange({args})") == numbers


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ("1, 5, 0", "must not be 0"),
        ("1, 5, 0.4", "must not be 0"),
        ("0, 1000, 1", "1001 items"),
        ("'1', 5, 1", "must be a number"),
    ],
)
def test_array_range_errors(args: str, fragment: str) -> None:
    assert fragment in failure(f"States.ArrayRange({args})").detail


def test_array_get_item() -> None:
    data = {"inputArray": [1, 2, 3, 4, 5, 6, 7, 8, 9], "index": 5}
    assert run("States.ArrayGetItem($.inputArray, $.index)", data) == 6  # corpus
    assert run("States.ArrayGetItem($.inputArray, 2.0)", data) == 3


@pytest.mark.parametrize(
    ("index", "fragment"),
    [
        (3, "index 3 is out of bounds for an array of length 3"),
        (-1, "index -1 is out of bounds"),
        (1.5, "must be an integer, got 1.5"),
        ("1", "must be a number"),
        (True, "must be a number"),
    ],
)
def test_array_get_item_errors(index: Any, fragment: str) -> None:
    assert fragment in failure("States.ArrayGetItem($.a, $.i)", {"a": [1, 2, 3], "i": index}).detail


def test_array_length() -> None:
    assert run("States.ArrayLength($.a)", {"a": [1, 2, 3, 4, 5, 6, 7, 8, 9]}) == 9  # corpus
    assert "must be an array" in failure("States.ArrayLength($.a)", {"a": "abc"}).detail


def test_array_unique_keeps_the_first_of_each_json_value() -> None:
    items = [
        1,
        2,
        3,
        3,
        3,
        1,
        True,
        1.0,
        "1",
        None,
        None,
        {"a": 1, "b": 2},
        {"b": 2, "a": 1},
        [1],
        [1],
    ]
    assert run("States.ArrayUnique($.a)", {"a": items}) == [
        1,
        2,
        3,
        True,
        1.0,
        "1",
        None,
        {"a": 1, "b": 2},
        [1],
    ]


def test_base64_round_trip() -> None:
    assert (
        run("States.Base64Encode($.s)", {"s": "Data to encode"}) == "RGF0YSB0byBlbmNvZGU="
    )  # corpus
    assert (
        run("States.Base64Decode($.s)", {"s": "RGF0YSB0byBlbmNvZGU="}) == "Data to encode"
    )  # corpus
    assert run("States.Base64Encode('')") == ""  # corpus
    assert run("States.Base64Decode('')") == ""  # corpus
    assert run("States.Base64Decode(States.Base64Encode('héllo ✓'))") == "héllo ✓"


@pytest.mark.parametrize(
    ("text", "decoded"), [("SGk", "Hi"), ("SGk=", "Hi"), ("SG", "H"), ("SGVsbA==", "Hell")]
)
def test_base64_decode_accepts_what_java_accepts(text: str, decoded: str) -> None:
    # Java 17 java.util.Base64.getDecoder(): the padding may be left out
    assert run("States.Base64Decode($.s)", {"s": text}) == decoded


@pytest.mark.parametrize(
    "text", ["SGk==", "S", "SGVs bG8=", "SGVsbG8=\n", "SGVsbG8=x", "====", "SGVsbA=", "a-b_"]
)
def test_base64_decode_rejects_what_java_rejects(text: str) -> None:
    assert "not valid Base64" in failure("States.Base64Decode($.s)", {"s": text}).detail


@pytest.mark.parametrize("function", ["States.Base64Encode", "States.Base64Decode"])
def test_base64_input_is_limited_to_10000_characters(function: str) -> None:
    assert run(f"{function}($.s)", {"s": "A" * 10_000}) is not None
    assert "the limit is 10000" in failure(f"{function}($.s)", {"s": "A" * 10_001}).detail


@pytest.mark.parametrize(
    ("algorithm", "digest"),
    [  # corpus, all five
        ("MD5", "812f45842bc6d66ee14572ce20db8e86"),
        ("SHA-1", "aaff4a450a104cd177d28d18d74485e8cae074b7"),
        ("SHA-256", "b4a697a057313163aee33cd8d40c66e9f0f177e00cac2de32475ffff6169c3e3"),
        (
            "SHA-384",
            "d28a7d5cf25a74f11a50a18452b75e04bb3d70c9dd0510d6123aa008c756511b87525bdc835ebb27e1fb9e9374a15562",
        ),
        (
            "SHA-512",
            "6ce4adb348546d4f449c4d25aad9a7c9cb711d9e91982d3f0b29ca2f3f47d4ce"
            "2deba23bf2954f0f1d593fc50283731a533d30d425402d4f91316d871303aac4",
        ),
    ],
)
def test_hash(algorithm: str, digest: str) -> None:
    assert run("States.Hash($.d, $.a)", {"d": "input data", "a": algorithm}) == digest


@pytest.mark.parametrize(
    ("data", "algorithm", "fragment"),
    [
        ("x", "SHA256", "must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512"),
        ("x", "sha-256", "must be one of"),
        (5, "MD5", "must be a string"),
        ("x" * 10_001, "MD5", "the limit is 10000"),
    ],
)
def test_hash_errors(data: Any, algorithm: str, fragment: str) -> None:
    assert fragment in failure("States.Hash($.d, $.a)", {"d": data, "a": algorithm}).detail


def test_json_merge_is_shallow() -> None:
    data = {
        "json1": {"a": {"a1": 1, "a2": 2}, "b": 2, "d": 3},
        "json2": {"a": {"a3": 1, "a4": 2}, "c": 3, "d": 4},
    }
    before = copy.deepcopy(data)
    merged = run("States.JsonMerge($.json1, $.json2, false)", data)
    assert merged == {"a": {"a3": 1, "a4": 2}, "b": 2, "c": 3, "d": 4}  # corpus
    assert data == before


def test_json_merge_of_a_parsed_literal_and_the_context() -> None:
    # corpus: test_json_merge_escaped_argument
    text = (
        """States.JsonMerge(States.StringToJson('{"constant_in_literal": "false"}'), """
        "$$.Execution.Input.f, false)"
    )
    context = {"Execution": {"Input": {"f": {"constant_input_field": "constant_value"}}}}
    assert run(text, context=context) == {
        "constant_in_literal": "false",
        "constant_input_field": "constant_value",
    }


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ("$.a, $.b, true", "deep merging is not supported"),
        ("$.a, $.b, 'false'", "argument 3 must be a boolean"),
        ("$.a, $.l, false", "argument 2 must be a JSON object"),
    ],
)
def test_json_merge_errors(args: str, fragment: str) -> None:
    assert fragment in failure(f"States.JsonMerge({args})", {"a": {}, "b": {}, "l": [1]}).detail


def test_math_random_without_seed_takes_the_random_source() -> None:
    source = FakeRandom(fractions=[0.0, 0.999999999, 0.5])
    assert run("States.MathRandom(1, 999)", random_source=source) == 1
    assert run("States.MathRandom(1, 999)", random_source=source) == 998  # the end is exclusive
    assert run("States.MathRandom(12.5, 44.51)", random_source=source) == 29  # [13, 45)
    assert source.calls == ["random"] * 3


def test_math_random_with_seed_is_java_random() -> None:
    source = FakeRandom()
    # Java 17: new Random(42).nextInt(1000) == 130, new Random(3).nextInt(999) == 239
    assert run("States.MathRandom(0, 1000, 42)", random_source=source) == 130
    assert run("States.MathRandom($.fst, $.snd, $.trd)", {"fst": 0, "snd": 999, "trd": 3}) == 239
    assert run("States.MathRandom(-100, -90, 42)") == -100 + JavaRandom(42).next_int(10)
    assert source.calls == []


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ("5, 5", "must be greater than the start"),
        ("9, 1", "must be greater"),
        ("'a', 5", "must be a number"),
    ],
)
def test_math_random_errors(args: str, fragment: str) -> None:
    assert fragment in failure(f"States.MathRandom({args})").detail


@pytest.mark.parametrize(
    ("fst", "snd", "total"),
    [  # corpus: every row of test_math_add (Java Math.round on each argument)
        (-9, 3, -6),
        (1.49, 1.5, 3),
        (1.5, 1.51, 4),
        (-1.49, -1.5, -2),
        (-1.5, -1.51, -3),
        (1.49, 0, 1),
        (1.49, -1.49, 0),
        (1.5, 0, 2),
        (1.51, 0, 2),
        (-1.49, 0, -1),
        (-1.5, 0, -1),
        (-1.51, 0, -2),
        (0.5, 0, 1),
        (2.5, 0, 3),
        (3.5, 0, 4),
        (-0.5, 0.5, 1),
        (-0.5, 0, 0),
        (-2.5, 0, -2),
        (-3.5, 0, -3),
    ],
)
def test_math_add(fst: float, snd: float, total: int) -> None:
    assert run("States.MathAdd($.fst, $.snd)", {"fst": fst, "snd": snd}) == total


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        ("2147483648, 0", "outside the range -2147483648 to 2147483647"),
        ("0, -2147483649", "argument 2"),
        ("'1', 2", "must be a number"),
        ("true, 2", "must be a number"),
        ("null, 2", "got null"),
    ],
)
def test_math_add_errors(args: str, fragment: str) -> None:
    assert fragment in failure(f"States.MathAdd({args})").detail


def test_math_add_nested_with_variables() -> None:
    # corpus: Sum.$ in the variables scenario
    text = "States.MathAdd(States.MathAdd(States.MathAdd($yCurrent, $xCurrent), $zCurrent), $bias)"
    assert run(text, variables={"xCurrent": 1, "yCurrent": 2, "zCurrent": 3, "bias": -10}) == -4


@pytest.mark.parametrize(
    ("text", "delimiters", "tokens"),
    [  # corpus
        (" ", ",", [" "]),
        (" , ", ",", [" ", " "]),
        (", , ,", ",", [" ", " "]),
        (",,,,", ",", []),
        ("1,2,3,4,5", ",", ["1", "2", "3", "4", "5"]),
        ("This.is+a,test=string", ".+,=", ["This", "is", "a", "test", "string"]),
        ("split on T and \nnew line", "T\n", ["split on ", " and ", "new line"]),
        ("abc", "", ["abc"]),  # Java StringTokenizer with no delimiters
        ("", ",", []),
    ],
)
def test_string_split(text: str, delimiters: str, tokens: list[str]) -> None:
    assert run("States.StringSplit($.s, $.d)", {"s": text, "d": delimiters}) == tokens


def test_string_split_needs_strings() -> None:
    assert "argument 2 must be a string" in failure("States.StringSplit('a', 1)").detail


def test_uuid_comes_from_the_random_source() -> None:
    source = FakeRandom(uuids=["ca4c1140-dcc1-40cd-ad05-7b4aa23df4a8"])
    assert run("States.UUID()", random_source=source) == "ca4c1140-dcc1-40cd-ad05-7b4aa23df4a8"
    assert source.calls == ["uuid"]


def test_replay_gives_the_same_values() -> None:
    text = "States.Array(States.UUID(), States.MathRandom(0, 100), States.UUID())"

    def source() -> FakeRandom:
        return FakeRandom(fractions=[0.25], uuids=["u-1", "u-2"])

    assert (
        run(text, random_source=source()) == run(text, random_source=source()) == ["u-1", 25, "u-2"]
    )


def test_nine_nested_functions_from_the_aws_guide() -> None:
    # The guide's example, with '{}.{}' for its '{}.{}.{}': it passes two values only, and
    # the guide itself requires as many values as placeholders.
    text = (
        "States.Format('{}.{}', States.ArrayGetItem(States.StringSplit(States.ArrayGetItem("
        "States.StringSplit($.ImageRecipe.Arn, '/'), 2), '.'), 0), States.ArrayGetItem("
        "States.StringSplit(States.ArrayGetItem(States.StringSplit($.ImageRecipe.Arn, '/'), 2), "
        "'.'), 1))"
    )
    data = {
        "ImageRecipe": {"Arn": "arn:aws:imagebuilder:us-east-1:123:image-recipe/my-recipe/2.7.1"}
    }
    assert run(text, data) == "2.7"


def test_failure_cause_names_the_call() -> None:
    error = failure("States.Array(1, States.ArrayGetItem($.a, 5))", {"a": [1]})
    assert isinstance(error, AslRuntimeError)
    assert error.function == "States.ArrayGetItem"
    assert error.cause == (
        "Invalid arguments in States.ArrayGetItem: "
        "index 5 is out of bounds for an array of length 1 "
        "(in 'States.ArrayGetItem($.a, 5)')"
    )
    assert str(error).startswith("States.IntrinsicFailure: ")


_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**40), 2**40)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=8,
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(sorted(FUNCTION_ARITY)), st.lists(_JSON_VALUES, min_size=4, max_size=4))
def test_any_argument_values_fail_only_with_asl_errors(name: str, values: list[Any]) -> None:
    low, high = FUNCTION_ARITY[name]
    count = low if high is None else high
    call = f"{name}({', '.join(f'$.v{index}' for index in range(count))})"
    data = {f"v{index}": value for index, value in enumerate(values)}
    try:
        run(call, data, random_source=FakeRandom(fractions=[0.3], uuids=["u"]))
    except AslRuntimeError as error:
        assert error.error == "States.IntrinsicFailure"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("States.ArrayRange(0, 1e300, 1)", "items; at most 1000"),
        ("States.MathRandom(0, 1e12, 7)", "is wider than 2147483647"),
        ("States.Hash('x', States.Array())", "must be one of"),
    ],
)
def test_extreme_arguments_are_intrinsic_failures(text: str, fragment: str) -> None:
    assert fragment in failure(text).detail


# --------------------------------------------------------------------------- paths


def test_a_missing_path_is_states_runtime() -> None:
    with pytest.raises(PathNotFound) as caught:
        run("States.Format('{}', $.missing.deeper)", {"present": 1})
    error = caught.value
    assert error.error == "States.Runtime"
    assert (
        error.cause
        == "Invalid path '$.missing.deeper' : No results for path: $['missing']['deeper']"
    )
    assert error.cause_for_field("value.$") == (
        "The JSONPath '$.missing.deeper' specified for the field 'value.$' "
        """could not be found in the input '{"present":1}'"""
    )


def test_input_path_message_matches_the_corpus() -> None:
    # corpus: INVALID_JSONPATH_IN_INPUTPATH (after the state prefix)
    with pytest.raises(PathNotFound) as caught:
        resolve_path("$.NoSuchInputPath", {"int-literal": 0}, {}, {})
    assert (
        caught.value.cause
        == "Invalid path '$.NoSuchInputPath' : No results for path: $['NoSuchInputPath']"
    )


def test_an_undefined_variable_is_states_runtime() -> None:
    with pytest.raises(PathNotFound, match=r"The variable '\$nope' is not defined"):
        run("States.Array($nope)")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("$", {"a": {"b": [10, 20, {"c": None}]}, "k y": 1}),
        ("$.a.b[1]", 20),
        ("$.a.b[-1].c", None),  # a null value is found, not missing
        ("$['k y']", 1),
        ("$.a.b[*]", [10, 20, {"c": None}]),
        ("$.a.b[0:2]", [10, 20]),
        ("$.a.b[?(@ > 15)]", [20]),
        ("$..c", [None]),
        ("$.a.none[*]", []),  # corpus: an indefinite path that selects nothing gives []
        ("$$.Execution.Name", "exec-1"),
        ("$$", {"Execution": {"Name": "exec-1"}}),
        ("$v", [1, 2]),
        ("$v[1]", 2),
    ],
)
def test_resolve_path(path: str, value: Any) -> None:
    data = {"a": {"b": [10, 20, {"c": None}]}, "k y": 1}
    assert resolve_path(path, data, {"Execution": {"Name": "exec-1"}}, {"v": [1, 2]}) == value


def test_resolve_path_rejects_bad_syntax() -> None:
    with pytest.raises(PathSyntaxError) as caught:
        resolve_path("$.a[?(@.x >)]", {}, {}, {})
    assert caught.value.column == 12


# --------------------------------------------------------------------------- Java semantics


@pytest.mark.parametrize(
    ("seed", "first_int", "bounded"),
    # Java 17: new Random(seed).nextInt(), then .nextInt(b) for each b in `bounds` below
    [
        (0, -1155484576, [0, 1, 0, 11, 60, 672, 360, 784870680, 1569741360]),
        (42, -1170105035, [0, 1, 0, 11, 30, 125, 130, 781215565, 1562431130]),
        (-7, 1155869324, [0, 0, 2, 4, 62, 175, 662, 288967331, 577934662]),
        (9999999999, 1235841526, [0, 0, 3, 4, 63, 302, 763, 308960381, 617920763]),
    ],
)
def test_java_random_matches_the_jdk(seed: int, first_int: int, bounded: list[int]) -> None:
    bounds = [1, 2, 10, 16, 100, 999, 1000, 1 << 30, 2**31 - 1]
    assert JavaRandom(seed).next_int() == first_int
    assert [JavaRandom(seed).next_int(bound) for bound in bounds] == bounded
    sequence = JavaRandom(seed)
    if seed == 42:  # Java 17: five draws of nextInt(1500000000), which needs the rejection loop
        assert [sequence.next_int(1_500_000_000) for _ in range(5)] == [
            117392763,
            1467211248,
            102948884,
            662969970,
            595021505,
        ]


@pytest.mark.parametrize(
    ("value", "rounded"),
    [  # Java 17 Math.round
        (0.5, 1),
        (1.5, 2),
        (2.5, 3),
        (-0.5, 0),
        (-1.5, -1),
        (-2.5, -2),
        (0.49999999999999994, 0),
        (-0.49999999999999994, 0),
        (1e15 + 0.5, 1000000000000001),
    ],
)
def test_java_round(value: float, rounded: int) -> None:
    assert java_round(value) == rounded


@pytest.mark.parametrize(
    ("value", "text"),
    [  # Java 17 Double.toString
        (1.1, "1.1"),
        (100.0, "100.0"),
        (1e-5, "1.0E-5"),
        (12345678.0, "1.2345678E7"),
        (1e7, "1.0E7"),
        (9999999.0, "9999999.0"),
        (0.001, "0.001"),
        (0.0009, "9.0E-4"),
        (1e20, "1.0E20"),
        (-2.5e-10, "-2.5E-10"),
        (123.456, "123.456"),
        (1.7976931348623157e308, "1.7976931348623157E308"),
        (0.1 + 0.2, "0.30000000000000004"),
        (-0.0, "-0.0"),
    ],
)
def test_java_double_text(value: float, text: str) -> None:
    assert java_double_text(value) == text


def test_json_text_is_compact_and_keeps_key_order() -> None:
    assert (
        json_text({"b": [1, 2.0, None, True], "a": 'x"y'}) == '{"b":[1,2.0,null,true],"a":"x\\"y"}'
    )


# --------------------------------------------------------------------------- the AWS corpus


def _corpus_root() -> Path | None:
    configured = os.environ.get("DWF_CORPUS")
    root = (
        Path(configured)
        if configured
        else Path(__file__).resolve().parents[2] / ".." / "shared" / "corpus"
    )
    cases = root / "asl-aws-recorded" / "cases"
    return cases if cases.is_dir() else None


_CORPUS = _corpus_root()


def _expressions_in(node: Any) -> Iterator[tuple[str, str]]:
    """Every (field, text) of a definition that AWS reads as a path or an intrinsic.

    ``Result`` is skipped: it is literal, and AWS never evaluates the ``.$`` keys in it.
    """
    if isinstance(node, list):
        for item in node:
            yield from _expressions_in(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "Result":
                continue
            if isinstance(value, str) and (
                key.endswith(".$") or key.endswith("Path") or key in ("Variable",)
            ):
                yield key, value
            else:
                yield from _expressions_in(value)


def _single_state_cases() -> Iterator[Any]:
    """Cases whose machine is one Pass or Fail state that evaluates a path or an intrinsic.

    Pass: its ``Parameters`` (with ``ResultPath``/``OutputPath``); Fail: ``ErrorPath`` and
    ``CausePath``. ``States.UUID`` is left out: AWS's value is random.
    """
    if _CORPUS is None:
        yield pytest.param(
            None,
            marks=pytest.mark.skip(reason="corpus not found: set $DWF_CORPUS or ../shared/corpus"),
        )
        return
    for file in sorted(_CORPUS.glob("*.json")):
        case = json.loads(file.read_text(encoding="utf-8"))
        states = case["definition"].get("States", {})
        if len(states) != 1 or case["definition"].get("QueryLanguage") == "JSONata":
            continue
        (state,) = states.values()
        expressions = [text for _, text in _expressions_in(state.get("Parameters"))]
        expressions += [state[field] for field in ("ErrorPath", "CausePath") if field in state]
        if not expressions or any("States.UUID" in text for text in expressions):
            continue
        if set(state) - {
            "Type",
            "Parameters",
            "End",
            "ResultPath",
            "OutputPath",
            "ErrorPath",
            "CausePath",
            "Comment",
        }:
            continue
        if state["Type"] == "Fail" and not {"ErrorPath", "CausePath"} <= set(state):
            continue
        yield pytest.param(case, id=case["name"])


@pytest.mark.conformance
@pytest.mark.parametrize("case", list(_single_state_cases()))
def test_corpus_single_state_expressions(case: dict[str, Any]) -> None:
    ((name, state),) = case["definition"]["States"].items()
    data = case["input"]
    # The parts of the context object these cases read and AWS's output does not redact.
    context = {"Execution": {"Input": data}, "State": {"Name": name}}
    expected = case["expected"]

    def value_of(expression: str) -> Any:
        if expression.startswith("$"):
            return resolve_path(expression, data, context, {})
        call = parse_intrinsic(expression)
        return evaluate(call, input=data, context=context, variables={}, random_source=FakeRandom())

    if state["Type"] == "Fail":
        assert expected["status"] == "FAILED"
        assert value_of(state["ErrorPath"]) == expected["error"]
        if "cause" in expected:
            assert value_of(state["CausePath"]) == expected["cause"]
        return
    if expected["status"] == "FAILED":  # a path that selects nothing; AWS's cause is redacted
        with pytest.raises(AslRuntimeError) as caught:
            {
                key: value_of(value)
                for key, value in state["Parameters"].items()
                if key.endswith(".$")
            }
        assert caught.value.error == expected["error"]
        return
    result = {
        key.removesuffix(".$"): value_of(value) if key.endswith(".$") else value
        for key, value in state["Parameters"].items()
    }
    output = _place(data, state.get("ResultPath", "$"), result)
    output = resolve_path(state.get("OutputPath", "$"), output, context, {})
    assert expected["status"] == "SUCCEEDED"
    assert output == expected["output"]


def _place(document: Any, result_path: str, result: Any) -> Any:
    """A plain ``$.a.b`` ResultPath, enough for the single-state corpus cases."""
    if result_path == "$":
        return result
    assert re.fullmatch(r"\$(\.\w+)+", result_path), result_path
    placed = copy.deepcopy(document)
    target = placed
    *parents, last = result_path[2:].split(".")
    for name in parents:
        target = target.setdefault(name, {})
    target[last] = result
    return placed


def test_corpus_has_intrinsic_cases() -> None:
    if _CORPUS is None:
        pytest.skip("corpus not found: set $DWF_CORPUS or ../shared/corpus")
    ids = [param.id for param in _single_state_cases()]
    assert len(ids) >= 100, len(ids)


def _corpus_expressions() -> list[tuple[str, str]]:
    if _CORPUS is None:
        return []
    found: set[tuple[str, str]] = set()
    for file in sorted(_CORPUS.glob("*.json")):
        found.update(_expressions_in(json.loads(file.read_text(encoding="utf-8"))["definition"]))
    return sorted(found)


@pytest.mark.conformance
def test_every_corpus_expression_parses() -> None:
    """AWS accepted and ran every one of these definitions, so each must parse here."""
    if _CORPUS is None:
        pytest.skip("corpus not found: set $DWF_CORPUS or ../shared/corpus")
    expressions = _corpus_expressions()
    intrinsics = [text for _, text in expressions if not text.startswith("$")]
    paths = [text for _, text in expressions if text.startswith("$")]
    assert len(intrinsics) >= 40 and len(paths) >= 40, (len(intrinsics), len(paths))
    for text in intrinsics:
        parse_intrinsic(text)
    for text in paths:
        compile_path(text)
