"""The Python API: run() on an embedded engine, instance ids, attaching, errors."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import dapr.ext.workflow as wf
import pytest

from declarative_wf.activities import Registry
from declarative_wf.engine import Engine
from declarative_wf.interpreter.dapr_adapter import WORKFLOW_NAME
from declarative_wf.interpreter.workflow import make_payload
from declarative_wf.ir import (
    Block,
    Expr,
    FailNode,
    SourceRef,
    TaskNode,
    WaitNode,
    Workflow,
    workflow_to_json,
)
from declarative_wf.progress import ProgressEvent
from declarative_wf.runner import (
    MissingActivityError,
    RunError,
    default_instance_id,
    error_object,
    run,
)

pytestmark = pytest.mark.integration

CALLS: list[Any] = []


def add_one(x: int) -> int:
    CALLS.append(x)
    return x + 1


def fail(x: Any) -> None:
    raise LookupError(f"no such order {x}")


REGISTRY = Registry([add_one, fail])


def chain(name: str = "chain", **first: Any) -> Workflow:
    return Workflow(
        name,
        "1",
        "dsl",
        Block(
            "a",
            {
                "a": TaskNode(id="a", next="b", activity="add_one", label="First", **first),
                "b": TaskNode(id="b", activity="add_one", label="Second"),
            },
        ),
    )


def test_run_to_completion_with_progress() -> None:
    events: list[ProgressEvent] = []
    result = run(chain(), 1, activities=REGISTRY, on_progress=events.append)
    assert (result.status, result.output, result.error, result.resumed) == ("COMPLETED", 3, None, False)
    assert result.as_json() == {"instance_id": result.instance_id, "status": "COMPLETED", "output": 3, "error": None}
    assert [(e.kind, e.label) for e in events] == [
        ("started", "First"), ("completed", "First"), ("started", "Second"), ("completed", "Second"),
    ]
    assert all(e.seconds is not None and e.seconds >= 0 for e in events if e.kind == "completed")


def test_failure_is_the_formats_error_object() -> None:
    failing = Workflow("bad", "1", "dsl", Block("f", {"f": TaskNode(id="f", activity="fail")}))
    result = run(failing, 9, activities=REGISTRY)
    assert result.status == "FAILED" and result.output is None
    assert result.error == {"type": "LookupError", "message": "no such order 9"}
    fail_node = Workflow("f", "1", "dsl", Block("f", {"f": FailNode(id="f", error=Expr.literal("Oops"), message=Expr.literal("why"))}))
    assert run(fail_node, None, activities=REGISTRY).error == {"type": "Oops", "message": "why"}


def test_error_objects_per_format() -> None:
    assert error_object("dsl", "Oops", "why") == {"type": "Oops", "message": "why"}
    assert error_object("asl", "States.Timeout", "late") == {"Error": "States.Timeout", "Cause": "late"}
    sw = error_object("sw1", "https://serverlessworkflow.io/spec/1.0.0/errors/communication", "503")
    assert list(sw) == ["type", "status", "title", "detail", "instance"] and sw["detail"] == "503"


def test_deterministic_instance_ids() -> None:
    workflow = chain()
    first = default_instance_id(workflow, {"b": 1, "a": [1, 2]})
    assert first == default_instance_id(workflow, {"a": [1, 2], "b": 1})  # canonical JSON
    assert first != default_instance_id(workflow, {"a": [1, 2], "b": 2})
    assert first != default_instance_id(chain("other"), {"a": [1, 2], "b": 1})
    assert first.startswith("chain-") and len(first) == len("chain-") + 12
    odd = Workflow("my flow/ü v2", "1", "dsl", Block(None))
    assert default_instance_id(odd, None).startswith("my-flow-v2-")


def test_missing_activities_are_named_before_anything_starts(tmp_path: Path) -> None:
    where = SourceRef("orders.yaml", 12, 7, "/do/1")
    workflow = Workflow("m", "1", "dsl", Block("a", {"a": TaskNode(id="a", activity="add_onee", source=where)}))
    db = tmp_path / "never.db"
    with pytest.raises(MissingActivityError, match=r"orders.yaml:12:7: activity 'add_onee' is not provided.*did you mean \"add_one\"") as caught:
        run(workflow, 1, activities=REGISTRY, db=db)
    assert list(caught.value.missing) == ["add_onee"]
    assert not db.exists()


def test_a_skipped_helper_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "helper_acts.py").write_text("def add_one(x, y):\n    return x + y\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(MissingActivityError, match="'add_one' is not registered: helper_acts.add_one requires more than one argument"):
        run(chain(), 1, activities=["helper_acts"])


def test_activities_as_module_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "runner_acts.py").write_text("def add_one(x):\n    return x + 100\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert run(chain(), 1, activities=["runner_acts"]).output == 201
    assert run(chain(), 1, activities=str(tmp_path / "runner_acts.py")).output == 201


def test_definition_from_an_ir_file(tmp_path: Path) -> None:
    path = tmp_path / "chain.json"
    path.write_text(json.dumps(workflow_to_json(chain())))
    assert run(path, 5, activities=REGISTRY).output == 7


def test_attaches_to_an_unfinished_instance(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    workflow = chain()
    instance_id = default_instance_id(workflow, 10)
    # Start the instance with no worker connected: it stays unfinished in the file.
    with Engine(db) as engine:
        client = wf.DaprWorkflowClient(host=engine.host, port=str(engine.port))
        client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(workflow, 10), instance_id=instance_id)
        client.close()
    result = run(workflow, 10, activities=REGISTRY, db=db)
    assert (result.instance_id, result.status, result.output, result.resumed) == (instance_id, "COMPLETED", 12, True)
    # Finished: the same run again starts it anew (the id is reused).
    CALLS.clear()
    again = run(workflow, 10, activities=REGISTRY, db=db)
    assert (again.status, again.resumed, CALLS) == ("COMPLETED", False, [10, 11])


def test_a_suspended_instance_is_resumed(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    workflow = chain()
    with Engine(db) as engine:
        client = wf.DaprWorkflowClient(host=engine.host, port=str(engine.port))
        instance_id = client.schedule_new_workflow(
            WORKFLOW_NAME, input=make_payload(workflow, 3), instance_id=default_instance_id(workflow, 3)
        )
        client.pause_workflow(instance_id)
        assert client.get_workflow_state(instance_id).runtime_status.name == "SUSPENDED"
        client.close()
    result = run(workflow, 3, activities=REGISTRY, db=db, timeout=20)
    assert (result.status, result.output, result.resumed) == ("COMPLETED", 5, True)


def test_an_unfinished_instance_of_another_definition_is_not_taken_over(tmp_path: Path) -> None:
    db = tmp_path / "state.db"
    with Engine(db) as engine:
        client = wf.DaprWorkflowClient(host=engine.host, port=str(engine.port))
        client.schedule_new_workflow(WORKFLOW_NAME, input=make_payload(chain(), 1), instance_id="taken")
        client.close()
    with pytest.raises(RunError, match="'taken' is (PENDING|RUNNING) with another definition or input"):
        run(chain(), 2, activities=REGISTRY, db=db, instance_id="taken")


def test_timeout_leaves_the_instance_running(tmp_path: Path) -> None:
    waiting = Workflow("slow", "1", "dsl", Block("w", {"w": WaitNode(id="w", seconds=Expr.literal(30))}))
    started = time.monotonic()
    result = run(waiting, None, activities=REGISTRY, db=tmp_path / "s.db", timeout=0.3)
    assert time.monotonic() - started < 5
    assert (result.status, result.timed_out, result.output, result.error) == ("RUNNING", True, None, None)


def test_input_must_be_json() -> None:
    with pytest.raises(RunError, match="not JSON"):
        run(chain(), {1, 2}, activities=REGISTRY)
