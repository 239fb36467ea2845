"""The drawing shows the control flow the interpreter follows, for every node kind."""

from __future__ import annotations

import pytest

from declarative_wf.graph import Cluster, Drawing, build_drawing
from declarative_wf.graph.model import duration, expr_text, shorten
from declarative_wf.ir import (
    Block,
    ChoiceCase,
    ChoiceNode,
    Expr,
    ForEachNode,
    LoopNode,
    ParallelNode,
    SucceedNode,
    TaskNode,
    TryNode,
    Workflow,
)  # fmt: skip

from . import workflows
from .workflows import block, jp


def title(drawing: Drawing, node_id: str) -> str:
    return next(n.label for n in drawing.nodes() if n.id == node_id).split("\n")[0]


def flow(drawing: Drawing) -> set[tuple[str, str, str | None]]:
    """Edges as (first line of source label, first line of target label, edge label)."""
    return {(title(drawing, e.source), title(drawing, e.target), e.label) for e in drawing.edges}


def labels(drawing: Drawing) -> dict[str, str]:
    return {n.label.split("\n")[0]: n.label for n in drawing.nodes()}


def clusters(drawing: Drawing) -> dict[str, Cluster]:
    found: dict[str, Cluster] = {}

    def walk(items: list) -> None:
        for item in items:
            if isinstance(item, Cluster):
                found[item.label] = item
                walk(item.items)

    walk(drawing.items)
    return found


def members(cluster: Cluster) -> set[str]:
    """First label lines of the nodes directly or indirectly inside ``cluster``."""
    out: set[str] = set()
    for item in cluster.items:
        out |= members(item) if isinstance(item, Cluster) else {item.label.split("\n")[0]}
    return out


def workflow(*nodes: object) -> Workflow:
    return Workflow(name="t", version=None, format="dsl", body=block(*nodes))  # type: ignore[arg-type]


def test_demo_sequence_retry_catch_and_backward_jump() -> None:
    drawing = build_drawing(workflows.demo())
    assert flow(drawing) == {
        ("start", "call validate_order", None),
        ("call validate_order", "call charge", None),
        ("call charge", "switch_3", None),
        ("call charge", "call notify", "CardDeclined"),  # the catch path...
        ("call notify", "switch_3", None),  # ...continues after the step that failed
        ("switch_3", "call charge", "result.total > `100`"),  # a loop made of a jump
        ("switch_3", "done", "else"),
        ("done", "end", None),
    }
    assert labels(drawing)["call charge"] == "call charge\nretry up to 3× (1s, backoff ×2)"
    assert members(clusters(drawing)["on CardDeclined"]) == {"call notify"}
    assert [e.style for e in drawing.edges if e.label == "CardDeclined"] == ["error"]


def test_loop_wait_event_set() -> None:
    drawing = build_drawing(workflows.loop_and_wait())
    assert drawing.title == "monitor (version 2)"
    check = "until status == 'done'"
    assert {
        ("init", "poll", None),  # entering the loop runs its body first
        ("poll", check, None),
        (check, "poll", "every 30s"),  # the back edge
        (check, "pause", "done"),
        ("pause", "approval", None),
        ("approval", "until_noon", None),
        ("until_noon", "end", None),
    } <= flow(drawing)
    assert labels(drawing)[check] == f"{check}\nat most 100 rounds\ntimeout 1h → Timeout"
    assert members(clusters(drawing)["watch (every 30s)"]) == {"poll", check}
    found = labels(drawing)
    assert found["init"] == 'init\nset {"n": 0}'
    assert found["pause"] == "pause\nwait 1m30s"
    assert found["approval"] == "approval\nwait for event approved\nwhere event.id == order.id\ntimeout 1d"
    assert found["until_noon"] == "until_noon\nwait until 2030-01-01T12:00:00Z"


def test_nested_parallel_in_foreach_try_catch_jump_compensation_child() -> None:
    drawing = build_drawing(workflows.nested())
    edges = flow(drawing)
    assert {
        ("start", "each", None),
        ("each", "fan", "each item"),
        ("fan", "call a", None),
        ("fan", "call b", None),
        ("call a", "join all", None),
        ("call b", "call b2", None),
        ("call b2", "join all", None),
        ("join all", "race", None),
        ("race", "call fast", None),
        ("race", "slow", None),
        ("call fast", "first wins", None),
        ("slow", "first wins", None),
        ("first wins", "collect results", None),  # the body's end is the for-each join
        ("collect results", "guarded", None),
        ("guarded", "call reserve", None),
        ("call reserve", "call ship", None),
        ("call ship", "pick", None),
        ("call reserve", "call release", "compensation"),
        ("guarded", "undo", "OutOfStock, Gone"),
        ("undo", "each", None),  # then="jump", next="each": back to the for-each
        ("guarded", "end", "any error"),  # then="end" at the top level ends the workflow
        ("pick", "gift", "kind == 'gift'"),
        ("pick", "end", "kind == 'none'"),  # a case without target ends the block
        ("pick", "NoChoiceMatched", "no match"),
        ("gift", "call wrap", None),
        ("call wrap", "finish", None),
        ("finish", "bad", None),  # the child's succeed returns to the parent's next step
    } == edges
    assert not any(source == "bad" for source, _, _ in edges), "a fail node raises: no edge out"
    assert not any(source == "call release" for source, _, _ in edges), "undo steps return to the compensate node"
    found = clusters(drawing)
    foreach = found["for each item in orders (max 4 at a time)"]
    assert members(foreach) == {"fan", "call a", "call b", "call b2", "join all", "race", "call fast", "slow", "first wins"}
    assert foreach.kind == "foreach"
    assert found["undo reserve"].kind == "compensation"
    assert found["workflow wrap_gift"].kind == "child"
    assert members(found["try guarded"]) == {"call reserve", "call ship", "call release"}
    assert labels(drawing)["race"] == "race\nparallel: first wins"
    assert labels(drawing)["each"] == "each\nretry up to 5× on Throttled (2s, backoff ×1.5)"
    assert labels(drawing)["bad"] == "bad\nfail Unreachable\nshould not happen\nstatus 500"
    assert {n.shape for n in drawing.nodes() if n.label.startswith(("bad", "NoChoiceMatched"))} == {"fail"}


def test_unknown_targets_are_drawn_once() -> None:
    drawing = build_drawing(workflows.unvalidated())
    missing = [n for n in drawing.nodes() if n.shape == "missing"]
    assert [n.label for n in missing] == ["missing node ghost"]
    assert {e.source for e in drawing.edges if e.target == missing[0].id} == {"n1_a", "n2_c"}


def test_empty_workflow_goes_from_start_to_end() -> None:
    drawing = build_drawing(workflows.empty())
    assert flow(drawing) == {("start", "end", None)}


def test_ends_of_sub_blocks_lead_to_join_check_or_next() -> None:
    decide = ChoiceNode("decide", next="stop", cases=(ChoiceCase(jp("x"), None),))
    stop = SucceedNode("stop")  # scope "block": ends the branch
    drawing = build_drawing(workflow(
        ParallelNode("p", next="f", branches=(block(decide, stop), Block(None, {}))),
        ForEachNode("f", next="t", items=jp("xs"), body=block(SucceedNode("early"))),
        TryNode("t", next="l", body=Block(None, {})),
        LoopNode("l", max_rounds=3),
        TaskNode("never", activity="x"),  # unreachable, still drawn
    ))  # fmt: skip
    assert {
        ("decide", "join all", "x"),
        ("decide", "stop", "else"),
        ("stop", "join all", None),
        ("p", "join all", None),  # an empty branch
        ("early", "collect results", None),
        ("t", "at most 3 rounds", None),  # an empty try body goes straight on
        ("at most 3 rounds", "at most 3 rounds", "again"),  # an empty loop body
        ("at most 3 rounds", "end", "done"),
        ("never", "end", None),
    } <= flow(drawing)
    assert labels(drawing)["never"] == "never\ncall x"


def test_loop_without_exit_condition_has_no_done_edge() -> None:
    drawing = build_drawing(workflow(LoopNode("forever", body=block(TaskNode("tick", activity="tick")))))
    assert flow(drawing) == {("start", "call tick", None), ("call tick", "repeat", None), ("repeat", "call tick", "again")}


def test_a_loop_shows_its_retries_and_leaves_through_its_catch_edges() -> None:
    from declarative_wf.ir import CatchRule, ErrorMatch, RetryRule

    loop = LoopNode(
        "watch", next="after", body=block(TaskNode("poll", activity="poll")), until=jp("result.done"),
        timeout_seconds=Expr.literal(600), retry=(RetryRule(match=ErrorMatch(("Timeout",)), max_retries=1),),
        catch=(CatchRule(match=ErrorMatch(("Timeout",)), handler=block(TaskNode("page", activity="page"))),),
    )  # fmt: skip
    drawing = build_drawing(workflow(loop, TaskNode("after", activity="after")))
    check = "until result.done"
    assert labels(drawing)[check] == f"{check}\ntimeout 10m → Timeout\nretry up to 1× on Timeout (1s, backoff ×2)"
    assert {(check, "call page", "Timeout"), ("call page", "call after", None), (check, "call after", "done")} <= flow(drawing)
    assert members(clusters(drawing)["on Timeout"]) == {"call page"}


def test_workflow_scope_succeed_inside_a_branch_ends_the_workflow() -> None:
    drawing = build_drawing(workflow(
        ParallelNode("p", next="after", branches=(block(SucceedNode("win", scope="workflow")),)),
        TaskNode("after", activity="after"),
    ))  # fmt: skip
    assert ("win", "end", None) in flow(drawing)


def test_ids_are_plain_ascii_and_unique() -> None:
    for make in workflows.ALL.values():
        ids = [n.id for n in build_drawing(make()).nodes()]
        assert len(ids) == len(set(ids))
        assert all(i.isascii() and i.replace("_", "").isalnum() for i in ids)


@pytest.mark.parametrize(("seconds", "text"), [(0, "0s"), (1, "1s"), (0.5, "0.5s"), (90, "1m30s"), (3600, "1h"),
                                               (86400 + 61, "1d1m1s"), (float("inf"), "infs")])  # fmt: skip
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_long_expressions_are_shortened_to_one_line() -> None:
    assert shorten("a\n  b") == "a b"
    long = expr_text(Expr("jq", "x" * 100))
    assert len(long) == 60 and long.endswith("…")
    assert expr_text(Expr("literal", [1, "a"])) == '[1, "a"]'
    template = Expr("template", {"a": {"$expr": {"lang": "jq", "value": ".x"}}})
    assert expr_text(template) == '{"a": "${.x}"}'


def test_title_is_one_line_and_workflow_timeout_is_shown() -> None:
    workflow = Workflow(name="a\nb\u2028c\x1bd", version=None, format="dsl", body=Block(None, {}), timeout_seconds=60)
    drawing = build_drawing(workflow)
    assert drawing.title == "a b c d"
    assert drawing.nodes()[0].label == "start\ntimeout 1m"
