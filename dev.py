#!/usr/bin/env python3
"""Set up the development environment and run things, with nothing but python3 (3.11+).

    python3 dev.py demo    # set up, then run the chaining sample end to end on the embedded engine
    python3 dev.py test    # set up, then run the whole test suite (what CI runs)
    python3 dev.py setup   # only set up (.venv with declarative_wf installed in editable mode)

Extra arguments after `test` go to pytest, e.g. `python3 dev.py test -k engine -x`.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".dev-stamp"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"


def setup() -> None:
    if sys.version_info < (3, 11):
        sys.exit(f"declarative_wf needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    if not PYTHON.exists():
        print("creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    print("installing declarative_wf and its dependencies into .venv ...", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[test]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command not in {"setup", "demo", "test"}:
        print(__doc__)
        return 0 if command in {"help", "-h", "--help"} else 2
    setup()
    if command == "setup":
        return 0
    if command == "demo":
        chaining = ROOT / "samples" / "chaining"
        print("$ dwf run samples/chaining/workflow.dwf.yaml --activities samples/chaining/activities.py "
              "--input-file samples/chaining/input.json", flush=True)
        return subprocess.call(
            [str(PYTHON), "-m", "declarative_wf.cli", "run", str(chaining / "workflow.dwf.yaml"),
             "--activities", str(chaining / "activities.py"), "--input-file", str(chaining / "input.json")],
            cwd=ROOT,
        )
    return subprocess.call([str(PYTHON), "-m", "pytest", *argv[1:]], cwd=ROOT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
