"""Fuzzing the command line: random and mutated ASL definitions (corpus definitions and the
callback / ItemReader features, mutated by hypothesis) given to ``dwf validate`` and
``dwf run`` in-process (``declarative_wf.cli.main``) never raise, never print a traceback, and
end with a documented exit code: validate 0/1, run 0/1/2."""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import declarative_wf.formats.asl  # noqa: F401 - see below
from declarative_wf.cli import main

from .fuzzing import JSON, KEYS, SEEDS, mutated

pytestmark = pytest.mark.slow

# declarative_wf.formats.asl is imported above, before any test: loading it raises the recursion
# limit (jsonata does), which Hypothesis warns about when it happens while a test runs.

#: Definitions of the features the corpus does not record (it ran on AWS, with AWS services).
EXTRA_SEEDS: list[dict[str, Any]] = [
    {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": "notify", "Payload": {"token.$": "$$.Task.Token"}},
                "HeartbeatSeconds": 1, "TimeoutSeconds": 2,
                "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "Done"}], "Next": "Done",
            },
            "Done": {"Type": "Succeed"},
        },
    },
    {
        "StartAt": "Each",
        "States": {
            "Each": {
                "Type": "Map",
                "ItemReader": {"Resource": "arn:aws:states:::s3:getObject", "Parameters": {"Bucket": "b", "Key.$": "$.key"},
                               "ReaderConfig": {"InputType": "CSV", "CSVHeaderLocation": "FIRST_ROW", "MaxItems": 2}},
                "ItemProcessor": {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}},
                "End": True,
            }
        },
    },
]  # fmt: skip
ALL_SEEDS = [*SEEDS, *EXTRA_SEEDS]


def _has_task(value: Any) -> bool:
    if isinstance(value, dict):
        return value.get("Type") == "Task" or any(_has_task(item) for item in value.values())
    return isinstance(value, list) and any(_has_task(item) for item in value)


#: Seeds ``dwf run`` can start (a Task would name an activity nobody registered: exit 2 at once).
RUN_SEEDS = [seed for seed in SEEDS if not _has_task(seed)][::3]
MORE_KEYS = [*KEYS, "Resource", "HeartbeatSeconds", "HeartbeatSecondsPath", "ItemReader", "ReaderConfig", "TimeoutSecondsPath"]


def _cli(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exit_:  # argparse
            code = int(exit_.code or 0)
    text = out.getvalue() + err.getvalue()
    assert "Traceback" not in text, text
    return code, text


def _write(folder: Path, definition: Any, text: str | None = None) -> Path:
    path = folder / "fuzz.asl.json"
    path.write_text(text if text is not None else json.dumps(definition))
    return path


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(ALL_SEEDS, MORE_KEYS, (0, 3)))
def test_dwf_validate_never_crashes_on_mutated_definitions(definition: Any) -> None:
    with tempfile.TemporaryDirectory() as folder:
        code, text = _cli("validate", str(_write(Path(folder), definition)), "-o", "json")
    assert code in (0, 1), text
    assert isinstance(json.loads(text), list)  # -o json: the diagnostics, nothing else


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=60) | st.dictionaries(st.sampled_from(MORE_KEYS), JSON, max_size=4).map(json.dumps))
def test_dwf_validate_never_crashes_on_random_text(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        code, output = _cli("validate", str(_write(Path(folder), None, text)))
    assert code in (0, 1), output


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated(RUN_SEEDS or ALL_SEEDS, MORE_KEYS, (0, 3)), st.sampled_from(['{"a": [1, 2], "key": "k"}', "[1, 2]", "null"]))
def test_dwf_run_never_crashes_on_mutated_definitions(definition: Any, data: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = _write(Path(folder), definition)
        code, text = _cli("run", str(path), "--input", data, "--timeout", "3", "-q", "-o", "json", "--db", str(Path(folder) / "run.db"))
    assert code in (0, 1, 2), text
    event(f"dwf run exit {code}")
    if code != 2:  # a run that started reports its end as one JSON object
        result = json.loads(text[text.index("{") :])
        assert {"instance_id", "status", "output", "error"} <= set(result), result
