"""Serverless Workflow 1.x validation speed: definitions per second over every corpus document.

    .venv/bin/python benchmarks/sw_validate.py [--rounds 3] [--json]

The documents are the 66 examples, 41 documentation examples and 21 CTK workflows of
``../shared/corpus/serverless-workflow-1.0`` (or ``$DWF_CORPUS``), loaded once (loading is not
measured). Three figures, each the best of ``--rounds`` passes over all documents:

* ``official`` - the baseline: the official 1.0.3 schema alone (jsonschema Draft202012Validator);
* ``schema``   - our schema alone (``schema_is_valid``): the same work, our schema file;
* ``validate`` - ``validate_document``: our schema plus every semantic check (jq compiled per
                 expression, durations, references), i.e. what ``dwf validate`` adds to loading.

``ratio`` is validate / official definitions per second. Exit status 1 if a document that
should be valid is not. Issue #5's combined check (the 0.8 examples too, and the offline CTK
scenarios in scenarios/s) is ``benchmarks/sw_ctk.py``, which reuses this module's loader.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from declarative_wf.formats.sw.validate import schema_is_valid, validate_document
from declarative_wf.loading import LoadedDocument, load_text

_DOC_STRING = re.compile(r'Given a workflow with definition:\s*\n([ \t]*)"""[a-z]*\n(.*?)\n[ \t]*"""', re.DOTALL)


def corpus() -> Path:
    configured = os.environ.get("DWF_CORPUS")
    return (Path(configured) if configured else ROOT.parent / "shared" / "corpus") / "serverless-workflow-1.0"


def load_documents(root: Path) -> list[LoadedDocument]:
    texts: list[tuple[str, str]] = []
    for folder in ("examples", "doc-examples"):
        texts += [(str(path), path.read_text(encoding="utf-8")) for path in sorted((root / folder).glob("*.yaml"))]
    for path in sorted((root / "ctk" / "features").glob("*.feature")):
        for index, match in enumerate(_DOC_STRING.finditer(path.read_text(encoding="utf-8"))):
            indent = len(match.group(1))
            texts.append((f"{path}#{index + 1}", "\n".join(line[indent:] for line in match.group(2).split("\n"))))
    return [load_text(text, name) for name, text in texts]


def best_rate(count: int, rounds: int, run: Callable[[], None]) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - started)
    return count / best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="passes over the corpus; the best counts (default 3)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    root = corpus()
    if not root.is_dir():
        print(f"corpus not found at {root}: set $DWF_CORPUS", file=sys.stderr)
        return 1
    import jsonschema

    documents = load_documents(root)
    official = jsonschema.Draft202012Validator(json.loads((root / "schema" / "workflow.json").read_text(encoding="utf-8")))
    invalid = [d.file for d in documents if any(x.is_error for x in validate_document(d))]
    if invalid:
        print(f"not valid: {invalid}", file=sys.stderr)
        return 1
    count = len(documents)

    def run_official() -> None:
        for document in documents:
            official.is_valid(document.data)

    def run_schema() -> None:
        for document in documents:
            schema_is_valid(document.data)

    def run_validate() -> None:
        for document in documents:
            validate_document(document)

    validate_document(documents[0])  # warm the caches (schema, validators, jq programs)
    rates: dict[str, Any] = {
        "documents": count,
        "official": best_rate(count, args.rounds, run_official),
        "schema": best_rate(count, args.rounds, run_schema),
        "validate": best_rate(count, args.rounds, run_validate),
    }
    rates["ratio"] = rates["validate"] / rates["official"]
    if args.json:
        print(json.dumps(rates))
    else:
        print(f"{count} definitions, best of {args.rounds}")
        for name in ("official", "schema", "validate"):
            print(f"  {name:9} {rates[name]:8.1f} definitions/s")
        print(f"  ratio     {rates['ratio']:8.2f} (validate / official)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
