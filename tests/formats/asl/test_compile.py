"""ASL → IR: node kinds and ids, the Task Resource mapping, and lossless IR (de)serialisation."""

from __future__ import annotations

import json
from typing import Any

import pytest

from declarative_wf.formats.asl import resource_target
from declarative_wf.ir import ChildNode, ChoiceNode, FailNode, ForEachNode, ParallelNode, SetNode, SucceedNode, TaskNode, WaitNode, workflow_from_json, workflow_to_json

from .corpus import load_cases
from .helpers import compile_definition, run_asl

EVERY_TYPE = {
    "StartAt": "Pass",
    "States": {
        "Pass": {"Type": "Pass", "Next": "Task"},
        "Task": {"Type": "Task", "Resource": "work", "HeartbeatSeconds": 10, "TimeoutSeconds": 60, "Next": "Child"},
        "Child": {"Type": "Task", "Resource": "arn:aws:states:::states:startExecution.sync", "Parameters": {"StateMachineArn": "arn:aws:states:us-east-1:1:stateMachine:other"}, "Next": "Choice"},
        "Choice": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsPresent": True, "Next": "Wait"}], "Default": "Parallel"},
        "Wait": {"Type": "Wait", "Seconds": 1, "Next": "Parallel"},
        "Parallel": {"Type": "Parallel", "Branches": [{"StartAt": "Inner", "States": {"Inner": {"Type": "Succeed"}}}], "Next": "Map"},
        "Map": {"Type": "Map", "ItemProcessor": {"StartAt": "Item", "States": {"Item": {"Type": "Pass", "End": True}}}, "Next": "Done?"},
        "Done?": {"Type": "Choice", "Choices": [{"Variable": "$.x", "IsNull": True, "Next": "Fail"}], "Default": "Succeed"},
        "Fail": {"Type": "Fail", "Error": "E"},
        "Succeed": {"Type": "Succeed"},
    },
}


def test_every_state_type_becomes_its_node() -> None:
    workflow = compile_definition(EVERY_TYPE)
    nodes = workflow.body.nodes
    kinds = {node.label: type(node) for node in nodes.values()}
    assert kinds == {
        "Pass": SetNode, "Task": TaskNode, "Child": ChildNode, "Choice": ChoiceNode, "Wait": WaitNode, "Parallel": ParallelNode,
        "Map": ForEachNode, "Done?": ChoiceNode, "Fail": FailNode, "Succeed": SucceedNode,
    }  # fmt: skip
    assert workflow.body.start == "/States/Pass"
    assert nodes["/States/Pass"].next == "/States/Task"
    task = nodes["/States/Task"]
    assert isinstance(task, TaskNode) and task.activity == "work"
    assert task.heartbeat_seconds is not None and task.timeout_seconds is not None
    child = nodes["/States/Child"]
    assert isinstance(child, ChildNode) and child.workflow == "other"
    parallel = nodes["/States/Parallel"]
    assert isinstance(parallel, ParallelNode) and parallel.branches[0].start == "/States/Parallel/Branches/0/States/Inner"
    assert task.source is not None and (task.source.line, task.source.pointer) == (8, "/States/Task")


@pytest.mark.parametrize(
    ("resource", "kind", "name", "shape"),
    [
        ("arn:aws:lambda:us-east-1:123456789012:function:charge", "activity", "charge", None),
        ("arn:aws:lambda:us-east-1:123456789012:function:charge:prod", "activity", "charge", None),
        ("charge", "activity", "charge", None),
        ("arn:aws:states:us-east-1:123456789012:activity:charge", "activity", "charge", None),
        ("arn:aws:states:::http:invoke", "activity", "http", "http"),
        ("arn:aws:states:::lambda:invoke", "activity", "", "lambda"),
        ("arn:aws:states:::states:startExecution", "child", "", "sfn"),
        ("arn:aws:states:::states:startExecution.sync", "child", "", "sfn.sync"),
        ("arn:aws:states:::states:startExecution.sync:2", "child", "", "sfn.sync2"),
        ("arn:aws:states:::sqs:sendMessage", "activity", "arn:aws:states:::sqs:sendMessage", None),
    ],
)
def test_resource_mapping(resource: str, kind: str, name: str, shape: str | None) -> None:
    target = resource_target(resource)
    assert (target.kind, target.name, target.shape) == (kind, name, shape)


def _corpus_definitions() -> list[Any]:
    cases = load_cases()
    seen: dict[str, dict[str, Any]] = {}
    for case in cases:
        seen.setdefault(json.dumps(case["definition"], sort_keys=True), case)
    return [pytest.param(case, id=case["name"]) for case in seen.values()] or [pytest.param(None, marks=pytest.mark.skip(reason="corpus not found"))]


@pytest.mark.conformance
@pytest.mark.parametrize("case", _corpus_definitions())
def test_the_ir_of_every_corpus_definition_survives_json(case: dict[str, Any]) -> None:
    workflow = compile_definition(case["definition"], f"{case['name']}.asl.json")
    assert workflow_from_json(json.loads(json.dumps(workflow_to_json(workflow)))) == workflow


def test_a_map_with_an_item_reader_iterates_over_what_the_reader_activity_returns() -> None:
    definition = {"StartAt": "M", "States": {"M": {
        "Type": "Map", "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b", "Key.$": "$.key"},
                                      "ReaderConfig": {"MaxItemsPath": "$.max"}},
        "ItemProcessor": {"ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"}, "StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
        "End": True,
    }}}  # fmt: skip
    requests: list[Any] = []

    def reader(request: Any) -> Any:
        requests.append(request)
        return [{"n": 1}, {"n": 2}]

    from ...interpreter.harness import FakeHost

    outcome = run_asl(definition, {"key": "k.json", "max": 5}, host=FakeHost({"dwf.read_items": reader}))
    assert outcome.status == "completed" and outcome.value == [{"n": 1}, {"n": 2}]
    # The reader's fields, resolved against the state input (the activity does the I/O).
    assert requests == [{"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b", "Key": "k.json"}, "ReaderConfig": {"MaxItems": 5}}]
