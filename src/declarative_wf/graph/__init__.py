"""Workflow graphs as text: Mermaid flowcharts and Graphviz DOT, drawn from the IR.

Both show the control flow the interpreter follows (see :mod:`.build`); output is
deterministic, so it can be committed, diffed and snapshot-tested.
"""

from __future__ import annotations

from typing import Literal

from declarative_wf.ir import Workflow

from .build import build_drawing
from .dot import dot_quote, render_dot, to_dot
from .mermaid import mermaid_text, render_mermaid, to_mermaid
from .model import Cluster, Drawing, DrawnNode, Edge

GraphFormat = Literal["mermaid", "dot"]

#: The formats ``render`` and ``dwf graph --format`` accept, default first.
FORMATS: tuple[GraphFormat, ...] = ("mermaid", "dot")

__all__ = [
    "FORMATS", "Cluster", "Drawing", "DrawnNode", "Edge", "GraphFormat", "build_drawing",
    "dot_quote", "mermaid_text", "render", "render_dot", "render_mermaid", "to_dot", "to_mermaid",
]  # fmt: skip


def render(workflow: Workflow, format: GraphFormat = "mermaid") -> str:
    """The workflow's graph in ``format`` ("mermaid" or "dot")."""
    drawing = build_drawing(workflow)
    if format == "mermaid":
        return render_mermaid(drawing)
    if format == "dot":
        return render_dot(drawing)
    raise ValueError(f"unknown graph format {format!r}; expected one of {', '.join(FORMATS)}")
