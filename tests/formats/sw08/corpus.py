"""Where the Serverless Workflow 0.8 corpus is (examples, official schemas), and its known failures."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
MISSING = "Serverless Workflow 0.8 corpus not found: set $DWF_CORPUS or put it at ../shared/corpus"
HERE = Path(__file__).resolve().parent


def corpus_dir() -> Path | None:
    configured = os.environ.get("DWF_CORPUS")
    root = Path(configured) if configured else REPO.parent / "shared" / "corpus"
    folder = root / "serverless-workflow-0.8"
    return folder if folder.is_dir() else None


def examples() -> list[Path]:
    folder = corpus_dir()
    if folder is None:
        return []
    return sorted(
        p for p in (folder / "examples").glob("*/*") if p.suffix in (".json", ".yaml")
    )


def example_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name}"


def known_failures() -> dict[str, dict[str, Any]]:
    """``{"json/08-...json": {"codes": [...], "reason": "..."}}``: examples that are rejected on
    purpose, each with the codes expected and why."""
    data: dict[str, dict[str, Any]] = json.loads(
        (HERE / "known_failures.json").read_text(encoding="utf-8")
    )
    return data


def official_validator() -> Any:
    """jsonschema Draft 7 over the corpus's workflow.json, with every schema file registered
    by its ``$id`` (they reference each other)."""
    import jsonschema
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    folder = corpus_dir()
    assert folder is not None
    resources = []
    for path in sorted((folder / "schema").rglob("*.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append(
            (
                contents["$id"],
                Resource.from_contents(contents, default_specification=DRAFT7),
            )
        )
    workflow = json.loads(
        (folder / "schema" / "workflow.json").read_text(encoding="utf-8")
    )
    return jsonschema.Draft7Validator(
        workflow, registry=Registry().with_resources(resources)
    )
