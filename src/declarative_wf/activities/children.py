"""Ending a child workflow its parent stopped waiting for.

When a step that runs a child workflow times out, the parent goes on (or fails) without the
child's result; the interpreter then calls ``dwf.terminate_child`` so the child, and whatever it
started, does not keep running for nobody. It goes through the worker's sidecar (our engine or
``daprd``), like any client would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .registry import ActivityContext
from .problems import ProblemError

_ENDED = frozenset({"COMPLETED", "FAILED", "TERMINATED"})


def terminate_child(request: Mapping[str, Any], context: ActivityContext) -> bool:
    """Terminates ``request["instance"]`` and its own children with ``request["reason"]`` as
    output. True when it was still running; false when it had ended, never started, or this
    worker has no sidecar to ask (then nothing can be done from here)."""
    instance_id = request.get("instance")
    if not isinstance(instance_id, str) or not instance_id:
        raise ProblemError("configuration", title="No instance", detail="dwf.terminate_child needs {'instance': id}")
    if not context.engine_address:
        return False
    import dapr.ext.workflow as wf
    import grpc

    host, port = context.engine_address.rsplit(":", 1)
    client = wf.DaprWorkflowClient(host=host, port=port)
    try:
        state = client.get_workflow_state(instance_id, fetch_payloads=False)
        if state is None or state.runtime_status.name in _ENDED:
            return False
        client.terminate_workflow(instance_id, output=request.get("reason"), recursive=True)
        return True
    except grpc.RpcError as error:
        raise ProblemError("runtime", title="Cannot terminate the child workflow", detail=str(error)) from None
    finally:
        client.close()
