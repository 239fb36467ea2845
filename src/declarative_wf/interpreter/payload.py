"""The start payload of an instance and the graph it pins (see :mod:`.workflow` for its keys).

Both directions are cached: a worker parses each graph once per content hash, and a parent
builds an embedded child's payload once per graph object, although both happen again on every
replayed turn.
"""

from __future__ import annotations

import json
from typing import Any

from declarative_wf.ir import Workflow, workflow_from_json, workflow_to_json
from declarative_wf.ir.serialize import graph_json, json_content_hash

#: Graphs kept per worker process (each cache evicts its oldest entry beyond this).
GRAPH_CACHE_SIZE = 256

_GRAPHS: dict[str, Workflow] = {}
_PINNED: dict[int, tuple[Workflow, str, str]] = {}


def make_payload(workflow: Workflow, workflow_input: Any) -> dict[str, Any]:
    """The input to start an instance of ``workflow`` with; it pins the exact graph.

    The graph travels as JSON *text*: the SDK decodes the whole input again on every turn of
    the instance (with a per-object hook), while a string decodes at once and is parsed by us
    only once per content hash (:func:`load_workflow`)."""
    text, ir_hash = pinned_graph(workflow)
    return {"ir": text, "ir_hash": ir_hash, "input": workflow_input, "generation": 0}


def pinned_graph(workflow: Workflow) -> tuple[str, str]:
    """``(JSON text, content hash)`` of a graph, computed once per graph object."""
    cached = _PINNED.get(id(workflow))
    if cached is not None and cached[0] is workflow:  # the entry holds the object: ids are not reused
        return cached[1], cached[2]
    data = workflow_to_json(workflow)
    text, ir_hash = json.dumps(data, separators=(",", ":")), json_content_hash(data)
    if len(_PINNED) >= GRAPH_CACHE_SIZE:
        _PINNED.pop(next(iter(_PINNED)))
    _PINNED[id(workflow)] = (workflow, text, ir_hash)
    return text, ir_hash


def load_workflow(payload: dict[str, Any]) -> Workflow:
    """The graph of a payload, parsed once per content hash: every replay of every instance
    of the same definition reuses it."""
    ir_hash = payload.get("ir_hash")
    if ir_hash is None:
        return workflow_from_json(graph_json(payload["ir"]))
    workflow = _GRAPHS.get(ir_hash)
    if workflow is None:
        if len(_GRAPHS) >= GRAPH_CACHE_SIZE:
            _GRAPHS.pop(next(iter(_GRAPHS)))
        workflow = _GRAPHS[ir_hash] = workflow_from_json(graph_json(payload["ir"]))
    return workflow
