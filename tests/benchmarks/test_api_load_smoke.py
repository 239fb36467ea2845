"""Smoke test of benchmarks/api_load.py: it runs end to end and reports both phases.

No timing assertions: speed figures live in the benchmark's output, never in tests.
"""

from __future__ import annotations

import json

import pytest

from .runner import run_benchmark

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_quick_run_reports_both_phases() -> None:
    done = run_benchmark("api_load.py", "--quick", "--json", timeout=180)
    report = json.loads(done.stdout)
    assert [phase["name"] for phase in report["phases"]] == ["http", "direct"]
    assert all(phase["count"] == 50 and phase["starts_per_s"] > 0 for phase in report["phases"])
    assert report["ratio"] > 0
