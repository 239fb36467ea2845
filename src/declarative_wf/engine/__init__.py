"""The embedded durable engine: a SQLite-backed Dapr Workflow sidecar.

It implements ``TaskHubSidecarService`` of the Dapr fork of the Durable Task protocol, so the
official Dapr SDK (``WorkflowRuntime``, ``DaprWorkflowClient``) runs against it unchanged.
"""

from .admin import EngineAdminClient, InstancePage, InstanceSummary
from .events import EngineError
from .options import EngineOptions
from .server import Engine, EngineLockedError, serve
from .store import StoreError

__all__ = ["Engine", "EngineAdminClient", "InstancePage", "InstanceSummary", "EngineError", "EngineLockedError", "EngineOptions", "StoreError", "serve"]
