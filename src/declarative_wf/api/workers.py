"""Workers for the server: the interpreter under every definition's name.

The service starts instances under the definition's own name (``order``, not ``dwf``), so
that Dapr's ``workflowName``, filtered listings and Dapr's own tooling show it. The worker
therefore runs *any* workflow name through the interpreter: names it has no function for fall
back to :func:`definition_workflow`.

* Started through our service, the input is the pinned payload (``{"ir", "ir_hash", "input"}``)
  and the interpreter runs that graph.
* Started by name by anything else — Dapr's own HTTP API on a real ``daprd``, or a Dapr SDK
  client — the input is the plain workflow input. The worker then looks the name up in its
  definitions (``name`` or ``name@version``), and *continues as new* with the pinned payload
  in the same first turn. That first turn is never replayed (continue-as-new ends the
  execution), so the version chosen then is the one the instance keeps.

The fallback is installed on the SDK's registry of the runtime before it starts (the SDK has
no public hook for it; ``dapr[workflow]`` is pinned to 1.19 and a test covers it).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import dapr.ext.workflow as wf
from dapr.ext.workflow.dapr_workflow_context import DaprWorkflowContext
from dapr.ext.workflow.logger import LoggerOptions

from declarative_wf import worker as base
from declarative_wf.activities import Registry
from declarative_wf.interpreter import dapr_adapter
from declarative_wf.interpreter.workflow import make_payload

from .errors import ServiceError
from .instances import is_pinned
from .registry import DefinitionRegistry

#: Maps a definition reference and an input to a pinned start payload.
Resolver = Callable[[str, Any], dict[str, Any]]


class DefinitionNotFound(Exception):
    """A workflow was started by a name no definition of this worker has. The class name is
    the failure's ``error_type`` Dapr reports."""


def registry_resolver(registry: DefinitionRegistry) -> Resolver:
    def resolve(ref: str, value: Any) -> dict[str, Any]:
        try:
            _, workflow = registry.workflow(ref)
        except ServiceError as error:
            raise DefinitionNotFound(error.message) from None
        return make_payload(workflow, value)

    return resolve


def definition_workflow(ctx: wf.DaprWorkflowContext, value: Any, name: str, resolve: Resolver) -> Any:
    """The workflow behind every definition name (see the module docstring)."""
    if is_pinned(value):
        return dapr_adapter.interpreter_workflow(ctx, value, resolve)
    payload = resolve(name, value)
    # save_events: events raised before this first turn wait for the pinned execution.
    ctx.continue_as_new(payload, save_events=True)
    return None


def install_fallback(runtime: wf.WorkflowRuntime, resolve: Resolver, logger_options: LoggerOptions | None = None) -> None:
    """Makes ``runtime`` run unknown workflow names through :func:`definition_workflow`.
    Must be called before ``runtime.start()``."""
    worker = getattr(runtime, "_WorkflowRuntime__worker", None)
    sdk_registry = getattr(worker, "_registry", None)
    original = getattr(sdk_registry, "get_orchestrator", None)
    if original is None:
        raise RuntimeError("this version of dapr[workflow] has no orchestrator registry to extend; use 1.19.x")

    def orchestrator_for(name: str) -> Callable[..., Any]:
        def run(ctx: Any, value: Any = None) -> Any:
            return definition_workflow(DaprWorkflowContext(ctx, logger_options), value, name, resolve)

        return run

    def get_orchestrator(name: str, version_name: str | None = None) -> tuple[Any, Any]:
        fn, used = original(name, version_name=version_name)
        if fn is None:
            return orchestrator_for(name), None
        return fn, used

    sdk_registry.get_orchestrator = get_orchestrator  # type: ignore[union-attr]


def start_definitions_worker(
    host: str,
    port: int | str,
    activities: Registry | None,
    resolve: Resolver,
    *,
    log_level: int | str | None = None,
    api_token: str | None = None,
) -> wf.WorkflowRuntime:
    """Like :func:`declarative_wf.worker.start_worker`, plus the fallback for definition names,
    and child workflows that name a definition resolved with ``resolve``."""
    combined = base.worker_registry(activities, f"{host}:{port}")
    level = log_level if log_level is not None else logging.ERROR
    base.quiet_sdk_logging(level)
    options = LoggerOptions(log_level=level, log_handler=base._SDK_HANDLER)  # type: ignore[arg-type]
    if api_token:
        # The SDK sends DAPR_API_TOKEN from its settings, read when the runtime is created.
        from dapr.conf import settings

        setattr(settings, "DAPR_API_TOKEN", api_token)  # noqa: B010 - read from the environment otherwise
    runtime = wf.WorkflowRuntime(host=host, port=str(port), logger_options=options)
    base._drop_repeated_handlers()
    dapr_adapter.register(runtime, resolve, engine_address=f"{host}:{port}")
    combined.register_with(runtime, engine_address=f"{host}:{port}")
    install_fallback(runtime, resolve, options)
    runtime.start()  # type: ignore[no-untyped-call]
    return runtime
