"""User activities: plain Python functions, wrapped into Dapr activities.

A user activity is a function of its input::

    @activity
    def charge(order):                      # called with the task's arguments
        ...

    @activity(name="ship")
    async def ship_order(order, context):   # ``context`` gets an ActivityContext
        ...

The registry wraps every function into the signature the Dapr SDK calls,
``(ctx: WorkflowActivityContext, envelope)``: it unwraps the interpreter's envelope
(``{"dwf": 1, "input", "attempt", "node"}``; a bare input from a plain Dapr workflow works
too), calls the function and checks that the result is JSON. Exceptions propagate unchanged:
Dapr records the exception's *class name* as the failure's error type, and that is the name
retry and catch rules of a workflow match on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import importlib.util
import inspect
import json
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, overload

import dapr.ext.workflow as wf

from .heartbeat import ActivityCancelled, EngineLink, Heartbeater, step_key

__all__ = [
    "BUILTIN_NAMES", "ActivityCancelled", "ActivityContext", "ActivityImportError", "DuplicateActivityError",
    "Registry", "RegistryError", "activity", "default_registry",
]  # fmt: skip

F = TypeVar("F", bound=Callable[..., Any])

#: Attribute the ``@activity`` decorator leaves on a function: the name it registered under.
MARKER = "__dwf_activity__"
#: Names of the built-in activities (:mod:`declarative_wf.activities`); users cannot take them.
BUILTIN_NAMES = ("dwf.read_items", "dwf.write_results", "dwf.task_token", "http", "dwf.events.emit", "dwf.events.subscribe", "dwf.events.unsubscribe", "sw_openapi", "sw_grpc", "sw_asyncapi", "sw_run", "sw_start_workflow", "dwf.terminate_child")
#: The envelope version the interpreter sends (see interpreter/nodes/tasks.py).
ENVELOPE_VERSION = 1


class RegistryError(ValueError):
    """A problem with the set of activities (not with running one)."""


class ActivityImportError(RegistryError):
    """An activities module cannot be imported."""


class DuplicateActivityError(RegistryError):
    """Two different functions claim one activity name."""


@dataclass(frozen=True)
class ActivityContext:
    """What an activity that declares a ``context`` parameter receives."""

    #: The workflow instance that called the activity.
    instance_id: str
    #: The activity name it was called by.
    activity: str
    #: The engine's id of this call within the instance (stable across redeliveries, so
    #: ``f"{instance_id}/{task_id}"`` is a good idempotency key).
    task_id: int
    #: 1 for the first attempt; the interpreter counts its retries (each retry is a new task).
    attempt: int = 1
    #: The IR node (the definition's step) that called it; None for plain Dapr workflows.
    node: str | None = None
    #: The workflow's name, when the caller sent it.
    workflow: str | None = None
    #: Dapr's execution id of the call (stable across the SDK's own retries).
    task_execution_id: str = ""
    #: ``host:port`` of the engine the worker is connected to (None outside a worker), for
    #: built-in activities that talk to it.
    engine_address: str | None = None
    _heartbeater: Heartbeater | None = field(default=None, repr=False, compare=False)

    def heartbeat(self, details: Any = None) -> None:
        """Tell the engine this activity is alive, with optional JSON ``details`` of its progress
        (kept for the next attempt of the same step, see :meth:`last_heartbeat_details`).
        Raises :class:`ActivityCancelled` once the workflow instance no longer runs (it was
        terminated, finished or purged): let it propagate, or clean up and re-raise. Cheap to
        call often: at most two calls a second reach the engine."""
        if self._heartbeater is not None:
            self._heartbeater.beat(details)

    def last_heartbeat_details(self) -> Any:
        """The details of the last heartbeat of this step by an earlier attempt (None if there
        was none): where a retried activity should resume."""
        return None if self._heartbeater is None else self._heartbeater.last_details()


@dataclass(frozen=True)
class RegisteredActivity:
    name: str
    fn: Callable[..., Any]
    takes_input: bool
    wants_context: bool
    is_async: bool

    @property
    def origin(self) -> str:
        module = getattr(self.fn, "__module__", None) or "?"
        return f"{module}.{getattr(self.fn, '__qualname__', repr(self.fn))}"


def describe(fn: Callable[..., Any], name: str) -> RegisteredActivity:
    """How to call ``fn``: with its input (first positional parameter), and with ``context=``
    when it declares a parameter of that name."""
    if not callable(fn):
        raise RegistryError(f"activity {name!r}: {fn!r} is not callable")
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError) as error:
        raise RegistryError(f"activity {name!r}: cannot read the signature of {fn!r}: {error}") from None
    wants_context = "context" in signature.parameters
    positional = [
        p
        for p in signature.parameters.values()
        if p.name != "context" and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
    ]
    required = [p for p in positional if p.default is p.empty and p.kind is not p.VAR_POSITIONAL]
    if len(required) > 1:
        raise RegistryError(
            f"activity {name!r} ({getattr(fn, '__qualname__', fn)}) must take one argument, its input, "
            f"but requires {len(required)}: {', '.join(p.name for p in required)}"
        )
    from dapr.ext.workflow._durabletask.internal.shared import is_async_callable

    return RegisteredActivity(name, fn, bool(positional), wants_context, is_async_callable(fn))


def _not_an_activity(fn: Callable[..., Any], name: str) -> str | None:
    if name in BUILTIN_NAMES:
        return "has the name of a built-in activity (decorate it with @activity(name=...) to rename it)"
    try:
        describe(fn, name)
    except RegistryError:
        return "requires more than one argument (an activity takes one: its input)"
    return None


# -- calling ------------------------------------------------------------------------------------


def unwrap(envelope: Any) -> tuple[Any, int, str | None, str | None]:
    """``(input, attempt, node, workflow)`` of what Dapr handed the activity."""
    if isinstance(envelope, dict) and envelope.get("dwf") == ENVELOPE_VERSION and "input" in envelope:
        attempt = envelope.get("attempt")
        return (
            envelope["input"],
            attempt if isinstance(attempt, int) else 1,
            envelope.get("node"),
            envelope.get("workflow"),
        )
    return envelope, 1, None, None


def _plain(value: Any) -> Any:
    # Dataclasses and pydantic-style models become objects, as the Dapr SDK would send them,
    # but without its "auto-serialised" marker (which would turn them into SimpleNamespace
    # objects inside the workflow, where expressions cannot read them).
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_JSON_SCALARS = frozenset({str, int, bool, type(None)})


def to_json_value(name: str, value: Any) -> Any:
    """The result as plain JSON data, or a TypeError that names the activity."""
    if type(value) in _JSON_SCALARS:  # nothing to convert (floats still need the NaN check)
        return value
    try:
        text = json.dumps(value, default=_plain, allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(
            f"activity {name!r} returned a value that is not JSON-serialisable ({error}); "
            "return dicts, lists, strings, numbers, booleans or None"
        ) from None
    # The round trip makes tuples lists and keys strings now, not on some later replay.
    return json.loads(text)


def _call_args(
    spec: RegisteredActivity, ctx: wf.WorkflowActivityContext, envelope: Any, link: EngineLink | None
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    value, attempt, node, workflow = unwrap(envelope)
    args = (value,) if spec.takes_input else ()
    if not spec.wants_context:
        return args, {}
    inner = ctx.get_inner_context()
    step = step_key(node, spec.name, value)
    context = ActivityContext(
        instance_id=ctx.workflow_id,
        activity=spec.name,
        task_id=ctx.task_id,
        attempt=attempt,
        node=node,
        workflow=workflow,
        task_execution_id=getattr(inner, "task_execution_id", "") or "",
        engine_address=None if link is None else link.address,
        _heartbeater=Heartbeater(link, ctx.workflow_id, step),
    )
    return args, {"context": context}


def _flush_heartbeat(kwargs: dict[str, Any]) -> None:
    context = kwargs.get("context")
    if isinstance(context, ActivityContext) and context._heartbeater is not None:
        context._heartbeater.flush()


def dapr_activity(spec: RegisteredActivity, link: EngineLink | None = None) -> Callable[[wf.WorkflowActivityContext, Any], Any]:
    """A new function with the Dapr activity signature that calls ``spec.fn``; ``link`` is
    the worker's connection for heartbeats.

    A fresh function object every time: the SDK marks the functions it registers and refuses
    to register one twice, and every worker needs its own."""
    if spec.is_async:

        async def run_async(ctx: wf.WorkflowActivityContext, envelope: Any = None) -> Any:
            args, kwargs = _call_args(spec, ctx, envelope, link)
            try:
                return to_json_value(spec.name, await spec.fn(*args, **kwargs))
            except BaseException:
                _flush_heartbeat(kwargs)
                raise

        run_async.__name__ = run_async.__qualname__ = spec.name
        return run_async

    def run(ctx: wf.WorkflowActivityContext, envelope: Any = None) -> Any:
        args, kwargs = _call_args(spec, ctx, envelope, link)
        try:
            return to_json_value(spec.name, spec.fn(*args, **kwargs))
        except BaseException:
            _flush_heartbeat(kwargs)
            raise

    run.__name__ = run.__qualname__ = spec.name
    return run


# -- the registry -------------------------------------------------------------------------------


class Registry:
    """Named activities. ``add`` one function, or ``import_module`` a whole module."""

    def __init__(self, functions: Iterable[Callable[..., Any]] = ()) -> None:
        self._activities: dict[str, RegisteredActivity] = {}
        #: Public functions of imported modules that were left out, and why.
        self.skipped: dict[str, str] = {}
        for fn in functions:
            self.add(fn)

    def add(self, fn: F, name: str | None = None) -> F:
        """Registers ``fn`` under ``name`` (default: the name ``@activity`` gave it, else its
        ``__name__``). Registering the same function under the same name again is a no-op;
        a different function under a taken name is a :class:`DuplicateActivityError`."""
        effective = name or getattr(fn, MARKER, None) or getattr(fn, "__name__", None)
        if not effective or not isinstance(effective, str):
            raise RegistryError(f"{fn!r} has no __name__: register it with a name")
        spec = describe(fn, effective)
        existing = self._activities.get(effective)
        if existing is not None:
            if existing.fn is fn:
                return fn
            if existing.origin == spec.origin:
                # The same definition again (its module was reloaded): the newer one wins.
                self._activities[effective] = spec
                return fn
            raise DuplicateActivityError(
                f"activity {effective!r} is registered twice: by {existing.origin} and by {spec.origin}; "
                "give one of them another name (@activity(name=...))"
            )
        self._activities[effective] = spec
        return fn

    def update(self, other: Registry) -> None:
        for spec in other:
            self.add(spec.fn, spec.name)

    def import_module(self, module: str) -> list[str]:
        """Imports ``module`` (a dotted name, or a path to a ``.py`` file) and registers its
        activities: every function decorated with ``@activity``, and every public function
        (not starting with ``_``) defined in that module. Returns the names registered."""
        loaded = load_module(module)
        names: list[str] = []
        for attribute, value in list(vars(loaded).items()):
            marked = getattr(value, MARKER, None) if callable(value) else None
            if isinstance(marked, str):
                names.append(marked)
                self.add(value, marked)
            elif (
                inspect.isfunction(value)
                and not attribute.startswith("_")
                and value.__module__ == loaded.__name__
            ):
                # An undecorated public function may be a helper: one that cannot be an
                # activity is left out (and the reason kept, for "activity not found").
                reason = _not_an_activity(value, attribute)
                if reason is None:
                    names.append(attribute)
                    self.add(value, attribute)
                else:
                    self.skipped[attribute] = f"{module}.{attribute} {reason}"
        return names

    def get(self, name: str) -> RegisteredActivity | None:
        return self._activities.get(name)

    def names(self) -> list[str]:
        return sorted(self._activities)

    def register_with(self, runtime: wf.WorkflowRuntime, engine_address: str | None = None) -> None:
        """Registers every activity with ``runtime``; ``engine_address`` (``host:port``) lets
        their contexts heartbeat to the engine."""
        link = None if engine_address is None else EngineLink(engine_address)
        for spec in self._activities.values():
            runtime.register_activity(dapr_activity(spec, link), name=spec.name)

    def __contains__(self, name: object) -> bool:
        return name in self._activities

    def __iter__(self) -> Iterator[RegisteredActivity]:
        return iter(list(self._activities.values()))

    def __len__(self) -> int:
        return len(self._activities)

    def __repr__(self) -> str:
        return f"Registry({self.names()})"


def load_module(module: str) -> Any:
    """``importlib.import_module`` with an error people can act on instead of a traceback."""
    try:
        if module.endswith(".py"):
            return _load_file(Path(module))
        return importlib.import_module(module)
    except ActivityImportError:
        raise
    except ModuleNotFoundError as error:
        if error.name and (module == error.name or module.startswith(error.name + ".")):
            raise ActivityImportError(
                f"cannot import activities module {module!r}: no module named {error.name!r} "
                "(is it on PYTHONPATH, or in the current directory?)"
            ) from None
        raise ActivityImportError(f"cannot import activities module {module!r}: {error}") from None
    except SyntaxError as error:
        where = f"{error.filename}:{error.lineno}" if error.filename else module
        raise ActivityImportError(f"cannot import activities module {module!r}: syntax error at {where}: {error.msg}") from None
    except Exception as error:  # noqa: BLE001 - the module's own code failed while importing
        raise ActivityImportError(
            f"cannot import activities module {module!r}: {type(error).__name__}: {error}"
        ) from None


def _load_file(path: Path) -> Any:
    if not path.is_file():
        raise ActivityImportError(f"cannot import activities module {str(path)!r}: no such file")
    resolved = path.resolve()
    digest = hashlib.sha1(str(resolved).encode()).hexdigest()[:8]
    name = f"dwf_activities_{resolved.stem}_{digest}"
    if name in sys.modules:  # loaded before by this process: keep one copy of its functions
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, resolved)
    if spec is None or spec.loader is None:
        raise ActivityImportError(f"cannot import activities module {str(path)!r}: not a Python file")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    try:
        spec.loader.exec_module(loaded)
    except BaseException:
        sys.modules.pop(name, None)
        raise
    return loaded


#: Where ``@activity`` registers; what ``run()`` and ``start_worker()`` use by default.
default_registry = Registry()


@overload
def activity(fn: F, *, name: str | None = None) -> F: ...


@overload
def activity(fn: None = None, *, name: str | None = None) -> Callable[[F], F]: ...


def activity(fn: Any = None, *, name: str | None = None) -> Any:
    """``@activity`` or ``@activity(name="x")``: registers the function in
    :data:`default_registry` and marks it, so ``Registry.import_module`` finds it too."""

    def decorate(target: F) -> F:
        effective = name or target.__name__
        default_registry.add(target, effective)
        setattr(target, MARKER, effective)
        return target

    return decorate(fn) if fn is not None else decorate
