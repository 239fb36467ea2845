"""Every sample README's commands run as documented and print the documented output."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted(path.parent for path in ROOT.glob("samples/*/workflow.dwf.yaml"))

pytestmark = pytest.mark.integration


def documented_run(readme: Path) -> tuple[list[str], str]:
    """The `$ dwf run ...` command of a README and the output shown after it."""
    block = re.search(r"```\n(.*?)```", readme.read_text(), re.S)
    assert block, f"{readme} has no example block"
    lines = block.group(1).splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("$ dwf run"))
    command = shlex.split(lines[index][2:])
    output = "\n".join(line for line in lines[index + 1 :] if not line.startswith("$ "))
    return command, output


def documented_asl_runs(readme: Path) -> list[tuple[list[str], str]]:
    """Every ``$ dwf run …workflow.asl.…`` command of a README with the output shown after it."""
    found = []
    for block in re.findall(r"```\n(.*?)```", readme.read_text(), re.DOTALL):
        lines = block.splitlines()
        if lines and lines[0].startswith("$ dwf run") and ".asl." in lines[0]:
            found.append((shlex.split(lines[0][2:]), "\n".join(lines[1:])))
    return found


ASL_RUNS = [(sample, run) for sample in SAMPLES for run in documented_asl_runs(sample / "README.md")]


def documented_sw_runs(readme: Path) -> list[tuple[list[str], str]]:
    """Every ``$ dwf run …workflow.sw.yaml`` command of a README with the output shown after it."""
    found = []
    for block in re.findall(r"```\n(.*?)```", readme.read_text(), re.DOTALL):
        lines = block.splitlines()
        if lines and lines[0].startswith("$ dwf run") and ".sw." in lines[0]:
            found.append((shlex.split(lines[0][2:]), "\n".join(lines[1:])))
    return found


SW_RUNS = [(sample, run) for sample in SAMPLES for run in documented_sw_runs(sample / "README.md")]


@pytest.mark.parametrize(("sample", "documented"), SW_RUNS, ids=lambda value: value.name if isinstance(value, Path) else "sw")
def test_sw_variant_runs_as_documented(sample: Path, documented: tuple[list[str], str], tmp_path: Path) -> None:
    test_sample_runs_as_documented(sample, tmp_path, documented)


@pytest.mark.parametrize(("sample", "documented"), ASL_RUNS, ids=lambda value: value.name if isinstance(value, Path) else "asl")
def test_asl_variant_runs_as_documented(sample: Path, documented: tuple[list[str], str], tmp_path: Path) -> None:
    test_sample_runs_as_documented(sample, tmp_path, documented)


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.name)
def test_sample_runs_as_documented(sample: Path, tmp_path: Path, documented: tuple[list[str], str] | None = None) -> None:
    command, expected = documented or documented_run(sample / "README.md")
    server = None
    if sample.name == "async-http":
        sys.path.insert(0, str(sample))
        sys.modules.pop("server", None)  # a fresh job API (its ids start at 1) for every run
        try:
            import server as job_api  # the sample's own job API

            server = job_api.serve(0)
        finally:
            sys.path.remove(str(sample))
        port = server.server_address[1]
        command = [part.replace("127.0.0.1:8080", f"127.0.0.1:{port}") for part in command]
    try:
        result = subprocess.run(
            [sys.executable, "-m", "declarative_wf.cli", *command[1:], "--db", str(tmp_path / "state.db")],
            cwd=ROOT, capture_output=True, text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"},
        )
    finally:
        if server is not None:
            server.shutdown()
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == json.loads(expected)
