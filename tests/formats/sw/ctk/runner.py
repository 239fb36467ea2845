"""Gherkin feature files → scenarios the CTK test runs.

Parsing is done by ``gherkin-official`` (Cucumber's own parser). Backgrounds are prepended to
every scenario; a Scenario Outline becomes one scenario per Examples row (``<name>``
placeholders replaced in step texts and doc strings). Doc strings are YAML (``\"\"\"yaml``) and
are loaded as YAML 1.2 by the steps, with ``declarative_wf.loading``, like definitions.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[4]
#: Our own feature files, for what the CTK leaves out.
OWN_FEATURES = Path(__file__).resolve().parents[1] / "features"


def corpus_root() -> Path:
    configured = os.environ.get("DWF_CORPUS")
    return Path(configured) if configured else REPO.parent / "shared" / "corpus"


def ctk_features_dir() -> Path | None:
    folder = corpus_root() / "serverless-workflow-1.0" / "ctk" / "features"
    return folder if folder.is_dir() else None


MISSING = "CTK not found: set $DWF_CORPUS or put the corpus at ../shared/corpus (serverless-workflow-1.0/ctk/features)"


@dataclass(frozen=True)
class Step:
    keyword: str  # Given / When / Then / And / But (stripped)
    text: str
    doc_string: str | None
    line: int


@dataclass(frozen=True)
class Scenario:
    feature: str
    name: str
    file: Path
    line: int
    steps: tuple[Step, ...]
    tags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def test_id(self) -> str:
        return f"{self.file.stem}/{self.name}"

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"


def _step(raw: dict[str, Any], values: dict[str, str] | None = None) -> Step:
    text = raw["text"]
    doc = raw.get("docString", {}).get("content") if raw.get("docString") else None
    for name, value in (values or {}).items():
        text = text.replace(f"<{name}>", value)
        if doc is not None:
            doc = doc.replace(f"<{name}>", value)
    return Step(raw["keyword"].strip(), text, doc, raw["location"]["line"])


def parse_feature(path: Path) -> list[Scenario]:
    """The scenarios of one feature file (raises gherkin's CompositeParserException when the
    file is not Gherkin)."""
    from gherkin.parser import Parser

    document: dict[str, Any] = dict(Parser().parse(path.read_text(encoding="utf-8")))  # a JSON-like envelope
    feature = document.get("feature")
    if not feature:
        return []
    scenarios: list[Scenario] = []

    def collect(children: list[dict[str, Any]], background: list[Step], tags: tuple[str, ...]) -> None:
        for child in children:
            if "background" in child:
                background = background + [_step(s) for s in child["background"]["steps"]]
            elif "rule" in child:
                rule = child["rule"]
                collect(rule["children"], list(background), tags + tuple(t["name"] for t in rule.get("tags", [])))
            elif "scenario" in child:
                raw = child["scenario"]
                own_tags = tags + tuple(t["name"] for t in raw.get("tags", []))
                if not raw.get("examples"):
                    steps = tuple(background + [_step(s) for s in raw["steps"]])
                    scenarios.append(Scenario(feature["name"], raw["name"], path, raw["location"]["line"], steps, own_tags))
                    continue
                for examples in raw["examples"]:
                    header = [cell["value"] for cell in examples["tableHeader"]["cells"]]
                    for row in examples["tableBody"]:
                        values = dict(zip(header, (cell["value"] for cell in row["cells"])))
                        steps = tuple(background + [_step(s, values) for s in raw["steps"]])
                        name = raw["name"]
                        for key, value in values.items():
                            name = name.replace(f"<{key}>", value)
                        if name == raw["name"]:  # no placeholder in the name: add the row
                            name += " [" + ", ".join(f"{k}={v}" for k, v in values.items()) + "]"
                        scenarios.append(Scenario(feature["name"], name, path, row["location"]["line"], steps, own_tags))

    collect(feature.get("children", []), [], tuple(t["name"] for t in feature.get("tags", [])))
    return scenarios


def collect_scenarios(folder: Path | None) -> list[Scenario]:
    if folder is None:
        return []
    found: list[Scenario] = []
    for path in sorted(folder.glob("*.feature")):
        found.extend(parse_feature(path))
    return found
