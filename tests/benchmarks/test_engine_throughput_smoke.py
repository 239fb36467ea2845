"""Smoke test of benchmarks/engine_throughput.py: it runs end to end and reports every shape.

No timing assertions: speed targets live in the benchmark's output, never in tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "engine_throughput.py"
SHAPES = ("chain", "fan-out", "timers")

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def run_quick(*extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "GRPC_VERBOSITY": "ERROR"}
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", *extra],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert done.returncode == 0, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done


def test_quick_run_prints_a_row_per_shape() -> None:
    lines = run_quick().stdout.splitlines()
    for shape in SHAPES:
        assert any(line.split()[:1] == [shape] for line in lines), f"no row for {shape!r} in:\n{lines}"


def test_quick_run_json_reports_both_backends_per_shape() -> None:
    summary = json.loads(run_quick("--json").stdout)
    assert [row["shape"] for row in summary["results"]] == list(SHAPES)
    for row in summary["results"]:
        for backend in ("ours", "reference"):
            assert len(row[backend]["runs_s"]) == 1
            assert row[backend]["median_s"] > 0
