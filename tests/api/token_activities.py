"""The activity of tests/api/test_task_tokens.py's server: hands each task token to the test
by appending ``{"token", "order"}`` as a JSON line to the file $DWF_TEST_TOKENS names."""

from __future__ import annotations

import json
import os
from typing import Any


def notify(request: dict[str, Any]) -> dict[str, Any]:
    with open(os.environ["DWF_TEST_TOKENS"], "a", encoding="utf-8") as handle:
        handle.write(json.dumps(request) + "\n")
    return {"queued": True}
