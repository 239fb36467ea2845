"""The Serverless Workflow 1.x compiler: graph shapes and diagnostics (no engine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from declarative_wf import ir
from declarative_wf.formats.sw import task_kind
from declarative_wf.formats.sw.tasks import uri_template

from .run_helpers import compile_text, diagnostics


def test_a_task_list_is_a_block_of_tasks_named_by_their_pointers() -> None:
    workflow = compile_text("""
        do:
          - first:
              set: { a: 1 }
          - second:
              set: { b: 2 }
    """)
    assert workflow.format == "sw1" and workflow.name == "test" and workflow.version == "1.0.0"
    body = workflow.body
    assert body.start == "/do/0/first"
    assert list(body.nodes) == ["/do/0/first", "/do/1/second"]
    first = body.nodes["/do/0/first"]
    assert first.label == "first" and first.next == "/do/1/second"
    assert body.nodes["/do/1/second"].next is None
    assert first.source is not None and (first.source.line, first.source.column) == (4, 5)


def test_flow_directives_become_edges() -> None:
    workflow = compile_text("""
        do:
          - a:
              set: { x: 1 }
              then: c
          - b:
              set: { x: 2 }
              then: end
          - c:
              set: { x: 3 }
              then: a
          - d:
              set: { x: 4 }
              then: exit
    """)
    nodes = workflow.body.nodes
    assert nodes["/do/0/a"].next == "/do/2/c"
    assert nodes["/do/1/b"].next == "/do#end"
    assert isinstance(nodes["/do#end"], ir.SucceedNode) and nodes["/do#end"].scope == "workflow"
    assert nodes["/do/2/c"].next == "/do/0/a"  # backwards: a loop
    assert nodes["/do/3/d"].next is None


def test_if_input_output_export_timeout_become_node_properties() -> None:
    workflow = compile_text("""
        do:
          - guarded:
              if: .go
              input:
                from: .payload
              call: http
              with: { method: get, endpoint: "https://example.com/x" }
              output:
                as: .body
              export:
                as: '{last: .}'
              timeout:
                after: { seconds: 5 }
          - next:
              set: { done: true }
    """)
    nodes = workflow.body.nodes
    guard = nodes["/do/0/guarded#if"]
    assert workflow.body.start == "/do/0/guarded#if"
    assert isinstance(guard, ir.ChoiceNode) and guard.cases[0].next == "/do/0/guarded" and guard.next == "/do/1/next"
    task = nodes["/do/0/guarded"]
    assert isinstance(task, ir.TaskNode) and task.activity == "http"
    assert task.input == ir.Expr("jq", ".payload") and task.output == ir.Expr("jq", ".body")
    assert task.timeout_seconds == ir.Expr.literal(5.0)
    export = nodes["/do/0/guarded#export"]
    assert task.next == export.id and export.next == "/do/1/next"
    assert isinstance(export, ir.SetNode) and export.value == ir.Expr("jq", "{last: .}")
    assert export.assign == {"context": ir.Expr("jq", ".")} and export.merge.mode == "discard"


def test_switch_cases_keep_their_order_with_the_default_last() -> None:
    workflow = compile_text("""
        do:
          - pick:
              switch:
                - fallback:
                    then: b
                - first:
                    when: .n == 1
                    then: exit
          - b:
              set: { b: true }
    """)
    node = workflow.body.nodes["/do/0/pick"]
    assert isinstance(node, ir.ChoiceNode)
    assert [case.next for case in node.cases] == [None, "/do/1/b"]
    assert node.cases[1].condition == ir.Expr.literal(True)


def test_try_compiles_filters_retry_backoffs_and_catch() -> None:
    workflow = compile_text("""
        do:
          - guarded:
              try:
                - inner:
                    set: { x: 1 }
              catch:
                errors:
                  with: { status: 503 }
                as: oops
                retry:
                  delay: PT2S
                  backoff: { linear: {} }
                  limit: { attempt: { count: 4 }, duration: PT1M }
                  jitter: { from: PT0.1S, to: PT0.3S }
                do:
                  - handle:
                      set: { handled: true }
    """)
    node = workflow.body.nodes["/do/0/guarded"]
    assert isinstance(node, ir.TryNode)
    assert node.body is not None and list(node.body.nodes) == ["/do/0/guarded/try/0/inner"]
    (retry,) = node.retry
    assert (retry.max_retries, retry.interval_seconds, retry.backoff_rate, retry.increment_seconds) == (4, 2.0, 1.0, 2.0)
    assert (retry.max_duration_seconds, retry.jitter_min_seconds, retry.jitter_max_seconds) == (60.0, 0.1, 0.3)
    (catch,) = node.catch
    assert catch.assign == {"oops": ir.Expr("jq", ".")} and catch.merge.mode == "discard"
    assert catch.handler is not None and "/do/0/guarded/catch/do/0/handle" in catch.handler.nodes
    assert catch.match.when is not None and ".cause.status == 503" in catch.match.when.value


@pytest.mark.parametrize(("backoff", "interval", "rate", "increment"), [
    ("constant", 1.0, 1.0, 0.0), ("linear", 1.0, 1.0, 1.0), ("exponential", 2.0, 2.0, 0.0),
])  # fmt: skip
def test_backoff_formulas(backoff: str, interval: float, rate: float, increment: float) -> None:
    workflow = compile_text(f"""
        do:
          - guarded:
              try:
                - inner:
                    set: {{ x: 1 }}
              catch:
                retry:
                  delay: {{ seconds: 1 }}
                  backoff: {{ {backoff}: {{}} }}
    """)
    (retry,) = workflow.body.nodes["/do/0/guarded"].retry
    assert (retry.interval_seconds, retry.backoff_rate, retry.increment_seconds) == (interval, rate, increment)


def test_fork_for_and_functions_nest_blocks_with_unique_ids() -> None:
    workflow = compile_text("""
        use:
          functions:
            twice:
              set: { v: '${ .v * 2 }' }
        do:
          - both:
              fork:
                compete: true
                branches:
                  - left:
                      call: twice
                      with: { v: 1 }
                  - right:
                      call: twice
          - each:
              for: { in: .items, each: it }
              do:
                - touch:
                    set: { it: '${ $it }' }
    """)
    both = workflow.body.nodes["/do/0/both"]
    assert isinstance(both, ir.ParallelNode) and both.mode == "any" and len(both.branches) == 2
    left = both.branches[0].nodes["/do/0/both/fork/branches/0/left"]
    assert isinstance(left, ir.TryNode) and left.body is not None
    assert left.body.start == "/do/0/both/fork/branches/0/left#with"
    assert "/do/0/both/fork/branches/0/left#fn" in left.body.nodes
    right = both.branches[1].nodes["/do/0/both/fork/branches/1/right"]
    assert right.body is not None and right.body.start == "/do/0/both/fork/branches/1/right#fn"
    loop = workflow.body.nodes["/do/1/each"]
    assert isinstance(loop, ir.TryNode) and loop.body is not None
    inner = loop.body.nodes["/do/1/each#body"]
    assert isinstance(inner, ir.TryNode) and inner.body is not None and "/do/1/each/do/0/touch" in inner.body.nodes


def test_task_kinds_are_decided_by_one_ordered_rule() -> None:
    assert task_kind({"for": {}, "do": []}) == "for"
    assert task_kind({"try": [], "catch": {}}) == "try"
    assert task_kind({"call": "http"}) == "call:http"
    assert task_kind({"call": "myFunction"}) == "call:function"
    assert task_kind({"run": {"shell": {}}}) == "run:shell"
    assert task_kind({"metadata": {}}) is None


def test_uri_templates_expand_top_level_input_properties() -> None:
    import jq

    program = uri_template("https://x.test/pets/{petId}/{missing}?q={name}")
    assert jq.compile(program).input_value({"petId": 7, "name": "a b"}).first() == "https://x.test/pets/7/?q=a%20b"


def _codes(body: str) -> list[tuple[str, str, str]]:
    return [(d.code, d.pointer, d.message) for d in diagnostics(body)]


def test_unknown_flow_target_is_reported_with_position_and_suggestion() -> None:
    found = diagnostics("""
        do:
          - first:
              set: { a: 1 }
              then: secnd
          - second:
              set: { b: 1 }
    """)
    assert len(found) == 1
    (problem,) = found
    assert problem.code in ("SW-E103", "SW-E010")
    assert problem.position is not None and problem.position.line == 6
    assert problem.format().startswith("wf.sw.yaml:6:")
    assert "second" in (problem.hint or problem.message)


def test_invalid_jq_is_reported_at_its_field() -> None:
    found = _codes("""
        do:
          - broken:
              set: { a: '${ .a + }' }
    """)
    assert found and found[0][0] in ("SW-E110", "SW-E030") and found[0][1] == "/do/0/broken/set/a"


@pytest.mark.parametrize(("body", "code", "pointer", "fragment"), [
    pytest.param("""
        do:
          - job: {call: a2a, with: {method: message/send, server: 'https://a.test'}}
    """, "SW-E104", None, "not supported yet", id="unsupported-kinds-are-clear-diagnostics-a2a"),
    pytest.param("""
        do:
          - guarded:
              try:
                - inner:
                    set: { x: 1 }
              catch:
                retry: missing
    """, None, "/do/0/guarded/catch/retry", None, id="unknown-use-entries-are-reported"),
    pytest.param("""
        do:
          - pause:
              wait: P1M
    """, None, "/do/0/pause/wait", None, id="bad-durations-are-reported"),
    pytest.param("""
        evaluate:
          language: js
        do:
          - a:
              set: { x: 1 }
    """, "SW-E104", None, "only jq", id="only-jq-expressions-are-supported"),
])  # fmt: skip
def test_problems_are_reported(body: str, code: str | None, pointer: str | None, fragment: str | None) -> None:
    """Some problem of the definition has that code, at that pointer, saying that (None: any)."""
    found = _codes(body)
    assert any(
        (code is None or found_code == code)
        and (pointer is None or found_pointer == pointer)
        and (fragment is None or fragment in message)
        for found_code, found_pointer, message in found
    ), found


def test_timeouts_on_tasks_without_a_durable_call_wrap_them() -> None:
    workflow = compile_text("""
        do:
          - pause:
              timeout: { after: PT1S }
              wait: PT5S
          - group:
              timeout: { after: PT2S }
              do:
                - inner:
                    set: { x: 1 }
    """)
    pause = workflow.body.nodes["/do/0/pause"]
    assert isinstance(pause, ir.TryNode) and pause.timeout_seconds == ir.Expr.literal(1.0)
    assert pause.body is not None and isinstance(pause.body.nodes["/do/0/pause#timed"], ir.WaitNode)
    assert pause.next == "/do/1/group"
    assert workflow.body.nodes["/do/1/group"].timeout_seconds == ir.Expr.literal(2.0)


def test_the_graph_serialises_and_matches_the_ir_schema() -> None:
    import json
    from importlib import resources

    import jsonschema

    from declarative_wf.ir import workflow_from_json, workflow_to_json

    workflow = compile_text("""
        do:
          - guarded:
              try:
                - inner:
                    wait: PT1S
              catch:
                retry: { delay: PT1S, jitter: { from: PT0S, to: PT1S } }
    """)
    data = workflow_to_json(workflow)
    assert workflow_to_json(workflow_from_json(json.loads(json.dumps(data)))) == data
    schema = json.loads((resources.files("declarative_wf") / "schemas" / "ir.schema.json").read_text())
    jsonschema.validate(data, schema)


def test_child_workflow_cycles_and_invalid_children_are_reported(tmp_path: Path) -> None:
    from declarative_wf.diagnostics import DiagnosticError
    from declarative_wf.formats import load_definition

    from .run_helpers import definition

    calls_b = "do:\n  - callB:\n      run:\n        workflow: { namespace: test, name: b, version: '1.0.0' }\n"
    calls_a = "do:\n  - callA:\n      run:\n        workflow: { namespace: test, name: a, version: '1.0.0' }\n"
    (tmp_path / "a.sw.yaml").write_text(definition(calls_b, name="a"))
    (tmp_path / "b.sw.yaml").write_text(definition(calls_a, name="b"))
    with pytest.raises(DiagnosticError) as cycle:
        load_definition(tmp_path / "a.sw.yaml")
    assert any(d.code == "SW-E120" and "cycle" in d.message for d in cycle.value.diagnostics)
    (tmp_path / "b.sw.yaml").write_text(definition("do:\n  - bad:\n      set: { x: '${ .a + }' }\n", name="b"))
    with pytest.raises(DiagnosticError) as invalid:
        load_definition(tmp_path / "a.sw.yaml")
    found = invalid.value.diagnostics
    assert any(d.code == "SW-E120" for d in found)
    assert any(d.source_file is not None and d.source_file.endswith("b.sw.yaml") for d in found)


def test_a_fork_branch_cannot_jump_to_another_branch() -> None:
    found = diagnostics("""
        do:
          - both:
              fork:
                branches:
                  - left:
                      set: { a: 1 }
                      then: right
                  - right:
                      set: { b: 1 }
    """)
    assert [d.code for d in found] in (["SW-E103"], ["SW-E010"]), found
