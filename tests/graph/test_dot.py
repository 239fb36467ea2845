"""DOT output: faithful to the drawing, escaped, deterministic, and accepted by Graphviz."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from declarative_wf.graph import build_drawing, dot_quote, render, to_dot

from . import workflows
from .parsing import dot_decode, parse_dot
from .snapshots import assert_snapshot
from .test_mermaid import sanitized

ALL = sorted(workflows.ALL)


@pytest.mark.parametrize("name", ALL)
def test_every_node_edge_and_cluster_reads_back(name: str) -> None:
    workflow = workflows.ALL[name]()
    drawing = build_drawing(workflow)
    parsed = parse_dot(to_dot(workflow))
    assert parsed.title == drawing.title
    assert {k: label for k, (_, label) in parsed.nodes.items()} == {n.id: sanitized(n.label) for n in drawing.nodes()}
    assert [(s, t, label) for s, t, label, _ in parsed.edges] == [
        (e.source, e.target, sanitized(e.label) if e.label else None) for e in drawing.edges
    ]
    styles = {"flow": "flow", "error": "error", "compensation": "dotted"}
    assert [style for *_, style in parsed.edges] == [styles[e.style] for e in drawing.edges]


def test_demo_snapshot() -> None:
    assert_snapshot("demo.dot", to_dot(workflows.demo()))


def test_clusters_nest_and_compensation_is_dashed() -> None:
    text = to_dot(workflows.nested())
    parsed = parse_dot(text)
    by_label = {label: (key, parent) for key, (label, parent) in parsed.clusters.items()}
    foreach, _ = by_label["for each item in orders (max 4 at a time)"]
    assert by_label["branch 1"][1] == foreach
    compensation, _ = by_label["undo reserve"]
    assert re.search(rf'subgraph "cluster_{compensation}" {{\n +label="undo reserve"; style="rounded,dashed";', text)
    shapes = {label.split("\n")[0]: shape for shape, label in parsed.nodes.values()}
    assert shapes["pick"] == "diamond" and shapes["bad"] == "octagon" and shapes["end"] == "doublecircle"
    assert shapes["gift"] == "box" and 'peripheries=2' in text


def test_special_characters_are_escaped() -> None:
    text = to_dot(workflows.special_names())
    parsed = parse_dot(text)  # the strict reader fails on a quote that ends a string early
    labels = {label for _, label in parsed.nodes.values()}
    assert f"{workflows.NASTY}\ncall act\"ivity\\" in labels
    assert '\\\\N end' in text  # "\N" (the node name in DOT) stays a literal backslash-N
    assert 'a == `\\"|\\"` && b < c' in text
    assert "\t" not in text and "\x07" not in text and "\r" not in text
    assert parsed.title == 'odd "name" <x>'


@pytest.mark.parametrize(
    ("text", "quoted"),
    [("plain", '"plain"'), ('a"b', '"a\\"b"'), ("a\\b", '"a\\\\b"'), ("a\nb", '"a\\nb"'), ("\\N", '"\\\\N"'),
     ("trailing\\", '"trailing\\\\"'), ("\x00x", '"\ufffdx"'), ("ünï 🚀", '"ünï 🚀"')],
)  # fmt: skip
def test_dot_quote(text: str, quoted: str) -> None:
    assert dot_quote(text) == quoted
    assert dot_decode(quoted[1:-1]) == text.replace("\x00", "\ufffd")


def test_deterministic_and_render_dispatch() -> None:
    for make in workflows.ALL.values():
        assert to_dot(make()) == to_dot(make()) == render(make(), "dot")


# --------------------------------------------------------------------------- Graphviz itself


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz is not installed (apt-get install graphviz)")
@pytest.mark.parametrize("name", ALL)
def test_graphviz_parses_every_graph(name: str, tmp_path: Path) -> None:
    workflow = workflows.ALL[name]()
    drawing = build_drawing(workflow)
    source = tmp_path / f"{name}.dot"
    source.write_text(to_dot(workflow), encoding="utf-8")
    run = subprocess.run(["dot", "-Tjson0", str(source)], capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 0 and run.stderr == "", run.stderr
    graph = json.loads(run.stdout)
    nodes = {o["name"]: dot_decode(o["label"]) for o in graph["objects"] if "nodes" not in o}
    assert nodes == {n.id: sanitized(n.label) for n in drawing.nodes()}
    clusters = {o["name"]: dot_decode(o["label"]) for o in graph["objects"] if "nodes" in o}
    assert sorted(clusters) == sorted(f"cluster_{k}" for k in parse_dot(source.read_text(encoding="utf-8")).clusters)
    names = [o["name"] for o in graph["objects"]]
    edges = [(names[e["tail"]], names[e["head"]], dot_decode(e["label"]) if e.get("label") else None) for e in graph.get("edges", [])]
    assert sorted(edges, key=str) == sorted(((e.source, e.target, sanitized(e.label) if e.label else None) for e in drawing.edges), key=str)
    # And it lays out and renders.
    svg = subprocess.run(["dot", "-Tsvg", str(source)], capture_output=True, timeout=60, check=False)
    assert svg.returncode == 0 and svg.stdout.startswith(b"<?xml")
