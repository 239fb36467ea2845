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


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.name)
def test_sample_runs_as_documented(sample: Path, tmp_path: Path) -> None:
    command, expected = documented_run(sample / "README.md")
    server = None
    if sample.name == "async-http":
        sys.path.insert(0, str(sample))
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
