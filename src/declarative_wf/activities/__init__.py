"""Activities: the user registry and the built-ins every worker provides.

``Registry`` and ``@activity`` turn plain Python functions into Dapr activities (see
:mod:`.registry`); :mod:`.http` is the built-in ``http`` activity.
"""

from __future__ import annotations

from .registry import (
    BUILTIN_NAMES,
    ActivityCancelled,
    ActivityContext,
    ActivityImportError,
    DuplicateActivityError,
    Registry,
    RegistryError,
    activity,
    default_registry,
)


def builtin_registry() -> Registry:
    """A new registry of the built-in activities."""
    from .http import http

    registry = Registry()
    registry.add(http, "http")
    from .item_reader import read_items  # Map ItemReader (ASL)
    from .result_writer import write_results  # Map ResultWriter (ASL)
    from .task_token import task_token  # task token nonces (declarative_wf.task_tokens)

    registry.add(read_items, "dwf.read_items")
    registry.add(write_results, "dwf.write_results")
    registry.add(task_token, "dwf.task_token")
    from .sw_calls import sw_asyncapi, sw_openapi  # Serverless Workflow call kinds
    from .sw_grpc import sw_grpc

    registry.add(sw_openapi, "sw_openapi")
    registry.add(sw_grpc, "sw_grpc")
    registry.add(sw_asyncapi, "sw_asyncapi")
    from .sw_run import sw_run, sw_start_workflow  # run: shell/script/container, run.workflow await: false

    registry.add(sw_run, "sw_run")
    registry.add(sw_start_workflow, "sw_start_workflow")
    from .children import terminate_child  # ends a child workflow whose step timed out

    registry.add(terminate_child, "dwf.terminate_child")
    return registry


__all__ = [
    "BUILTIN_NAMES",
    "ActivityCancelled",
    "ActivityContext",
    "ActivityImportError",
    "DuplicateActivityError",
    "Registry",
    "RegistryError",
    "activity",
    "builtin_registry",
    "default_registry",
]
