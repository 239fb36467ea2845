"""The samples written in ASL (``samples/*/workflow.asl.*``) run on the embedded engine with the
sample's own activities and give the output their DSL twins document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from declarative_wf.formats.asl import compile_asl
from declarative_wf.loading import load_file
from declarative_wf.runner import run

ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.integration

SAMPLES = {
    "chaining": ("workflow.asl.json", json.loads((ROOT / "samples" / "chaining" / "input.json").read_text()), {"order": "A-1", "receipt": "ch_A-1_825", "status": "shipped"}),
    "fan-out-fan-in": ("workflow.asl.json", {"count": 4}, {"files": 4, "bytes": 2500}),
    "monitor": ("workflow.asl.yaml", None, "done after 3 checks"),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_asl_sample_runs(name: str, tmp_path: Path) -> None:
    file, data, expected = SAMPLES[name]
    sample = ROOT / "samples" / name
    workflow = compile_asl(load_file(sample / file))
    result = run(workflow, data, activities=[str(sample / "activities.py")], db=tmp_path / "state.db", timeout=60)
    assert result.status == "COMPLETED", result.error
    assert result.output == expected
