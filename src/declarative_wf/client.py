"""A client for interpreted workflows on any engine that speaks the Dapr protocol.

It starts compiled definitions (pinning the graph into the instance), reads their state in the
format's own terms, and manages them. Against the embedded engine it also lists instances with
filters; against a real Dapr sidecar that one call is not available.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import dapr.ext.workflow as wf

from . import task_tokens
from .engine.admin import EngineAdminClient, InstancePage
from .interpreter.dapr_adapter import WORKFLOW_NAME
from .interpreter.workflow import make_payload
from .ir import Workflow
from .runner import default_instance_id, error_object, load_workflow, parse_payload


@dataclass(frozen=True)
class InstanceState:
    instance_id: str
    status: str  # RUNNING, COMPLETED, FAILED, TERMINATED, PENDING, SUSPENDED, ...
    output: Any
    error: dict[str, Any] | None
    custom_status: Any
    created_at: datetime
    last_updated_at: datetime

    @property
    def done(self) -> bool:
        return self.status in ("COMPLETED", "FAILED", "TERMINATED")


class WorkflowClient:
    """``WorkflowClient("127.0.0.1:50001")``, or ``WorkflowClient(engine.address)``."""

    def __init__(self, address: str) -> None:
        host, port = address.rsplit(":", 1)
        self.address = address
        self._client = wf.DaprWorkflowClient(host=host, port=port)
        self._formats: dict[str, str] = {}
        self._sidecar: Any = None

    def close(self) -> None:
        self._client.close()
        if self._sidecar is not None:
            self._sidecar.close()

    def __enter__(self) -> WorkflowClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(
        self,
        definition: Workflow | str | os.PathLike[str],
        input: Any = None,
        *,
        instance_id: str | None = None,
        start_at: datetime | None = None,
    ) -> str:
        """Starts an instance running exactly this version of the definition."""
        workflow = load_workflow(definition)
        instance_id = instance_id or default_instance_id(workflow, input)
        self._formats[instance_id] = workflow.format
        return self._client.schedule_new_workflow(
            WORKFLOW_NAME, input=make_payload(workflow, input), instance_id=instance_id, start_at=start_at
        )

    def get(self, instance_id: str) -> InstanceState | None:
        return self._state(self._client.get_workflow_state(instance_id, fetch_payloads=True))

    def wait(self, instance_id: str, timeout: float | None = None) -> InstanceState | None:
        """Waits until the instance finishes; raises TimeoutError after ``timeout`` seconds."""
        return self._state(self._client.wait_for_workflow_completion(instance_id, timeout_in_seconds=timeout or 0))

    def raise_event(self, instance_id: str, name: str, data: Any = None) -> None:
        self._client.raise_workflow_event(instance_id, name, data=data)

    # -- task token callbacks (ASL's SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat) ----------

    def send_task_success(self, task_token: str, output: Any = None) -> None:
        """Completes the task waiting with ``task_token`` (its ``$$.Task.Token``): ``output``
        becomes the task's result. A ``str`` is JSON text, as AWS's SendTaskSuccess takes it
        (``'"done"'`` for the string ``done``); anything else is the JSON value. Raises
        :class:`~declarative_wf.task_tokens.TaskTokenError` (``code`` ``InvalidToken``,
        ``TaskDoesNotExist``, ``TaskTimedOut``, ``InvalidOutput``) when it cannot be delivered."""
        value = task_tokens.parse_output(output) if isinstance(output, (str, bytes)) else output
        self._deliver(task_token, task_tokens.success_event(value))

    def send_task_failure(self, task_token: str, error: str | None = None, cause: str | None = None) -> None:
        """Fails the task waiting with ``task_token`` with ``error`` and ``cause`` (a Catch
        with that error name handles it)."""
        self._deliver(task_token, task_tokens.failure_event(error, cause))

    def send_task_heartbeat(self, task_token: str) -> None:
        """Tells the task waiting with ``task_token`` that its worker is alive: its
        HeartbeatSeconds timer starts again."""
        self._deliver(task_token, task_tokens.heartbeat_event())

    def _deliver(self, task_token: str, payload: dict[str, Any]) -> None:
        if self._sidecar is None:
            from .api.sidecar import Sidecar

            self._sidecar = Sidecar(self.address)
        task_tokens.deliver(self._sidecar, task_token, payload)

    def suspend(self, instance_id: str) -> None:
        self._client.pause_workflow(instance_id)

    def resume(self, instance_id: str) -> None:
        self._client.resume_workflow(instance_id)

    def terminate(self, instance_id: str, output: Any = None, *, recursive: bool = True) -> None:
        self._client.terminate_workflow(instance_id, output=output, recursive=recursive)

    def purge(self, instance_id: str, *, recursive: bool = True) -> None:
        self._client.purge_workflow(instance_id, recursive=recursive)

    def history(self, instance_id: str) -> list[wf.WorkflowHistoryEvent]:
        return self._client.get_workflow_history(instance_id)

    def list(self, **filters: Any) -> InstancePage:
        """Filtered listing (embedded engine only): statuses, name, created_from, created_to,
        page_size, continuation_token."""
        with EngineAdminClient(self.address) as admin:
            return admin.list_instances(**filters)

    def _state(self, state: wf.WorkflowState | None) -> InstanceState | None:
        if state is None:
            return None
        error = None
        if state.failure_details is not None:
            fmt = self._formats.get(state.instance_id, "dsl")
            error = error_object(fmt, state.failure_details.error_type, state.failure_details.message)
        return InstanceState(
            instance_id=state.instance_id,
            status=state.runtime_status.name,
            output=parse_payload(state.serialized_output),
            error=error,
            custom_status=parse_payload(state.serialized_custom_status),
            created_at=state.created_at,
            last_updated_at=state.last_updated_at,
        )
