"""Run one workflow to its end on the embedded engine: the Python API behind ``dwf run``.

    result = run("orders.yaml", {"order": 42}, activities=["myapp.activities"], db="state.db")
    result.status, result.output, result.error

The default instance id is derived from the definition's content hash and the input, so
running the same definition with the same input and the same ``db`` again after a crash
*attaches* to the unfinished instance: it completes without repeating committed steps.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dapr.ext.workflow as wf

from .activities import Registry, default_registry
from .diagnostics import Diagnostic, suggest
from .engine import Engine
from .interpreter.dapr_adapter import WORKFLOW_NAME
from .interpreter.workflow import make_payload
from .ir import SourceRef, TaskNode, Workflow, content_hash, workflow_from_json
from .progress import HistoryWatcher, ProgressEvent, iter_nodes, node_labels
from .worker import new_client, quiet_sdk_logging, start_worker, worker_registry

ProgressCallback = Callable[[ProgressEvent], None]
ActivitiesArg = Registry | Sequence[str] | str | None

#: Statuses of an instance that is still going (attach to it instead of starting over).
UNFINISHED = frozenset({"RUNNING", "PENDING", "SUSPENDED", "CONTINUED_AS_NEW", "STALLED"})
#: How often the history is read for progress, and the longest single blocking wait (short, so
#: Ctrl-C is handled promptly).
POLL_SECONDS = 0.25
WAIT_SLICE_SECONDS = 1.0


class RunError(Exception):
    """A run that cannot start: bad input, missing activities, an id already taken."""


class InvalidInputError(RunError):
    """The input does not match the input schema the definition declares."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class MissingActivityError(RunError):
    """The definition calls an activity that nothing registered provides."""

    def __init__(self, message: str, missing: dict[str, list[SourceRef | None]]) -> None:
        super().__init__(message)
        self.missing = missing


@dataclass(frozen=True)
class RunResult:
    instance_id: str
    #: COMPLETED, FAILED or TERMINATED; the current status (RUNNING...) when ``timed_out``.
    status: str
    output: Any = None
    #: The format's own error object (DSL: ``{"type", "message"}``; ASL: ``{"Error", "Cause"}``).
    error: dict[str, Any] | None = None
    #: True when an unfinished instance with this id was found and run to its end.
    resumed: bool = False
    #: True when ``timeout`` passed first; the instance is left as it is in ``db``.
    timed_out: bool = False

    @property
    def ok(self) -> bool:
        return self.status == "COMPLETED"

    def as_json(self) -> dict[str, Any]:
        """What ``dwf run -o json`` prints."""
        return {"instance_id": self.instance_id, "status": self.status, "output": self.output, "error": self.error}


# -- preparing ------------------------------------------------------------------------------------


def load_workflow(definition: str | os.PathLike[str] | Workflow) -> Workflow:
    """A compiled graph from a workflow, an IR JSON file or a definition file (any format).
    Raises :class:`declarative_wf.diagnostics.DiagnosticError` for an invalid definition."""
    return compile_definition(definition)[0]


def compile_definition(definition: str | os.PathLike[str] | Workflow) -> tuple[Workflow, list[Diagnostic]]:
    """:func:`load_workflow`, plus the warnings of a valid definition."""
    if isinstance(definition, Workflow):
        return definition, []
    path = Path(definition)
    ir = _ir_document(path)
    if ir is not None:
        return workflow_from_json(ir), []
    from .formats import load_definition  # imported late: the compilers are large

    compiled = load_definition(path)
    return compiled.workflow, list(compiled.document.warnings)


def _ir_document(path: Path) -> dict[str, Any] | None:
    """The JSON of an already compiled graph (``{"ir_version": ...}``), else None."""
    if path.suffix.lower() != ".json":
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None  # the format loader reports it, with a position
    return data if isinstance(data, dict) and "ir_version" in data else None


def resolve_registry(activities: ActivitiesArg) -> Registry:
    """``activities`` as a registry: None is the ``@activity`` functions, strings are modules
    to import (dotted names, or paths of ``.py`` files)."""
    if activities is None:
        return default_registry
    if isinstance(activities, Registry):
        return activities
    registry = Registry()
    for module in [activities] if isinstance(activities, str) else activities:
        registry.import_module(module)
    return registry


def referenced_activities(workflow: Workflow) -> dict[str, list[SourceRef | None]]:
    """Activity name → where the definition calls it."""
    found: dict[str, list[SourceRef | None]] = {}
    for node in iter_nodes(workflow.body):
        if isinstance(node, TaskNode) and node.activity:
            found.setdefault(node.activity, []).append(node.source)
    return found


def check_activities(workflow: Workflow, registry: Registry) -> None:
    """Raises :class:`MissingActivityError` naming every activity the definition calls that
    neither the built-ins nor ``registry`` provide."""
    known = worker_registry(registry).names()
    missing = {name: refs for name, refs in referenced_activities(workflow).items() if name not in known}
    if not missing:
        return
    lines = []
    for name, refs in sorted(missing.items()):
        # FILE:LINE:COL first, like every diagnostic, when the definition says where.
        where = next((f"{ref}: " for ref in refs if ref is not None), "")
        if name in registry.skipped:
            lines.append(f"{where}activity {name!r} is not registered: {registry.skipped[name]}")
            continue
        hint = suggest(name, known)
        lines.append(f"{where}activity {name!r} is not provided by any registered module" + (f"; {hint}" if hint else ""))
    lines.append(f"registered activities: {', '.join(known)}")
    raise MissingActivityError("\n".join(lines), missing)


def check_input(workflow: Workflow, value: Any) -> None:
    """Raises :class:`InvalidInputError` when ``value`` does not match the input schema of the
    definition (the interpreter does not check it: whoever starts an instance does)."""
    try:
        from .formats import check_input as problems_of
    except ImportError:  # no formats package: graphs carry no schema to check
        return
    problems = problems_of(workflow, value)
    if problems:
        listed = "\n".join(f"  {problem}" for problem in problems)
        raise InvalidInputError(f"the input does not match the input schema of {workflow.name!r}:\n{listed}", problems)


def canonical_json(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise RunError(f"the input is not JSON: {error}") from None


def default_instance_id(workflow: Workflow, workflow_input: Any) -> str:
    """``<name>-<12 hex digits of sha256(ir hash + canonical input)>``: the same definition and
    input give the same id, so a re-run finds an instance a crash left unfinished."""
    digest = hashlib.sha256((content_hash(workflow) + canonical_json(workflow_input)).encode()).hexdigest()[:12]
    # Dapr's public API allows letters, digits, '-' and '_' and at most 64 characters.
    name = re.sub(r"[^A-Za-z0-9_-]+", "-", workflow.name).strip("-")[:51] or "workflow"
    return f"{name}-{digest}"


def error_object(fmt: str, error_type: str, message: str) -> dict[str, Any]:
    """The failure as the definition's format names errors."""
    if fmt == "asl":
        return {"Error": error_type, "Cause": message}
    if fmt.startswith("sw"):
        # Dapr failure details carry a type and a message only: the SW profile puts the whole
        # Problem Details object in the message.
        from .activities.problems import parse_problem

        problem = parse_problem(message)
        if problem is not None:
            return {"title": None, "detail": None, "instance": None, **problem}
        return {"type": error_type, "status": None, "title": None, "detail": message, "instance": None}
    return {"type": error_type, "message": message}


# -- running --------------------------------------------------------------------------------------


@contextmanager
def _database(db: str | os.PathLike[str] | None) -> Iterator[Path]:
    if db is not None:
        yield Path(db)
        return
    with tempfile.TemporaryDirectory(prefix="dwf-run-") as directory:
        yield Path(directory) / "run.db"


def run(
    definition: str | os.PathLike[str] | Workflow,
    input: Any = None,
    *,
    activities: ActivitiesArg = None,
    db: str | os.PathLike[str] | None = None,
    instance_id: str | None = None,
    timeout: float | None = None,
    on_progress: ProgressCallback | None = None,
    log_level: int | str | None = None,
) -> RunResult:
    """Runs ``definition`` with ``input`` to its end on an embedded engine over ``db`` (a
    temporary file when None) and returns the result. See the module docstring."""
    workflow = load_workflow(definition)
    registry = resolve_registry(activities)
    check_activities(workflow, registry)
    canonical_json(input)  # refuse input that is not JSON before starting anything
    check_input(workflow, input)
    payload = make_payload(workflow, input)
    iid = instance_id or default_instance_id(workflow, input)
    quiet_sdk_logging(log_level if log_level is not None else "ERROR")
    with _database(db) as path, Engine(path) as engine:
        runtime = start_worker(engine.host, engine.port, registry, log_level=log_level)
        client = new_client(engine.host, engine.port)
        try:
            resumed = _start_or_attach(client, iid, payload)
            state, timed_out = _wait(client, engine.address, iid, workflow, timeout, on_progress)
        finally:
            client.close()  # type: ignore[no-untyped-call]
            runtime.shutdown()  # type: ignore[no-untyped-call]
    return _result(workflow, iid, state, resumed, timed_out)


def _start_or_attach(client: wf.DaprWorkflowClient, iid: str, payload: dict[str, Any]) -> bool:
    """Starts the instance, or returns True when an unfinished one with this id runs the same
    graph and input (it then just runs on). A finished one is replaced by a new run."""
    state = client.get_workflow_state(iid, fetch_payloads=True)
    if state is not None and state.runtime_status.name in UNFINISHED:
        existing = parse_payload(state.serialized_input)
        same = (
            state.name == WORKFLOW_NAME
            and isinstance(existing, dict)
            and existing.get("ir_hash") == payload["ir_hash"]
            and canonical_json(existing.get("input")) == canonical_json(payload["input"])
        )
        if not same:
            raise RunError(
                f"instance {iid!r} is {state.runtime_status.name} with another definition or input; "
                "choose another instance id, or let it finish"
            )
        if state.runtime_status.name == "SUSPENDED":
            client.resume_workflow(iid)
        return True
    client.schedule_new_workflow(WORKFLOW_NAME, input=payload, instance_id=iid)
    return False


def _wait(
    client: wf.DaprWorkflowClient,
    address: str,
    iid: str,
    workflow: Workflow,
    timeout: float | None,
    on_progress: ProgressCallback | None,
) -> tuple[Any, bool]:
    deadline = None if timeout is None else time.monotonic() + timeout
    watcher = HistoryWatcher(address, iid, node_labels(workflow)) if on_progress is not None else None
    slice_seconds = POLL_SECONDS if watcher is not None else WAIT_SLICE_SECONDS
    try:
        while True:
            wait = slice_seconds if deadline is None else max(0.01, min(slice_seconds, deadline - time.monotonic()))
            try:
                state = client.wait_for_workflow_completion(iid, timeout_in_seconds=wait)  # type: ignore[arg-type]
            except TimeoutError:
                state = None
            if watcher is not None and on_progress is not None:
                for event in watcher.poll():
                    on_progress(event)
            if state is not None:
                return state, False
            if deadline is not None and time.monotonic() >= deadline:
                return client.get_workflow_state(iid, fetch_payloads=True), True
    finally:
        if watcher is not None:
            watcher.close()


def _result(workflow: Workflow, iid: str, state: Any, resumed: bool, timed_out: bool) -> RunResult:
    if state is None:
        raise RunError(f"instance {iid!r} disappeared while running (was it purged?)")
    status = state.runtime_status.name
    if timed_out:
        return RunResult(iid, status, resumed=resumed, timed_out=True)
    if status == "COMPLETED":
        return RunResult(iid, status, parse_payload(state.serialized_output), resumed=resumed)
    if status == "FAILED":
        details = state.failure_details
        error_type = getattr(details, "error_type", None) or "Failed"
        message = getattr(details, "message", None) or ""
        return RunResult(iid, status, None, error_object(workflow.format, error_type, message), resumed)
    reason = parse_payload(state.serialized_output)
    message = f"the instance was terminated: {reason}" if reason not in (None, "") else "the instance was terminated"
    return RunResult(iid, status, None, error_object(workflow.format, "Terminated", message), resumed)


def parse_payload(text: str | None) -> Any:
    """A serialized input, output or custom status: its JSON value; None when empty, the text
    itself when it is not JSON (a status set by hand)."""
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


__all__ = [
    "InvalidInputError",
    "MissingActivityError",
    "ProgressEvent",
    "RunError",
    "RunResult",
    "check_activities",
    "check_input",
    "compile_definition",
    "default_instance_id",
    "load_workflow",
    "referenced_activities",
    "resolve_registry",
    "run",
]
