"""Graphviz DOT text for a workflow.

Every id and label is a double-quoted DOT string: backslashes and quotes are escaped (so no
name can smuggle in ``\\N``, ``\\G`` or end the string), line breaks become ``\\n`` (centred
lines), and control characters are replaced. DOT reads UTF-8, so any other character —
quotes from other scripts, emoji, CJK — is written as is.
"""

from __future__ import annotations

from declarative_wf.ir import Workflow

from .build import build_drawing
from .escape import escape_label
from .model import Cluster, ClusterKind, Drawing, DrawnNode, EdgeStyle, Shape

__all__ = ["dot_quote", "to_dot"]

#: Characters that would end a DOT string or start an escape (``\\N``...), escaped.
_ESCAPED = {"\\": "\\\\", '"': '\\"'}

_SHAPES: dict[Shape, str] = {
    "start": 'shape=circle, style=filled, fillcolor="#eeeeee"',
    "end": 'shape=doublecircle, style=filled, fillcolor="#eeeeee"',
    "task": 'shape=box, style=rounded',
    "try": 'shape=box, style="rounded,bold"',
    "child": "shape=box, peripheries=2",
    "decision": "shape=diamond",
    "wait": "shape=parallelogram",
    "event": "shape=cds",
    "set": "shape=note",
    "compensate": "shape=invtrapezium",
    "fork": "shape=hexagon",
    "join": "shape=hexagon",
    "succeed": 'shape=box, style="rounded,filled", fillcolor="#d5f5d5"',
    "fail": 'shape=octagon, style=filled, fillcolor="#fbd5d5"',
    "missing": 'shape=box, style="filled,dashed", fillcolor="#fff3cd"',
}

_EDGES: dict[EdgeStyle, str] = {
    "flow": "",
    "error": 'style=dashed, color="#c0392b", fontcolor="#c0392b"',
    "compensation": "style=dotted, color=gray40",
}

_CLUSTERS: dict[ClusterKind, str] = {
    "branch": "style=rounded; color=gray50;",
    "foreach": "style=rounded; color=gray50;",
    "try": "style=rounded; color=gray50;",
    "loop": 'style=rounded; color="#1f6feb";',
    "handler": 'style=rounded; color="#c0392b";',
    "compensation": 'style="rounded,dashed"; color=gray40;',
    "child": "style=\"rounded,bold\"; color=gray30;",
}

_INDENT = "    "


def dot_quote(text: str) -> str:
    """``text`` as a double-quoted DOT string (an escString for labels)."""
    return '"' + escape_label(text, "\\n", _ESCAPED) + '"'


def _attrs(label: str | None, extra: str) -> str:
    parts = [f"label={dot_quote(label)}"] if label else []
    if extra:
        parts.append(extra)
    return f" [{', '.join(parts)}]" if parts else ""


def _items(items: list[DrawnNode | Cluster], depth: int, out: list[str]) -> None:
    pad = _INDENT * depth
    for item in items:
        if isinstance(item, Cluster):
            # Only subgraphs named cluster* are drawn as boxes.
            out.append(f"{pad}subgraph {dot_quote('cluster_' + item.id)} {{")
            out.append(f"{pad}{_INDENT}label={dot_quote(item.label)}; {_CLUSTERS[item.kind]}")
            _items(item.items, depth + 1, out)
            out.append(f"{pad}}}")
        else:
            out.append(f"{pad}{dot_quote(item.id)}{_attrs(item.label, _SHAPES[item.shape])};")


def render_dot(drawing: Drawing) -> str:
    out = [
        f"digraph {dot_quote(drawing.title)} {{",
        f"{_INDENT}graph [label={dot_quote(drawing.title)}, labelloc=t, fontname=Helvetica, rankdir=TB];",
        f"{_INDENT}node [fontname=Helvetica, fontsize=11];",
        f"{_INDENT}edge [fontname=Helvetica, fontsize=10];",
    ]
    _items(drawing.items, 1, out)
    for edge in drawing.edges:
        attrs = _attrs(edge.label, _EDGES[edge.style])
        out.append(f"{_INDENT}{dot_quote(edge.source)} -> {dot_quote(edge.target)}{attrs};")
    out.append("}")
    return "\n".join(out) + "\n"


def to_dot(workflow: Workflow) -> str:
    """The workflow's control flow as a Graphviz digraph (text ending with a newline)."""
    return render_dot(build_drawing(workflow))
