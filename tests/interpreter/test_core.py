"""The interpreter core driven without an engine: graphs in, commands and results out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from declarative_wf.interpreter.commands import CallActivity, CallChild, Sleep
from declarative_wf.interpreter.nodes.concurrent import CHUNK_SIZE
from declarative_wf.ir import (
    Block, CatchRule, ChoiceCase, ChoiceNode, CompensateNode, ErrorMatch, EventNode, Expr, FailNode,
    ForEachNode, LoopNode, Merge, ParallelNode, RetryRule, SetNode, SucceedNode, TaskNode, TryNode,
    WaitNode, Workflow,
)

from .harness import EPOCH, FakeHost, drive


def J(source: str) -> Expr:
    return Expr("jmespath", source)


def chain(*nodes: Any) -> Block:
    """A block running ``nodes`` in order (each node's next is the following one)."""
    for node, following in zip(nodes, nodes[1:]):
        if node.next is None:
            node.next = following.id
    return Block(nodes[0].id if nodes else None, {node.id: node for node in nodes})


def workflow(*nodes: Any, **options: Any) -> Workflow:
    return Workflow("test", "1", "dsl", chain(*nodes), **options)


def inc(value: int) -> int:
    return value + 1


def test_task_chain_passes_results_along() -> None:
    host = FakeHost({"inc": inc})
    out = drive(workflow(*(TaskNode(id=f"t{i}", activity="inc") for i in range(3))), 1, host=host)
    assert (out.status, out.value) == ("completed", 4)
    assert [c.name for c in out.commands] == ["inc", "inc", "inc"]
    assert out.commands[0].input == {"dwf": 1, "input": 1, "attempt": 1, "node": "t0", "workflow": "test"}


def test_args_assign_and_output() -> None:
    host = FakeHost({"inc": inc})
    out = drive(
        workflow(
            TaskNode(id="a", activity="inc", args=J("input.n"), assign={"first": J("result")}),
            TaskNode(id="b", activity="inc", args=J("first"), result=J("{value: result}")),
            SetNode(id="c", value=J("{first: first, second: result.value, input: input}")),
        ),
        {"n": 10},
        host=host,
    )
    assert out.value == {"first": 11, "second": 12, "input": {"n": 10}}


def test_merge_set_path_keeps_the_data() -> None:
    host = FakeHost({"inc": inc})
    out = drive(workflow(TaskNode(id="a", activity="inc", args=J("result.n"), merge=Merge("set", ("out", "n")))), {"n": 1}, host=host)
    assert out.value == {"n": 1, "out": {"n": 2}}


def test_choice_loop_with_jump() -> None:
    host = FakeHost({"inc": inc})
    body = Block("inc", {
        "inc": TaskNode(id="inc", activity="inc", next="check"),
        "check": ChoiceNode(id="check", cases=(ChoiceCase(J("result < `5`"), "inc"),), next="done"),
        "done": SetNode(id="done", value=J("{final: result}")),
    })
    out = drive(Workflow("loop", None, "dsl", body), 0, host=host)
    assert out.value == {"final": 5}
    assert host.calls["inc"] == 5


def test_choice_without_match_is_an_error_when_asked() -> None:
    node = ChoiceNode(id="c", cases=(ChoiceCase(J("`false`"), None),), no_default_is_error=True)
    out = drive(workflow(node), 1)
    assert out.status == "failed" and out.value.type == "NoChoiceMatched"


def test_wait_for_seconds_and_until() -> None:
    out = drive(workflow(WaitNode(id="w", seconds=Expr.literal(90)), WaitNode(id="u", until=J("input.at"))), {"at": "2026-01-01T01:00:00Z"})
    assert out.status == "completed"
    assert [c.until for c in out.commands] == [EPOCH + timedelta(seconds=90), EPOCH + timedelta(hours=1)]


def test_fail_node_raises_named_error() -> None:
    out = drive(workflow(FailNode(id="f", error=Expr.literal("OutOfStock"), message=J("join(' ', ['no', input])"))), "apples")
    assert out.status == "failed"
    assert (out.value.type, out.value.message) == ("OutOfStock", "no apples")


def test_retry_uses_durable_timers_with_backoff_and_cap() -> None:
    attempts = []

    def flaky(value: Any) -> str:
        attempts.append(value)
        if len(attempts) < 4:
            raise ConnectionError("down")
        return "up"

    rule = RetryRule(match=ErrorMatch(("ConnectionError",)), max_retries=5, interval_seconds=1, backoff_rate=3, max_delay_seconds=5)
    out = drive(workflow(TaskNode(id="t", activity="flaky", retry=(rule,))), host=FakeHost({"flaky": flaky}))
    assert out.value == "up"
    sleeps = [c for c in out.commands if isinstance(c, Sleep)]
    assert [s.until - EPOCH for s in sleeps] == [timedelta(seconds=1), timedelta(seconds=4), timedelta(seconds=9)]
    assert [c.input["attempt"] for c in out.commands if isinstance(c, CallActivity)] == [1, 2, 3, 4]


def test_retry_gives_up_and_respects_error_names() -> None:
    def broken(value: Any) -> None:
        raise ValueError("nope")

    other = RetryRule(match=ErrorMatch(("ConnectionError",)), max_retries=5)
    out = drive(workflow(TaskNode(id="t", activity="broken", retry=(other,))), host=FakeHost({"broken": broken}))
    assert out.status == "failed" and out.value.type == "ValueError"
    assert sum(isinstance(c, CallActivity) for c in out.commands) == 1
    mine = RetryRule(max_retries=2, interval_seconds=0.5)
    out = drive(workflow(TaskNode(id="t", activity="broken", retry=(mine,))), host=FakeHost({"broken": broken}))
    assert sum(isinstance(c, CallActivity) for c in out.commands) == 3


def test_full_jitter_is_deterministic_per_instance() -> None:
    def broken(value: Any) -> None:
        raise ValueError("x")

    rule = RetryRule(max_retries=3, interval_seconds=10, backoff_rate=1, jitter="full")
    graph = workflow(TaskNode(id="t", activity="broken", retry=(rule,)))
    first = drive(graph, host=FakeHost({"broken": broken}), instance_id="a")
    again = drive(graph, host=FakeHost({"broken": broken}), instance_id="a")
    other = drive(graph, host=FakeHost({"broken": broken}), instance_id="b")
    delays = lambda out: [c.until for c in out.commands if isinstance(c, Sleep)]  # noqa: E731
    assert delays(first) == delays(again) != delays(other)
    assert all(EPOCH <= moment <= EPOCH + timedelta(seconds=30) for moment in delays(first))


def test_catch_runs_handler_and_continues() -> None:
    def broken(value: Any) -> None:
        raise KeyError("sku-1")

    handler = Block("h", {"h": SetNode(id="h", value=J("{handled: failure.type}"))})
    rule = CatchRule(match=ErrorMatch(("KeyError",)), assign={"failure": J("result")}, handler=handler)
    out = drive(workflow(TaskNode(id="t", activity="broken", catch=(rule,)), SetNode(id="after", value=J("{after: result}"))),
                host=FakeHost({"broken": broken}))
    assert out.value == {"after": {"handled": "KeyError"}}


def test_catch_when_filters_on_the_error() -> None:
    def broken(value: Any) -> None:
        raise ValueError("fatal: disk")

    rule = CatchRule(match=ErrorMatch(("*",), when=J("starts_with(message, 'retryable')")))
    out = drive(workflow(TaskNode(id="t", activity="broken", catch=(rule,))), host=FakeHost({"broken": broken}))
    assert out.status == "failed"


def test_timeout_races_the_activity() -> None:
    class SlowHost(FakeHost):
        def complete_next(self, pending):  # the timer always wins
            timers = [t for t in pending if isinstance(t.command, Sleep)]
            if timers:
                self.clock = timers[0].command.until
                timers[0].done = True
                return timers[0]
            return super().complete_next(pending)

    node = TaskNode(id="t", activity="inc", timeout_seconds=Expr.literal(30), catch=(CatchRule(match=ErrorMatch(("@timeout",)), result=J("result.type")),))
    out = drive(workflow(node), 1, host=SlowHost({"inc": inc}))
    assert out.value == "Timeout"


def test_parallel_all_collects_in_branch_order() -> None:
    branches = tuple(Block(f"b{i}", {f"b{i}": TaskNode(id=f"b{i}", activity="inc", args=Expr.literal(i))}) for i in range(3))
    out = drive(workflow(ParallelNode(id="p", branches=branches)), host=FakeHost({"inc": inc}))
    assert out.value == [1, 2, 3]
    assert [c.input["input"] for c in out.commands] == [0, 1, 2]  # started together, in order


def test_parallel_any_takes_the_first_and_cancels_the_rest() -> None:
    slow = Block("s", {"s": WaitNode(id="s", seconds=Expr.literal(100), next="s2"), "s2": SetNode(id="s2", value=Expr.literal("slow"))})
    fast = Block("f", {"f": WaitNode(id="f", seconds=Expr.literal(1), next="f2"), "f2": SetNode(id="f2", value=Expr.literal("fast"))})
    out = drive(workflow(ParallelNode(id="p", branches=(slow, fast), mode="any")))
    assert out.value == "fast"
    assert out.clock == EPOCH + timedelta(seconds=1)


def test_parallel_failure_fails_the_node() -> None:
    def broken(value: Any) -> None:
        raise RuntimeError("branch broke")

    branches = (Block("a", {"a": TaskNode(id="a", activity="broken")}), Block("b", {"b": WaitNode(id="b", seconds=Expr.literal(5))}))
    out = drive(workflow(ParallelNode(id="p", branches=branches)), host=FakeHost({"broken": broken}))
    assert out.status == "failed" and out.value.type == "RuntimeError"


def test_foreach_respects_max_concurrency_and_order() -> None:
    running, peak = [0], [0]

    class CountingHost(FakeHost):
        def start(self, command):
            if isinstance(command, CallActivity):
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            return super().start(command)

        def _run_activity(self, task):
            running[0] -= 1
            return super()._run_activity(task)

    body = Block("x", {"x": TaskNode(id="x", activity="inc")})
    node = ForEachNode(id="each", items=J("input"), body=body, max_concurrency=3)
    out = drive(workflow(node), list(range(10)), host=CountingHost({"inc": inc}))
    assert out.value == list(range(1, 11))
    assert peak[0] == 3


def test_foreach_item_variables_and_tolerated_failures() -> None:
    def picky(value: Any) -> Any:
        if value % 4 == 0:
            raise ValueError(f"bad {value}")
        return value

    body = Block("x", {"x": TaskNode(id="x", activity="picky", args=J("item"))})
    tolerant = ForEachNode(id="each", items=J("input"), body=body, tolerated_failure_count=2, item_var="item")
    out = drive(workflow(tolerant), [1, 2, 3, 4, 5, 8], host=FakeHost({"picky": picky}))
    assert out.value[:3] == [1, 2, 3] and out.value[3]["type"] == "ValueError"
    strict = ForEachNode(id="each", items=J("input"), body=body, tolerated_failure_count=1)
    out = drive(workflow(strict), [4, 8, 12], host=FakeHost({"picky": picky}))
    assert out.status == "failed" and out.value.type == "ToleratedFailureExceeded"


def test_large_foreach_runs_in_bounded_children() -> None:
    seen: list[tuple[int, int]] = []

    def child(payload: dict[str, Any], instance_id: str) -> list[dict[str, Any]]:
        chunk = payload["foreach_chunk"]
        seen.append((chunk["offset"], len(chunk["items"])))
        return [{"ok": True, "value": item * 2} for item in chunk["items"]]

    body = Block("x", {"x": TaskNode(id="x", activity="inc")})
    items = list(range(CHUNK_SIZE * 3 + 7))
    out = drive(workflow(ForEachNode(id="each", items=J("input"), body=body)), items, host=FakeHost({}, children=child))
    assert out.value == [item * 2 for item in items]
    assert all(size <= CHUNK_SIZE for _, size in seen)
    assert sorted(offset for offset, _ in seen) == [0, 100, 200, 300]
    assert all(isinstance(c, CallChild) for c in out.commands)
    assert len({c.instance_id for c in out.commands}) == 4


class _ChunkHost(FakeHost):
    """Runs chunk children at once (each returns its items) and records the most that were
    running at the same time."""

    def __init__(self) -> None:
        super().__init__({}, children=self._child)
        self.payloads: list[dict[str, Any]] = []
        self.running = self.most = 0

    def _child(self, payload: dict[str, Any], instance_id: str) -> list[dict[str, Any]]:
        self.payloads.append(payload)
        return [{"ok": True, "value": item} for item in payload["foreach_chunk"]["items"]]

    def start(self, command: Any) -> Any:
        if isinstance(command, CallChild):
            self.running += 1
            self.most = max(self.most, self.running)
        return super().start(command)

    def complete_next(self, pending: list[Any]) -> Any:
        task = super().complete_next(pending)
        self.running -= isinstance(task.command, CallChild)
        return task


def test_chunks_share_one_budget_down_the_tree() -> None:
    """10,000 items: 10 children of 1,000, each re-split into 10 of 100. The root runs 4 at a
    time and hands each a budget of 1, so no more than 4 chunks of items run at once."""
    from declarative_wf.interpreter.nodes.concurrent import CHUNKS_AT_ONCE
    from declarative_wf.interpreter.workflow import make_payload

    graph = workflow(ForEachNode(id="each", items=J("input"), body=Block("x", {"x": TaskNode(id="x", activity="inc")})))
    items = list(range(10_000))
    root = _ChunkHost()
    assert drive(graph, items, host=root).value == items
    assert [len(p["foreach_chunk"]["items"]) for p in root.payloads] == [1_000] * 10
    assert {p["foreach_chunk"]["budget"] for p in root.payloads} == {1}
    assert root.most == CHUNKS_AT_ONCE

    middle = _ChunkHost()  # one of those children, with the payload the root gave it
    payload = {**make_payload(graph, None), "foreach_chunk": root.payloads[0]["foreach_chunk"]}
    assert drive(graph, host=middle, payload=payload).value == [{"ok": True, "value": i} for i in range(1_000)]
    assert [len(p["foreach_chunk"]["items"]) for p in middle.payloads] == [100] * 10
    assert middle.most == 1  # its budget: one chunk of 100 at a time


def test_event_with_correlation_and_timeout() -> None:
    node = EventNode(id="e", event="paid", correlate=J("event.order == result.order"))
    host = FakeHost({}, events=[(5, "paid", {"order": 2}), (10, "paid", {"order": 1})])
    out = drive(workflow(node), {"order": 1}, host=host)
    assert out.value == {"order": 1}
    timed = EventNode(id="e", event="never", timeout_seconds=Expr.literal(60), catch=(CatchRule(result=Expr.literal("gave up")),))
    out = drive(workflow(timed), None)
    assert out.value == "gave up" and out.clock == EPOCH + timedelta(seconds=60)


def test_try_catch_with_compensation_undoes_in_reverse() -> None:
    undone: list[str] = []

    def undo(value: Any) -> None:
        undone.append(value)

    def step(value: Any) -> str:
        if value == "ship":
            raise RuntimeError("truck broke")
        return value

    def with_undo(name: str) -> TaskNode:
        comp = Block("u", {"u": TaskNode(id=f"undo-{name}", activity="undo", args=J("compensating.result"))})
        return TaskNode(id=name, activity="step", args=Expr.literal(name), compensation=comp)

    body = chain(with_undo("reserve"), with_undo("charge"), TaskNode(id="ship", activity="step", args=Expr.literal("ship")))
    handler = chain(CompensateNode(id="comp"), FailNode(id="rethrow", error=Expr.literal("OrderFailed")))
    node = TryNode(id="try", body=body, catch=(CatchRule(handler=handler),))
    out = drive(workflow(node), host=FakeHost({"step": step, "undo": undo}))
    assert undone == ["charge", "reserve"]
    assert out.status == "failed" and out.value.type == "OrderFailed"


def test_succeed_ends_the_workflow_from_a_nested_block() -> None:
    inner = Block("s", {"s": SucceedNode(id="s", scope="workflow", output=Expr.literal("early"))})
    out = drive(workflow(TryNode(id="t", body=inner), FailNode(id="never")))
    assert out.value == "early"


def test_monitor_loop_until_with_timeout() -> None:
    polls = iter([{"done": False}, {"done": False}, {"done": True}])
    body = Block("p", {"p": TaskNode(id="p", activity="poll")})
    loop = LoopNode(id="m", body=body, every_seconds=Expr.literal(30), until=J("result.done"), timeout_seconds=Expr.literal(600))
    out = drive(workflow(loop), host=FakeHost({"poll": lambda _: next(polls)}))
    assert out.value == {"done": True}
    assert out.clock == EPOCH + timedelta(seconds=60)
    never = LoopNode(id="m", body=Block("p", {"p": TaskNode(id="p", activity="poll")}), every_seconds=Expr.literal(30), until=J("result.done"), timeout_seconds=Expr.literal(100))
    out = drive(workflow(never), host=FakeHost({"poll": lambda _: {"done": False}}))
    assert out.status == "failed" and out.value.type == "Timeout"


def test_long_loops_continue_as_new_and_resume() -> None:
    body = Block("inc", {
        "inc": TaskNode(id="inc", activity="inc", next="check"),
        "check": ChoiceNode(id="check", cases=(ChoiceCase(J("result < `50`"), "inc"),)),
    })
    graph = Workflow("long", None, "dsl", body)
    out = drive(graph, 0, host=FakeHost({"inc": inc}), step_budget=10)
    assert out.status == "continued"
    resume = out.value["resume"]
    assert resume["node"] in ("inc", "check") and resume["data"] == 10
    from declarative_wf.interpreter.workflow import make_payload

    payload = {**make_payload(graph, 0), **out.value, "generation": 1}
    total_runs = 1
    while out.status == "continued":
        payload = {**make_payload(graph, 0), **out.value, "generation": total_runs}
        out = drive(graph, payload=payload, host=FakeHost({"inc": inc}), step_budget=10)
        total_runs += 1
    assert out.value == 50 and 5 <= total_runs <= 6


def test_monitor_continues_as_new_with_its_rounds() -> None:
    body = Block("p", {"p": TaskNode(id="p", activity="poll")})
    loop = LoopNode(id="m", body=body, every_seconds=Expr.literal(1), until=J("result.n >= `30`"))
    graph = workflow(loop)
    counter = iter(range(1, 1000))
    host = lambda: FakeHost({"poll": lambda _: {"n": next(counter)}})  # noqa: E731
    out = drive(graph, host=host(), step_budget=20)
    assert out.status == "continued" and out.value["resume"]["state"]["rounds"] == 10
    from declarative_wf.interpreter.workflow import make_payload

    generation = 1
    while out.status == "continued":
        out = drive(graph, payload={**make_payload(graph, None), **out.value, "generation": generation}, host=host(), step_budget=20)
        generation += 1
    assert out.value == {"n": 30}


def _poller(values: list[Any]) -> FakeHost:
    answers = iter(values)

    def poll(_: Any) -> Any:
        value = next(answers)
        if isinstance(value, Exception):
            raise value
        return value

    return FakeHost({"poll": poll, "alert": lambda value: {"alerted": value}})


def _monitor(**options: Any) -> LoopNode:
    body = Block("p", {"p": TaskNode(id="p", activity="poll")})
    return LoopNode(id="m", body=body, every_seconds=Expr.literal(10), until=J("result.done"), **options)


def test_a_monitor_retry_restarts_the_whole_loop() -> None:
    # Round 1 of the first attempt fails; the retry starts over with a fresh first round.
    rule = RetryRule(match=ErrorMatch(("ConnectionError",)), max_retries=2, interval_seconds=5)
    host = _poller([ConnectionError("down"), {"done": False}, {"done": True}])
    out = drive(workflow(_monitor(retry=(rule,))), host=host)
    assert (out.status, out.value) == ("completed", {"done": True})
    assert out.clock == EPOCH + timedelta(seconds=15)  # 5 s backoff + one 10 s wait
    exhausted = drive(workflow(_monitor(retry=(rule,))), host=_poller([ConnectionError("down")] * 3))
    assert exhausted.status == "failed" and exhausted.value.type == "ConnectionError"


def test_a_monitor_timeout_can_be_caught_and_keeps_the_body_variables() -> None:
    body = Block("p", {"p": TaskNode(id="p", activity="poll", assign={"last": J("result")})})
    handler = Block("a", {"a": TaskNode(id="a", activity="alert", args=J("{error: result.type, last: last}"))})
    loop = LoopNode(id="m", body=body, every_seconds=Expr.literal(10), until=J("result.done"),
                    timeout_seconds=Expr.literal(25), catch=(CatchRule(match=ErrorMatch(("Timeout",)), handler=handler),))
    out = drive(workflow(loop), host=_poller([{"done": False, "n": n} for n in range(10)]))
    assert out.status == "completed", out
    assert out.value == {"alerted": {"error": "Timeout", "last": {"done": False, "n": 3}}}


def test_a_monitor_continues_as_new_with_its_input_rounds_and_retries() -> None:
    rule = RetryRule(match=ErrorMatch(("ConnectionError",)), max_retries=1, interval_seconds=1)
    loop = _monitor(retry=(rule,), input=J("start"), result=J("{polls: result.n}"))
    graph = workflow(loop)
    answers = iter([ConnectionError("down")] + [{"n": n, "done": n >= 25} for n in range(1, 100)])

    def poll(_: Any) -> Any:
        value = next(answers)
        if isinstance(value, Exception):
            raise value
        return value

    out = drive(graph, {"start": {"n": 0}}, host=FakeHost({"poll": poll}), step_budget=20)
    assert out.status == "continued"
    resume = out.value["resume"]
    assert resume["data"] == {"start": {"n": 0}}  # the loop's own input, for its result and catch
    assert resume["state"]["retry"]["attempt"] == 2 and resume["state"]["retry"]["used"] == [1]
    assert resume["state"]["current"]["n"] >= 1
    from declarative_wf.interpreter.workflow import make_payload

    generation = 1
    while out.status == "continued":
        payload = {**make_payload(graph, {"start": {"n": 0}}), **out.value, "generation": generation}
        out = drive(graph, payload=payload, host=FakeHost({"poll": poll}), step_budget=20)
        generation += 1
    assert out.value == {"polls": 25} and generation >= 3


def test_a_monitor_resumes_from_the_state_earlier_versions_saved() -> None:
    # Before loops were result nodes, the resume data was the round's data and the state had
    # only started and rounds.
    graph = workflow(_monitor(max_rounds=5))
    from declarative_wf.interpreter.workflow import make_payload

    old = {"resume": {"node": "m", "data": {"n": 7}, "variables": {}, "state": {"started": EPOCH.isoformat(), "rounds": 4}}}
    out = drive(graph, payload={**make_payload(graph, None), **old, "generation": 1}, host=_poller([{"done": False, "n": 8}]))
    assert (out.status, out.value) == ("completed", {"done": False, "n": 8})


def test_loop_timeouts_of_earlier_graphs_load() -> None:
    from declarative_wf.ir import workflow_from_json, workflow_to_json

    data = workflow_to_json(workflow(_monitor(timeout_seconds=Expr.literal(30))))
    data["body"]["nodes"][0]["timeout_seconds"] = 30.0  # how earlier versions wrote it
    assert workflow_from_json(data).body.nodes["m"].timeout_seconds == Expr.literal(30.0)


def test_workflow_timeout() -> None:
    graph = workflow(WaitNode(id="w", seconds=Expr.literal(3600)), timeout_seconds=60)
    out = drive(graph)
    assert out.status == "failed" and out.value.type == "Timeout"
    assert out.clock == EPOCH + timedelta(seconds=60)


def test_bad_expression_results_are_runtime_errors_with_position() -> None:
    from declarative_wf.ir import SourceRef

    node = ForEachNode(id="e", items=J("input"), body=None, source=SourceRef("wf.yaml", 7, 5, "/steps/0"))
    out = drive(workflow(node), "not a list")
    assert out.status == "failed" and out.value.type == "Runtime"
    assert str(out.value.source) == "wf.yaml:7:5"


@pytest.mark.parametrize("seed", range(3))
def test_replay_issues_the_same_commands(seed: int) -> None:
    """Run once, then again with the same completions: identical command sequences."""
    branches = tuple(chain(TaskNode(id=f"a{i}", activity="inc", args=Expr.literal(i)), WaitNode(id=f"w{i}", seconds=Expr.literal(i + seed))) for i in range(3))
    graph = workflow(
        ParallelNode(id="p", branches=branches),
        ForEachNode(id="f", items=J("`[1,2,3,4]`"), body=Block("x", {"x": TaskNode(id="x", activity="inc")}), max_concurrency=2),
    )
    first = drive(graph, host=FakeHost({"inc": inc}))
    second = drive(graph, host=FakeHost({"inc": inc}))
    assert first.commands == second.commands
    assert first.completions == second.completions
    assert first.value == second.value == [2, 3, 4, 5]


def test_workflow_output_sees_top_level_variables() -> None:
    graph = workflow(SetNode(id="a", value=Expr.literal(5), assign={"five": J("result")}), SetNode(id="b", value=Expr.literal(1)))
    graph.output = J("{five: five, last: result}")
    assert drive(graph).value == {"five": 5, "last": 1}


def test_async_polls_keep_credentials_but_not_the_body() -> None:
    answers = iter([
        {"status": 202, "headers": {"Location": "/jobs/1", "Retry-After": "2"}, "body": None},
        {"status": 200, "headers": {}, "body": {"done": True}},
    ])
    request = {"method": "POST", "url": "http://api.test/jobs", "body": {"big": 1}, "auth": {"bearer": "t"}, "timeout": 5}
    node = TaskNode(id="h", activity="http", args=Expr.literal(request), poll_async=True)
    out = drive(workflow(node), host=FakeHost({"http": lambda _: next(answers)}))
    assert out.value["body"] == {"done": True}
    poll = [c for c in out.commands if isinstance(c, CallActivity)][1].input["input"]
    assert poll == {"method": "GET", "url": "http://api.test/jobs/1", "auth": {"bearer": "t"}, "timeout": 5}
    assert [c.until - EPOCH for c in out.commands if isinstance(c, Sleep)] == [timedelta(seconds=2)]


def test_a_timeout_bounds_the_polling_of_an_async_call_too() -> None:
    accepted = {"status": 202, "headers": {"Location": "/jobs/1", "Retry-After": "10"}, "body": None}
    node = TaskNode(id="h", activity="http", args=Expr.literal({"method": "POST", "url": "http://api.test/jobs"}),
                    poll_async=True, timeout_seconds=Expr.literal(25))
    out = drive(workflow(node), host=FakeHost({"http": lambda _: accepted}))  # never finishes
    assert out.status == "failed" and out.value.type == "Timeout" and "within 25 seconds" in out.value.message
    assert out.clock == EPOCH + timedelta(seconds=25)
    quick = iter([accepted, {"status": 200, "headers": {}, "body": "done"}])
    node.timeout_seconds = Expr.literal(60)
    out = drive(workflow(node), host=FakeHost({"http": lambda _: next(quick)}))
    assert out.status == "completed" and out.value["body"] == "done"
