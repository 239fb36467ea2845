"""The SW 1.x listen / emit task compilers, driven through a minimal compile context (the
examples of the corpus, when present, compile without problems)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from declarative_wf import ir
from declarative_wf.formats.sw import events as sw_events
from declarative_wf.ir.model import ListenNode


class Context:
    """What the core compiler provides, reduced to what these compilers use."""

    def __init__(self, pointer: str = "/do/0/task") -> None:
        self.name = pointer.rsplit("/", 1)[-1]
        self.pointer = pointer
        self.source = ir.SourceRef("test.yaml", 1, 1, pointer)
        self.document: dict[str, Any] = {}
        self.errors: list[tuple[str, str]] = []
        self.warnings: list[tuple[str, str]] = []

    def expression(self, value: Any, pointer: str) -> ir.Expr:
        text = str(value).strip()
        if text.startswith("${") and text.endswith("}"):
            text = text[2:-1].strip()
        return ir.Expr("jq", text)

    def template(self, value: Any, pointer: str) -> ir.Expr:
        if isinstance(value, str) and value.strip().startswith("${") and value.strip().endswith("}"):
            return self.expression(value, pointer)
        if isinstance(value, dict) and any(isinstance(v, str) and v.strip().startswith("${") for v in value.values()):
            return ir.Expr("template", {k: ({"$expr": {"lang": "jq", "value": v.strip()[2:-1].strip()}} if isinstance(v, str) and v.strip().startswith("${") else v) for k, v in value.items()})
        return ir.Expr("literal", value)

    def block(self, tasks: Any, pointer: str) -> ir.Block:
        return ir.Block("inner", {"inner": ir.SetNode(id="inner", value=ir.Expr("jq", "."))})

    def node_id(self, suffix: str) -> str:
        return f"{self.pointer}#{suffix}"

    def error(self, code: str, message: str, pointer: str, *, hint: str | None = None) -> None:
        self.errors.append((pointer, message))

    def warning(self, code: str, message: str, pointer: str, *, hint: str | None = None) -> None:
        self.warnings.append((pointer, message))


def compile_task(text: str) -> tuple[Any, Context]:
    task = yaml.safe_load(text)
    ctx = Context()
    kind = "listen" if "listen" in task else "emit"
    compiler = sw_events.compile_listen if kind == "listen" else sw_events.compile_emit
    return compiler(ctx, task), ctx


def test_listen_all_with_correlation() -> None:
    node, ctx = compile_task("""
listen:
  to:
    all:
      - with: {source: https://my.home.com/sensor, type: my.home.sensors.temperature}
        correlate: {roomId: {from: .roomid}}
      - with: {type: my.home.sensors.humidity, data: '${ .reading > 3 }'}
        correlate: {roomId: {from: .roomid, expect: '${ .room }'}}
  read: envelope
""")
    assert not ctx.errors
    assert isinstance(node, ListenNode) and node.to.mode == "all" and node.read == "envelope"
    first, second = node.to.filters
    assert first.attributes["type"] == ir.Expr("literal", "my.home.sensors.temperature")
    assert first.correlate["roomId"].extract == ir.Expr("jq", ".roomid") and first.correlate["roomId"].expect is None
    assert second.attributes["data"] == ir.Expr("jq", ".reading > 3")
    assert second.correlate["roomId"].expect == ir.Expr("jq", ".room")


def test_listen_any_until_condition_and_strategy_and_foreach() -> None:
    node, ctx = compile_task("""
listen:
  to:
    any: []
    until: ( . | length ) > 3
foreach:
  item: event
  at: i
  do: [{log: {set: {x: 1}}}]
  output: {as: .x}
""")
    assert not ctx.errors
    assert node.to.filters == () and node.until == ir.Expr("jq", "( . | length ) > 3")
    assert node.item_var == "event" and node.index_var == "i" and node.foreach is not None
    assert node.item_output == ir.Expr("jq", ".x")
    node, ctx = compile_task("""
listen:
  to:
    any: [{with: {type: vitals}}]
    until: {one: {with: {type: checked-out}}}
""")
    assert not ctx.errors and node.until_events is not None and node.until_events.mode == "one"


@pytest.mark.parametrize(
    ("text", "pointer", "words"),
    [
        ("listen: {}", "/do/0/task/listen", "needs 'to'"),
        ("listen: {to: {one: {with: {type: a}}, any: []}}", "/do/0/task/listen/to", "exactly one of"),
        ("listen: {to: {one: {}}}", "/do/0/task/listen/to/one/with", "at least one event property"),
        ("listen: {to: {all: []}}", "/do/0/task/listen/to/all", "at least one event filter"),
        ("listen: {to: {one: {with: {type: a}}}, read: body}", "/do/0/task/listen/read", "one of data, envelope, raw"),
        ("listen: {to: {any: [], until: {any: [], until: x}}}", "/do/0/task/listen/to/until/until", "cannot have an 'until'"),
        ("listen: {to: {one: {with: {type: a}, correlate: {k: {expect: 1}}}}}", "/do/0/task/listen/to/one/correlate/k", "needs 'from'"),
        ("emit: {event: {with: {source: x}}}", "/do/0/task/emit/event/with", "needs a 'type'"),
        ("emit: {}", "/do/0/task/emit", "needs 'event.with'"),
    ],
)
def test_bad_tasks_are_reported_at_their_place(text: str, pointer: str, words: str) -> None:
    _, ctx = compile_task(text)
    assert any(where == pointer and words in message for where, message in ctx.errors), ctx.errors


def test_emit_becomes_the_emit_activity_with_a_template() -> None:
    node, ctx = compile_task("""
emit:
  event:
    with: {source: https://petstore.com, type: com.petstore.order.placed.v1, data: '${ .order }'}
""")
    assert not ctx.errors and isinstance(node, ir.TaskNode) and node.activity == "dwf.events.emit"
    assert node.args == ir.Expr("template", {"event": {"source": "https://petstore.com", "type": "com.petstore.order.placed.v1",
                                                        "data": {"$expr": {"lang": "jq", "value": ".order"}}}})


def _corpus() -> Path | None:
    root = Path(os.environ.get("DWF_CORPUS", Path(__file__).resolve().parents[3] / "shared" / "corpus"))
    examples = root / "serverless-workflow-1.0" / "examples"
    return examples if examples.is_dir() else None


def _event_tasks() -> list[tuple[str, str, dict[str, Any]]]:
    examples = _corpus()
    if examples is None:
        return []
    found = []
    for path in sorted(examples.glob("*.yaml")):
        document = yaml.safe_load(path.read_text())

        def walk(tasks: Any, pointer: str, path: Path = path) -> None:
            for index, entry in enumerate(tasks if isinstance(tasks, list) else []):
                for name, task in (entry or {}).items():
                    where = f"{pointer}/{index}/{name}"
                    if isinstance(task, dict):
                        if "listen" in task or "emit" in task:
                            found.append((path.name, where, task))
                        for key in ("do", "try"):
                            walk(task.get(key), f"{where}/{key}")
                        if isinstance(task.get("for"), dict):
                            walk(task.get("do"), f"{where}/do")

        walk(document.get("do"), "/do")
    return found


@pytest.mark.conformance
@pytest.mark.skipif(_corpus() is None, reason="the Serverless Workflow corpus is absent (set DWF_CORPUS)")
@pytest.mark.parametrize(("file", "pointer", "task"), _event_tasks() or [("none", "", {})])
def test_corpus_listen_and_emit_tasks_compile(file: str, pointer: str, task: dict[str, Any]) -> None:
    ctx = Context(pointer)
    compiler = sw_events.compile_listen if "listen" in task else sw_events.compile_emit
    assert compiler(ctx, task) is not None and not ctx.errors, (file, ctx.errors)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("listen: {to: {all: []}}", "bad.yaml:4:26: SW-E060 'all' needs at least one event filter"),
        ("listen: {to: {one: {with: {type: a}}}}\n      foreach: {export: {as: .}}", "bad.yaml:5:25: SW-W060 'foreach.export' is not supported"),
    ],
)
def test_problems_are_positioned_diagnostics(body: str, expected: str) -> None:
    """Through the real loader: FILE:LINE:COL, code, message."""
    from declarative_wf.diagnostics import DiagnosticError
    from declarative_wf.formats import load_definition_text

    text = f"document: {{dsl: '1.0.0', namespace: t, name: bad, version: '1.0.0'}}\ndo:\n  - t:\n      {body}\n"
    try:
        definition = load_definition_text(text, "bad.yaml")
        found = [str(d) for d in definition.document.warnings]
    except DiagnosticError as error:
        found = [str(d) for d in error.diagnostics]
    assert any(line.startswith(expected) for line in found), found


@pytest.mark.parametrize(
    "task",
    [
        {"listen": {"to": {"one": {"with": {"type": "a"}, "correlate": [1]}}}},
        {"listen": {"to": {"one": {"with": {"type": "a"}, "correlate": "x"}}}},
        {"listen": {"to": {"any": [{"with": {"type": "a"}}], "until": 5}}},
        {"listen": {"to": {"any": None}}},
        {"listen": {"to": {"one": {"with": {"type": "a"}}}, "read": ["x"]}},
        {"listen": "x"},
        {"emit": "x"},
        {"emit": {"event": {"with": []}}},
    ],
)
def test_malformed_tasks_are_errors_not_tracebacks(task: dict[str, Any]) -> None:
    ctx = Context()
    compiler = sw_events.compile_listen if "listen" in task else sw_events.compile_emit
    assert compiler(ctx, task) is None or ctx.errors
    assert ctx.errors
