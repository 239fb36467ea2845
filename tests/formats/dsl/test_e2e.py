"""DSL workflows compiled and run by the real interpreter on the embedded engine."""

from __future__ import annotations

import time
from pathlib import Path

from declarative_wf.formats import load_definition, load_definition_text

from . import activities
from .conftest import Runner

SAMPLES = Path(__file__).resolve().parents[3] / "samples"


def compile_text(text: str, file: str = "wf.dwf.yaml"):  # type: ignore[no-untyped-def]
    return load_definition_text(text, file).workflow


def test_chaining_sample(runner: Runner) -> None:
    workflow = load_definition(SAMPLES / "chaining" / "workflow.dwf.yaml").workflow
    outcome = runner.run(workflow, {"id": 7, "items": [{"price": 3}, {"price": 4}]})
    assert (outcome.status, outcome.output) == ("COMPLETED", {"shipped": 7, "charged": 7})


def test_fan_out_fan_in_sample(runner: Runner) -> None:
    workflow = load_definition(SAMPLES / "fan-out-fan-in" / "workflow.dwf.yaml").workflow
    outcome = runner.run(workflow, {"names": ["a", "bb", "ccc"]})
    assert (outcome.status, outcome.output) == ("COMPLETED", {"count": 3, "total": 18})


def test_async_http_sample(runner: Runner) -> None:
    activities.CALLS["http"].clear()
    workflow = load_definition(SAMPLES / "async-http" / "workflow.dwf.yaml").workflow
    outcome = runner.run(workflow, {"url": "http://example.test/jobs", "job": {"n": 1}})
    assert (outcome.status, outcome.output) == ("COMPLETED", {"recorded": {"job": 1, "state": "done"}})
    assert activities.CALLS["http"] == [
        ["POST", "http://example.test/jobs", {"n": 1}],
        ["GET", "http://example.test/jobs/1"],
        ["GET", "http://example.test/jobs/1"],
    ]


def test_monitor_sample(runner: Runner) -> None:
    activities.CALLS["check_status"].clear()
    workflow = load_definition(SAMPLES / "monitor" / "workflow.dwf.yaml").workflow
    started = time.monotonic()
    outcome = runner.run(workflow, {})
    assert (outcome.status, outcome.output) == ("COMPLETED", {"notified": {"done": True}})
    assert len(activities.CALLS["check_status"]) == 2
    assert time.monotonic() - started >= 1.9  # one durable 2 s wait between the two checks


FEATURES = """\
dwf: 1
name: features
input: { from: "${ input.start }" }
steps:
  - call: add_one
    save: first
  - set: "Total ${ first }"
    save: label
  - set: 0
  - id: loop
    call: add_one
    save: counter
  - switch:
      - if: "${ counter < `3` }"
        goto: loop
  - for_each: "${ [`1`, `2`, `3`] }"
    concurrency: 2
    steps:
      - call: add_one
        with: "${ item }"
        output: "${ {value: result, at: index} }"
    save: items
  - parallel:
      - call: echo
        with: fast
      - steps:
          - wait: 30s
          - set: slow
    first: true
    save: winner
  - call: boom
    with: "${ counter }"
    catch:
      on: ValueError
      steps:
        - set: "${ error }"
          save: caught
  - call: flaky
    with: { tag: features-flaky, fail_times: 2 }
    retry: { attempts: 3, delay: 100ms, backoff: 1 }
    save: flaky
output: "${ {first: first, label: label, counter: counter, items: items, winner: winner, caught: caught, flaky: flaky} }"
"""


def test_many_constructs_in_one_workflow(runner: Runner) -> None:
    activities.CALLS["features-flaky"].clear()
    outcome = runner.run(compile_text(FEATURES), {"start": 1})
    assert outcome.status == "COMPLETED", outcome
    assert outcome.output == {
        "first": 2,
        "label": "Total 2",
        "counter": 3,
        "items": [{"value": 2, "at": 0}, {"value": 3, "at": 1}, {"value": 4, "at": 2}],
        "winner": "fast",
        "caught": {"type": "ValueError", "message": "boom 3"},
        "flaky": {"attempts": 3},
    }
    assert activities.CALLS["features-flaky"] == [1, 2, 3]


def test_catch_then_end_applies_output(runner: Runner) -> None:
    text = """\
dwf: 1
name: ends
steps:
  - call: declined
    catch: { on: CardDeclined, steps: [ { set: "${ error.type }" } ], then: end }
  - call: not_registered
output: "${ {ended: result} }"
"""
    outcome = runner.run(compile_text(text))
    assert (outcome.status, outcome.output) == ("COMPLETED", {"ended": "CardDeclined"})


def test_uncaught_fail_fails_the_workflow(runner: Runner) -> None:
    text = 'dwf: 1\nname: f\nsteps:\n  - fail: { error: OutOfStock, message: "no stock for ${ input.sku }" }\n'
    outcome = runner.run(compile_text(text), {"sku": "X1"})
    assert (outcome.status, outcome.error_type) == ("FAILED", "OutOfStock")
    assert "no stock for X1" in (outcome.error_message or "")


def test_succeed_from_inside_a_for_each(runner: Runner) -> None:
    text = """\
dwf: 1
name: find
steps:
  - for_each: "${ input }"
    concurrency: 1
    steps:
      - switch:
          - if: "${ item == `2` }"
            steps: [ { succeed: "${ {found: item} }" } ]
  - set: not found
output: "${ {wrapped: result} }"
"""
    outcome = runner.run(compile_text(text), [1, 2, 3])
    assert (outcome.status, outcome.output) == ("COMPLETED", {"found": 2})


SAGA = """\
dwf: 1
name: saga
steps:
  - call: log
    with: { tag: saga, value: reserved }
    compensate: { call: log, with: { tag: saga, value: "undo ${ compensating.result }" } }
  - call: log
    with: { tag: saga, value: charged }
    compensate:
      - call: log
        with: { tag: saga, value: "undo ${ result }" }
  - call: declined
    catch: { compensate: true, then: fail }
"""


def test_saga_compensates_most_recent_first_then_fails(runner: Runner) -> None:
    activities.CALLS["saga"].clear()
    outcome = runner.run(compile_text(SAGA))
    assert (outcome.status, outcome.error_type) == ("FAILED", "CardDeclined")
    assert activities.CALLS["saga"] == ["reserved", "charged", "undo charged", "undo reserved"]


def test_try_catch_compensates_the_steps_inside_the_try(runner: Runner) -> None:
    activities.CALLS["try-saga"].clear()
    text = """\
dwf: 1
name: try-saga
steps:
  - try:
      - call: log
        with: { tag: try-saga, value: reserved }
        compensate: { call: log, with: { tag: try-saga, value: "undo ${ result }" } }
      - call: declined
    catch: { compensate: true, then: fail }
"""
    outcome = runner.run(compile_text(text))
    assert outcome.error_type == "CardDeclined"
    assert activities.CALLS["try-saga"] == ["reserved", "undo reserved"]


def test_wait_for_takes_the_matching_event(runner: Runner) -> None:
    text = """\
dwf: 1
name: approval
steps:
  - call: echo
    save: order
  - wait_for: approval
    where: "${ event.order == order.id }"
    timeout: 10s
  - set: "${ {approved: result.ok, by: result.by} }"
"""
    instance = runner.start(compile_text(text), {"id": 1})
    runner.client.raise_workflow_event(instance, "approval", data={"order": 2, "ok": False, "by": "bob"})
    runner.client.raise_workflow_event(instance, "approval", data={"order": 1, "ok": True, "by": "ann"})
    outcome = runner.wait(instance)
    assert (outcome.status, outcome.output) == ("COMPLETED", {"approved": True, "by": "ann"}), outcome


def test_wait_for_timeout_can_be_caught(runner: Runner) -> None:
    text = """\
dwf: 1
name: no-answer
steps:
  - wait_for: never
    timeout: 200ms
    catch: { on: Timeout, steps: [ { set: "${ error.type }" } ] }
"""
    outcome = runner.run(compile_text(text))
    assert (outcome.status, outcome.output) == ("COMPLETED", "Timeout")


def test_child_workflow(runner: Runner, tmp_path: Path) -> None:
    (tmp_path / "child.dwf.yaml").write_text(
        "dwf: 1\nname: kid\ninput: { from: '${ input.n }' }\nsteps: [ { call: add_one } ]\noutput: '${ {kid: result} }'\n"
    )
    parent = tmp_path / "parent.dwf.yaml"
    parent.write_text("dwf: 1\nname: parent\nsteps:\n  - workflow: child.dwf.yaml\n    with: { n: '${ input }' }\n  - set: '${ result.kid }'\n")
    outcome = runner.run(load_definition(parent).workflow, 41)
    assert (outcome.status, outcome.output) == ("COMPLETED", 42)


def test_catch_then_jumps_to_a_step(runner: Runner) -> None:
    text = """\
dwf: 1
name: jump
steps:
  - call: boom
    catch: { then: recover }
  - call: not_registered
  - id: recover
    set: "${ {recovered: error.type} }"
"""
    outcome = runner.run(compile_text(text), 1)
    assert (outcome.status, outcome.output) == ("COMPLETED", {"recovered": "ValueError"})


def test_for_each_tolerates_failures(runner: Runner) -> None:
    text = """\
dwf: 1
name: tolerate
steps:
  - for_each: "${ input }"
    tolerate: { failures: 1 }
    steps:
      - switch:
          - if: "${ item == `2` }"
            steps: [ { call: boom } ]
      - call: add_one
"""
    outcome = runner.run(compile_text(text), [1, 2, 3])
    assert outcome.status == "COMPLETED", outcome
    assert outcome.output[0] == 2 and outcome.output[2] == 4
    assert outcome.output[1]["type"] == "ValueError"
    failed = runner.run(compile_text(text), [2, 2])
    assert (failed.status, failed.error_type) == ("FAILED", "ToleratedFailureExceeded")


def test_a_failed_child_fails_the_step_with_its_error_type(runner: Runner, tmp_path: Path) -> None:
    (tmp_path / "child.dwf.yaml").write_text("dwf: 1\nname: kid\nsteps: [ { fail: { error: NoStock, message: sorry } } ]\n")
    parent = tmp_path / "parent.dwf.yaml"
    parent.write_text(
        "dwf: 1\nname: parent\nsteps:\n  - workflow: child.dwf.yaml\n    catch: { on: NoStock, steps: [ { set: '${ error }' } ] }\n"
    )
    outcome = runner.run(load_definition(parent).workflow)
    assert outcome.status == "COMPLETED", outcome
    assert outcome.output["type"] == "NoStock" and "sorry" in outcome.output["message"]


def _parent_of(tmp_path: Path, child: str, parent_steps: str) -> Path:
    (tmp_path / "child.dwf.yaml").write_text(child)
    parent = tmp_path / "parent.dwf.yaml"
    parent.write_text("dwf: 1\nname: parent\nsteps:\n" + parent_steps)
    return parent


def test_an_embedded_child_checks_its_input_schema_before_it_starts(runner: Runner, tmp_path: Path) -> None:
    child = "dwf: 1\nname: kid\ninput: { schema: { type: object, required: [n], properties: { n: { type: integer } } } }\n" \
            "steps: [ { call: add_one, with: '${ input.n }' } ]\n"
    parent = _parent_of(tmp_path, child, "  - workflow: child.dwf.yaml\n    with: '${ input }'\n"
                                         "    catch: { on: InvalidInput, steps: [ { set: '${ {caught: error} }' } ] }\n")
    good = runner.run(load_definition(parent).workflow, {"n": 1})
    assert (good.status, good.output) == ("COMPLETED", 2)
    bad = runner.run(load_definition(parent).workflow, {"n": "one"})
    assert bad.status == "COMPLETED", bad
    assert bad.output["caught"]["type"] == "InvalidInput"
    assert "'kid'" in bad.output["caught"]["message"] and "/n: 'one' is not of type 'integer'" in bad.output["caught"]["message"]


def test_an_uncaught_invalid_child_input_fails_the_parent(runner: Runner, tmp_path: Path) -> None:
    child = "dwf: 1\nname: kid\ninput: { schema: { type: array } }\nsteps: [ { set: 1 } ]\n"
    parent = _parent_of(tmp_path, child, "  - workflow: child.dwf.yaml\n    with: { not: a list }\n")
    outcome = runner.run(load_definition(parent).workflow)
    assert (outcome.status, outcome.error_type) == ("FAILED", "InvalidInput"), outcome


def test_an_embedded_child_times_out_itself(runner: Runner, tmp_path: Path) -> None:
    # The child's own timeout ends the child instance (a Timeout failure of the child), which
    # the parent sees as the step's error.
    child = "dwf: 1\nname: kid\ntimeout: 1s\nsteps: [ { wait: 30s } ]\n"
    parent = _parent_of(tmp_path, child, "  - workflow: child.dwf.yaml\n"
                                         "    catch: { on: Timeout, steps: [ { set: '${ error.message }' } ] }\n")
    began = time.monotonic()
    outcome = runner.run(load_definition(parent).workflow)
    assert outcome.status == "COMPLETED", outcome
    assert "'kid' did not finish within 1 seconds" in outcome.output
    assert time.monotonic() - began < 10


def test_a_monitor_retries_then_catches_its_timeout(runner: Runner) -> None:
    text = """\
dwf: 1
name: monitor-retry-catch
steps:
  - repeat:
      every: 200ms
      timeout: 500ms
      until: "${ result == 'never' }"
      steps: [ { call: log, with: { tag: monitor-retry, value: polled } } ]
    retry: { attempts: 2, delay: 100ms, on: Timeout }
    catch: { on: Timeout, steps: [ { set: "${ {caught: error.type, message: error.message} }" } ] }
"""
    activities.CALLS["monitor-retry"].clear()
    outcome = runner.run(compile_text(text))
    assert outcome.status == "COMPLETED", outcome
    assert outcome.output["caught"] == "Timeout" and "did not finish within 0.5 seconds" in outcome.output["message"]
    # Two whole attempts, each with at least the rounds at 0, 200 and 400 ms.
    assert len(activities.CALLS["monitor-retry"]) >= 6
