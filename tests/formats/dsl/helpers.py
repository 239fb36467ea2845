"""Small helpers shared by the DSL tests."""

from __future__ import annotations

import textwrap
from typing import Any

from declarative_wf.diagnostics import Diagnostic
from declarative_wf.formats import load_definition_text, validate_text
from declarative_wf.ir import Block, Node, Workflow

FILE = "wf.dwf.yaml"


def document(steps: str, header: str = "") -> str:
    """A DSL document around a YAML list of steps (written at column 0)."""
    head = "dwf: 1\nname: test\n" + textwrap.dedent(header)
    return head + "steps:\n" + textwrap.indent(textwrap.dedent(steps), "  ")


def compile_steps(steps: str, header: str = "", file: str = FILE) -> Workflow:
    return load_definition_text(document(steps, header), file).workflow


def compile_text(text: str, file: str = FILE) -> Workflow:
    return load_definition_text(textwrap.dedent(text), file).workflow


def problems(text: str, file: str = FILE) -> list[Diagnostic]:
    return validate_text(textwrap.dedent(text), file)


def all_nodes(block: Block) -> dict[str, Node]:
    """Every node of a block and of the blocks inside it, by id."""
    out: dict[str, Node] = {}
    stack = [block]
    while stack:
        current = stack.pop()
        for node in current.nodes.values():
            out[node.id] = node
            for value in vars(node).values():
                items: list[Any] = list(value) if isinstance(value, tuple) else [value]
                for item in items:
                    if isinstance(item, Block):
                        stack.append(item)
                    handler = getattr(item, "handler", None)
                    if isinstance(handler, Block):
                        stack.append(handler)
    return out
