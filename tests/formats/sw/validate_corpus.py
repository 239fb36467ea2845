"""The Serverless Workflow 1.0 corpus for validation tests: where it is, its documents (the CTK
workflows come out of the Gherkin doc strings), and the official schema as the reference."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
MISSING = "Serverless Workflow corpus not found: set $DWF_CORPUS or put it at ../shared/corpus"

_DOC_STRING = re.compile(r'Given a workflow with definition:\s*\n([ \t]*)"""[a-z]*\n(.*?)\n[ \t]*"""', re.DOTALL)


def sw_root() -> Path | None:
    configured = os.environ.get("DWF_CORPUS")
    root = (Path(configured) if configured else REPO.parent / "shared" / "corpus") / "serverless-workflow-1.0"
    return root if root.is_dir() else None


def ctk_workflows(features: Path) -> Iterator[tuple[str, str]]:
    """(name, YAML text) of every workflow in the doc strings of ``features/*.feature``."""
    for path in sorted(features.glob("*.feature")):
        for index, match in enumerate(_DOC_STRING.finditer(path.read_text(encoding="utf-8"))):
            indent = len(match.group(1))
            yield f"{path.name}#{index + 1}", "\n".join(line[indent:] for line in match.group(2).split("\n"))


def documents(*groups: str) -> list[tuple[str, str]]:
    """(name, text) of the corpus documents of ``groups``: examples, doc-examples, ctk, invalid,
    ows-examples, ows-ctk."""
    root = sw_root()
    if root is None:
        return []
    found: list[tuple[str, str]] = []
    folders = {"examples": root / "examples", "doc-examples": root / "doc-examples", "invalid": root / "invalid",
               "ows-examples": root / "ows-main" / "examples"}  # fmt: skip
    for group in groups:
        if group in folders:
            found += [(f"{group}/{path.name}", path.read_text(encoding="utf-8")) for path in sorted(folders[group].glob("*.yaml"))]
        elif group == "ctk":
            found += [(f"ctk/{name}", text) for name, text in ctk_workflows(root / "ctk" / "features")]
        elif group == "ows-ctk":
            found += [(f"ows-ctk/{name}", text) for name, text in ctk_workflows(root / "ows-main" / "ctk" / "features")]
    return found


@cache
def official_validator(ows: bool = False) -> Any:
    """Draft202012Validator of the official schema (1.0.3, or OWS main)."""
    import jsonschema

    root = sw_root()
    assert root is not None
    path = root / ("ows-main/schema/workflow.json" if ows else "schema/workflow.json")
    return jsonschema.Draft202012Validator(json.loads(path.read_text(encoding="utf-8")))
