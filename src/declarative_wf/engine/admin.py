"""Client of the engine's admin service: filtered instance listing and store statistics.

The Dapr protocol can only page through instance ids; this adds what operators need
(status, workflow name, creation time), over the same gRPC port as the sidecar.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import grpc

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


class EngineAdminClient:
    """``EngineAdminClient("127.0.0.1:50001").list_instances(statuses=["RUNNING"])``"""

    def __init__(self, address: str) -> None:
        self._channel = grpc.insecure_channel(address)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> EngineAdminClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _call(self, method: str, request: dict[str, Any]) -> dict[str, Any]:
        call = self._channel.unary_unary(
            f"/{ADMIN_SERVICE}/{method}",
            request_serializer=lambda value: json.dumps(value).encode(),
            response_deserializer=json.loads,
        )
        result: dict[str, Any] = call(request, timeout=30)
        return result

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
        answer = self._call("ListInstances", request)
        return InstancePage(
            instances=[InstanceSummary(**item) for item in answer["instances"]],
            continuation_token=answer.get("continuation_token"),
        )

    def stats(self) -> dict[str, Any]:
        return self._call("Stats", {})

    def heartbeat(self, instance_id: str, step: str, details: Any = None) -> bool:
        """Records a heartbeat of an activity step; False when the instance no longer runs
        (terminated, finished or purged), so the activity should stop."""
        answer = self._call("Heartbeat", {"instance_id": instance_id, "step": step, "details": details})
        return not answer.get("cancelled", False)

    def last_heartbeat(self, instance_id: str, step: str) -> tuple[Any, int] | None:
        """``(details, microseconds since the epoch)`` of the step's last heartbeat, or None."""
        answer = self._call("LastHeartbeat", {"instance_id": instance_id, "step": step})
        if "at_micros" not in answer:
            return None
        return answer.get("details"), int(answer["at_micros"])
