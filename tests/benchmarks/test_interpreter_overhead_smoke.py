"""Smoke test of benchmarks/interpreter_overhead.py: it runs end to end, compares both shapes and
reports the for-each scaling.

No timing assertions: speed targets live in the benchmark's output, never in tests.
"""

from __future__ import annotations

import re

import pytest

from .runner import run_benchmark

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_quick_run_reports_both_shapes_and_the_scaling() -> None:
    done = run_benchmark("interpreter_overhead.py", "--quick", timeout=180)
    lines = done.stdout.splitlines()
    for shape in ("chain", "fan-out"):
        row = next((line for line in lines if line.split()[:1] == [shape]), None)
        assert row is not None, f"no row for {shape!r} in:\n{done.stdout}"
        assert re.search(r"\d+\.\d\dx", row), row  # the ratio
    assert sum("for-each over" in line for line in lines) == 2
    assert any(line.startswith("time per item at") for line in lines)
