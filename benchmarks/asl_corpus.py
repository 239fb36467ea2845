"""Amazon States Language on the embedded engine: the whole AWS-recorded corpus, and Map scaling.

    .venv/bin/python benchmarks/asl_corpus.py [--quick] [--json]

* corpus - every case of ``../shared/corpus/asl-aws-recorded`` (or ``$DWF_CORPUS``) compiled,
           started at once and awaited on one engine and one worker; prints cases/s and how many
           match AWS. Cases wait up to 10 s, so the wall time has a floor of about 10 s.
* map    - a Map of Pass states over 1,000 items, then over 10,000 (``--quick``: 100 and 1,000),
           each alone on the engine; prints the time per item of each and their ratio (the issue's
           target: the large Map's time per item at most 1.2x the small one's).

Exit status 0 when everything ran (a ratio above the target is reported, not an error).
"""

from __future__ import annotations

import os

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

import argparse
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import dapr.ext.workflow as wf

from declarative_wf.activities import Registry
from declarative_wf.engine import Engine
from declarative_wf.formats.asl import compile_asl
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
from declarative_wf.interpreter.workflow import make_payload
from declarative_wf.loading import load_text
from declarative_wf.worker import start_worker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the corpus helpers of the tests: one reading of the cases, one equality

from tests.formats.asl.corpus import json_equal, load_cases

RATIO_TARGET = 1.2
MAP_DEFINITION = {
    "StartAt": "M",
    "States": {"M": {"Type": "Map", "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "Parameters": {"v.$": "$"}, "End": True}}}, "End": True}},
}


def matches(case: dict[str, Any], state: Any) -> bool:
    expected = case["expected"]
    status = state.runtime_status.name if state is not None else "TIMEOUT"
    if expected["status"] == "SUCCEEDED":
        return status == "COMPLETED" and json_equal(json.loads(state.serialized_output or "null"), expected["output"])
    if status != "FAILED":
        return False
    details = state.failure_details
    error = (getattr(details, "error_type", None) or None) if details else None
    cause = (getattr(details, "message", None) or "") if details else ""
    return error == expected.get("error") and ("cause" not in expected or cause == expected["cause"])


def run_corpus(client: wf.DaprWorkflowClient, cases: list[dict[str, Any]]) -> dict[str, Any]:
    started = time.perf_counter()
    ids = []
    for index, case in enumerate(cases):
        workflow = compile_asl(load_text(json.dumps(case["definition"]), f"{case['name']}.json"))
        iid = f"bench-{index}-{hashlib.sha256(case['name'].encode()).hexdigest()[:8]}-{time.time_ns()}"
        client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(workflow, case["input"]), instance_id=iid)
        ids.append(iid)
    matched = 0
    for case, iid in zip(cases, ids):
        state = client.wait_for_workflow_completion(iid, fetch_payloads=True, timeout_in_seconds=300)
        matched += matches(case, state)
    elapsed = time.perf_counter() - started
    return {"cases": len(cases), "matched": matched, "seconds": round(elapsed, 3), "cases_per_s": round(len(cases) / elapsed, 1)}


def run_map(client: wf.DaprWorkflowClient, size: int) -> float:
    workflow = compile_asl(load_text(json.dumps(MAP_DEFINITION), "map.asl.json"))
    started = time.perf_counter()
    iid = client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(workflow, list(range(size))), instance_id=f"bench-map-{size}-{time.time_ns()}")
    state = client.wait_for_workflow_completion(iid, fetch_payloads=False, timeout_in_seconds=1800)
    if state is None or state.runtime_status.name != "COMPLETED":
        raise SystemExit(f"the Map over {size} items did not complete: {state and state.runtime_status.name}")
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller Maps (100 and 1,000 items)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    options = parser.parse_args()
    small, large = (100, 1_000) if options.quick else (1_000, 10_000)
    cases = load_cases()
    summary: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="dwf-asl-bench-") as directory, Engine(Path(directory) / "bench.db") as engine:
        runtime = start_worker(engine.host, engine.port, Registry())
        client = wf.DaprWorkflowClient(host=engine.host, port=str(engine.port))
        try:
            summary["corpus"] = run_corpus(client, cases) if cases else None
            run_map(client, 10)  # warm-up
            small_s, large_s = run_map(client, small), run_map(client, large)
        finally:
            client.close()
            runtime.shutdown()
    per_small, per_large = small_s / small * 1000, large_s / large * 1000
    summary["map"] = {
        "small": {"items": small, "seconds": round(small_s, 3), "ms_per_item": round(per_small, 4)},
        "large": {"items": large, "seconds": round(large_s, 3), "ms_per_item": round(per_large, 4)},
        "ratio": round(per_large / per_small, 2),
        "target": RATIO_TARGET,
    }
    if options.json:
        print(json.dumps(summary))
        return 0
    corpus = summary["corpus"]
    if corpus:
        print(f"corpus  {corpus['matched']}/{corpus['cases']} match AWS   {corpus['seconds']:.1f} s   {corpus['cases_per_s']:.1f} cases/s")
    else:
        print("corpus  not found (set $DWF_CORPUS)")
    mapped = summary["map"]
    for key in ("small", "large"):
        row = mapped[key]
        print(f"map     {row['items']:>6} items   {row['seconds']:.2f} s   {row['ms_per_item']:.3f} ms/item")
    verdict = "within" if mapped["ratio"] <= RATIO_TARGET else "ABOVE"
    print(f"map     ratio {mapped['ratio']:.2f} ({verdict} the {RATIO_TARGET}x target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
