"""IR serialisation, its JSON Schema, and the content hash."""

from __future__ import annotations

import json
from importlib.resources import files

import jsonschema
import pytest

from declarative_wf.ir import (
    Block, CatchRule, ChoiceCase, ChoiceNode, CompensateNode, ErrorMatch, EventNode, Expr, FailNode,
    ForEachNode, IRFormatError, LoopNode, Merge, ParallelNode, RetryRule, SetNode, SourceRef,
    SucceedNode, TaskNode, TryNode, WaitNode, Workflow, content_hash, workflow_from_json, workflow_to_json,
)
from declarative_wf.ir.jsonschema import ir_json_schema


def every_kind() -> Workflow:
    J = lambda text: Expr("jmespath", text)  # noqa: E731
    here = SourceRef("wf.yaml", 3, 5, "/steps/0")
    undo = Block("u", {"u": TaskNode(id="u", activity="refund")})
    body = Block("t", {
        "t": TaskNode(id="t", next="p", activity="charge", args=Expr("template", {"a": {"$expr": {"lang": "jmespath", "value": "input"}}}),
                      retry=(RetryRule(match=ErrorMatch(("Timeout",), when=J("`true`")), max_retries=2, jitter="full"),),
                      catch=(CatchRule(handler=Block("h", {"h": CompensateNode(id="h")}), then="jump", next="f"),),
                      compensation=undo, source=here, merge=Merge("set", ("out", 0)), timeout_seconds=Expr.literal(5)),
        "p": ParallelNode(id="p", next="e", branches=(Block("w", {"w": WaitNode(id="w", seconds=Expr.literal(1))}),), mode="any"),
        "e": ForEachNode(id="e", next="c", items=J("input"), body=Block("ev", {"ev": EventNode(id="ev", event="go", correlate=J("event.id == result"))}), max_concurrency=3, tolerated_failure_percent=10.0),
        "c": ChoiceNode(id="c", next="l", cases=(ChoiceCase(J("result"), "s"),), no_default_is_error=True),
        "l": LoopNode(id="l", next="y", body=Block("x", {"x": SetNode(id="x", value=Expr.literal(1))}), every_seconds=Expr.literal(2), until=J("result"), timeout_seconds=Expr.literal(60)),
        "y": TryNode(id="y", next="s", body=Block("z", {"z": SetNode(id="z")})),
        "s": SucceedNode(id="s", scope="workflow"),
        "f": FailNode(id="f", error=Expr.literal("Boom"), status=500),
    })
    return Workflow("every-kind", "2", "dsl", body, timeout_seconds=600.0, options={"x": 1})


def test_round_trip_is_lossless() -> None:
    workflow = every_kind()
    assert workflow_from_json(json.loads(json.dumps(workflow_to_json(workflow)))) == workflow


def test_serialised_ir_validates_against_the_schema() -> None:
    schema = json.loads(files("declarative_wf").joinpath("schemas", "ir.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(workflow_to_json(every_kind()), schema)


def test_schema_file_is_up_to_date() -> None:
    shipped = json.loads(files("declarative_wf").joinpath("schemas", "ir.schema.json").read_text())
    assert shipped == ir_json_schema(), "regenerate: python -m declarative_wf.ir.jsonschema > schemas/ir.schema.json"


def test_content_hash_is_stable_and_sensitive() -> None:
    first, second = every_kind(), every_kind()
    assert content_hash(first) == content_hash(second)
    assert content_hash(first).startswith("sha256:")
    second.body.nodes["t"].activity = "charge2"  # type: ignore[attr-defined]
    assert content_hash(first) != content_hash(second)


@pytest.mark.parametrize("bad", [None, {}, {"ir_version": 99}, {"ir_version": 1, "name": "x", "format": "dsl", "body": {"nodes": [{"kind": "teleport", "id": "a"}]}}])
def test_malformed_ir_is_refused(bad: object) -> None:
    with pytest.raises(IRFormatError):
        workflow_from_json(bad)
