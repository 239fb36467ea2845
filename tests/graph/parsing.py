"""Strict little readers for the Mermaid and DOT text we write, for structural checks.

They accept exactly the line forms the writers produce and fail on anything else, so a test
that reads the output back proves both the structure (every node, edge and cluster with its
label) and that no label leaked syntax (an unescaped quote or bracket breaks the match).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field


@dataclass
class Parsed:
    title: str = ""
    #: node id → (shape token, decoded label)
    nodes: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: (source, target, decoded label or None, style token)
    edges: list[tuple[str, str, str | None, str]] = field(default_factory=list)
    #: cluster id → (decoded label, parent cluster id or None)
    clusters: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    #: node id → innermost cluster id (or None at top level)
    parent: dict[str, str | None] = field(default_factory=dict)
    styles: list[str] = field(default_factory=list)

    def edge_set(self) -> set[tuple[str, str, str | None]]:
        return {(s, t, label) for s, t, label, _ in self.edges}


# --------------------------------------------------------------------------- Mermaid

_QUOTED = r'"([^"]*)"'
_MM_ID = r"[A-Za-z][A-Za-z0-9_]*"
_MM_SHAPES = [("([", "])"), ("[[", "]]"), ("[/", "/]"), ("[\\", "\\]"), ("[\\", "/]"), ("{{", "}}"),
              ("[", "]"), ("{", "}"), (">", "]")]  # fmt: skip
_MM_NODE = re.compile(
    rf"^(?P<id>{_MM_ID})(?P<open>\(\[|\[\[|\[/|\[\\|\{{\{{|\[|\{{|>){_QUOTED}(?P<close>\]\)|\]\]|/\]|\\\]|\}}\}}|\]|\}})$"
)
_MM_EDGE = re.compile(rf"^(?P<src>{_MM_ID}) (?P<arrow>-->|-\.->|==>)(?:\|{_QUOTED}\|)? (?P<dst>{_MM_ID})$")
_MM_SUBGRAPH = re.compile(rf"^subgraph (?P<id>{_MM_ID}) \[{_QUOTED}\]$")
_MM_STYLE = re.compile(rf"^(linkStyle [0-9,]+ \S.*|classDef {_MM_ID} \S.*|class [A-Za-z0-9_,]+ {_MM_ID}|style {_MM_ID} \S.*)$")


def mermaid_decode(text: str) -> str:
    """Undo :func:`declarative_wf.graph.mermaid_text` (entities and ``<br>``)."""
    text = text.replace("<br>", "\n")
    return html.unescape(re.sub(r"#(\w+);", lambda m: f"&#{m[1]};" if m[1].isdigit() else f"&{m[1]};", text))


def parse_mermaid(text: str) -> Parsed:
    lines = text.split("\n")
    assert lines[0] == "---" and lines[1].startswith("title: ") and lines[2] == "---", lines[:3]
    assert lines[3] == "flowchart TD" and lines[-1] == "", "a flowchart ending with a newline"
    import json

    parsed = Parsed(title=json.loads(lines[1][len("title: "):]))
    stack: list[str] = []
    for number, raw in enumerate(lines[4:-1], 5):
        indent = len(raw) - len(raw.lstrip(" "))
        line = raw.strip()
        assert raw == raw.rstrip() and indent % 4 == 0, f"line {number}: {raw!r}"
        if (m := _MM_SUBGRAPH.match(line)) is not None:
            assert indent == 4 * (len(stack) + 1), f"line {number} badly indented"
            parsed.clusters[m["id"]] = (mermaid_decode(m[2]), stack[-1] if stack else None)
            stack.append(m["id"])
        elif line == "end":
            assert stack, f"line {number}: 'end' without subgraph"
            stack.pop()
        elif (m := _MM_NODE.match(line)) is not None:
            assert (m["open"], m["close"]) in _MM_SHAPES, f"line {number}: mismatched brackets"
            assert m["id"] not in parsed.nodes, f"line {number}: node {m['id']} declared twice"
            parsed.nodes[m["id"]] = (m["open"] + m["close"], mermaid_decode(m[3]))
            parsed.parent[m["id"]] = stack[-1] if stack else None
        elif (m := _MM_EDGE.match(line)) is not None:
            label = mermaid_decode(m[3]) if m[3] is not None else None
            parsed.edges.append((m["src"], m["dst"], label, m["arrow"]))
        elif _MM_STYLE.match(line):
            parsed.styles.append(line)
        else:
            raise AssertionError(f"line {number}: not a line the writer makes: {raw!r}")
    assert not stack, "unclosed subgraph"
    for source, target, _, _ in parsed.edges:
        assert source in parsed.nodes and target in parsed.nodes, f"edge to an undeclared node: {source} → {target}"
    return parsed


# --------------------------------------------------------------------------- DOT

_DOT_STRING = r'"((?:[^"\\]|\\.)*)"'
_DOT_NODE = re.compile(rf"^{_DOT_STRING}(?: \[(?P<attrs>.*)\])?;$")
_DOT_EDGE = re.compile(rf"^{_DOT_STRING} -> {_DOT_STRING}(?: \[(?P<attrs>.*)\])?;$")
_DOT_CLUSTER = re.compile(rf"^subgraph {_DOT_STRING} \{{$")
_DOT_CLUSTER_LABEL = re.compile(rf"^label={_DOT_STRING}; .*;$")
_DOT_LABEL = re.compile(rf"label={_DOT_STRING}")
_DOT_DEFAULTS = re.compile(r"^(graph|node|edge) \[.*\];$")


def dot_decode(text: str) -> str:
    """Undo :func:`declarative_wf.graph.dot_quote` (without the quotes)."""
    return re.sub(r"\\(.)", lambda m: "\n" if m[1] == "n" else m[1], text)


def _label(attrs: str | None) -> str | None:
    if not attrs:
        return None
    m = _DOT_LABEL.match(attrs)
    return dot_decode(m[1]) if m else None


def parse_dot(text: str) -> Parsed:
    lines = text.split("\n")
    m = re.match(rf"^digraph {_DOT_STRING} \{{$", lines[0])
    assert m is not None and lines[-2] == "}" and lines[-1] == "", "a digraph ending with a newline"
    parsed = Parsed(title=dot_decode(m[1]))
    stack: list[str] = []
    expect_cluster_label = False
    for number, raw in enumerate(lines[1:-2], 2):
        line = raw.strip()
        if expect_cluster_label:
            m = _DOT_CLUSTER_LABEL.match(line)
            assert m is not None, f"line {number}: a cluster starts with its label: {raw!r}"
            parsed.clusters[stack[-1]] = (dot_decode(m[1]), parsed.clusters[stack[-1]][1])
            expect_cluster_label = False
        elif (m := _DOT_CLUSTER.match(line)) is not None:
            name = dot_decode(m[1])
            assert name.startswith("cluster_"), name
            parsed.clusters[name[len("cluster_"):]] = ("", stack[-1] if stack else None)
            stack.append(name[len("cluster_"):])
            expect_cluster_label = True
        elif line == "}":
            assert stack, f"line {number}: unbalanced brace"
            stack.pop()
        elif (m := _DOT_EDGE.match(line)) is not None:
            style = "error" if "#c0392b" in (m["attrs"] or "") else "dotted" if "dotted" in (m["attrs"] or "") else "flow"
            parsed.edges.append((dot_decode(m[1]), dot_decode(m[2]), _label(m["attrs"]), style))
        elif (m := _DOT_NODE.match(line)) is not None:
            node_id = dot_decode(m[1])
            shape = re.search(r"shape=(\w+)", m["attrs"] or "")
            parsed.nodes[node_id] = (shape[1] if shape else "", _label(m["attrs"]) or "")
            parsed.parent[node_id] = stack[-1] if stack else None
        elif _DOT_DEFAULTS.match(line):
            parsed.styles.append(line)
        else:
            raise AssertionError(f"line {number}: not a line the writer makes: {raw!r}")
    assert not stack, "unclosed cluster"
    for source, target, _, _ in parsed.edges:
        assert source in parsed.nodes and target in parsed.nodes, f"edge to an undeclared node: {source} → {target}"
    return parsed
