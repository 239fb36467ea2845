"""Client of the engine's admin service: filtered instance listing and store statistics.

The Dapr protocol can only page through instance ids; this adds what operators need
(status, workflow name, creation time), over the same gRPC port as the sidecar.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .json_rpc import JsonRpcClient
from .servicer import ADMIN_SERVICE


@dataclass(frozen=True)
class InstanceSummary:
    instance_id: str
    name: str
    status: str
    created_at: str
    last_updated_at: str
    completed_at: str | None
    parent_instance_id: str | None
    custom_status: str | None


@dataclass(frozen=True)
class InstancePage:
    instances: list[InstanceSummary]
    continuation_token: str | None


def _rfc3339(moment: datetime | str | None) -> str | None:
    if moment is None or isinstance(moment, str):
        return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


class EngineAdminClient(JsonRpcClient):
    """``EngineAdminClient("127.0.0.1:50001").list_instances(statuses=["RUNNING"])``; a refusal
    raises ``grpc.RpcError`` as is (callers map its status code)."""

    def __init__(self, address: str) -> None:
        super().__init__(address, ADMIN_SERVICE, timeout=30)

    def list_instances(
        self,
        *,
        statuses: list[str] | None = None,
        name: str | None = None,
        created_from: datetime | str | None = None,
        created_to: datetime | str | None = None,
        page_size: int | None = None,
        continuation_token: str | None = None,
    ) -> InstancePage:
        """One page of instances in creation order; pass the returned token for the next."""
        request = {
            "statuses": statuses or [],
            "name": name,
            "created_from": _rfc3339(created_from),
            "created_to": _rfc3339(created_to),
            "page_size": page_size,
            "continuation_token": continuation_token,
        }
        answer = self.call("ListInstances", request)
        return InstancePage(
            instances=[InstanceSummary(**item) for item in answer["instances"]],
            continuation_token=answer.get("continuation_token"),
        )

    def stats(self) -> dict[str, Any]:
        return self.call("Stats", {})

    def heartbeat(self, instance_id: str, step: str, details: Any = None) -> bool:
        """Records a heartbeat of an activity step; False when the instance no longer runs
        (terminated, finished or purged), so the activity should stop."""
        answer = self.call("Heartbeat", {"instance_id": instance_id, "step": step, "details": details})
        return not answer.get("cancelled", False)

    def last_heartbeat(self, instance_id: str, step: str) -> tuple[Any, int] | None:
        """``(details, microseconds since the epoch)`` of the step's last heartbeat, or None."""
        answer = self.call("LastHeartbeat", {"instance_id": instance_id, "step": step})
        if "at_micros" not in answer:
            return None
        return answer.get("details"), int(answer["at_micros"])
