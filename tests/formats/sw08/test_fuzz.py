"""Random damage to the specification's examples: every variant gets diagnostics or a valid
graph — never an internal error (FMT-E004) — and every graph that compiles matches the IR
schema and survives a JSON round trip."""

from __future__ import annotations

import copy
import json
import random
from functools import cache
from typing import Any

import jsonschema
import pytest

from declarative_wf.diagnostics import DiagnosticError
from declarative_wf.formats import load_definition_text
from declarative_wf.ir import workflow_from_json, workflow_to_json
from declarative_wf.ir.jsonschema import ir_json_schema
from declarative_wf.loading import load_file

from .corpus import MISSING, corpus_dir, examples

VARIANTS_PER_EXAMPLE = 12
REPLACEMENTS: list[Any] = [
    None,
    0,
    -1,
    2.5,
    "",
    "x",
    "${ ( }",
    "${ .a }",
    "PT1S",
    "P",
    [],
    {},
    True,
    ["x"],
    {"a": 1},
]


@cache
def _ir_validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(ir_json_schema())


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, item in value.items():
            found.extend(_paths(item, (*prefix, key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found.extend(_paths(item, (*prefix, index)))
    return found


def _damage(document: dict[str, Any], rng: random.Random) -> dict[str, Any]:
    damaged = copy.deepcopy(document)
    for _ in range(rng.randint(1, 3)):
        paths = [p for p in _paths(damaged) if p]
        path = rng.choice(paths)
        parent = damaged
        for part in path[:-1]:
            parent = parent[part]
        last = path[-1]
        action = rng.random()
        if action < 0.3 and isinstance(parent, dict):
            del parent[last]
        elif action < 0.4 and isinstance(parent, dict):
            parent[
                rng.choice(
                    ["transition", "end", "type", "name", "nextState", "compensate"]
                )
            ] = rng.choice(REPLACEMENTS)
        else:
            parent[last] = rng.choice(REPLACEMENTS)
    return damaged


CASES = [(path, n) for path in examples() for n in range(VARIANTS_PER_EXAMPLE)]


@pytest.mark.parametrize(
    ("path", "seed"), CASES, ids=[f"{p.name}#{n}" for p, n in CASES]
)
def test_damaged_examples_never_crash(path: Any, seed: int) -> None:
    if corpus_dir() is None:
        pytest.skip(MISSING)
    rng = random.Random(f"{path.name}|{seed}")
    text = json.dumps(_damage(load_file(path).data, rng), indent=1)
    try:
        compiled = load_definition_text(text, "damaged.sw.json")
    except DiagnosticError as error:
        assert error.diagnostics, text
        internal = [d.format() for d in error.diagnostics if d.code == "FMT-E004"]
        assert not internal, f"{internal}\n{text}"
        return
    graph = workflow_to_json(compiled.workflow)
    problems = [e.message for e in _ir_validator().iter_errors(graph)]
    assert not problems, problems[:3]
    assert workflow_to_json(workflow_from_json(graph)) == graph
