"""Activities of the API tests' servers and workers."""

from __future__ import annotations

import os
import time
from typing import Any


def double(value: dict[str, Any]) -> dict[str, Any]:
    return {"n": value["n"] * 2}


def record(value: dict[str, Any]) -> dict[str, Any]:
    """Appends ``instance step`` to $DWF_TEST_RECORD (one line per execution), after a pause so
    a crash can land while steps are in flight."""
    time.sleep(float(value.get("pause", 0.2)))
    path = os.environ.get("DWF_TEST_RECORD")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(f"{value['id']} {value['step']}\n")
    return {**value, "step": value["step"] + 1}
