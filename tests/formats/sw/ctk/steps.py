"""The step vocabulary of the Serverless Workflow CTK (``ctk/README.md`` and the features), plus
a few steps of our own features. Each step is a regular expression over the step text (the
Gherkin keyword excluded, so ``And given the workflow input is:`` reads ``given the ...``).

Ordering steps use the journal of the workflow's *top-level* tasks, in the order they started
(outside replays): ``X should run first`` / ``last`` — the first / last task started;
``Y should run after X`` — Y started right after X; ``X should run before Y`` — X started
before Y (not necessarily right before).
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from declarative_wf.diagnostics import DiagnosticError
from declarative_wf.ir import Workflow
from declarative_wf.loading import load_text

from ...asl.corpus import json_equal
from .harness import Harness, Outcome, is_top_level
from .runner import Scenario, Step


class StepFailure(AssertionError):
    """A step's expectation does not hold."""


@dataclass
class World:
    """What one scenario accumulates, step by step."""

    harness: Harness
    scenario: Scenario
    tmp: Path
    workflow: Workflow | None = None
    input: Any = field(default_factory=dict)
    instance_id: str | None = None
    outcome: Outcome | None = None
    env: dict[str, str | None] = field(default_factory=dict)
    #: ``<<NAME>>`` in doc strings → value (ports of servers the tests start).
    substitutions: dict[str, str] = field(default_factory=dict)
    #: Other instances a scenario started (``When another workflow is executed...``).
    others: list[str] = field(default_factory=list)
    #: A running scheduler (``When the workflow is scheduled``), stopped at the scenario's end.
    scheduler: Any = None

    def set_env(self, name: str, value: str) -> None:
        self.env.setdefault(name, os.environ.get(name))
        os.environ[name] = value

    def restore_env(self) -> None:
        for name, value in self.env.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value

    def result(self) -> Outcome:
        if self.outcome is None:
            if self.instance_id is None:
                raise StepFailure("no workflow was executed before this step (add 'When the workflow is executed')")
            assert self.workflow is not None
            self.outcome = self.harness.wait(self.workflow, self.instance_id)
        return self.outcome

    def top_level_tasks(self) -> list[str]:
        self.result()
        return [
            record["task"]
            for kind, record in self.harness.journal.of(self.result().instance_id)
            if kind == "task.started" and is_top_level(record.get("reference"))
        ]

    def task_records(self, task: str) -> list[tuple[str, dict[str, Any]]]:
        self.result()
        return [(kind, record) for kind, record in self.harness.journal.of(self.result().instance_id) if record.get("task") == task]


StepFn = Callable[..., None]
STEPS: list[tuple[re.Pattern[str], StepFn, bool]] = []  # (pattern, function, takes a doc string)


def step(pattern: str, *, doc: bool = False) -> Callable[[StepFn], StepFn]:
    def register(fn: StepFn) -> StepFn:
        STEPS.append((re.compile(pattern + r"\s*$", re.IGNORECASE), fn, doc))
        return fn

    return register


def yaml_value(text: str | None, where: str) -> Any:
    """A doc string as YAML 1.2 (``on:`` is a key, ``yes`` a string), as definitions load."""
    if text is None:
        raise StepFailure(f"{where}: this step needs a doc string")
    # The loader takes documents that are mappings; a doc string may be any value (``1``, a
    # list), so it is loaded as the value of one key.
    wrapped = "value:\n" + "".join(f"  {line}\n" for line in text.splitlines())
    try:
        return load_text(wrapped, where, syntax="yaml").data["value"]
    except DiagnosticError as error:
        raise StepFailure(f"{where}: the doc string is not YAML: {error}") from None


_MISSING = object()


def resolve(value: Any, dotted: str) -> Any:
    """``a.b.0.c`` in ``value``; ``_MISSING`` when a part is absent."""
    for part in dotted.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return _MISSING
    return value


def show(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


# -- Given --------------------------------------------------------------------------------------


@step(r"(?:given )?a workflow with definition:", doc=True)
def given_definition(world: World, doc: str, where: str) -> None:
    from declarative_wf import compile as compile_text

    # Named after the feature file, so relative resources (proto files, documents) resolve
    # next to it and diagnostics say where the definition came from.
    try:
        world.workflow = compile_text(doc, str(world.scenario.file))
    except DiagnosticError as error:
        raise StepFailure(f"{where}: the definition does not compile:\n{error}") from None


@step(r"(?:given )?the workflow input is:", doc=True)
def given_input(world: World, doc: str, where: str) -> None:
    world.input = yaml_value(doc, where)


@step(r"(?:given )?the secrets are:", doc=True)
def given_secrets(world: World, doc: str, where: str) -> None:
    path = world.tmp / "secrets.json"
    path.write_text(json.dumps(yaml_value(doc, where)))
    world.set_env("DWF_SECRETS_FILE", str(path))
    _reset_secrets()


@step(r"(?:given )?processes are enabled: (.+)")
def given_processes(world: World, kinds: str, where: str) -> None:
    world.set_env("DWF_ENABLE_PROCESSES", kinds.strip())  # run: shell/script/container (off by default)


def _reset_secrets() -> None:
    from declarative_wf.formats.sw import runtime

    reset = getattr(runtime, "reset_secrets", None)
    if reset is not None:
        reset()


# -- When ---------------------------------------------------------------------------------------


@step(r"the workflow is executed")
def when_executed(world: World, where: str) -> None:
    if world.workflow is None:
        raise StepFailure(f"{where}: no definition given (add 'Given a workflow with definition:')")
    world.instance_id = world.harness.start(world.workflow, world.input)
    world.outcome = None


@step(r"another workflow is executed with definition:", doc=True)
def when_another(world: World, doc: str, where: str) -> None:
    """Runs a second workflow to its end (e.g. one that emits what the first listens for)."""
    from declarative_wf import compile as compile_text

    try:
        other = compile_text(doc, str(world.scenario.file))
    except DiagnosticError as error:
        raise StepFailure(f"{where}: the definition does not compile:\n{error}") from None
    outcome = world.harness.run(other, {})
    world.others.append(outcome.instance_id)
    if outcome.status != "COMPLETED":
        raise StepFailure(f"{where}: the other workflow ended {outcome.status}: {show(outcome.error)}")


@step(r"the workflow is started")
def when_started(world: World, where: str) -> None:
    when_executed(world, where)
    _wait_for(world, lambda status: status in ("RUNNING", "COMPLETED", "FAILED"), where)


@step(r"the workflow is (suspended|resumed|cancelled)")
def when_controlled(world: World, action: str, where: str) -> None:
    if world.instance_id is None:
        raise StepFailure(f"{where}: start the workflow first ('When the workflow is started')")
    client = world.harness.client
    if action == "suspended":
        client.pause_workflow(world.instance_id)
        _wait_for(world, lambda status: status == "SUSPENDED", where)
    elif action == "resumed":
        client.resume_workflow(world.instance_id)
        _wait_for(world, lambda status: status != "SUSPENDED", where)
    else:
        client.terminate_workflow(world.instance_id)


@step(r"(?:we )?wait (\d+(?:\.\d+)?) seconds?")
def when_waiting(world: World, seconds: str, where: str) -> None:
    time.sleep(float(seconds))


def _wait_for(world: World, ok: Callable[[str], bool], where: str, timeout: float = 30) -> None:
    assert world.instance_id is not None
    deadline = time.monotonic() + timeout
    status = "UNKNOWN"
    while time.monotonic() < deadline:
        status = world.harness.state(world.instance_id)
        if ok(status):
            return
        time.sleep(0.05)
    raise StepFailure(f"{where}: the instance is still {status} after {timeout:g} s")


# -- Then: the workflow -------------------------------------------------------------------------


def _expect_status(world: World, expected: str, where: str) -> Outcome:
    outcome = world.result()
    if outcome.status != expected:
        detail = f"error {show(outcome.error)}" if outcome.error else f"output {show(outcome.output)}"
        raise StepFailure(f"{where}: expected the workflow to be {expected}, it is {outcome.status} with {detail}")
    return outcome


@step(r"the workflow should complete")
def then_complete(world: World, where: str) -> None:
    _expect_status(world, "COMPLETED", where)


@step(r"the workflow should complete with output:", doc=True)
def then_complete_with(world: World, doc: str, where: str) -> None:
    outcome = _expect_status(world, "COMPLETED", where)
    expected = yaml_value(doc, where)
    if not json_equal(outcome.output, expected):
        raise StepFailure(f"{where}: output\n{show(outcome.output)}\nis not\n{show(expected)}")


@step(r"the workflow should fault")
def then_fault(world: World, where: str) -> None:
    _expect_status(world, "FAILED", where)


@step(r"the workflow should fault with error:", doc=True)
def then_fault_with(world: World, doc: str, where: str) -> None:
    outcome = _expect_status(world, "FAILED", where)
    _match_error(outcome.error, yaml_value(doc, where), where)


@step(r"the workflow should cancel")
def then_cancel(world: World, where: str) -> None:
    _expect_status(world, "TERMINATED", where)


def _match_error(actual: Any, expected: Any, where: str) -> None:
    """Only the fields the step lists are compared."""
    if not isinstance(expected, dict):
        raise StepFailure(f"{where}: the expected error must be a mapping of fields")
    if not isinstance(actual, dict):
        raise StepFailure(f"{where}: expected an error {show(expected)}, got {show(actual)}")
    wrong = {key: actual.get(key) for key, value in expected.items() if not json_equal(actual.get(key), value)}
    if wrong:
        raise StepFailure(f"{where}: the error differs in {', '.join(wrong)}:\n{show(actual)}\nexpected\n{show(expected)}")


# -- Then: the output ---------------------------------------------------------------------------


@step(r"the workflow output should have properties (.+)")
def then_properties(world: World, names: str, where: str) -> None:
    output = world.result().output
    wanted = re.findall(r"'([^']*)'", names)
    if not wanted:
        raise StepFailure(f"{where}: list the properties in single quotes: 'a', 'b.c'")
    missing = [name for name in wanted if resolve(output, name) is _MISSING]
    if missing:
        raise StepFailure(f"{where}: the output lacks {', '.join(missing)}:\n{show(output)}")


@step(r"the workflow output should have an? '([^']+)' property with value:", doc=True)
def then_property_value(world: World, name: str, doc: str, where: str) -> None:
    output = world.result().output
    actual, expected = resolve(output, name), yaml_value(doc, where)
    if actual is _MISSING:
        raise StepFailure(f"{where}: the output has no {name!r}:\n{show(output)}")
    if not json_equal(actual, expected):
        raise StepFailure(f"{where}: {name} is {show(actual)}, not {show(expected)}")


@step(r"the workflow output should have an? '([^']+)' property containing (\d+) items?")
def then_property_count(world: World, name: str, count: str, where: str) -> None:
    output = world.result().output
    actual = resolve(output, name)
    if not isinstance(actual, (list, dict)):
        raise StepFailure(f"{where}: {name} is not a collection in\n{show(output)}")
    if len(actual) != int(count):
        raise StepFailure(f"{where}: {name} has {len(actual)} items, not {count}: {show(actual)}")


# -- Then: tasks --------------------------------------------------------------------------------


@step(r"(\S+) should run first")
def then_first(world: World, task: str, where: str) -> None:
    ran = world.top_level_tasks()
    if not ran or ran[0] != task:
        raise StepFailure(f"{where}: {task} did not run first; the tasks ran in the order {ran}")


@step(r"(\S+) should run last")
def then_last(world: World, task: str, where: str) -> None:
    ran = world.top_level_tasks()
    if not ran or ran[-1] != task:
        raise StepFailure(f"{where}: {task} did not run last; the tasks ran in the order {ran}")


@step(r"(\S+) should run after (\S+)")
def then_after(world: World, task: str, before: str, where: str) -> None:
    ran = world.top_level_tasks()
    if not any(a == before and b == task for a, b in itertools.pairwise(ran)):
        raise StepFailure(f"{where}: {task} did not run right after {before}; the tasks ran in the order {ran}")


@step(r"(\S+) should run before (\S+)")
def then_before(world: World, task: str, after: str, where: str) -> None:
    ran = world.top_level_tasks()
    if task not in ran or after not in ran or ran.index(task) > ran.index(after):
        raise StepFailure(f"{where}: {task} did not run before {after}; the tasks ran in the order {ran}")


def _task_end(world: World, task: str, where: str) -> tuple[str, dict[str, Any]]:
    ends = [(kind, record) for kind, record in world.task_records(task) if kind in ("task.completed", "task.faulted", "task.cancelled")]
    if not ends:
        raise StepFailure(f"{where}: task {task} never ended (no completed/faulted/cancelled event)")
    return ends[-1]


#: How a step names each way a task ends, in its failure message.
_ENDS = {"task.completed": "completed", "task.faulted": "a fault", "task.cancelled": "cancelled"}


def _ended_as(world: World, task: str, kind: str, where: str) -> dict[str, Any]:
    """The record of the end of ``task``; a step failure when it ended otherwise than ``kind``."""
    ended, record = _task_end(world, task, where)
    if ended != kind:
        error = record.get("error")
        raise StepFailure(f"{where}: task {task} ended with {ended}, not {_ENDS[kind]}" + (f": {show(error)}" if error else ""))
    return record


@step(r"(\S+) should complete")
def then_task_complete(world: World, task: str, where: str) -> None:
    _ended_as(world, task, "task.completed", where)


@step(r"(\S+) should complete with output:", doc=True)
def then_task_complete_with(world: World, task: str, doc: str, where: str) -> None:
    record = _ended_as(world, task, "task.completed", where)
    expected = yaml_value(doc, where)
    if not json_equal(record.get("output"), expected):
        raise StepFailure(f"{where}: task {task} output\n{show(record.get('output'))}\nis not\n{show(expected)}")


@step(r"(\S+) should fault")
def then_task_fault(world: World, task: str, where: str) -> None:
    _ended_as(world, task, "task.faulted", where)


@step(r"(\S+) should fault with error:", doc=True)
def then_task_fault_with(world: World, task: str, doc: str, where: str) -> None:
    record = _ended_as(world, task, "task.faulted", where)
    _match_error(record.get("error"), yaml_value(doc, where), where)


@step(r"(\S+) should cancel")
def then_task_cancel(world: World, task: str, where: str) -> None:
    _ended_as(world, task, "task.cancelled", where)


# -- running --------------------------------------------------------------------------------------


def run_step(world: World, item: Step) -> None:
    where = f"{world.scenario.file.name}:{item.line}: {item.keyword} {item.text}"
    doc = item.doc_string
    for name, value in world.substitutions.items():
        doc = doc.replace(f"<<{name}>>", value) if doc is not None else None
    for pattern, fn, takes_doc in STEPS:
        match = pattern.fullmatch(item.text.strip())
        if match is None:
            continue
        if takes_doc:
            fn(world, *match.groups(), doc=doc, where=where)
        else:
            if item.doc_string is not None:
                raise StepFailure(f"{where}: this step takes no doc string")
            fn(world, *match.groups(), where=where)
        return
    raise StepFailure(f"{where}: no step definition matches this text (tests/formats/sw/ctk/steps.py lists them)")


def run_scenario(world: World) -> None:
    from .steps_engine import stop_scheduler

    try:
        for item in world.scenario.steps:
            run_step(world, item)
    finally:
        stop_scheduler(world)
        world.restore_env()
        if world.env:
            _reset_secrets()


# The steps that talk to the engine's event bus and scheduler (registered on import).
from . import steps_engine  # noqa: F401
