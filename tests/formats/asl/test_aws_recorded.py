"""Conformance: every execution of ``shared/corpus/asl-aws-recorded`` runs on the real embedded
engine and must end as it ended on AWS.

One engine and one worker serve the whole session; every case is compiled and started at once,
then all are awaited (some wait up to 10 s, so running them together keeps the suite short).
A SUCCEEDED case must give an output JSON-equal to AWS's; a FAILED case the same error and, where
AWS's cause was recorded, the same cause.

Cases that still differ are listed in ``known_failures.json`` (name → reason). A listed case
that starts passing fails the suite, so the list stays true.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dapr.ext.workflow as wf
import pytest

from declarative_wf.activities import Registry
from declarative_wf.engine import Engine
from declarative_wf.formats.asl import compile_asl
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
from declarative_wf.interpreter.workflow import make_payload
from declarative_wf.loading import load_text
from declarative_wf.worker import start_worker

from .corpus import MISSING, json_equal, load_cases

pytestmark = pytest.mark.conformance

KNOWN_FAILURES_FILE = Path(__file__).with_name("known_failures.json")
KNOWN_FAILURES: dict[str, str] = json.loads(KNOWN_FAILURES_FILE.read_text(encoding="utf-8"))
CASES = load_cases()
#: The longest any one case may take once all have started (the slowest waits ~10 s).
WAIT_SECONDS = 120


@dataclass
class Outcome:
    status: str  # SUCCEEDED | FAILED | COMPILE_ERROR | TIMEOUT | ...
    output: Any = None
    error: str | None = None
    cause: str | None = None


def _instance_id(index: int, name: str) -> str:
    return f"asl-{index:04d}-{hashlib.sha256(name.encode()).hexdigest()[:10]}"


def _outcome(state: Any) -> Outcome:
    if state is None:
        return Outcome("TIMEOUT")
    status = state.runtime_status.name
    if status == "COMPLETED":
        output = json.loads(state.serialized_output) if state.serialized_output else None
        return Outcome("SUCCEEDED", output=output)
    if status == "FAILED":
        details = state.failure_details
        # A Fail state without Error fails with no error name (the interpreter's empty type).
        error = getattr(details, "error_type", None) or None
        return Outcome("FAILED", error=error, cause=getattr(details, "message", None) or "")
    return Outcome(status)


@pytest.fixture(scope="session")
def recorded_outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    if not CASES:
        pytest.skip(MISSING)
    outcomes: dict[str, Outcome] = {}
    started = time.monotonic()
    with Engine(tmp_path_factory.mktemp("asl-corpus") / "corpus.db") as engine:
        runtime = start_worker(engine.host, engine.port, Registry())
        client = wf.DaprWorkflowClient(host=engine.host, port=str(engine.port))
        try:
            pending: dict[str, str] = {}
            for index, case in enumerate(CASES):
                document = load_text(json.dumps(case["definition"]), f"{case['name']}.asl.json")
                try:
                    workflow = compile_asl(document)
                except Exception as error:  # noqa: BLE001 - reported per case below
                    outcomes[case["name"]] = Outcome("COMPILE_ERROR", cause=str(error))
                    continue
                iid = _instance_id(index, case["name"])
                client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(workflow, case["input"]), instance_id=iid)
                pending[case["name"]] = iid
            deadline = time.monotonic() + WAIT_SECONDS
            for name, iid in pending.items():
                remaining = max(1.0, deadline - time.monotonic())
                try:
                    state = client.wait_for_workflow_completion(iid, fetch_payloads=True, timeout_in_seconds=int(remaining))
                except TimeoutError:
                    state = None
                outcomes[name] = _outcome(state)
        finally:
            client.close()
            runtime.shutdown()
    elapsed = time.monotonic() - started
    matched = sum(_matches(case, outcomes[case["name"]]) is None for case in CASES)
    summary = f"ASL corpus: {matched}/{len(CASES)} executions match AWS ({elapsed:.1f} s on the embedded engine)"
    print(f"\n{summary}")
    (Path(tmp_path_factory.getbasetemp()) / "asl-corpus-summary.txt").write_text(summary + "\n")
    yield outcomes


def _matches(case: dict[str, Any], outcome: Outcome) -> str | None:
    """None when the outcome is AWS's, else what differs."""
    expected = case["expected"]
    if outcome.status != expected["status"]:
        detail = outcome.cause if outcome.status != "SUCCEEDED" else json.dumps(outcome.output)[:300]
        return f"status {outcome.status} ({outcome.error}: {detail}), AWS {expected['status']}"
    if expected["status"] == "SUCCEEDED":
        if not json_equal(outcome.output, expected["output"]):
            return f"output {json.dumps(outcome.output)[:500]}, AWS {json.dumps(expected['output'])[:500]}"
        return None
    if outcome.error != expected.get("error"):
        return f"error {outcome.error!r}, AWS {expected.get('error')!r} (cause {outcome.cause!r})"
    if "cause" in expected and outcome.cause != expected["cause"]:
        return f"cause {outcome.cause!r}, AWS {expected['cause']!r}"
    return None


@pytest.mark.parametrize("case", CASES or [pytest.param(None, marks=pytest.mark.skip(reason=MISSING))], ids=lambda c: c["name"] if c else "none")
def test_execution_matches_aws(case: dict[str, Any], recorded_outcomes: dict[str, Outcome]) -> None:
    difference = _matches(case, recorded_outcomes[case["name"]])
    reason = KNOWN_FAILURES.get(case["name"])
    if reason is not None:
        assert difference is not None, f"listed in known_failures.json ({reason}) but now matches AWS: remove it"
        pytest.xfail(f"known failure: {reason}")
    assert difference is None, difference


def test_known_failures_name_real_cases() -> None:
    if not CASES:
        pytest.skip(MISSING)
    names = {case["name"] for case in CASES}
    assert sorted(set(KNOWN_FAILURES) - names) == []
