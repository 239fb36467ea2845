"""A Dapr workflow worker that runs interpreted definitions: the interpreter, the built-in
activities and the user's activities, connected to an engine (embedded or ``daprd``)."""

from __future__ import annotations

import gc
import logging

import dapr.ext.workflow as wf
from dapr.ext.workflow.logger import LoggerOptions

from .activities import (
    BUILTIN_NAMES,
    Registry,
    RegistryError,
    builtin_registry,
    default_registry,
)
from .interpreter import dapr_adapter

#: The SDK's loggers. At INFO they announce every registration and wait; activity failures
#: (expected outcomes a workflow handles) are WARNINGs and failed workflows log tracebacks.
SDK_LOGGERS = (
    "WorkflowRuntime",
    "DaprWorkflowContext",
    "DaprWorkflowClient",
    "durabletask-worker",
    "durabletask-client",
)


#: One handler for every runtime of this process: the SDK appends its handler to the
#: "durabletask-worker" logger once per runtime, so each worker started would print each line
#: once more. With a shared handler the repeats can be dropped.
_SDK_HANDLER = logging.StreamHandler()


def _drop_repeated_handlers() -> None:
    for name in SDK_LOGGERS:
        logger = logging.getLogger(name)
        if logger.handlers.count(_SDK_HANDLER) > 1:
            first = logger.handlers.index(_SDK_HANDLER)
            logger.handlers = [h for i, h in enumerate(logger.handlers) if h is not _SDK_HANDLER or i == first]


def quiet_sdk_logging(level: int | str = logging.ERROR) -> None:
    for name in SDK_LOGGERS:
        logging.getLogger(name).setLevel(level)


def worker_registry(registry: Registry | None = None, engine_address: str | None = None) -> Registry:
    """The built-ins plus ``registry`` (default: ``@activity`` functions). A user activity
    cannot take a built-in's name. With ``engine_address`` the event activities
    (``dwf.events.*``, docs/events.md) are bound to that engine's event bus."""
    user = default_registry if registry is None else registry
    taken = sorted(name for name in user.names() if name in BUILTIN_NAMES)
    if taken:
        spec = user.get(taken[0])
        origin = spec.origin if spec is not None else taken[0]
        raise RegistryError(
            f"activity name {taken[0]!r} ({origin}) is reserved for the built-in activity; "
            "rename the function, or start its name with _ if it is not an activity"
        )
    combined = builtin_registry()
    from .activities.events import event_activities

    combined.update(event_activities(engine_address))
    combined.update(user)
    return combined


def start_worker(
    host: str,
    port: int | str,
    registry: Registry | None = None,
    *,
    log_level: int | str | None = None,
) -> wf.WorkflowRuntime:
    """Starts a worker connected to the engine at ``host:port`` and returns it (call
    ``shutdown()`` when done). ``registry`` defaults to the ``@activity`` functions.
    ``log_level`` is the SDK's log level; by default only its errors show (activity
    failures are outcomes the workflow handles, not worker problems)."""
    activities = worker_registry(registry, f"{host}:{port}")
    level = log_level if log_level is not None else logging.ERROR
    quiet_sdk_logging(level)
    runtime = wf.WorkflowRuntime(
        host=host,
        port=str(port),
        logger_options=LoggerOptions(log_level=level, log_handler=_SDK_HANDLER),  # type: ignore[arg-type]
    )
    _drop_repeated_handlers()
    dapr_adapter.register(runtime, engine_address=f"{host}:{port}")
    activities.register_with(runtime, engine_address=f"{host}:{port}")
    _freeze_startup_objects()
    runtime.start()  # type: ignore[no-untyped-call]
    return runtime


_frozen = False


def _freeze_startup_objects() -> None:
    """Takes what exists once the first worker is set up (modules, the SDK, the registry) out
    of the garbage collector's sight, once per process. A worker allocates in bursts of
    thousands of objects per turn; each burst triggers collections, and the full ones would
    scan every long-lived object again. Frozen objects are still freed by reference counting;
    only cycles among them would stay (there are none after the collect just before)."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()


def new_client(host: str, port: int | str) -> wf.DaprWorkflowClient:
    """A workflow client whose SDK logging goes through the same handler as the workers'."""
    client = wf.DaprWorkflowClient(host=host, port=str(port), logger_options=LoggerOptions(log_handler=_SDK_HANDLER))
    _drop_repeated_handlers()
    return client
