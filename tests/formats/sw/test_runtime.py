"""The Serverless Workflow runtime profile without an engine: node ids, error translation,
error filters, durations, secrets and the observer API."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jq
import pytest

from declarative_wf import ir
from declarative_wf.formats.sw import runtime
from declarative_wf.formats.sw.durations import (
    DurationError,
    expression_seconds,
    parse_duration,
)
from declarative_wf.formats.sw.tasks import _type_condition
from declarative_wf.interpreter.commands import WorkflowError
from declarative_wf.interpreter.profiles import profile_for
from declarative_wf.interpreter.runtime import RunContext

STD = "https://serverlessworkflow.io/spec/1.0.0/errors/"


def _rt(options: dict[str, Any] | None = None) -> RunContext:
    workflow = ir.Workflow(name="w", version="1", format="sw1", body=ir.Block(start=None), options={"sw": options or {}})
    rt = RunContext(workflow=workflow, instance_id="iid", input={"raw": True})
    rt.started_at = datetime(2026, 1, 2, 3, 4, 5, 678000, tzinfo=timezone.utc)
    rt.clock = lambda: datetime(2026, 1, 2, 3, 4, 6, tzinfo=timezone.utc)
    return rt


def test_the_profile_is_registered_for_sw1() -> None:
    assert isinstance(profile_for("sw1"), runtime.SwProfile)


@pytest.mark.parametrize(("node_id", "pointer", "owner"), [
    ("/do/0/a", "/do/0/a", "/do/0/a"),
    ("/do/0/a#if", "/do/0/a", "/do/0/a"),
    ("/do/1/f#fn|/use/functions/g/do/0/x", "/use/functions/g/do/0/x", "/do/1/f#fn|/use/functions/g/do/0/x"),
    ("/do/1/run|/do/0/child#export", "/do/0/child", "/do/1/run|/do/0/child"),
])  # fmt: skip
def test_node_ids_name_their_task(node_id: str, pointer: str, owner: str) -> None:
    assert runtime.task_pointer(node_id) == pointer
    assert runtime.owner_pointer(node_id) == owner


def _translate(error: WorkflowError, node: ir.Node | None) -> dict[str, Any]:
    translated = runtime.SwProfile().translate(_rt(), node, error)
    assert json.loads(translated.message) == translated.cause
    return translated.cause


def test_errors_become_problem_details_with_the_task_pointer() -> None:
    node = ir.TaskNode(id="/do/0/try/try/0/get#x", activity="http")
    timeout = _translate(WorkflowError("Timeout", "too slow", kinds=frozenset({"timeout"})), node)
    assert timeout == {"type": STD + "timeout", "status": 408, "title": "Timeout", "detail": "too slow", "instance": "/do/0/try/try/0/get"}
    expression = _translate(WorkflowError("Runtime", "bad", kinds=frozenset({"runtime", "expression"})), node)
    assert (expression["type"], expression["status"]) == (STD + "expression", 400)
    activity = _translate(WorkflowError("ValueError", "nope", kinds=frozenset({"task"})), node)
    assert (activity["type"], activity["status"], activity["title"]) == (STD + "runtime", 500, "ValueError")
    carried = json.dumps({"type": STD + "communication", "status": 404, "title": "Not Found"})
    problem = _translate(WorkflowError("ProblemError", carried, kinds=frozenset({"task"})), node)
    assert problem == {"type": STD + "communication", "status": 404, "title": "Not Found", "instance": "/do/0/try/try/0/get"}
    workflow_level = _translate(WorkflowError("Timeout", "late", kinds=frozenset({"timeout"})), None)
    assert workflow_level["instance"] == "/"


def test_translated_errors_are_left_alone() -> None:
    profile = runtime.SwProfile()
    error = profile.translate(_rt(), ir.SetNode(id="/do/0/a"), WorkflowError("Runtime", "x", kinds=frozenset({"runtime"})))
    again = profile.translate(_rt(), ir.SetNode(id="/do/9/b"), error)
    assert again.cause["instance"] == "/do/0/a"


@pytest.mark.parametrize(("filter_type", "error_type", "matches"), [
    (STD + "communication", STD + "communication", True),
    ("https://serverlessworkflow.io/dsl/errors/types/communication", STD + "communication", True),
    ("https://open-workflow-specification.org/spec/1.0.0/errors/communication", STD + "communication", True),
    (STD + "communication", "https://open-workflow-specification.org/spec/1.0.0/errors/communication", True),
    (STD + "communication", STD + "timeout", False),
    (STD + "communication", "https://example.com/communication", False),
    ("https://example.com/errors/mine", "https://example.com/errors/mine", True),
    ("https://example.com/errors/mine", "https://example.org/errors/mine", False),
])  # fmt: skip
def test_type_filters(filter_type: str, error_type: str, matches: bool) -> None:
    payload = {"type": error_type, "cause": {"type": error_type, "status": 500}}
    assert jq.compile(_type_condition(filter_type)).input_value(payload).first() is matches


def test_context_arguments() -> None:
    rt = _rt({"document": {"document": {"name": "w"}, "do": [{"a": {"set": {"x": 1}}}]}})
    node = ir.SetNode(id="/do/0/a", label="a")
    profile = runtime.SwProfile()
    profile.enter(rt, node, {"in": 1})
    context = profile.context(rt, node, {}, {"input": {"in": 1}, "effective": {"in": 2}, "result": 5})
    assert context["context"] == {} and context["input"] == {"in": 2}
    assert context["workflow"]["id"] == "iid" and context["workflow"]["input"] == {"raw": True}
    assert context["workflow"]["startedAt"] == {
        "iso8601": "2026-01-02T03:04:05.678Z", "epoch": {"seconds": 1767323045, "milliseconds": 1767323045678},
    }  # fmt: skip
    task = context["task"]
    assert (task["name"], task["reference"], task["definition"]) == ("a", "/do/0/a", {"set": {"x": 1}})
    assert task["input"] == {"in": 1} and task["output"] == 5
    assert task["startedAt"]["iso8601"] == "2026-01-02T03:04:06.000Z"
    assert context["runtime"]["name"] == "declarative_wf"


def test_observers_see_events_and_cannot_break_the_workflow(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    def broken(kind: str, record: dict[str, Any]) -> None:
        raise RuntimeError("observer bug")

    runtime.add_lifecycle_observer(broken, replays=True)
    runtime.add_lifecycle_observer(lambda kind, record: seen.append((kind, record)), replays=True)
    observer = runtime._OBSERVERS[-1]
    try:
        rt = _rt()
        rt.replaying = lambda: True
        runtime.SwProfile().enter(rt, ir.SetNode(id="/do/0/a", label="a"), {"x": 1})
    finally:
        runtime.remove_lifecycle_observer(broken)
        runtime.remove_lifecycle_observer(observer)
    assert seen == [("task.started", {
        "instance": "iid", "workflow": "w", "task": "a", "reference": "/do/0/a", "time": "2026-01-02T03:04:06.000Z",
        "replaying": True, "engine": None, "namespace": None, "version": "1", "input": {"x": 1},
    })]  # fmt: skip
    assert "observer bug" in caplog.text or "lifecycle observer" in caplog.text


def test_observers_see_replays_only_when_they_ask() -> None:
    seen: list[str] = []

    def observer(kind: str, record: dict[str, Any]) -> None:
        seen.append(kind)

    runtime.add_lifecycle_observer(observer)
    try:
        rt = _rt()
        rt.replaying = lambda: True
        runtime.SwProfile().enter(rt, ir.SetNode(id="/do/0/a", label="a"), {"x": 1})
        rt.replaying = lambda: False
        runtime.SwProfile().enter(rt, ir.SetNode(id="/do/0/a", label="a"), {"x": 1})
    finally:
        runtime.remove_lifecycle_observer(observer)
    assert seen == ["task.started"]


def test_helper_nodes_are_not_tasks() -> None:
    seen: list[str] = []

    def observer(kind: str, record: dict[str, Any]) -> None:
        seen.append(kind)

    runtime.add_lifecycle_observer(observer)
    try:
        runtime.SwProfile().enter(_rt(), ir.SetNode(id="/do/0/a#export"), {})
    finally:
        runtime.remove_lifecycle_observer(observer)
    assert seen == []


@pytest.mark.parametrize(("value", "seconds"), [
    ({"minutes": 1, "seconds": 30}, 90.0), ({"milliseconds": 250}, 0.25), ("PT1H", 3600.0), ("P1DT0.5S", 86400.5),
])  # fmt: skip
def test_durations(value: Any, seconds: float) -> None:
    assert parse_duration(value) == seconds


@pytest.mark.parametrize("value", [{}, {"weeks": 1}, {"seconds": -1}, "P1Y", "soon", 5])
def test_bad_durations(value: Any) -> None:
    with pytest.raises(DurationError):
        parse_duration(value)


@pytest.mark.parametrize(("value", "seconds"), [(7, 7), ({"seconds": 2, "milliseconds": 500}, 2.5), ("PT1M", 60), ("P1W", 604800)])
def test_duration_expressions(value: Any, seconds: float) -> None:
    assert jq.compile(expression_seconds(".")).input_value(value).first() == seconds


def test_secrets_from_a_file_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "s.yaml").write_text("fromFile: one\nshared: file\n", encoding="utf-8")
    monkeypatch.setenv(runtime.SECRETS_FILE_ENV, str(tmp_path / "s.yaml"))
    monkeypatch.setenv(runtime.SECRETS_ENV_PREFIX + "TOKEN", "two")
    monkeypatch.setenv(runtime.SECRETS_ENV_PREFIX + "shared", "env")
    runtime.reset_secrets()
    try:
        secrets = runtime.load_secrets()
        assert secrets["fromFile"] == "one" and secrets["TOKEN"] == "two" and secrets["token"] == "two"
        assert secrets["shared"] == "file"  # the file wins over the environment
    finally:
        runtime.reset_secrets()


def test_an_unreadable_secrets_file_is_logged_without_its_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    (tmp_path / "s.yaml").write_text("password: [unclosed\n", encoding="utf-8")
    monkeypatch.setenv(runtime.SECRETS_FILE_ENV, str(tmp_path / "s.yaml"))
    runtime.reset_secrets()
    try:
        assert runtime.load_secrets() == {} or "password" not in runtime.load_secrets()
        assert "unclosed" not in caplog.text
    finally:
        runtime.reset_secrets()
