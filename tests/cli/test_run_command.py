"""``dwf run`` end to end, as a subprocess: exit codes, -o json, bad input, and a crash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from declarative_wf.ir import (
    Block,
    Expr,
    FailNode,
    SourceRef,
    TaskNode,
    WaitNode,
    Workflow,
    workflow_to_json,
)

pytestmark = pytest.mark.integration

ACTIVITIES = '''
import os, time

def _log(line):
    with open(os.environ["DWF_TEST_LOG"], "a") as log:
        log.write(line + "\\n")
        log.flush()
        os.fsync(log.fileno())

def add_one(x):
    return x + 1

def step(spec, context):
    """Sleeps, and logs each execution: the crash test's record of side effects."""
    _log(f"start {context.node}")
    time.sleep(spec.get("sleep", 0))
    _log(f"done {context.node}")
    return spec["n"]

class NotEnoughStock(Exception):
    pass

def reserve(order):
    raise NotEnoughStock(f"only 0 of {order['qty']} left")
'''


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "shop_acts.py").write_text(textwrap.dedent(ACTIVITIES))
    return tmp_path


def dwf(workdir: Path, *args: str, stdin: str | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DWF_TEST_LOG": str(workdir / "effects.log"), "GRPC_VERBOSITY": "ERROR"}
    env.pop("PYTHONPATH", None)  # the current directory must be importable by itself
    return subprocess.run(
        [sys.executable, "-m", "declarative_wf.cli", "run", *args],
        cwd=workdir,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def write_ir(workdir: Path, name: str, workflow: Workflow) -> str:
    path = workdir / f"{name}.json"
    path.write_text(json.dumps(workflow_to_json(workflow)))
    return path.name


def add_two() -> Workflow:
    return Workflow(
        "add-two",
        "1",
        "dsl",
        Block(
            "a",
            {
                "a": TaskNode(id="a", next="b", activity="add_one", label="First"),
                "b": TaskNode(id="b", activity="add_one", label="Second"),
            },
        ),
    )


def test_completed_prints_the_output(workdir: Path) -> None:
    file = write_ir(workdir, "add", add_two())
    done = dwf(workdir, file, "--input", "40", "--activities", "shop_acts")
    assert (done.returncode, json.loads(done.stdout)) == (0, 42), done.stderr
    assert done.stderr == ""  # not a terminal: no progress


def test_json_output(workdir: Path) -> None:
    file = write_ir(workdir, "add", add_two())
    done = dwf(workdir, file, "--input", "1", "--activities", "shop_acts", "-o", "json")
    result = json.loads(done.stdout)
    assert done.returncode == 0
    assert list(result) == ["instance_id", "status", "output", "error"]
    assert result["status"] == "COMPLETED" and result["output"] == 3 and result["error"] is None
    assert result["instance_id"].startswith("add-two-")
    again = dwf(workdir, file, "--input", "1", "--activities", "shop_acts", "-o", "json", "--instance-id", "mine")
    assert json.loads(again.stdout)["instance_id"] == "mine"


def test_input_file_and_stdin(workdir: Path) -> None:
    file = write_ir(workdir, "add", add_two())
    (workdir / "in.json").write_text("5")
    assert json.loads(dwf(workdir, file, "--input-file", "in.json", "--activities", "shop_acts").stdout) == 7
    assert json.loads(dwf(workdir, file, "--input-file", "-", "--activities", "shop_acts", stdin="6").stdout) == 8


def test_failed_exits_1_with_the_error(workdir: Path) -> None:
    file = write_ir(workdir, "reserve", Workflow("reserve", "1", "dsl", Block("r", {"r": TaskNode(id="r", activity="reserve")})))
    done = dwf(workdir, file, "--input", '{"qty": 3}', "--activities", "shop_acts", "-o", "json")
    assert done.returncode == 1
    result = json.loads(done.stdout)
    assert result["status"] == "FAILED" and result["output"] is None
    assert result["error"] == {"type": "NotEnoughStock", "message": "only 0 of 3 left"}
    text = dwf(workdir, file, "--input", '{"qty": 3}', "--activities", "shop_acts")
    assert text.returncode == 1 and text.stdout == ""
    assert "FAILED: NotEnoughStock: only 0 of 3 left" in text.stderr
    assert "Traceback" not in text.stderr


def test_fail_node_and_timeout_exit_1(workdir: Path) -> None:
    fail = Workflow("f", "1", "dsl", Block("f", {"f": FailNode(id="f", error=Expr.literal("Nope"), message=Expr.literal("no"))}))
    done = dwf(workdir, write_ir(workdir, "fail", fail), "-o", "json")
    assert done.returncode == 1 and json.loads(done.stdout)["error"] == {"type": "Nope", "message": "no"}
    slow = Workflow("slow", "1", "dsl", Block("w", {"w": WaitNode(id="w", seconds=Expr.literal(60))}))
    timed = dwf(workdir, write_ir(workdir, "slow", slow), "--timeout", "0.5", "-o", "json")
    assert timed.returncode == 1 and json.loads(timed.stdout)["status"] == "RUNNING"
    assert "did not finish within 0.5 seconds" in timed.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--input", "{oops"], "--input is not valid JSON"),
        (["--input-file", "missing.json"], "cannot read --input-file missing.json"),
        (["--activities", "no_such_module"], "cannot import activities module 'no_such_module'"),
        (["--activities", "shop_acts", "--timeout", "-1"], "--timeout must be a positive number"),
        ([], "activity 'add_one' is not provided by any registered module"),
    ],
)
def test_bad_input_exits_2(workdir: Path, args: list[str], message: str) -> None:
    file = write_ir(workdir, "add", add_two())
    done = dwf(workdir, file, *args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_missing_activity_is_named_with_its_position(workdir: Path) -> None:
    where = SourceRef("orders.yaml", 4, 9, "/do/0")
    workflow = Workflow("m", "1", "dsl", Block("a", {"a": TaskNode(id="a", activity="charge_card", source=where)}))
    done = dwf(workdir, write_ir(workdir, "m", workflow), "--activities", "shop_acts")
    assert done.returncode == 2
    assert done.stderr.startswith("orders.yaml:4:9: activity 'charge_card' is not provided by any registered module\n")
    assert "--activities MODULE" in done.stderr


def test_a_database_in_use_exits_2(workdir: Path) -> None:
    from declarative_wf.engine import Engine

    file = write_ir(workdir, "add", add_two())
    with Engine(workdir / "busy.db"):
        done = dwf(workdir, file, "--input", "1", "--activities", "shop_acts", "--db", "busy.db")
    assert done.returncode == 2 and "is in use by an engine" in done.stderr


def test_usage_errors_exit_2(workdir: Path) -> None:
    assert dwf(workdir, "nothing.json").returncode == 2
    (workdir / "ir.json").write_text('{"ir_version": 99}')
    bad_ir = dwf(workdir, "ir.json")
    assert bad_ir.returncode == 2 and "not an IR document" in bad_ir.stderr
    both = dwf(workdir, "ir.json", "--input", "1", "--input-file", "x")
    assert both.returncode == 2 and "not allowed with argument" in both.stderr
    level = dwf(workdir, write_ir(workdir, "add", add_two()), "--log-level", "loud")
    assert level.returncode == 2 and "--log-level 'loud'" in level.stderr


def run_on_terminal(workdir: Path, *args: str) -> tuple[int, str]:
    """``dwf run`` with stderr on a pseudo-terminal: what a person at a terminal sees."""
    import pty

    master, slave = pty.openpty()
    env = {**os.environ, "DWF_TEST_LOG": str(workdir / "effects.log"), "NO_COLOR": "1"}
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "declarative_wf.cli", "run", *args],
            cwd=workdir, env=env, stdout=subprocess.DEVNULL, stderr=slave,
        )
        os.close(slave)
        chunks = []
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        return process.wait(timeout=30), b"".join(chunks).decode().replace("\r\n", "\n")
    finally:
        os.close(master)


def test_progress_on_a_terminal(workdir: Path) -> None:
    file = write_ir(workdir, "add", add_two())
    code, shown = run_on_terminal(workdir, file, "--input", "1", "--activities", "shop_acts")
    lines = shown.splitlines()
    assert code == 0
    assert lines[0].startswith("▶ add-two · instance add-two-")
    assert lines[1:5] == ["  → First", lines[2], "  → Second", lines[4]]
    assert lines[2].startswith("  ✓ First  ") and lines[4].startswith("  ✓ Second  ")
    assert lines[5].startswith("✓ COMPLETED in ")
    code, shown = run_on_terminal(workdir, file, "--input", "1", "--activities", "shop_acts", "--quiet")
    assert (code, shown) == (0, "")


def test_crash_then_rerun_resumes_without_repeating_committed_steps(workdir: Path) -> None:
    """SIGKILL `dwf run --db` while the second of three steps runs; the same command again
    finishes the instance: step 1 never runs again, step 2 at most twice (it was in flight)."""
    steps = {
        name: TaskNode(id=name, next=following, activity="step", args=Expr.literal({"n": index, "sleep": 0.4}))
        for index, (name, following) in enumerate([("s1", "s2"), ("s2", "s3"), ("s3", None)], start=1)
    }
    file = write_ir(workdir, "steps", Workflow("steps", "1", "dsl", Block("s1", dict(steps))))
    log = workdir / "effects.log"
    args = [file, "--db", "state.db", "--activities", "shop_acts", "-o", "json"]
    env = {**os.environ, "DWF_TEST_LOG": str(log), "GRPC_VERBOSITY": "ERROR"}
    victim = subprocess.Popen(
        [sys.executable, "-m", "declarative_wf.cli", "run", *args],
        cwd=workdir,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while "start s2" not in (log.read_text() if log.exists() else ""):
            assert time.monotonic() < deadline, "step s2 never started"
            assert victim.poll() is None, "dwf run ended before it could be killed"
            time.sleep(0.02)
        victim.send_signal(signal.SIGKILL)
        victim.wait(timeout=10)
    finally:
        if victim.poll() is None:
            victim.kill()
    rerun = dwf(workdir, *args)
    assert rerun.returncode == 0, rerun.stderr
    result: dict[str, Any] = json.loads(rerun.stdout)
    assert result["status"] == "COMPLETED" and result["output"] == 3
    starts = Counter(line.split()[1] for line in log.read_text().splitlines() if line.startswith("start"))
    assert starts["s1"] == 1  # committed before the kill: never again
    assert 1 <= starts["s2"] <= 2  # in flight: at least once, at most twice
    assert starts["s3"] == 1


# -- definitions in the real formats (wired up once declarative_wf.formats exists) -----------


def needs_formats() -> None:
    formats = pytest.importorskip("declarative_wf.formats")
    if not hasattr(formats, "load_definition"):
        pytest.skip("declarative_wf.formats has no load_definition yet")


ORDER_DSL = """\
dwf: 1
name: order
input:
  schema: { type: object, required: [qty], properties: { qty: { type: integer } } }
steps:
  - id: count
    call: add_one
    with: "${ input.qty }"
  - id: reserve
    call: reserve
    with: { qty: "${ result }" }
    catch: { on: [NotEnoughStock], as: problem, steps: [ { set: "${ problem.type }" } ] }
"""


def test_dsl_definition_runs(workdir: Path) -> None:
    needs_formats()
    (workdir / "order.dwf.yaml").write_text(ORDER_DSL)
    done = dwf(workdir, "order.dwf.yaml", "--input", '{"qty": 2}', "--activities", "shop_acts", "-o", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["output"] == "NotEnoughStock"


def test_dsl_failure_is_a_dsl_error_object(workdir: Path) -> None:
    needs_formats()
    (workdir / "fail.dwf.yaml").write_text(
        "dwf: 1\nname: fails\nsteps:\n  - fail: { error: OutOfStock, message: 'none left' }\n"
    )
    done = dwf(workdir, "fail.dwf.yaml", "-o", "json")
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["error"] == {"type": "OutOfStock", "message": "none left"}


def test_dsl_input_is_checked_against_its_schema(workdir: Path) -> None:
    needs_formats()
    (workdir / "order.dwf.yaml").write_text(ORDER_DSL)
    done = dwf(workdir, "order.dwf.yaml", "--input", '{"qty": "two"}', "--activities", "shop_acts")
    assert done.returncode == 2
    assert "/qty" in done.stderr and "Traceback" not in done.stderr


def test_dsl_missing_activity_is_named_with_its_position(workdir: Path) -> None:
    needs_formats()
    (workdir / "order.dwf.yaml").write_text(ORDER_DSL)
    done = dwf(workdir, "order.dwf.yaml", "--input", '{"qty": 2}')
    assert done.returncode == 2
    assert "order.dwf.yaml:6:5: activity 'add_one' is not provided" in done.stderr
    assert "order.dwf.yaml:9:5: activity 'reserve' is not provided" in done.stderr


def test_invalid_definition_prints_diagnostics_and_exits_2(workdir: Path) -> None:
    needs_formats()
    (workdir / "broken.dwf.yaml").write_text("dwf: 1\nname: broken\nsteps:\n  - call: add_one\n    wiht: 1\n")
    done = dwf(workdir, "broken.dwf.yaml", "-o", "json")
    assert done.returncode == 2 and done.stdout == ""
    first = done.stderr.splitlines()[0]
    assert first.startswith("broken.dwf.yaml:5:") and "wiht" in first  # FILE:LINE:COL: CODE message
    assert "^" not in done.stderr and "Traceback" not in done.stderr  # carets only on a terminal


def test_invalid_definition_on_a_terminal_shows_the_source_line(workdir: Path) -> None:
    needs_formats()
    (workdir / "broken.dwf.yaml").write_text("dwf: 1\nname: broken\nsteps:\n  - call: add_one\n    wiht: 1\n")
    code, shown = run_on_terminal(workdir, "broken.dwf.yaml")
    assert code == 2
    assert "5 |     wiht: 1" in shown and "^" in shown


def run_asl(workdir: Path, definition: dict[str, Any]) -> subprocess.CompletedProcess[str]:
    needs_formats()
    (workdir / "wf.asl.json").write_text(json.dumps(definition))
    done = dwf(workdir, "wf.asl.json", "-o", "json")
    if "FMT-E002" in done.stderr:
        pytest.skip("Amazon States Language is not compiled yet")
    return done


def test_asl_definition_runs(workdir: Path) -> None:
    done = run_asl(workdir, {"StartAt": "P", "States": {"P": {"Type": "Pass", "Result": {"x": 1}, "End": True}}})
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["output"] == {"x": 1}


def test_asl_failure_is_an_asl_error_object(workdir: Path) -> None:
    done = run_asl(workdir, {"StartAt": "F", "States": {"F": {"Type": "Fail", "Error": "Oops", "Cause": "because"}}})
    assert done.returncode == 1, done.stderr
    assert json.loads(done.stdout)["error"] == {"Error": "Oops", "Cause": "because"}
