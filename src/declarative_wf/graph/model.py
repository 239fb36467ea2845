"""A drawing of a workflow, independent of the output language.

:mod:`.build` turns an :class:`~declarative_wf.ir.Workflow` into a :class:`Drawing`; the
Mermaid and DOT writers only translate it. Keeping the control-flow decisions in one place
means both languages show exactly the same graph, and the writers stay small enough to get the
escaping right.

Ids are assigned in a fixed traversal order (definition order of the IR), so the same workflow
always gives byte-identical output — the graph can be snapshot-tested and diffed in review.
"""

from __future__ import annotations

import json
import math
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Literal

from declarative_wf.ir import ErrorMatch, Expr, RetryRule

#: How a node is drawn; each writer maps these to its own shapes.
Shape = Literal[
    "start", "end", "task", "child", "decision", "wait", "event", "set", "compensate",
    "fork", "join", "try", "succeed", "fail", "missing",
]  # fmt: skip

#: ``flow``: sequence, branches, loops; ``error``: a catch path; ``compensation``: the link from
#: a step to its undo block (not taken in normal flow).
EdgeStyle = Literal["flow", "error", "compensation"]

#: What a sub-block is, which decides its border (compensation blocks are dashed).
ClusterKind = Literal["branch", "foreach", "try", "loop", "handler", "compensation", "child"]


@dataclass
class DrawnNode:
    id: str
    label: str  # may contain "\n"; writers escape it
    shape: Shape


@dataclass
class Cluster:
    id: str
    label: str
    kind: ClusterKind
    items: list[DrawnNode | Cluster] = field(default_factory=list)


@dataclass
class Edge:
    source: str
    target: str
    label: str | None = None
    style: EdgeStyle = "flow"


@dataclass
class Drawing:
    title: str
    items: list[DrawnNode | Cluster] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)

    def nodes(self) -> list[DrawnNode]:
        """Every node, clusters flattened, in drawing order."""
        out: list[DrawnNode] = []

        def walk(items: list[DrawnNode | Cluster]) -> None:
            for item in items:
                if isinstance(item, Cluster):
                    walk(item.items)
                else:
                    out.append(item)

        walk(self.items)
        return out


# --------------------------------------------------------------------------- label text

#: Long conditions and expressions make unreadable layouts; the definition has the full text.
MAX_TEXT = 60


def one_line(text: str) -> str:
    """``text`` with every run of whitespace or control characters made one space."""
    cleaned = "".join(" " if unicodedata.category(c) in ("Cc", "Zl", "Zp") else c for c in text)
    return " ".join(cleaned.split())


def shorten(text: str, limit: int = MAX_TEXT) -> str:
    text = " ".join(text.split())  # a multi-line expression becomes one line
    return text if len(text) <= limit else text[: limit - 1] + "…"


def duration(seconds: float) -> str:
    """``90`` → ``1m30s``, ``0.5`` → ``0.5s``, ``7200`` → ``2h``."""
    if not math.isfinite(seconds) or seconds < 0 or seconds != int(seconds):
        return f"{seconds:g}s"
    rest = int(seconds)
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    if rest or not parts:
        parts.append(f"{rest}s")
    return "".join(parts)


def _template_text(value: Any) -> Any:
    """A template with its ``{"$expr": ...}`` leaves replaced by their source text."""
    if isinstance(value, dict):
        if set(value) == {"$expr"} and isinstance(value["$expr"], dict):
            return f"${{{value['$expr'].get('value')}}}"
        return {key: _template_text(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_template_text(item) for item in value]
    return value


def expr_text(expr: Expr | None, limit: int = MAX_TEXT) -> str:
    """How an expression reads in a label: its source text, or the literal value."""
    if expr is None:
        return ""
    value = expr.value
    if isinstance(value, dict) and isinstance(value.get("text"), str):
        return shorten(value["text"], limit)  # a structured expression that names its source text
    if expr.lang == "template":
        value = _template_text(value)
    elif expr.lang not in ("literal", "template") and isinstance(value, str):
        return shorten(value, limit)
    if isinstance(value, str):
        return shorten(value, limit)
    return shorten(json.dumps(value, ensure_ascii=False, separators=(", ", ": ")), limit)


def seconds_text(expr: Expr | None) -> str:
    """A duration expression: ``5s`` for a literal number, else the expression."""
    if expr is not None and expr.lang == "literal" and type(expr.value) in (int, float):  # not bool
        return duration(float(expr.value))
    return expr_text(expr)


_SPECIAL_ERRORS = {"*": "any error", "@task": "task failure", "@timeout": "timeout"}


def match_text(match: ErrorMatch) -> str:
    """``CardDeclined, Timeout if <cond>`` — the label of a catch edge."""
    names = ", ".join(_SPECIAL_ERRORS.get(name, name) for name in match.names) or "any error"
    if match.when is not None:
        names += f" if {expr_text(match.when, 40)}"
    if match.except_when is not None:
        names += f" unless {expr_text(match.except_when, 40)}"
    return names


def retry_text(rule: RetryRule) -> str:
    """``retry up to 3× (1s, backoff ×2)`` — one line per retry rule, for the node's label.

    Counted in retries, not attempts: formats disagree on what "attempts" means."""
    text = f"retry up to {rule.max_retries}×"
    if rule.match.names != ("*",) or rule.match.when is not None or rule.match.except_when is not None:
        text += f" on {match_text(rule.match)}"
    details = [duration(rule.interval_seconds)]
    if rule.backoff_rate != 1:
        details.append(f"backoff ×{rule.backoff_rate:g}")
    if rule.increment_seconds:
        details.append(f"+{duration(rule.increment_seconds)} each")
    if rule.max_delay_seconds is not None:
        details.append(f"max {duration(rule.max_delay_seconds)}")
    if rule.jitter != "none":
        details.append("jitter")
    if rule.max_duration_seconds is not None:
        details.append(f"within {duration(rule.max_duration_seconds)}")
    return f"{text} ({', '.join(details)})"
