"""Hypothesis strategies of the ASL fuzz tests: corpus seeds, random JSON values, and seeds
mutated by deleting, replacing or adding values (shared by the library and the CLI fuzzers)."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import strategies as st

from .corpus import load_cases

SEEDS = [case["definition"] for case in load_cases()[::7]] or [
    {"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}, "B": {"Type": "Succeed"}}},
]

JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from(
        ["$", "$.a", "$$.Execution.Input", "$x", "{% 1 %}", "{% $states.input %}", "States.Array(1)", "", "Pass", "Task", "A", "$.a[*]"]
    ),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b.$", "Type", "Next", "End", "Result", "Variable"]), inner, max_size=3),
    max_leaves=8,
)
KEYS = ["Type", "Next", "End", "InputPath", "OutputPath", "ResultPath", "Parameters", "Result", "ItemsPath", "Items", "Output",
        "Arguments", "Assign", "Choices", "Default", "Seconds", "SecondsPath", "Error", "Cause", "Branches", "ItemProcessor",
        "Retry", "Catch", "QueryLanguage", "StartAt", "States", "MaxConcurrency", "TimeoutSeconds", "Condition"]  # fmt: skip


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found += _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _paths(item, (*prefix, index))
    return found


@st.composite
def mutated(
    draw: st.DrawFn,
    seeds: list[Any] = SEEDS,
    keys: list[str] = KEYS,
    mutations: tuple[int, int] = (1, 4),
) -> Any:
    """One of ``seeds`` (a copy), with between ``mutations`` random edits: a value deleted or
    replaced, or a key of ``keys`` added."""
    definition = copy.deepcopy(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(*mutations))):
        path = draw(st.sampled_from(_paths(definition)))
        if not path:
            continue
        parent: Any = definition
        for step in path[:-1]:
            parent = parent[step]
        action = draw(st.sampled_from(["delete", "replace", "add"]))
        if action == "delete":
            del parent[path[-1]]
        elif action == "replace":
            parent[path[-1]] = draw(JSON)
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(keys))] = draw(JSON)
    return definition
