"""The start payload: it pins the graph as JSON text, parsed once per content hash, and the
payloads of older versions (the graph as an object) still load."""

from __future__ import annotations

import json

from declarative_wf.interpreter import payload as payload_module
from declarative_wf.interpreter.workflow import load_workflow, make_payload, pinned_graph
from declarative_wf.ir import Block, SetNode, Workflow, content_hash, workflow_to_json
from declarative_wf.ir.serialize import graph_json


def _graph(name: str) -> Workflow:
    return Workflow(name, "1", "dsl", Block("s", {"s": SetNode(id="s")}))


def test_the_graph_travels_as_text_and_is_parsed_once_per_hash() -> None:
    graph = _graph("text-payload")
    payload = make_payload(graph, {"x": 1})
    assert isinstance(payload["ir"], str)
    assert json.loads(payload["ir"]) == workflow_to_json(graph)
    assert payload["ir_hash"] == content_hash(graph) and payload["input"] == {"x": 1}
    first = load_workflow(payload)
    assert first == graph
    assert load_workflow(json.loads(json.dumps(payload))) is first  # the cache, by hash


def test_payloads_with_the_graph_as_an_object_still_load() -> None:
    graph = _graph("object-payload")
    old = {"ir": workflow_to_json(graph), "ir_hash": content_hash(graph), "input": None, "generation": 0}
    payload_module._GRAPHS.pop(old["ir_hash"], None)
    assert load_workflow(old) == graph
    assert load_workflow({"ir": workflow_to_json(graph)}) == graph  # no hash: parsed every time


def test_graph_json_reads_both_forms_and_refuses_the_rest() -> None:
    as_object = workflow_to_json(_graph("g"))
    assert graph_json(as_object) == as_object
    assert graph_json(json.dumps(as_object)) == as_object
    assert graph_json("not json") is None and graph_json(3) is None and graph_json("[1]") is None


def test_a_graph_is_serialised_once_per_object() -> None:
    graph = _graph("pinned")
    text, ir_hash = pinned_graph(graph)
    assert pinned_graph(graph)[0] is text  # the cached text, not a new one
    twin = _graph("pinned")  # equal content, another object: same text and hash
    assert pinned_graph(twin) == (text, ir_hash) and ir_hash == content_hash(graph)
