"""Where the shared ASL corpora are, and JSON equality as AWS's outputs need it."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]


def corpus_root() -> Path:
    configured = os.environ.get("DWF_CORPUS")
    return Path(configured) if configured else REPO.parent / "shared" / "corpus"


def recorded_cases_dir() -> Path | None:
    cases = corpus_root() / "asl-aws-recorded" / "cases"
    return cases if cases.is_dir() else None


def validator_dir() -> Path | None:
    folder = corpus_root() / "asl-validator"
    return folder if folder.is_dir() else None


MISSING = "corpus not found: set $DWF_CORPUS or put it at ../shared/corpus"


def load_cases() -> list[dict[str, Any]]:
    folder = recorded_cases_dir()
    if folder is None:
        return []
    return [json.loads(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.json"))]


def json_equal(left: Any, right: Any) -> bool:
    """Equal as JSON values: key order does not matter, ``1 == 1.0``, but ``true != 1``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    if isinstance(left, (int, float)) and isinstance(right, (int, float)):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[key], right[key]) for key in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(json_equal(a, b) for a, b in zip(left, right))
    return type(left) is type(right) and left == right
