"""0.8 expressions as the compiler builds them: ``${ }`` handling, interpolation, ``fn:``,
``$CONST``, and the specification's data merging — evaluated with libjq."""

from __future__ import annotations

from typing import Any

import pytest

from declarative_wf.expressions.evaluate import Scope, evaluate
from declarative_wf.formats.sw08.expressions import Expressions
from declarative_wf.ir import Expr

FUNCTIONS = {
    "isAdult": {"name": "isAdult", "type": "expression", "operation": "${ .age >= 18 }"}
}
EXPR = Expressions(FUNCTIONS, {"limit": 10})


def value(expression: Expr, data: Any, **context: Any) -> Any:
    return evaluate(expression, Scope(data=data, context=context))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("${ .a }", 1),
        (".a", 1),
        ("  ${ .a + 1 }  ", 2),
        ("${ fn:isAdult }", False),
        ("${ .a < $CONST.limit }", True),
        ("${ .list[] }", [1, 2]),
        ("${ empty }", None),
    ],
)
def test_expression_fields(source: str, expected: Any) -> None:
    assert value(EXPR.jq(source), {"a": 1, "age": 3, "list": [1, 2]}) == expected


def test_templates() -> None:
    template = EXPR.template(
        {
            "name": "${ .n }",
            "text": "Hi ${ .n }, ${ .a } left!",
            "plain": "no $ here",
            "n": [1, "${ .a }"],
        }
    )
    assert template.lang == "template"
    assert value(template, {"n": "Ann", "a": 2}) == {
        "name": "Ann",
        "text": "Hi Ann, 2 left!",
        "plain": "no $ here",
        "n": [1, 2],
    }
    assert EXPR.template({"x": 1}) == Expr.literal({"x": 1})
    assert (
        value(EXPR.template('quote " and \\\\ ${ .a }'), {"a": 1})
        == 'quote " and \\\\ 1'
    )


@pytest.mark.parametrize(
    ("data", "result", "expected"),
    [
        ({"customer": {"name": "John", "address": "1234 street", "zip": "12345"}},
         {"customer": {"name": "John", "zip": "54321"}},
         {"customer": {"name": "John", "address": "1234 street", "zip": "54321"}}),
        ({"customers": [{"name": "Michael"}]},
         {"customers": [{"name": "John"}, {"name": "Michael"}]},
         {"customers": [{"name": "Michael"}, {"name": "John"}]}),
        ({"a": 1}, None, {"a": 1}),
        ({"a": 1}, 5, 5),
        ([1, 2], [2, 3], [1, 2, 3]),
        ({"a": {"b": [1]}}, {"a": {"b": 2}}, {"a": {"b": 2}}),
    ],
)  # fmt: skip
def test_data_merging(data: Any, result: Any, expected: Any) -> None:
    assert value(EXPR.merge_expr(None), data, __selected=result) == expected


def test_merging_at_to_state_data() -> None:
    merged = value(
        EXPR.merge_expr("${ .out.greeting }"),
        {"out": {"other": 1}},
        __selected={"text": "hi"},
    )
    assert merged == {"out": {"other": 1, "greeting": {"text": "hi"}}}
    each = value(
        EXPR.merge_each([".x", False, None]), {"k": 0}, __selected=[1, 2, {"y": 3}]
    )
    assert each == {"k": 0, "x": 1, "y": 3}
