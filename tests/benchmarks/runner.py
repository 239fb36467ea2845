"""Runs a script of benchmarks/ the way a person does: a child Python process, its output
captured. The smoke tests check that a benchmark runs end to end, never how fast."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def run_benchmark(
    script: str, *args: str, timeout: float, env: dict[str, str] | None = None, expect: int = 0
) -> subprocess.CompletedProcess[str]:
    """``benchmarks/<script> args`` (gRPC's own logging quiet, ``env`` added to ours); fails the
    test, showing both outputs, when it does not exit with ``expect``."""
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "GRPC_VERBOSITY": "ERROR", **(env or {})},
    )
    assert done.returncode == expect, f"exit {done.returncode}\nstdout:\n{done.stdout}\nstderr:\n{done.stderr}"
    return done
