"""Smoke test of benchmarks/api_load.py: it runs end to end and reports both phases.

No timing assertions: speed figures live in the benchmark's output, never in tests.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "api_load.py"

pytestmark = [pytest.mark.slow, pytest.mark.integration]


def test_quick_run_reports_both_phases() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--json"],
        capture_output=True, text=True, timeout=180, check=False, env={**os.environ, "GRPC_VERBOSITY": "ERROR"},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert [phase["name"] for phase in report["phases"]] == ["http", "direct"]
    assert all(phase["count"] == 50 and phase["starts_per_s"] > 0 for phase in report["phases"])
    assert report["ratio"] > 0
