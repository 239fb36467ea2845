"""`dwf engine`: usage errors and refusals are messages with exit code 2, never tracebacks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from declarative_wf.cli import main


def test_bad_port_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["engine", "--db", str(tmp_path / "x.db"), "--port", "70000"]) == 2
    assert "--port 70000" in capsys.readouterr().err


def test_not_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"\x00garbage" * 512)
    assert main(["engine", "--db", str(bogus), "--port", "0"]) == 2
    err = capsys.readouterr().err
    assert "not a usable engine database" in err and "Traceback" not in err


def test_missing_db_option_exits_2() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "declarative_wf.cli", "engine"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "--db" in result.stderr
