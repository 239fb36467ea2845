"""Serverless Workflow speed (issue #5): validate every example, run the offline CTK scenarios.

    .venv/bin/python benchmarks/sw_ctk.py [--rounds 5] [--quick] [--json]

Two parts, figures printed per second (each the best of ``--rounds`` passes):

* **definitions/s** - ``validate_document`` over every example: the 1.x corpus documents of
  ``benchmarks/sw_validate.py`` (examples, doc-examples, CTK workflows; its loader is reused)
  and the 57 examples of Serverless Workflow 0.8 (``formats.sw08``), loaded once beforehand.
  Every one must validate (exit status 1 otherwise).
* **scenarios/s** - the CTK scenarios that need no HTTP server (12 of the 21 in
  ``ctk/features/*.feature``), one after the other on one embedded engine, with the CTK
  runner of ``tests/formats/sw/ctk`` (its Gherkin parsing and steps, imported): parse the
  definition, compile, run on the engine, check every expectation. Every scenario must pass.

Against two rates measured in the same run, one instance at a time like the scenarios:

* ``compiled`` - the same workflows, already compiled, started and awaited on the same
  engine: what remains when Gherkin, YAML loading, validation, compilation and the checks
  are taken away (interpretation + engine);
* ``plain``    - the baseline: the same workflows written as plain Dapr SDK workflows. The
  12 scenarios are pure data transformations (``set``, ``switch``, ``for``, ``do``, ``fork``,
  ``raise``; ``emit`` publishes one event), so written by hand each is a few Python lines
  returning the scenario's result, and its cost is the engine's per-instance floor. It is
  measured as exactly that: a plain SDK workflow returning (or, for ``raise``, failing with)
  each scenario's expected outcome, on a second embedded engine of its own.

``--quick``: one round (a smoke run). See docs/benchmarks.md.
"""

from __future__ import annotations

import os

os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

import argparse
import json
import logging
import re
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT), str(ROOT / "benchmarks")]

import dapr.ext.workflow as wf
from dapr.ext.workflow.logger import LoggerOptions
from sw_validate import best_rate, corpus, load_documents

from declarative_wf.engine import Engine
from declarative_wf.formats.sw.validate import validate_document as validate_sw
from declarative_wf.formats.sw08 import validate_document as validate_sw08
from declarative_wf.ir import Workflow
from declarative_wf.loading import LoadedDocument, load_file
from declarative_wf.worker import new_client, quiet_sdk_logging
from tests.formats.sw.ctk.harness import Harness, running_harness
from tests.formats.sw.ctk.runner import Scenario, collect_scenarios, ctk_features_dir
from tests.formats.sw.ctk.steps import World, run_scenario

#: A scenario needs an HTTP server when one of its definitions calls out (the CTK's petstore /
#: httpbin scenarios); the rest run on the engine alone.
_CALLS_OUT = re.compile(r"call:\s*(http|openapi|grpc|asyncapi)\b|endpoint:|uri:")
EXPECTED_OFFLINE = 12


def offline_scenarios() -> list[Scenario]:
    return [
        s
        for s in collect_scenarios(ctk_features_dir())
        if not any(_CALLS_OUT.search(step.doc_string or "") for step in s.steps)
    ]


# -- validation -----------------------------------------------------------------------------------


def sw08_documents() -> list[LoadedDocument]:
    folder = corpus().parent / "serverless-workflow-0.8" / "examples"
    return [
        load_file(p)
        for p in sorted(folder.glob("*/*"))
        if p.suffix in (".json", ".yaml")
    ]


def validation_rates(rounds: int) -> dict[str, Any]:
    sw1, sw08 = load_documents(corpus()), sw08_documents()
    invalid = [d.file for d in sw1 if any(x.is_error for x in validate_sw(d))]
    invalid += [d.file for d in sw08 if any(x.is_error for x in validate_sw08(d)[0])]
    if invalid:
        raise SystemExit(f"not valid: {invalid}")

    def run_sw1() -> None:
        for document in sw1:
            validate_sw(document)

    def run_sw08() -> None:
        for document in sw08:
            validate_sw08(document)

    def run_all() -> None:
        run_sw1()
        run_sw08()

    run_all()  # warm the caches (schemas, validators, jq programs)
    return {
        "definitions": {"1.x": len(sw1), "0.8": len(sw08)},
        "definitions_per_s": best_rate(len(sw1) + len(sw08), rounds, run_all),
        "definitions_per_s_1x": best_rate(len(sw1), rounds, run_sw1),
        "definitions_per_s_08": best_rate(len(sw08), rounds, run_sw08),
    }


# -- scenarios ------------------------------------------------------------------------------------


@dataclass
class Ran:
    """What a scenario ran: its compiled workflow, input and outcome (for the comparisons)."""

    scenario: Scenario
    workflow: Workflow
    input: Any
    status: str
    output: Any


def run_scenarios(
    harness: Harness, scenarios: list[Scenario], folder: Path
) -> list[Ran]:
    ran = []
    for index, scenario in enumerate(scenarios):
        world = World(harness, scenario, folder / f"s{index}")
        world.tmp.mkdir(parents=True, exist_ok=True)
        run_scenario(world)  # raises StepFailure when an expectation does not hold
        outcome = world.result()
        assert world.workflow is not None
        ran.append(
            Ran(scenario, world.workflow, world.input, outcome.status, outcome.output)
        )
    return ran


def plain(ctx: wf.DaprWorkflowContext, expected: dict[str, Any]) -> Any:
    """The baseline: a scenario's workflow written by hand has nothing to do but produce its
    result (or fail like ``raise``)."""
    if expected["status"] == "FAILED":
        raise RuntimeError("raised")
    return expected["output"]


def plain_rate(ran: list[Ran], rounds: int, folder: Path) -> float:
    with Engine(folder / "plain.db") as engine:
        # CRITICAL: the SDK logs a traceback for every failed instance (the raise scenario's).
        quiet = LoggerOptions(log_level=logging.CRITICAL)  # type: ignore[arg-type]
        runtime = wf.WorkflowRuntime(
            host=engine.host, port=str(engine.port), logger_options=quiet
        )
        runtime.register_workflow(plain)
        quiet_sdk_logging(logging.CRITICAL)
        runtime.start()  # type: ignore[no-untyped-call]
        client = new_client(engine.host, engine.port)
        counter = iter(range(10**9))
        try:

            def one_pass() -> None:
                for item in ran:
                    instance = client.schedule_new_workflow(
                        plain,
                        input={"status": item.status, "output": item.output},
                        instance_id=f"p{next(counter)}",
                    )
                    state = client.wait_for_workflow_completion(
                        instance, timeout_in_seconds=60
                    )
                    if state is None or state.runtime_status.name != item.status:
                        raise SystemExit(
                            f"plain workflow {instance} ended {state and state.runtime_status.name}"
                        )

            one_pass()  # warm up
            return best_rate(len(ran), rounds, one_pass)
        finally:
            client.close()  # type: ignore[no-untyped-call]
            runtime.shutdown()


def scenario_rates(rounds: int) -> dict[str, Any]:
    scenarios = offline_scenarios()
    if len(scenarios) != EXPECTED_OFFLINE:
        raise SystemExit(
            f"expected {EXPECTED_OFFLINE} offline CTK scenarios, found {[s.test_id for s in scenarios]}"
        )
    with tempfile.TemporaryDirectory(prefix="dwf-sw-ctk-") as tmp:
        folder = Path(tmp)
        with running_harness(folder) as harness:
            # The first pass checks every scenario and warms up.
            ran = run_scenarios(harness, scenarios, folder)
            passes = iter(range(10**6))

            def all_scenarios() -> None:
                run_scenarios(harness, scenarios, folder / f"pass{next(passes)}")

            def all_compiled() -> None:
                for item in ran:
                    outcome = harness.run(item.workflow, item.input)
                    if outcome.status != item.status:
                        raise SystemExit(
                            f"{item.scenario.test_id}: {outcome.status}, expected {item.status}"
                        )

            scenario_rate = best_rate(len(scenarios), rounds, all_scenarios)
            compiled_rate = best_rate(len(ran), rounds, all_compiled)
        plain_per_s = plain_rate(ran, rounds, folder)
    return {
        "scenarios": [s.test_id for s in scenarios],
        "scenarios_per_s": scenario_rate,
        "compiled_per_s": compiled_rate,
        "plain_per_s": plain_per_s,
        "ratio": scenario_rate / plain_per_s,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument(
        "--rounds", type=int, default=5, help="passes; the best counts (default 5)"
    )
    parser.add_argument("--quick", action="store_true", help="one round: a smoke run")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    rounds = 1 if args.quick else max(1, args.rounds)
    if not corpus().is_dir() or ctk_features_dir() is None:
        print(f"corpus not found at {corpus()}: set $DWF_CORPUS", file=sys.stderr)
        return 1
    quiet_sdk_logging()
    started = time.perf_counter()
    summary: dict[str, Any] = {
        "rounds": rounds,
        **validation_rates(rounds),
        **scenario_rates(rounds),
    }
    summary["seconds"] = time.perf_counter() - started
    if args.json:
        print(json.dumps(summary))
        return 0
    counts = summary["definitions"]
    print(
        f"validate: {counts['1.x']} SW 1.x + {counts['0.8']} SW 0.8 definitions, best of {rounds}"
    )
    print(f"  all       {summary['definitions_per_s']:8.1f} definitions/s")
    print(f"  1.x       {summary['definitions_per_s_1x']:8.1f} definitions/s")
    print(f"  0.8       {summary['definitions_per_s_08']:8.1f} definitions/s")
    print(
        f"CTK: {len(summary['scenarios'])} offline scenarios, one at a time, best of {rounds}"
    )
    print(
        f"  scenarios {summary['scenarios_per_s']:8.1f} scenarios/s (parse, compile, run, check)"
    )
    print(
        f"  compiled  {summary['compiled_per_s']:8.1f} instances/s (the same workflows, precompiled)"
    )
    print(
        f"  plain     {summary['plain_per_s']:8.1f} instances/s (baseline: plain Dapr SDK workflows)"
    )
    print(f"  ratio     {summary['ratio']:8.2f} (scenarios / plain)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
