"""Mermaid ``flowchart TD`` text for a workflow.

Every label is a quoted string in which the characters Mermaid would otherwise interpret are
written as its entity codes (``#quot;``, ``#35;``...): quotes end the string, ``#...;`` is an
entity, ``<``/``>``/``&`` are HTML (labels are HTML by default), a backtick starts a Markdown
string and ``|`` ends an edge label. Line breaks become ``<br>``. Ids are plain ASCII made by
:mod:`.build`, never user text, so no name can collide with Mermaid keywords such as ``end``.
"""

from __future__ import annotations

import json

from declarative_wf.ir import Workflow

from .build import build_drawing
from .escape import escape_label
from .model import Cluster, ClusterKind, Drawing, DrawnNode, EdgeStyle, Shape

__all__ = ["mermaid_text", "to_mermaid"]

#: (opening, closing) around the quoted label, per shape.
_SHAPES: dict[Shape, tuple[str, str]] = {
    "start": ("([", "])"),
    "end": ("([", "])"),
    "task": ("[", "]"),
    "try": ("[", "]"),
    "child": ("[[", "]]"),
    "decision": ("{", "}"),
    "wait": ("[/", "/]"),
    "event": (">", "]"),
    "set": ("[\\", "\\]"),
    "compensate": ("[\\", "/]"),
    "fork": ("{{", "}}"),
    "join": ("{{", "}}"),
    "succeed": ("([", "])"),
    "fail": ("([", "])"),
    "missing": ("[", "]"),
}

_ARROWS: dict[EdgeStyle, str] = {"flow": "-->", "error": "-.->", "compensation": "-.->"}

#: classDef name → style; nodes of these shapes get the class of the same name.
_CLASSES: dict[str, str] = {
    "terminal": "fill:#eeeeee,stroke:#555555",
    "succeed": "fill:#d5f5d5,stroke:#2e7d32",
    "fail": "fill:#fbd5d5,stroke:#c0392b",
    "missing": "fill:#fff3cd,stroke:#b7950b,stroke-dasharray:3 3",
}
_SHAPE_CLASS: dict[Shape, str] = {
    "start": "terminal", "end": "terminal", "succeed": "succeed", "fail": "fail", "missing": "missing",
}  # fmt: skip

_CLUSTER_STYLE: dict[ClusterKind, str] = {
    "handler": "stroke:#c0392b",
    "compensation": "stroke-dasharray:5 5",
    "child": "stroke-width:2px",
}

_ENTITIES = {'"': "#quot;", "#": "#35;", "&": "#amp;", "<": "#lt;", ">": "#gt;", "`": "#96;", "|": "#124;"}
_INDENT = "    "


def mermaid_text(text: str) -> str:
    """``text`` as the inside of a Mermaid quoted label."""
    return escape_label(text, "<br>", _ENTITIES)


def _node(node: DrawnNode) -> str:
    opening, closing = _SHAPES[node.shape]
    return f'{node.id}{opening}"{mermaid_text(node.label)}"{closing}'


def _items(items: list[DrawnNode | Cluster], depth: int, out: list[str]) -> None:
    pad = _INDENT * depth
    for item in items:
        if isinstance(item, Cluster):
            out.append(f'{pad}subgraph {item.id} ["{mermaid_text(item.label)}"]')
            _items(item.items, depth + 1, out)
            out.append(f"{pad}end")
        else:
            out.append(pad + _node(item))


def _clusters(items: list[DrawnNode | Cluster]) -> list[Cluster]:
    found: list[Cluster] = []
    for item in items:
        if isinstance(item, Cluster):
            found.append(item)
            found.extend(_clusters(item.items))
    return found


def _title(title: str) -> str:
    # The front-matter title is shown as sanitised HTML without entity decoding: "<x>" would
    # vanish and "&lt;" would show as typed. Look-alike angle quotes survive both.
    return json.dumps(title.replace("<", "\u2039").replace(">", "\u203a"), ensure_ascii=False)


def render_mermaid(drawing: Drawing) -> str:
    out = ["---", f"title: {_title(drawing.title)}", "---", "flowchart TD"]
    _items(drawing.items, 1, out)
    error_links: list[str] = []
    for index, edge in enumerate(drawing.edges):
        arrow = _ARROWS[edge.style]
        label = f'|"{mermaid_text(edge.label)}"|' if edge.label else ""
        out.append(f"{_INDENT}{edge.source} {arrow}{label} {edge.target}")
        if edge.style == "error":
            error_links.append(str(index))
    if error_links:
        out.append(f"{_INDENT}linkStyle {','.join(error_links)} stroke:#c0392b,color:#c0392b")
    for name, style in _CLASSES.items():
        members = [node.id for node in drawing.nodes() if _SHAPE_CLASS.get(node.shape) == name]
        if members:
            out.append(f"{_INDENT}classDef {name} {style}")
            out.append(f"{_INDENT}class {','.join(members)} {name}")
    for cluster in _clusters(drawing.items):
        if cluster.kind in _CLUSTER_STYLE:
            out.append(f"{_INDENT}style {cluster.id} {_CLUSTER_STYLE[cluster.kind]}")
    return "\n".join(out) + "\n"


def to_mermaid(workflow: Workflow) -> str:
    """The workflow's control flow as a Mermaid flowchart (text ending with a newline)."""
    return render_mermaid(build_drawing(workflow))
