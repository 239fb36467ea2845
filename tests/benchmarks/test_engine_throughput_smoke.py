"""Smoke test of benchmarks/engine_throughput.py: it runs end to end and reports every shape.

No timing assertions: speed targets live in the benchmark's output, never in tests.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from .runner import run_benchmark

SHAPES = ("chain", "fan-out", "timers")

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def run_quick(*extra: str) -> subprocess.CompletedProcess[str]:
    return run_benchmark("engine_throughput.py", "--quick", *extra, timeout=120)


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
