"""Choice rules: AWS's type rules for every operator (a value of the wrong type, or a missing
one, makes a comparison false, never an error), StringMatches wildcards, RFC 3339 timestamps,
And/Or/Not, the *Path forms, and Choice states run on the in-memory host."""

from __future__ import annotations

from typing import Any

import pytest

from declarative_wf.expressions.asl_eval import compare, parse_timestamp, string_matches

from .helpers import run_asl

MISSING: Any = object()  # stands for "the Variable selects nothing"


def _variable(value: Any) -> Any:
    from declarative_wf.expressions import asl_eval

    return asl_eval._MISSING if value is MISSING else value  # noqa: SLF001 - the sentinel the evaluator uses


NOT_STRINGS = [None, 0, 0.0, 1.5, True, False, [], ["a"], {}, {"a": "b"}]
NOT_NUMBERS = [None, "1", "", True, False, [], [1], {}, {"a": 1}]
NOT_BOOLEANS = [None, 0, 1, "true", "", [], [True], {}]


@pytest.mark.parametrize("value", NOT_STRINGS + [MISSING])
@pytest.mark.parametrize("operator", ["StringEquals", "StringLessThan", "StringGreaterThan", "StringLessThanEquals", "StringGreaterThanEquals", "StringMatches"])
def test_string_operators_are_false_for_other_types(operator: str, value: Any) -> None:
    assert compare(operator, _variable(value), "a") is False


@pytest.mark.parametrize(
    ("operator", "variable", "operand", "expected"),
    [
        ("StringEquals", "abc", "abc", True),
        ("StringEquals", "abc", "abd", False),
        ("StringEquals", "", "", True),
        ("StringLessThan", "abc", "abd", True),
        ("StringLessThan", "abd", "abc", False),
        ("StringGreaterThan", "b", "a", True),
        ("StringLessThanEquals", "a", "a", True),
        ("StringGreaterThanEquals", "a", "b", False),
        ("StringLessThan", "Z", "a", True),  # code point order
    ],
)
def test_string_comparisons(operator: str, variable: str, operand: str, expected: bool) -> None:
    assert compare(operator, variable, operand) is expected


@pytest.mark.parametrize("value", NOT_NUMBERS + [MISSING])
@pytest.mark.parametrize("operator", ["NumericEquals", "NumericLessThan", "NumericGreaterThan", "NumericLessThanEquals", "NumericGreaterThanEquals"])
def test_numeric_operators_are_false_for_other_types(operator: str, value: Any) -> None:
    assert compare(operator, _variable(value), 1) is False


@pytest.mark.parametrize(
    ("operator", "variable", "operand", "expected"),
    [
        ("NumericEquals", 1, 1.0, True),
        ("NumericEquals", 0, -0.0, True),
        ("NumericEquals", 1, 2, False),
        ("NumericLessThan", 1, 1.5, True),
        ("NumericGreaterThan", -1, -2, True),
        ("NumericLessThanEquals", 2, 2, True),
        ("NumericGreaterThanEquals", 1.999, 2, False),
    ],
)
def test_numeric_comparisons(operator: str, variable: Any, operand: Any, expected: bool) -> None:
    assert compare(operator, variable, operand) is expected


def test_a_numeric_operand_of_the_wrong_type_is_false_not_an_error() -> None:
    assert compare("NumericEquals", 1, "1") is False  # NumericEqualsPath selecting a string


@pytest.mark.parametrize("value", NOT_BOOLEANS + [MISSING])
def test_boolean_equals_is_false_for_other_types(value: Any) -> None:
    assert compare("BooleanEquals", _variable(value), True) is False
    assert compare("BooleanEquals", _variable(value), False) is False


def test_boolean_equals() -> None:
    assert compare("BooleanEquals", True, True) is True
    assert compare("BooleanEquals", False, False) is True
    assert compare("BooleanEquals", True, False) is False


@pytest.mark.parametrize(
    ("operator", "value", "expected_true", "expected_false"),
    [
        # Is*: true when the value is of that kind; with false, true for EVERY other value,
        # null and a missing value included (the corpus pins this).
        ("IsNull", None, True, False),
        ("IsNull", 0, False, True),
        ("IsNull", MISSING, False, True),
        ("IsPresent", None, True, False),
        ("IsPresent", MISSING, False, True),
        ("IsPresent", [], True, False),
        ("IsNumeric", 1.5, True, False),
        ("IsNumeric", "1", False, True),
        ("IsNumeric", True, False, True),
        ("IsNumeric", None, False, True),
        ("IsString", "", True, False),
        ("IsString", None, False, True),
        ("IsString", MISSING, False, True),
        ("IsBoolean", False, True, False),
        ("IsBoolean", 0, False, True),
        ("IsBoolean", None, False, True),
        ("IsTimestamp", "2016-03-14T01:59:00Z", True, False),
        ("IsTimestamp", "2016-03-14T01:59:00", False, True),
        ("IsTimestamp", "2016-03-14", False, True),
        ("IsTimestamp", 1457920740, False, True),
    ],
)
def test_is_operators(operator: str, value: Any, expected_true: bool, expected_false: bool) -> None:
    assert compare(operator, _variable(value), True) is expected_true
    assert compare(operator, _variable(value), False) is expected_false


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("2016-03-14T01:59:00Z", True),
        ("2016-03-14T01:59:00.123Z", True),
        ("2016-03-14T01:59:00+01:00", True),
        ("2016-03-14T01:59:00-05:30", True),
        ("2016-03-14t01:59:00Z", False),  # lower-case t
        ("2016-03-14T01:59:00z", False),
        ("2016-03-14 01:59:00Z", False),
        ("2016-03-14T01:59:00", False),  # no offset
        ("2016-03-14", False),
        ("2016-13-05T21:29:29Z", False),  # month 13
        ("2016-12-05T25:29:29Z", False),  # hour 25
        ("2016-02-30T00:00:00Z", False),
        ("05-12-2016T21:29:29Z", False),
        ("", False),
    ],
)
def test_timestamps_are_rfc3339_with_upper_case_t_and_an_offset(text: str, valid: bool) -> None:
    assert (parse_timestamp(text) is not None) is valid


def test_timestamps_compare_as_instants() -> None:
    assert compare("TimestampEquals", "2016-03-14T01:59:00Z", "2016-03-14T02:59:00+01:00") is True
    assert compare("TimestampLessThan", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00.001Z") is True
    assert compare("TimestampGreaterThanEquals", "2016-03-14T01:59:00Z", "2016-03-14T01:59:00Z") is True
    assert compare("TimestampEquals", "not a time", "2016-03-14T01:59:00Z") is False
    assert compare("TimestampEquals", 5, "2016-03-14T01:59:00Z") is False


@pytest.mark.parametrize(
    ("value", "pattern", "expected"),
    [
        ("log-2024.txt", "log-*.txt", True),
        ("log.txt", "log-*.txt", False),
        ("anything", "*", True),
        ("", "*", True),
        ("a*b", "a\\*b", True),  # \* is a literal star
        ("axb", "a\\*b", False),
        ("a\\b", "a\\\\b", True),  # \\ is a literal backslash
        ("a?c", "a?c", True),  # ? and [] are not special
        ("abc", "a?c", False),
        ("[x]", "[x]", True),
        ("x", "[x]", False),
        ("multi\nline", "multi*line", True),
    ],
)
def test_string_matches(value: str, pattern: str, expected: bool) -> None:
    assert string_matches(value, pattern) is expected


# -- Choice states on the in-memory host ----------------------------------------------------------


def _choice(rule: dict[str, Any], default: bool = True) -> dict[str, Any]:
    state: dict[str, Any] = {"Type": "Choice", "Choices": [{**rule, "Next": "Yes"}]}
    states: dict[str, Any] = {"C": state, "Yes": {"Type": "Pass", "Result": "yes", "End": True}}
    if default:
        state["Default"] = "No"
        states["No"] = {"Type": "Pass", "Result": "no", "End": True}
    return {"StartAt": "C", "States": states}


@pytest.mark.parametrize(
    ("rule", "data", "expected"),
    [
        ({"Variable": "$.a", "NumericEqualsPath": "$.b"}, {"a": 1, "b": 1.0}, "yes"),
        ({"Variable": "$.a", "StringEqualsPath": "$.b"}, {"a": "x", "b": "y"}, "no"),
        ({"And": [{"Variable": "$.a", "IsPresent": True}, {"Variable": "$.a", "NumericGreaterThan": 2}]}, {"a": 3}, "yes"),
        ({"Or": [{"Variable": "$.a", "IsNull": True}, {"Variable": "$.a", "StringEquals": "x"}]}, {"a": "x"}, "yes"),
        ({"Not": {"Variable": "$.a", "IsPresent": True}}, {}, "yes"),
        ({"Not": {"Variable": "$.missing", "StringEquals": "x"}}, {}, "yes"),
        ({"Variable": "$.items[0].name", "StringMatches": "ab*"}, {"items": [{"name": "abc"}]}, "yes"),
        ({"Variable": "$$.Execution.Input.flag", "BooleanEquals": True}, {"flag": True}, "yes"),
    ],
)
def test_choice_states(rule: dict[str, Any], data: Any, expected: str) -> None:
    outcome = run_asl(_choice(rule), data)
    assert outcome.status == "completed" and outcome.value == expected


def test_no_match_and_no_default_is_states_no_choice_matched() -> None:
    outcome = run_asl(_choice({"Variable": "$.a", "IsPresent": True}, default=False), {})
    assert outcome.status == "failed"
    assert outcome.value.type == "States.NoChoiceMatched"


def test_a_path_operand_that_selects_nothing_is_states_runtime() -> None:
    outcome = run_asl(_choice({"Variable": "$.a", "NumericEqualsPath": "$.nothing"}), {"a": 1})
    assert outcome.status == "failed"
    assert outcome.value.type == "States.Runtime"
    assert "No results for path" in outcome.value.message


def test_boolean_equals_path_to_a_non_boolean_is_states_runtime() -> None:
    outcome = run_asl(_choice({"Variable": "$.a", "BooleanEqualsPath": "$.b"}), {"a": True, "b": "true"})
    assert outcome.status == "failed" and outcome.value.type == "States.Runtime"


def test_rule_assign_is_taken_only_with_its_rule_and_state_assign_only_with_the_default() -> None:
    definition = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.n", "NumericEquals": 1, "Assign": {"picked": "one"}, "Next": "Out"}],
                "Assign": {"picked": "default", "seen.$": "$.n"},
                "Default": "Out",
            },
            "Out": {"Type": "Pass", "Parameters": {"picked.$": "$picked"}, "End": True},
        },
    }
    assert run_asl(definition, {"n": 1}).value == {"picked": "one"}
    assert run_asl(definition, {"n": 2}).value == {"picked": "default"}


def test_jsonata_condition_output_and_assign() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [
                    {"Condition": "{% $states.input.n > 1 %}", "Output": {"big": "{% $states.input.n %}"}, "Assign": {"size": "big"}, "Next": "Out"},
                ],
                "Output": {"small": true_value()},
                "Default": "Out",
            },
            "Out": {"Type": "Pass", "Output": "{% $merge([$states.input, {'size': $size}]) %}", "End": True},
        },
    }
    assert run_asl(definition, {"n": 5}).value == {"big": 5, "size": "big"}
    # The default path: the state's Output; $size is undefined, so $merge leaves it out.
    assert run_asl(definition, {"n": 0}).value == {"small": True}


def true_value() -> bool:
    return True


def test_a_condition_that_is_not_boolean_is_a_query_evaluation_error() -> None:
    definition = {
        "QueryLanguage": "JSONata",
        "StartAt": "C",
        "States": {
            "C": {"Type": "Choice", "Choices": [{"Condition": "{% $states.input.n %}", "Next": "Out"}], "Default": "Out"},
            "Out": {"Type": "Succeed"},
        },
    }
    outcome = run_asl(definition, {"n": 5})
    assert outcome.value.type == "States.QueryEvaluationError"
    assert "Expected 'boolean'" in outcome.value.message
