"""Hand-built IR workflows for the graph tests: every node kind and the awkward cases."""

from __future__ import annotations

from declarative_wf.ir import (
    Block,
    CatchRule,
    ChildNode,
    ChoiceCase,
    ChoiceNode,
    CompensateNode,
    ErrorMatch,
    EventNode,
    Expr,
    FailNode,
    ForEachNode,
    LoopNode,
    Node,
    ParallelNode,
    RetryRule,
    SetNode,
    SucceedNode,
    TaskNode,
    TryNode,
    WaitNode,
    Workflow,
)  # fmt: skip


def block(*nodes: Node, start: str | None = None) -> Block:
    """A block of ``nodes``, starting at the first unless ``start`` says otherwise."""
    return Block(start if start is not None else (nodes[0].id if nodes else None), {n.id: n for n in nodes})


def jp(text: str) -> Expr:
    return Expr("jmespath", text)


def demo() -> Workflow:
    """The DSL demo of the brief, compiled by hand: retry, catch, a backward jump, succeed."""
    return Workflow(
        name="demo",
        version=None,
        format="dsl",
        body=block(
            TaskNode("validate_order", next="charge", activity="validate_order"),
            TaskNode(
                "charge", next="switch_3", activity="charge",
                args=Expr("template", {"amount": {"$expr": {"lang": "jmespath", "value": "result.total"}}}),
                retry=(RetryRule(max_retries=3, interval_seconds=1.0),),
                catch=(CatchRule(ErrorMatch(("CardDeclined",)), handler=block(TaskNode("notify", activity="notify"))),),
            ),
            ChoiceNode("switch_3", next="done", cases=(ChoiceCase(jp("result.total > `100`"), "charge"),)),
            SucceedNode("done", output=jp("result"), scope="workflow"),
        ),
    )


def loop_and_wait() -> Workflow:
    """A monitor loop (until/every/max/timeout), a wait, an event and a set."""
    body = block(
        TaskNode("poll", activity="get_status"),
    )
    return Workflow(
        name="monitor", version="2", format="dsl",
        body=block(
            SetNode("init", next="watch", value=Expr("literal", {"n": 0})),
            LoopNode("watch", next="pause", body=body, every_seconds=Expr("literal", 30), until=jp("status == 'done'"),
                     max_rounds=100, timeout_seconds=Expr("literal", 3600.0)),
            WaitNode("pause", next="approval", seconds=Expr("literal", 90)),
            EventNode("approval", next="until_noon", event="approved", correlate=jp("event.id == order.id"),
                      timeout_seconds=Expr("literal", 86400)),
            WaitNode("until_noon", until=Expr("literal", "2030-01-01T12:00:00Z")),
        ),
    )  # fmt: skip


def nested() -> Workflow:
    """A for-each whose body holds a parallel (one branch a race), a try with a catch that
    jumps, a child workflow with its graph, compensation and a choice without default."""
    race = ParallelNode(
        "race", mode="any",
        branches=(block(TaskNode("fast", activity="fast")), block(WaitNode("slow", seconds=Expr("literal", 5)))),
    )  # fmt: skip
    inner = ParallelNode(
        "fan", next="race",
        branches=(block(TaskNode("a", activity="a")), block(TaskNode("b", activity="b", next="b2"), TaskNode("b2", activity="b2"))),
    )  # fmt: skip
    each = ForEachNode(
        "each", next="guarded", items=jp("orders"), max_concurrency=4, body=block(inner, race),
        retry=(RetryRule(ErrorMatch(("Throttled",)), max_retries=5, interval_seconds=2, backoff_rate=1.5),),
    )  # fmt: skip
    guarded = TryNode(
        "guarded", next="pick",
        body=block(
            TaskNode("reserve", next="ship", activity="reserve",
                     compensation=block(TaskNode("release", activity="release"))),
            TaskNode("ship", activity="ship"),
        ),
        catch=(
            CatchRule(ErrorMatch(("OutOfStock", "Gone")), handler=block(CompensateNode("undo")), then="jump", next="each"),
            CatchRule(ErrorMatch(("*",)), then="end"),
        ),
    )  # fmt: skip
    pick = ChoiceNode(
        "pick", no_default_is_error=True,
        cases=(ChoiceCase(jp("kind == 'gift'"), "gift"), ChoiceCase(jp("kind == 'none'"), None)),
    )  # fmt: skip
    gift = ChildNode(
        "gift", next="bad", workflow="wrap_gift",
        graph=block(TaskNode("wrap", next="finish", activity="wrap"), SucceedNode("finish", scope="workflow")),
    )  # fmt: skip
    bad = FailNode("bad", error=Expr("literal", "Unreachable"), message=Expr("literal", "should not happen"), status=500)
    return Workflow(name="nested", version=None, format="dsl", body=block(each, guarded, pick, gift, bad))


NASTY = 'say "hi" <b>&amp;</b> | #x; `tick` [a] {b} (c) \\N end\nline2 ünï 名前 🚀'


def special_names() -> Workflow:
    """Names full of characters that the output languages treat specially."""
    return Workflow(
        name='odd "name" <x>', version=None, format="dsl",
        body=block(
            TaskNode("end", next="graph", label=NASTY, activity='act"ivity\\'),
            ChoiceNode("graph", next="subgraph", cases=(ChoiceCase(jp('a == `"|"` && b < c'), "end"),)),
            TaskNode("subgraph", next="x\ty\x07", activity="node"),
            TaskNode("x\ty\x07", activity="edge", label="tab\there bell\x07 cr\rlf"),
        ),
    )  # fmt: skip


def unvalidated() -> Workflow:
    """Edges to nodes that do not exist, and an empty workflow body elsewhere."""
    return Workflow(
        name="broken", version=None, format="dsl",
        body=block(TaskNode("a", next="ghost", activity="a"), ChoiceNode("c", cases=(ChoiceCase(jp("x"), "ghost"),))),
    )  # fmt: skip


def empty() -> Workflow:
    return Workflow(name="empty", version=None, format="dsl", body=Block(None, {}))


ALL = {
    "demo": demo, "loop_and_wait": loop_and_wait, "nested": nested, "special_names": special_names,
    "unvalidated": unvalidated, "empty": empty,
}  # fmt: skip
