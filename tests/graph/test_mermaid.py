"""Mermaid output: faithful to the drawing, escaped, deterministic, and accepted by Mermaid."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from declarative_wf.graph import build_drawing, mermaid_text, render, to_mermaid

from . import workflows
from .parsing import mermaid_decode, parse_mermaid
from .snapshots import assert_snapshot

ALL = sorted(workflows.ALL)


def sanitized(label: str) -> str:
    """What a label reads like once written: line breaks kept, other controls replaced."""
    label = label.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join("\ufffd" if unicodedata.category(c) == "Cc" and c != "\n" else c for c in label)


@pytest.mark.parametrize("name", ALL)
def test_every_node_edge_and_cluster_reads_back(name: str) -> None:
    workflow = workflows.ALL[name]()
    drawing = build_drawing(workflow)
    parsed = parse_mermaid(to_mermaid(workflow))
    assert parsed.title == drawing.title.replace("<", "‹").replace(">", "›")
    assert {k: label for k, (_, label) in parsed.nodes.items()} == {n.id: sanitized(n.label) for n in drawing.nodes()}
    assert [(s, t, label) for s, t, label, _ in parsed.edges] == [
        (e.source, e.target, sanitized(e.label) if e.label else None) for e in drawing.edges
    ]
    arrows = {"flow": "-->", "error": "-.->", "compensation": "-.->"}
    assert [arrow for *_, arrow in parsed.edges] == [arrows[e.style] for e in drawing.edges]


def test_demo_snapshot() -> None:
    assert_snapshot("demo.mmd", to_mermaid(workflows.demo()))


def test_shapes_and_styles() -> None:
    parsed = parse_mermaid(to_mermaid(workflows.nested()))
    shapes = {label.split("\n")[0]: shape for shape, label in parsed.nodes.values()}
    assert shapes["start"] == shapes["end"] == "([])"
    assert shapes["pick"] == "{}"
    assert shapes["fan"] == shapes["join all"] == "{{}}"
    assert shapes["gift"] == "[[]]"
    assert shapes["slow"] == "[//]"
    assert shapes["undo"] == "[\\/]"
    # Catch edges are red, the compensation block dashed, fail nodes red.
    error_indexes = [str(i) for i, (*_, arrow) in enumerate(parsed.edges) if arrow == "-.->" and _[2] != "compensation"]
    assert f"linkStyle {','.join(error_indexes)} stroke:#c0392b,color:#c0392b" in parsed.styles
    compensation = next(k for k, (label, _) in parsed.clusters.items() if label == "undo reserve")
    assert f"style {compensation} stroke-dasharray:5 5" in parsed.styles
    assert any(line.startswith("class ") and line.endswith(" fail") for line in parsed.styles)


def test_nested_clusters_keep_their_nesting() -> None:
    parsed = parse_mermaid(to_mermaid(workflows.nested()))
    by_label = {label: (key, parent) for key, (label, parent) in parsed.clusters.items()}
    foreach, _ = by_label["for each item in orders (max 4 at a time)"]
    assert by_label["branch 2"][1] == foreach
    fan = next(k for k, (_, label) in parsed.nodes.items() if label.startswith("fan\n"))
    assert parsed.parent[fan] == foreach


def test_special_characters_are_escaped() -> None:
    text = to_mermaid(workflows.special_names())
    parsed = parse_mermaid(text)  # the strict reader fails on any leaked quote or bracket
    labels = {label for _, label in parsed.nodes.values()}
    assert f"{workflows.NASTY}\ncall act\"ivity\\" in labels
    assert 'a == `"|"` && b < c' in {label for _, _, label, _ in parsed.edges}
    # Names that are Mermaid keywords never become ids; user text never reaches an id.
    assert all(not key.startswith(("end", "graph", "subgraph")) for key in parsed.nodes)
    assert "<b>" not in text and "`tick`" not in text and "\t" not in text and "\x07" not in text
    assert "🚀" in text and "名前" in text  # other characters are written as they are
    assert parsed.title == 'odd "name" ‹x›'  # Mermaid would drop "<x>" from a title


@pytest.mark.parametrize(
    ("text", "escaped"),
    [('a"b', "a#quot;b"), ("#1;", "#35;1;"), ("a<br>b", "a#lt;br#gt;b"), ("x|y", "x#124;y"),
     ("`md`", "#96;md#96;"), ("a\nb", "a<br>b"), ("a\r\nb", "a<br>b"), ("\x1b[31m", "\ufffd[31m"), ("&", "#amp;")],
)  # fmt: skip
def test_mermaid_text(text: str, escaped: str) -> None:
    assert mermaid_text(text) == escaped
    assert mermaid_decode(escaped) == text.replace("\r\n", "\n").replace("\x1b", "\ufffd")


def test_output_is_deterministic_across_processes() -> None:
    """Same bytes every time, whatever the hash seed (no set or id() ordering leaks in)."""
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); from tests.graph import workflows; "
        "from declarative_wf.graph import to_mermaid; "
        "print(''.join(to_mermaid(make()) for make in workflows.ALL.values()), end='')"
    )
    root = str(Path(__file__).parents[2])
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", code, root], capture_output=True, text=True, env=env, timeout=120, check=True)
        outputs.add(run.stdout)
    assert len(outputs) == 1
    assert outputs.pop() == "".join(to_mermaid(make()) for make in workflows.ALL.values())


def test_render_dispatches_on_format() -> None:
    assert render(workflows.demo()) == render(workflows.demo(), "mermaid") == to_mermaid(workflows.demo())
    with pytest.raises(ValueError, match="unknown graph format"):
        render(workflows.demo(), "svg")  # type: ignore[arg-type]


# --------------------------------------------------------------------------- the real parser

# Mermaid's own parser runs in Node.js with jsdom. Point DWF_MERMAID_JS at a directory whose
# node_modules holds both (`npm install mermaid jsdom` there) to run this check.
_CHECK = """
import { JSDOM } from 'jsdom';
import fs from 'fs';
const dom = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = dom.window; globalThis.document = dom.window.document;
const { default: mermaid } = await import('mermaid');
mermaid.initialize({ startOnLoad: false });
const out = [];
for (const file of JSON.parse(process.argv[1])) {
  const text = fs.readFileSync(file, 'utf8');
  await mermaid.parse(text);
  const db = (await mermaid.mermaidAPI.getDiagramFromText(text)).db;
  const v = db.getVertices();
  const subgraphs = db.getSubGraphs().map(s => s.id).sort();
  // `style <subgraph>` also registers the subgraph as a vertex: leave those out.
  const vertices = [...(v instanceof Map ? v.keys() : Object.keys(v))].filter(k => !subgraphs.includes(k)).sort();
  out.push({vertices, edges: db.getEdges().map(e => [e.start, e.end]), subgraphs});
}
console.log(JSON.stringify(out));
"""


def _mermaid_js() -> Path | None:
    where = os.environ.get("DWF_MERMAID_JS")
    if not where or shutil.which("node") is None:
        return None
    path = Path(where)
    return path if (path / "node_modules" / "mermaid").is_dir() and (path / "node_modules" / "jsdom").is_dir() else None


@pytest.mark.skipif(_mermaid_js() is None, reason="Mermaid's parser is not installed (set DWF_MERMAID_JS; see the comment)")
def test_mermaid_parser_accepts_every_graph(tmp_path: Path) -> None:
    files, expected = [], []
    for name in ALL:
        drawing = build_drawing(workflows.ALL[name]())
        path = tmp_path / f"{name}.mmd"
        path.write_text(to_mermaid(workflows.ALL[name]()), encoding="utf-8")
        files.append(str(path))
        expected.append({
            "vertices": sorted(n.id for n in drawing.nodes()),
            "edges": [[e.source, e.target] for e in drawing.edges],
            "subgraphs": sorted(parse_mermaid(path.read_text(encoding="utf-8")).clusters),
        })
    run = subprocess.run(
        ["node", "--input-type=module", "-e", _CHECK, json.dumps(files)],
        cwd=_mermaid_js(), capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == expected
