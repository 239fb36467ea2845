"""The JSON Schemas shipped in the package (``schemas/`` at the top of the repository, linked
into ``declarative_wf/schemas``), read once per process."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any


@cache
def packaged_schema(file_name: str) -> dict[str, Any]:
    """The parsed schema ``file_name`` (e.g. ``"dsl.schema.json"``). Cached: callers share it
    and must not change it."""
    text = (resources.files("declarative_wf") / "schemas" / file_name).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema
