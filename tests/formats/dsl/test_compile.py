"""The DSL compiler: YAML snippets → IR nodes and fields."""

from __future__ import annotations

import pytest

from declarative_wf.ir import (
    ChildNode,
    ChoiceNode,
    CompensateNode,
    EventNode,
    Expr,
    FailNode,
    ForEachNode,
    LoopNode,
    Merge,
    ParallelNode,
    SetNode,
    SourceRef,
    SucceedNode,
    TaskNode,
    TryNode,
    WaitNode,
    content_hash,
    workflow_from_json,
    workflow_to_json,
)  # fmt: skip

from .helpers import all_nodes, compile_steps, compile_text

J = lambda source: Expr("jmespath", source)


def test_minimal_workflow() -> None:
    wf = compile_text("""\
        dwf: 1
        name: hello
        version: "1.2"
        steps:
          - call: greet
        """)
    assert (wf.name, wf.version, wf.format, wf.source_file) == ("hello", "1.2", "dsl", "wf.dwf.yaml")
    assert wf.body.start == "/steps/0"
    node = wf.body.nodes["/steps/0"]
    assert isinstance(node, TaskNode)
    assert (node.activity, node.args, node.next, node.label) == ("greet", None, None, "call greet")
    assert node.merge == Merge("replace")
    assert node.source == SourceRef("wf.dwf.yaml", 5, 5, "/steps/0")
    assert wf.options == {"dsl_version": 1}


def test_integer_version_and_timeout() -> None:
    wf = compile_text("dwf: 1\nname: n\nversion: 3\ntimeout: 1h30m\nsteps: [ {call: a} ]\n")
    assert wf.version == "3"
    assert wf.timeout_seconds == 5400


def test_steps_chain_in_order_and_ids_are_pointers() -> None:
    wf = compile_steps("""\
        - call: a
        - id: second
          call: b
        - call: c
        """)
    ids = list(wf.body.nodes)
    assert ids == ["/steps/0", "/steps/1", "/steps/2"]
    assert [wf.body.nodes[i].next for i in ids] == ["/steps/1", "/steps/2", None]
    assert wf.body.nodes["/steps/1"].label == "second"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('"${ result.total }"', J("result.total")),
        ("{ amount: '${ result.total }', currency: EUR }",
         Expr("template", {"amount": {"$expr": {"lang": "jmespath", "value": "result.total"}}, "currency": "EUR"})),
        ("{ a: 1, b: [x, true] }", Expr.literal({"a": 1, "b": ["x", True]})),
        ('"Order ${ input.id }!"', J("join('', [`\"Order \"`, to_string((input.id)), `\"!\"`])")),
        ('"costs $${price}"', Expr.literal("costs ${price}")),
        ("null", Expr.literal(None)),
        ('"  ${ result }  "', J("result")),
    ],
)  # fmt: skip
def test_with_values(value: str, expected: Expr) -> None:
    wf = compile_steps(f"- call: a\n  with: {value}\n")
    assert wf.body.nodes["/steps/0"].args == expected


def test_literal_that_looks_like_an_embedded_expression_is_protected() -> None:
    wf = compile_steps("- call: a\n  with: { x: '${ result }', y: { $expr: 1 } }\n")
    args = wf.body.nodes["/steps/0"].args
    assert args.lang == "template"
    assert args.value["y"] == {"$expr": {"lang": "literal", "value": {"$expr": 1}}}


def test_save_output_timeout_and_http_async() -> None:
    wf = compile_steps("""\
        - call: http
          with: { method: POST, url: "${ input.url }" }
          async: true
          timeout: 30s
          output: "${ result.body }"
          save: response
        """)
    node = wf.body.nodes["/steps/0"]
    assert isinstance(node, TaskNode) and node.poll_async
    assert node.timeout_seconds == Expr.literal(30.0)
    assert node.result == J("result.body")
    assert node.assign == {"response": J("result")}


def test_dynamic_timeout() -> None:
    wf = compile_steps("- call: a\n  timeout: '${ input.seconds }'\n")
    assert wf.body.nodes["/steps/0"].timeout_seconds == J("input.seconds")


def test_retry_maps_attempts_to_retries() -> None:
    wf = compile_steps("""\
        - call: charge
          retry: { attempts: 5, delay: 1s, backoff: 1.5, max_delay: 30s, max_duration: 10m, jitter: true, on: [Timeout, Gateway] }
        - call: other
          retry: [ { on: A }, { attempts: 1 } ]
        """)
    (rule,) = wf.body.nodes["/steps/0"].retry
    assert rule.max_retries == 4
    assert (rule.interval_seconds, rule.backoff_rate, rule.max_delay_seconds, rule.max_duration_seconds) == (1.0, 1.5, 30.0, 600.0)
    assert rule.jitter == "full" and rule.match.names == ("Timeout", "Gateway")
    first, second = wf.body.nodes["/steps/1"].retry
    assert first.match.names == ("A",) and first.max_retries == 2 and first.interval_seconds == 1.0 and first.backoff_rate == 2.0
    assert second.max_retries == 0 and second.match.names == ("@task", "@timeout") and second.jitter == "none"


def test_catch_rules() -> None:
    wf = compile_steps("""\
        - id: charge
          call: charge
          catch:
            - on: [CardDeclined]
              as: problem
              compensate: true
              steps: [ { call: notify } ]
              then: end
            - then: fail
            - on: Other
              then: charge
            - {}
        """)
    node = wf.body.nodes["/steps/0"]
    declined, rethrow, jump, plain = node.catch
    assert declined.match.names == ("CardDeclined",)
    assert declined.assign == {"problem": J("result")} and declined.merge == Merge("discard")
    assert declined.then == "end" and declined.next is None
    handler = declined.handler
    assert handler is not None and handler.start == "/steps/0/catch/0/compensate"
    assert isinstance(handler.nodes["/steps/0/catch/0/compensate"], CompensateNode)
    assert handler.nodes["/steps/0/catch/0/compensate"].next == "/steps/0/catch/0/steps/0"
    assert rethrow.match.names == ("*",) and rethrow.then == "continue"
    fail = rethrow.handler.nodes["/steps/0/catch/1/then"]
    assert isinstance(fail, FailNode) and fail.error == J("error.type") and fail.message == J("error.message")
    assert (jump.then, jump.next) == ("jump", "/steps/0")
    assert plain.then == "continue" and plain.handler is None


def test_catch_then_end_at_top_level_goes_to_output() -> None:
    wf = compile_steps("- call: a\n  catch: { then: end }\n- call: b\n", header="output: '${ result }'\n")
    (rule,) = wf.body.nodes["/steps/0"].catch
    assert (rule.then, rule.next) == ("jump", "/output")


def test_compensation_single_step_and_list() -> None:
    wf = compile_steps("""\
        - call: charge
          compensate: { call: refund, with: "${ compensating.result }" }
        - call: reserve
          compensate: [ { call: release }, { call: log } ]
        """)
    single = wf.body.nodes["/steps/0"].compensation
    assert single.start == "/steps/0/compensate"
    assert single.nodes["/steps/0/compensate"].args == J("compensating.result")
    listed = wf.body.nodes["/steps/1"].compensation
    assert list(listed.nodes) == ["/steps/1/compensate/0", "/steps/1/compensate/1"]


def test_input_from_and_output_nodes() -> None:
    wf = compile_text("""\
        dwf: 1
        name: n
        input: { schema: { type: object }, from: "${ input.order }" }
        steps: [ { call: a } ]
        output: "${ {r: result} }"
        """)
    assert wf.body.start == "/input/from"
    assert list(wf.body.nodes) == ["/input/from", "/steps/0", "/output"]
    first = wf.body.nodes["/input/from"]
    assert isinstance(first, SetNode) and first.value == J("input.order") and first.next == "/steps/0"
    assert wf.body.nodes["/steps/0"].next == "/output"
    assert isinstance(wf.body.nodes["/output"], SetNode) and wf.body.nodes["/output"].next is None
    assert wf.options["input_schema"] == {"type": "object"}


def test_set_succeed_fail() -> None:
    wf = compile_steps("""\
        - set: { n: 1 }
          save: counter
        - succeed: "${ {c: counter} }"
        - succeed:
        - fail: OutOfStock
        - fail: { error: "${ result.kind }", message: "no ${ result.sku }" }
        """)
    nodes = wf.body.nodes
    assert nodes["/steps/0"].value == Expr.literal({"n": 1}) and nodes["/steps/0"].assign == {"counter": J("result")}
    assert isinstance(nodes["/steps/1"], SucceedNode) and nodes["/steps/1"].scope == "workflow"
    assert nodes["/steps/1"].output == J("{c: counter}") and nodes["/steps/1"].next is None
    assert nodes["/steps/2"].output is None
    assert nodes["/steps/3"].error == Expr.literal("OutOfStock") and nodes["/steps/3"].label == "fail OutOfStock"
    assert nodes["/steps/4"].error == J("result.kind")
    assert nodes["/steps/4"].message.value.startswith("join(")


def test_switch_with_goto_inline_steps_and_else() -> None:
    wf = compile_steps("""\
        - switch:
            - if: "${ result.big }"
              goto: big
            - if: "${ result.express }"
              steps: [ { call: courier } ]
            - else: [ { call: standard } ]
        - id: big
          call: review
        """)
    switch = wf.body.nodes["/steps/0"]
    assert isinstance(switch, ChoiceNode)
    assert [(c.condition, c.next) for c in switch.cases] == [
        (J("result.big"), "/steps/1"),
        (J("result.express"), "/steps/0/switch/1/steps/0"),
    ]
    assert switch.next == "/steps/0/switch/2/else/0"
    # Inline steps live in the same block and go on after the switch.
    assert wf.body.nodes["/steps/0/switch/1/steps/0"].next == "/steps/1"
    assert wf.body.nodes["/steps/0/switch/2/else/0"].next == "/steps/1"
    assert not switch.no_default_is_error


def test_switch_without_else_falls_through() -> None:
    wf = compile_steps("- switch: [ { if: '${ result }', goto: end } ]\n- call: b\n")
    switch = wf.body.nodes["/steps/0"]
    assert switch.next == "/steps/1" and switch.cases[0].next is None


def test_goto_and_goto_end() -> None:
    wf = compile_steps("""\
        - id: top
          call: a
        - goto: top
        - id: tail
          goto: end
        """)
    assert wf.body.nodes["/steps/1"].next == "/steps/0"
    assert isinstance(wf.body.nodes["/steps/1"], ChoiceNode) and wf.body.nodes["/steps/1"].cases == ()
    assert wf.body.nodes["/steps/2"].next is None


def test_parallel_branches() -> None:
    wf = compile_steps("""\
        - parallel:
            - call: a
            - steps: [ { call: b }, { call: c } ]
            - for_each: "${ result }"
              steps: [ { call: d } ]
          first: true
        """)
    node = wf.body.nodes["/steps/0"]
    assert isinstance(node, ParallelNode) and node.mode == "any"
    assert [b.start for b in node.branches] == ["/steps/0/parallel/0", "/steps/0/parallel/1/steps/0", "/steps/0/parallel/2"]
    assert isinstance(node.branches[2].nodes["/steps/0/parallel/2"], ForEachNode)


def test_for_each() -> None:
    wf = compile_steps("""\
        - for_each: "${ result.files }"
          as: file
          index: n
          concurrency: 4
          tolerate: { failures: 2, percent: 10 }
          steps: [ { call: resize, with: "${ file }" } ]
        - for_each: [1, 2, "${ input.x }"]
          steps: [ { set: "${ item }" } ]
        """)
    node = wf.body.nodes["/steps/0"]
    assert isinstance(node, ForEachNode)
    assert (node.items, node.item_var, node.index_var, node.max_concurrency) == (J("result.files"), "file", "n", 4)
    assert (node.tolerated_failure_count, node.tolerated_failure_percent) == (2, 10.0)
    assert node.body.start == "/steps/0/steps/0"
    second = wf.body.nodes["/steps/1"]
    assert second.items.lang == "template" and (second.item_var, second.index_var) == ("item", "index")


def test_repeat() -> None:
    wf = compile_steps("""\
        - repeat:
            every: 2s
            until: "${ result.done }"
            timeout: 1m
            max_rounds: 10
            steps: [ { call: check_status } ]
          save: last
        """)
    node = wf.body.nodes["/steps/0"]
    assert isinstance(node, LoopNode)
    assert (node.every_seconds, node.until, node.timeout_seconds, node.max_rounds) == (Expr.literal(2.0), J("result.done"), Expr.literal(60.0), 10)
    assert node.body.start == "/steps/0/repeat/steps/0" and node.assign == {"last": J("result")}
    assert (node.retry, node.catch) == ((), ())


def test_repeat_takes_retry_and_catch() -> None:
    wf = compile_steps("""        - repeat: { every: 1s, until: "${ result.done }", timeout: 10s, steps: [ { call: check_status } ] }
          retry: { attempts: 3, on: Timeout }
          catch: { on: Timeout, steps: [ { call: alert } ] }
          output: "${ result.status }"
        """)
    node = wf.body.nodes["/steps/0"]
    assert isinstance(node, LoopNode)
    assert node.retry[0].max_retries == 2 and node.retry[0].match.names == ("Timeout",)
    assert node.catch[0].match.names == ("Timeout",) and node.catch[0].handler is not None
    assert node.result == J("result.status")  # output selects from the loop's last data


def test_try() -> None:
    wf = compile_steps("- try: [ { call: a }, { call: b } ]\n  retry: { attempts: 2 }\n")
    node = wf.body.nodes["/steps/0"]
    assert isinstance(node, TryNode) and list(node.body.nodes) == ["/steps/0/try/0", "/steps/0/try/1"]
    assert node.retry[0].max_retries == 1


@pytest.mark.parametrize(
    ("value", "field", "expected"),
    [
        ("5m", "seconds", Expr.literal(300.0)),
        ("PT1H", "seconds", Expr.literal(3600.0)),
        ("2.5", "seconds", Expr.literal(2.5)),
        ('"${ input.delay }"', "seconds", J("input.delay")),
        ("{ until: '2025-01-01T09:00:00Z' }", "until", Expr.literal("2025-01-01T09:00:00Z")),
        ("{ until: '${ input.deadline }' }", "until", J("input.deadline")),
    ],
)
def test_wait(value: str, field: str, expected: Expr) -> None:
    node = compile_steps(f"- wait: {value}\n").body.nodes["/steps/0"]
    assert isinstance(node, WaitNode) and getattr(node, field) == expected


def test_wait_for() -> None:
    wf = compile_steps("""\
        - call: a
          save: order
        - wait_for: approval
          where: "${ event.order_id == order.id }"
          timeout: 1h
        """)
    node = wf.body.nodes["/steps/1"]
    assert isinstance(node, EventNode) and node.event == "approval" and node.timeout_seconds == Expr.literal(3600.0)
    assert node.correlate == J("event.order_id == order.id")


def test_child_workflow_is_embedded_with_prefixed_ids(tmp_path) -> None:
    (tmp_path / "child.dwf.yaml").write_text("dwf: 1\nname: kid\ntimeout: 5m\nsteps: [ { call: x } ]\noutput: '${ result }'\n")
    parent = tmp_path / "parent.dwf.yaml"
    parent.write_text("dwf: 1\nname: p\nsteps:\n  - workflow: ./child.dwf.yaml\n    with: { a: 1 }\n  - workflow: child.dwf.yaml\n    timeout: 1s\n")
    from declarative_wf.formats import load_definition

    wf = load_definition(parent).workflow
    first, second = wf.body.nodes["/steps/0"], wf.body.nodes["/steps/1"]
    assert isinstance(first, ChildNode) and first.workflow == "kid" and first.args == Expr.literal({"a": 1})
    assert first.graph is None and first.definition is not None and first.definition.name == "kid"
    assert list(first.definition.body.nodes) == ["/steps/0/workflow/steps/0", "/steps/0/workflow/output"]
    assert first.definition.body.nodes["/steps/0/workflow/steps/0"].source.file == str(tmp_path / "child.dwf.yaml")
    # The child's own timeout stays the child's (it ends the child instance); the step's
    # timeout bounds the parent's wait.
    assert first.definition.timeout_seconds == 300.0 and first.timeout_seconds is None
    assert second.timeout_seconds == Expr.literal(1.0)
    ids = list(all_nodes(wf.body))
    assert len(ids) == len(set(ids))


def test_node_ids_are_unique_and_every_node_has_a_source() -> None:
    wf = compile_steps("""\
        - call: a
          catch: { steps: [ { call: h } ], compensate: true, then: fail }
          compensate: { call: undo }
        - parallel: [ { call: b }, { steps: [ { call: c } ] } ]
        - for_each: "${ result }"
          steps: [ { try: [ { call: d } ] } ]
        - repeat: { steps: [ { call: e } ], max_rounds: 2 }
        """)
    nodes = all_nodes(wf.body)
    assert all(node.source is not None and node.source.file == "wf.dwf.yaml" for node in nodes.values())
    assert all(node.id == node.source.pointer for node in nodes.values())


def test_labels() -> None:
    wf = compile_steps("""\
        - call: a
        - wait: 5m
        - wait_for: go
        - set: 1
        - id: mine
          fail: X
        """)
    assert [n.label for n in wf.body.nodes.values()] == ["call a", "wait 5m", "wait_for go", "set", "mine"]


def test_ir_round_trips_through_json() -> None:
    wf = compile_steps("""\
        - call: a
          retry: { attempts: 2 }
          catch: { then: fail, compensate: true }
        - switch: [ { if: "${ result }", steps: [ { set: 1 } ] } ]
        - for_each: "${ result }"
          steps: [ { call: b } ]
        """)
    again = workflow_from_json(workflow_to_json(wf))
    assert content_hash(again) == content_hash(wf)


def test_json_documents_compile() -> None:
    wf = compile_text('{"dwf": 1, "name": "j", "steps": [{"call": "a", "with": "${ input }"}]}', file="wf.json")
    assert wf.body.nodes["/steps/0"].args == J("input")


def test_compiled_ir_validates_against_the_ir_schema(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import jsonschema

    from declarative_wf.ir.jsonschema import ir_json_schema

    schema = ir_json_schema()  # what schemas/ir.schema.json is generated from
    (tmp_path / "child.dwf.yaml").write_text("dwf: 1\nname: kid\nsteps: [ { succeed: done } ]\n")
    wf = compile_text("""\
        dwf: 1
        name: every-kind
        input: { from: "${ input }" }
        timeout: 1h
        steps:
          - call: http
            with: { url: "${ input.url }" }
            async: true
            retry: { attempts: 2, jitter: true }
            catch: [ { on: X, compensate: true, then: fail }, { then: end } ]
            compensate: { call: undo }
            timeout: 5s
            save: response
            output: "${ result.body }"
          - workflow: ./child.dwf.yaml
          - set: { a: 1 }
          - switch: [ { if: "${ result.a }", steps: [ { wait: 1s } ] }, { else: end } ]
          - parallel: [ { call: a }, { steps: [ { wait: { until: "2025-01-01T00:00:00Z" } } ] } ]
            first: true
          - for_each: "${ input.items }"
            tolerate: { percent: 5 }
            steps: [ { try: [ { wait_for: e, where: "${ event.id == item.id }" } ] } ]
          - repeat: { every: 1s, until: "${ result.done }", timeout: 1m, max_rounds: 3, steps: [ { call: c } ] }
          - goto: end
        output: "${ result }"
        """, file=str(tmp_path / "every-kind.dwf.yaml"))
    jsonschema.validate(workflow_to_json(wf), schema)

