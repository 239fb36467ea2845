"""Smoke test of benchmarks/sw_ctk.py (issue #5's speed check): in --quick mode it validates
every Serverless Workflow example (1.x and 0.8) and runs the 12 offline CTK scenarios on the
embedded engine, printing definitions/s and scenarios/s against its plain Dapr SDK baseline.

No timing assertions: speed targets live in the benchmark's output, never in tests.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ..formats.asl.corpus import corpus_root
from .runner import run_benchmark

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def run_quick(*extra: str) -> subprocess.CompletedProcess[str]:
    if not (corpus_root() / "serverless-workflow-1.0" / "ctk" / "features").is_dir():
        pytest.skip(
            "Serverless Workflow corpus not found: set $DWF_CORPUS or put it at ../shared/corpus"
        )
    return run_benchmark("sw_ctk.py", "--quick", *extra, timeout=300)


def test_quick_run_prints_both_rates_and_the_baseline() -> None:
    out = run_quick().stdout
    for unit in ("definitions/s", "scenarios/s", "plain Dapr SDK"):
        assert unit in out, out
    assert "128 SW 1.x + 57 SW 0.8 definitions" in out, out
    assert "12 offline scenarios" in out, out


def test_quick_run_json_has_positive_figures() -> None:
    summary = json.loads(run_quick("--json").stdout)
    assert summary["rounds"] == 1
    assert summary["definitions"] == {"1.x": 128, "0.8": 57}
    assert len(summary["scenarios"]) == 12
    assert "raise/Raise task with inline error" in summary["scenarios"]
    assert not any(name.startswith("call/") for name in summary["scenarios"])
    for key in (
        "definitions_per_s",
        "definitions_per_s_08",
        "scenarios_per_s",
        "compiled_per_s",
        "plain_per_s",
    ):
        assert summary[key] > 0, key


def test_an_unknown_option_is_a_usage_error() -> None:
    done = run_benchmark("sw_ctk.py", "--fast", timeout=60, expect=2)
    assert "--fast" in done.stderr


def test_a_missing_corpus_is_a_clear_error(tmp_path: Path) -> None:
    done = run_benchmark("sw_ctk.py", "--quick", timeout=60, env={"DWF_CORPUS": str(tmp_path / "nowhere")}, expect=1)
    assert "corpus not found" in done.stderr and "DWF_CORPUS" in done.stderr
    assert "Traceback" not in done.stderr
