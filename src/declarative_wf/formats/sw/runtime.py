"""What running a Serverless Workflow 1.x graph needs beyond the generic interpreter.

Registered as the interpreter's format profile for ``"sw1"`` (imported on first use):

* the jq arguments ``$context``, ``$input``, ``$output``, ``$secrets``, ``$task``,
  ``$workflow``, ``$runtime`` and ``$authorization`` (``dsl.md`` "Runtime expression
  arguments"; ``authz.py`` says where the last one is provided);
* an embedded child workflow's own facts (its schemas, ``$workflow.definition``), found
  through ``embedded_at``, the call site the interpreter names when it starts the child;
* errors as RFC 7807 Problem Details with the standard type URIs, statuses and an ``instance``
  JSON Pointer naming the task (``/do/0/tryGetPet/try/0/getPet``);
* the input / output / export schemas of tasks, function bodies and of the workflow
  (``validation``, 400);
* the **lifecycle observer** API: other parts (the CTK runner's task journal, the lifecycle
  CloudEvents publisher) see ``workflow.*`` and ``task.*`` events through
  :func:`add_lifecycle_observer`.

Node ids of a compiled SW graph follow one grammar (see ``compile.py``)::

    [<embedding call site> "|"]... <task JSON Pointer> ["#" <helper suffix>]

A node whose id has no ``#`` suffix *is* a task; helper nodes (an ``if`` guard, the ``export``
step, the machinery of a ``for`` loop) belong to the task their pointer names. Everything here
is deterministic: times come from the workflow clock, nothing is read during a replay except
the secrets file (read once per process).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from declarative_wf.activities.problems import ERROR_TYPES, parse_problem, standard_type
from declarative_wf.interpreter.commands import WorkflowError
from declarative_wf.interpreter.profiles import FormatProfile, register_profile
from declarative_wf.interpreter.runtime import RunContext
from declarative_wf.ir import Node

__all__ = [
    "RUNTIME_NAME", "SECRETS_ENV_PREFIX", "SECRETS_FILE_ENV", "LifecycleObserver", "SwProfile",
    "add_lifecycle_observer", "load_secrets", "owner_pointer", "problem", "remove_lifecycle_observer",
    "reset_secrets", "task_pointer",
]  # fmt: skip

log = logging.getLogger(__name__)

RUNTIME_NAME = "declarative_wf"
#: A JSON or YAML file holding a mapping of secret names to values.
SECRETS_FILE_ENV = "DWF_SECRETS_FILE"
#: Environment variables ``DWF_SECRET_<NAME>`` provide the secret ``<NAME>`` (as written after
#: the prefix, and lower-cased too).
SECRETS_ENV_PREFIX = "DWF_SECRET_"

LifecycleObserver = Callable[[str, dict[str, Any]], None]
_OBSERVERS: list[LifecycleObserver] = []
#: The observers that also want the events of replays (most only want new events; skipping the
#: others during a replay keeps a turn's cost independent of the history's length).
_REPLAY_OBSERVERS: list[LifecycleObserver] = []


def add_lifecycle_observer(fn: LifecycleObserver, *, replays: bool = False) -> None:
    """Call ``fn(kind, record)`` for every lifecycle event of every SW workflow this process
    runs. Kinds: ``workflow.started|completed|faulted`` and
    ``task.started|completed|faulted|retried``. ``record`` holds ``instance``, ``workflow``,
    ``task`` (name, None for workflow events), ``reference`` (JSON Pointer), ``time`` (the
    workflow clock, ISO 8601), ``replaying`` (True while the engine replays history: an event
    seen with ``replaying`` False is new), ``engine`` (``host:port`` of the engine the execution
    runs on, None when unknown), ``namespace`` and ``version`` of the definition, and
    ``output`` / ``error`` where relevant.

    ``replays=True`` also delivers the events of replays (``replaying`` True); by default an
    observer sees each event once, when it is new. Observers run inside the orchestrator: they
    must be quick and must not raise (an exception is logged and ignored) nor block."""
    if fn not in _OBSERVERS:
        _OBSERVERS.append(fn)
    if replays and fn not in _REPLAY_OBSERVERS:
        _REPLAY_OBSERVERS.append(fn)


def remove_lifecycle_observer(fn: LifecycleObserver) -> None:
    for registered in (_OBSERVERS, _REPLAY_OBSERVERS):
        if fn in registered:
            registered.remove(fn)


# -- secrets ----------------------------------------------------------------------------------

_secrets: dict[str, Any] | None = None
_secrets_lock = threading.Lock()


def load_secrets() -> dict[str, Any]:
    """The secrets of this worker: the mapping in ``$DWF_SECRETS_FILE`` (JSON or YAML), then
    every ``DWF_SECRET_<NAME>`` environment variable. Read once per process; values are never
    logged."""
    global _secrets
    with _secrets_lock:
        if _secrets is None:
            found: dict[str, Any] = {}
            path = os.environ.get(SECRETS_FILE_ENV)
            if path:
                found.update(_read_secrets_file(path))
            for name, value in os.environ.items():
                if name.startswith(SECRETS_ENV_PREFIX) and len(name) > len(SECRETS_ENV_PREFIX):
                    key = name[len(SECRETS_ENV_PREFIX):]
                    found.setdefault(key, value)
                    found.setdefault(key.lower(), value)
            _secrets = found
        return _secrets


def reset_secrets() -> None:
    """Forget the secrets read so far (tests, or after the file changed)."""
    global _secrets
    with _secrets_lock:
        _secrets = None


def _read_secrets_file(path: str) -> dict[str, Any]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError as error:
        log.error("cannot read the secrets file named by %s: %s", SECRETS_FILE_ENV, error.strerror)
        return {}
    try:
        import yaml

        value = yaml.safe_load(text)  # JSON is YAML
    except Exception:  # noqa: BLE001 - the message could quote a secret: say only where
        log.error("the secrets file named by %s is not valid JSON or YAML", SECRETS_FILE_ENV)
        return {}
    if not isinstance(value, dict):
        log.error("the secrets file named by %s must hold a mapping of names to values", SECRETS_FILE_ENV)
        return {}
    return {str(key): item for key, item in value.items()}


# -- node ids ---------------------------------------------------------------------------------


def task_pointer(node_id: str) -> str:
    """The JSON Pointer of the task a node belongs to (within its own document)."""
    local = node_id.rsplit("|", 1)[-1]
    return local.split("#", 1)[0]


def owner_pointer(node_id: str) -> str:
    """The id of the task node a node belongs to (embedding prefixes kept)."""
    head, sep, local = node_id.rpartition("|")
    return head + sep + local.split("#", 1)[0]


def is_task(node: Node) -> bool:
    return "#" not in node.id.rsplit("|", 1)[-1]


# -- problems ---------------------------------------------------------------------------------


def problem(kind: str, *, status: int | None = None, title: str | None = None, detail: str | None = None,
            instance: str | None = None) -> dict[str, Any]:  # fmt: skip
    """A Problem Details object of a standard type (``validation``, ``timeout``...)."""
    out: dict[str, Any] = {"type": standard_type(kind), "status": status if status is not None else ERROR_TYPES[kind]}
    for key, value in (("title", title), ("detail", detail), ("instance", instance)):
        if value is not None:
            out[key] = value
    return out


def problem_error(details: dict[str, Any], node: Node | None = None) -> WorkflowError:
    """A WorkflowError carrying ``details`` already in SW form (so ``translate`` keeps it)."""
    error = WorkflowError(
        str(details["type"]), json.dumps(details, separators=(",", ":"), default=str), cause=details,
        kinds=frozenset({"sw", "runtime"}), status=int(details["status"]), source=node.source if node else None,
    )  # fmt: skip
    if node is not None:
        error.node = node.id
    return error


def _iso(moment: datetime) -> str:
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def datetime_descriptor(moment: datetime | None) -> dict[str, Any] | None:
    if moment is None:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    millis = int(moment.timestamp() * 1000)
    return {"iso8601": _iso(moment), "epoch": {"seconds": millis // 1000, "milliseconds": millis}}


def _resolve(document: Any, pointer: str) -> Any:
    current = document
    for raw in pointer.split("/")[1:]:
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(current, list):
            try:
                current = current[int(part)]
            except (ValueError, IndexError):
                return None
        elif isinstance(current, dict):
            current = current.get(part)
        else:
            return None
    return current


# -- the profile ------------------------------------------------------------------------------


class SwProfile(FormatProfile):
    def _options(self, rt: RunContext) -> dict[str, Any]:
        options = rt.workflow.options.get("sw")
        return options if isinstance(options, dict) else {}

    def _own(self, rt: RunContext) -> dict[str, Any]:
        """The document-level facts of the workflow this instance runs: the top-level one, or
        an embedded child (``run: workflow`` compiled into the parent's graph), which the
        interpreter starts with the parent's options plus ``embedded_at`` (the call site)."""
        options = self._options(rt)
        site = rt.workflow.options.get("embedded_at")
        if not isinstance(site, str):
            return options
        own = (options.get("children") or {}).get(site) or {}
        return {**own, "document": (options.get("documents") or {}).get(site)}

    def _now(self, rt: RunContext) -> datetime | None:
        return rt.clock() if rt.clock is not None else rt.started_at

    def _notify(self, rt: RunContext, kind: str, node: Node | None, **extra: Any) -> None:
        replaying = bool(rt.replaying()) if rt.replaying is not None else False
        observers = list(_REPLAY_OBSERVERS if replaying else _OBSERVERS)
        if not observers:
            return
        now = self._now(rt)
        record: dict[str, Any] = {
            "instance": rt.instance_id,
            "workflow": rt.workflow.name,
            "task": (node.label or task_pointer(node.id).rsplit("/", 1)[-1]) if node is not None else None,
            "reference": task_pointer(node.id) if node is not None else "/",
            "time": _iso(now) if now is not None else None,
            "replaying": replaying,
            # Where the events go (the engine this execution runs on) and the definition reference.
            "engine": rt.engine_address,
            "namespace": rt.workflow.options.get("namespace"),
            "version": rt.workflow.version,
            **extra,
        }
        for observer in observers:
            try:
                observer(kind, dict(record))
            except Exception:  # noqa: BLE001 - an observer must never break a workflow
                log.exception("lifecycle observer %r failed on %s", observer, kind)

    #: Public entry for nodes that report their own lifecycle events (``listen``: correlation).
    notify = _notify

    # -- workflow ---------------------------------------------------------------------------

    def start(self, rt: RunContext) -> None:
        options = self._own(rt)
        self._notify(rt, "workflow.started", None, input=rt.input)
        declared = options.get("secrets") or []
        if declared:
            available = load_secrets()
            missing = [name for name in declared if name not in available]
            if missing:
                raise problem_error(problem(
                    "authorization", title="Secret not found", instance="/use/secrets",
                    detail=f"the workflow declares secret(s) {', '.join(missing)} that this worker does not provide "
                    f"(set {SECRETS_FILE_ENV} or {SECRETS_ENV_PREFIX}<NAME>)",
                ))  # fmt: skip
        schema = options.get("input_schema")
        if schema is not None:
            self._validate(schema, rt.input, "/input/schema", "workflow input", None)

    def finish(self, rt: RunContext, output: Any) -> Any:
        schema = self._own(rt).get("output_schema")
        if schema is not None:  # a failure here is reported by `failed`, like any other
            self._validate(schema, output, "/output/schema", "workflow output", None)
        self._notify(rt, "workflow.completed", None, output=output)
        return output

    def failed(self, rt: RunContext, error: WorkflowError) -> None:
        if "sw" not in error.kinds:
            error = self.translate(rt, None, error)
        self._notify(rt, "workflow.faulted", None, error=_details(error))

    # -- expressions --------------------------------------------------------------------------

    def context(self, rt: RunContext, node: Node | None, variables: Mapping[str, Any], step: Mapping[str, Any]) -> Mapping[str, Any]:
        options = self._options(rt)
        definition = self._own(rt).get("document")
        state = rt.format_state
        context: dict[str, Any] = {
            "context": {},  # the initial $context; export.as replaces it (a variable wins)
            "workflow": {
                "id": rt.instance_id,
                "definition": definition,
                "input": rt.input,
                "startedAt": state.get("started_descriptor") or datetime_descriptor(rt.started_at),
            },
            "runtime": options.get("runtime") or _runtime(),
            "secrets": load_secrets(),
            "authorization": None,  # see authz.py: provided only where the author uses it
        }
        if node is not None:
            pointer = task_pointer(node.id)
            owner = owner_pointer(node.id)
            inputs = state.setdefault("task_input", {})
            if owner != node.id and owner in inputs and node.id.endswith(("#export", "#save")):
                # export.as runs in a step after the task: $input is still the task's input.
                context["input"] = inputs[owner]
                context["output"] = step.get("input")
            else:
                if "effective" in step:
                    context["input"] = step["effective"]
                    if owner == node.id:
                        inputs[owner] = step["effective"]
                if "selected" in step:
                    context["output"] = step["selected"]
            started = state.get("task_started", {}).get(owner)
            documents = options.get("documents") or {}
            prefix = node.id.rpartition("|")[0]
            doc = documents.get(prefix, definition) if prefix else options.get("document")
            table = options.get("authorization")
            if table:
                # The call task's own id, or (an export step) the task it belongs to; a
                # use.functions body keeps its `#fn` id.
                key = next((k for k in (node.id, node.id.rsplit("#", 1)[0], owner) if k in table), None)
                if key is not None:
                    context["authorization"] = self._authorization(rt, node, key, variables, step)
            context["task"] = {
                "name": node.label or pointer.rsplit("/", 1)[-1],
                "reference": pointer,
                "definition": _resolve(doc, pointer),
                "input": step.get("input"),
                "output": step.get("result"),
                "startedAt": datetime_descriptor(started) if started is not None else None,
            }
        return context

    def _authorization(self, rt: RunContext, node: Node, owner: str, variables: Mapping[str, Any], step: Mapping[str, Any]) -> Any:
        """``$authorization`` of the task ``owner`` (see ``authz.py``)."""
        facts = self._options(rt)["authorization"][owner]
        known = rt.format_state.setdefault("authorization", {})
        if owner != node.id:  # export.as runs in a later step: what the call returned
            return known.get(owner)
        if "result" in step:  # result selection, output.as: the activity's raw answer
            raw = step["result"]
            if facts.get("exposed") and isinstance(raw, dict):
                known[owner] = raw.get("authorization")
            return known.get(owner)
        definition = facts.get("definition")
        if definition is None:
            return None
        from declarative_wf.ir import Expr

        from .authz import resolve_definition

        policy = rt.eval(Expr(definition["lang"], definition["value"]), step.get("effective"), variables, None)
        try:
            return resolve_definition(policy)
        except LookupError as error:  # a secret the worker does not have
            raise problem_error(problem("authorization", title="Secret not found", detail=str(error),
                                        instance=task_pointer(node.id)), node) from None  # fmt: skip
        except ValueError as error:
            raise problem_error(problem("configuration", title="Invalid authentication", detail=str(error),
                                        instance=task_pointer(node.id)), node) from None  # fmt: skip

    # -- nodes ------------------------------------------------------------------------------

    def enter(self, rt: RunContext, node: Node, data: Any) -> None:
        if not rt.format_state.get("started_descriptor") and rt.started_at is not None:
            rt.format_state["started_descriptor"] = datetime_descriptor(rt.started_at)
        owner = owner_pointer(node.id)
        started = rt.format_state.setdefault("task_started", {})
        if is_task(node) or owner not in started:
            started[owner] = self._now(rt)
        if node.input is None:  # no input.from: the transformed input is the raw input
            rt.format_state.setdefault("task_input", {})[node.id] = data
        if is_task(node):
            self._notify(rt, "task.started", node, input=data)
        # Every node with schemas is checked: tasks, and the bodies of use.functions / catalog
        # functions (``#fn`` helper ids), whose schemas the compiler registers the same way.
        schemas = self._schemas(rt).get(node.id, {})
        if schemas.get("input") is not None:
            self._validate(schemas["input"], data, _where(node, schemas) + "/input/schema", "task input", node)

    def transformed(self, rt: RunContext, node: Node, effective: Any) -> None:
        # input.from gave the task's transformed input: `$input` of its export.as (which runs
        # in a later step) is this value, whether or not another expression saw it.
        rt.format_state.setdefault("task_input", {})[node.id] = effective

    def leave(self, rt: RunContext, node: Node, data: Any) -> None:
        schemas = self._schemas(rt).get(node.id, {})
        if schemas.get("output") is not None:
            self._validate(schemas["output"], data, _where(node, schemas) + "/output/schema", "task output", node)
        if is_task(node):
            self._notify(rt, "task.completed", node, output=data)
        elif node.id.endswith("#export") and schemas.get("export") is not None:
            # With an export schema, the export step's output is the new context (a restore
            # step after it brings the task's output back).
            self._validate(schemas["export"], data, task_pointer(node.id) + "/export/schema", "exported context", node)

    def fault(self, rt: RunContext, node: Node, error: WorkflowError) -> None:
        if is_task(node):
            self._notify(rt, "task.faulted", node, error=_details(error))

    def retried(self, rt: RunContext, node: Node, error: WorkflowError, retry: int, delay: float) -> None:
        target = rt.node(owner_pointer(node.id)) if owner_pointer(node.id) != node.id else node
        self._notify(rt, "task.retried", target, error=_details(error), retry=retry, delay=delay)

    def _schemas(self, rt: RunContext) -> dict[str, dict[str, Any]]:
        schemas = self._options(rt).get("schemas")
        return schemas if isinstance(schemas, dict) else {}

    def _validate(self, schema: Any, value: Any, pointer: str, what: str, node: Node | None) -> None:
        problems = _schema_problems(schema, value)
        if problems:
            detail = f"the {what} does not match its schema: " + "; ".join(problems[:5])
            instance = pointer.rsplit("/", 2)[0] if node is not None else "/"
            raise problem_error(problem("validation", title="Validation failed", detail=detail, instance=instance or "/"), node)

    # -- errors -----------------------------------------------------------------------------

    def translate(self, rt: RunContext, node: Node | None, error: WorkflowError) -> WorkflowError:
        if "sw" in error.kinds:
            return error
        kinds = error.kinds
        details: dict[str, Any] | None = None
        if node is not None and node.kind == "fail" or "task" in kinds or error.type == "ProblemError":
            details = parse_problem(error.message)
            if details is None and node is not None and node.kind == "fail":
                details = {"type": error.type, "status": error.status or 500}
                if error.message:
                    details["title"] = error.message
        if details is None:
            if "timeout" in kinds:
                details = problem("timeout", title="Timeout", detail=error.message)
            elif "expression" in kinds:
                details = problem("expression", title="Expression failed", detail=error.message)
            elif "task" in kinds:
                # An activity's own exception: its class name is the best title there is.
                details = problem("runtime", title=error.type, detail=error.message)
            else:
                details = problem("runtime", title="Runtime error", detail=error.message)
        details = dict(details)
        if not details.get("instance"):
            details["instance"] = task_pointer(node.id) if node is not None else "/"
        error.type = str(details["type"])
        error.status = int(details.get("status") or 500)
        error.cause = details
        error.message = json.dumps(details, separators=(",", ":"), default=str)
        error.kinds = kinds | {"sw"}
        return error


def _where(node: Node, schemas: Mapping[str, Any]) -> str:
    """The JSON Pointer of the task definition whose schemas these are (a function's entry
    for a function body)."""
    pointer = schemas.get("pointer")
    return pointer if isinstance(pointer, str) else task_pointer(node.id)


def _details(error: WorkflowError) -> Any:
    return error.cause if isinstance(error.cause, dict) else {"type": error.type, "status": error.status, "detail": error.message}


def _runtime() -> dict[str, Any]:
    from declarative_wf import __version__

    return {"name": RUNTIME_NAME, "version": __version__, "metadata": {}}


_VALIDATORS: dict[str, Any] = {}


def _schema_problems(schema: Any, value: Any) -> list[str]:
    import jsonschema

    key = json.dumps(schema, sort_keys=True, default=str)
    validator = _VALIDATORS.get(key)
    if validator is None:
        cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        validator = _VALIDATORS[key] = cls(schema)
    out = []
    for problem_ in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path))):
        where = "/" + "/".join(str(part) for part in problem_.absolute_path)
        out.append(f"{where}: {problem_.message}")
    return out


register_profile("sw1", SwProfile())
