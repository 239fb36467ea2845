"""schemas/dsl.schema.json: a valid JSON Schema, precise and documented enough for editors, and
in agreement with the compiler, the samples and the examples of docs/dsl.md."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from declarative_wf.formats import load_definition, load_definition_text
from declarative_wf.formats.dsl import KINDS, load_schema
from declarative_wf.formats.dsl.schema import STEP_KEYS

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = load_schema()
SAMPLES = sorted((ROOT / "samples").glob("*/workflow.dwf.yaml"))


def _doc_examples() -> list[str]:
    text = (ROOT / "docs" / "dsl.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, re.DOTALL)
    return [block for block in blocks if re.search(r"^dwf: 1$", block, re.MULTILINE)]


DOC_EXAMPLES = _doc_examples()


def _validator(ref: str = "#") -> jsonschema.protocols.Validator:
    schema = SCHEMA if ref == "#" else {"$ref": ref, "$defs": SCHEMA["$defs"]}
    return jsonschema.Draft202012Validator(schema)


def test_schema_is_valid_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_schema_file_is_the_packaged_one() -> None:
    assert json.loads((ROOT / "schemas" / "dsl.schema.json").read_text()) == SCHEMA


def _objects(schema: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(schema, dict):
        yield path, schema
        for key, value in schema.items():
            if key in ("examples", "const", "enum"):
                continue
            yield from _objects(value, f"{path}/{key}")
    elif isinstance(schema, list):
        for index, value in enumerate(schema):
            yield from _objects(value, f"{path}/{index}")


def test_every_property_is_described() -> None:
    defs = SCHEMA["$defs"]
    missing = []
    for path, schema in _objects(SCHEMA):
        for name, prop in schema.get("properties", {}).items():
            target = defs.get(prop.get("$ref", "").rsplit("/", 1)[-1], {}) if "$ref" in prop else {}
            if "description" not in prop and "description" not in target:
                missing.append(f"{path}/properties/{name}")
    assert missing == []


def test_every_object_is_closed() -> None:
    open_objects = [
        path for path, schema in _objects(SCHEMA)
        if "properties" in schema and schema.get("additionalProperties") is not False
        and not path.startswith("/properties/input/properties/schema")
    ]  # fmt: skip
    assert open_objects == []


def test_step_union_follows_the_kind_order() -> None:
    refs = [branch["$ref"].rsplit("/", 1)[-1] for branch in SCHEMA["$defs"]["step"]["anyOf"]]
    assert refs == [f"{kind}_step" for kind in KINDS]
    for kind in KINDS:
        assert SCHEMA["$defs"][f"{kind}_step"]["required"][0] == kind
        assert {"id", "description"} <= STEP_KEYS[kind]


@pytest.mark.parametrize("name", sorted(SCHEMA["$defs"]))
def test_examples_of_each_definition_are_valid(name: str) -> None:
    definition = SCHEMA["$defs"][name]
    validator = _validator(f"#/$defs/{name}")
    for example in definition.get("examples", []):
        errors = [e.message for e in validator.iter_errors(example)]
        assert errors == [], (name, example)


def test_top_level_examples_are_valid() -> None:
    for example in SCHEMA["examples"]:
        assert list(_validator().iter_errors(example)) == []
        load_definition_text(json.dumps(example))


@pytest.mark.parametrize("path", SAMPLES, ids=[p.parent.name for p in SAMPLES])
def test_samples_are_valid(path: Path) -> None:
    compiled = load_definition(path)
    assert compiled.format == "dsl" and compiled.document.warnings == []
    assert list(_validator().iter_errors(compiled.document.data)) == []


def test_the_four_samples_exist() -> None:
    assert {p.parent.name for p in SAMPLES} >= {"chaining", "fan-out-fan-in", "async-http", "monitor"}


@pytest.mark.parametrize("example", DOC_EXAMPLES, ids=[re.search(r"^name: (.*)$", e, re.MULTILINE).group(1) for e in DOC_EXAMPLES])  # type: ignore[union-attr]
def test_doc_examples_compile(example: str, tmp_path: Path) -> None:
    # Child workflows named by the examples exist next to them.
    for reference in re.findall(r"workflow: (\S+)", example):
        (tmp_path / reference).write_text("dwf: 1\nname: child\nsteps: [ { call: x } ]\n")
    compiled = load_definition_text(example, str(tmp_path / "example.dwf.yaml"))
    assert compiled.document.warnings == []
    assert list(_validator().iter_errors(compiled.document.data)) == []


def test_docs_have_enough_examples() -> None:
    assert len(DOC_EXAMPLES) >= 15


@pytest.mark.parametrize(
    "document",
    [
        {"dwf": 1, "name": "x", "steps": [{"call": "a", "set": 1}]},
        {"dwf": 1, "name": "x", "steps": [{"cal": "a"}]},
        {"dwf": 1, "name": "x", "steps": [{"for_each": "${ result }"}]},
        {"dwf": 1, "name": "x", "steps": [{"call": "a", "retry": {"attempts": 0}}]},
        {"dwf": 1, "name": "x", "steps": [{"switch": [{"if": "${ a }"}]}]},
        {"dwf": 1, "name": "x", "steps": [{"wait": "5 minutes"}]},
        {"dwf": 1, "name": "x", "steps": [{"parallel": [{"steps": []}]}]},
    ],
)
def test_the_plain_schema_and_the_compiler_agree_on_invalid_documents(document: dict[str, Any]) -> None:
    # Editors use the schema as written (anyOf); the compiler validates by discriminator.
    assert list(_validator().iter_errors(document))
    from declarative_wf.formats import validate_text

    assert any(d.is_error for d in validate_text(json.dumps(document), "x.json"))
