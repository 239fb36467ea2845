"""An instance keeps the version it started with; a new start takes the latest."""

from __future__ import annotations

import httpx
import pytest

from .definitions import WAITER_V1, WAITER_V2
from .helpers import submit, wait_for

pytestmark = pytest.mark.integration


def test_running_instance_keeps_its_version(http: httpx.Client) -> None:
    text_v1 = WAITER_V1.replace("name: waiter", "name: pinned")
    text_v2 = WAITER_V2.replace("name: waiter", "name: pinned")
    assert submit(http, text_v1)["definition"]["version"] == "1"
    assert http.post("/v1.0/workflows/dapr/pinned/start", params={"instanceID": "old"}).status_code == 202
    wait_for(http, "old", {"RUNNING"})
    assert submit(http, text_v2)["definition"]["version"] == "2"
    assert http.post("/v1.0/workflows/dapr/old/raiseEvent/go", json="e").status_code == 202
    old = wait_for(http, "old", {"COMPLETED"})
    assert old["output"] == {"got": "e", "logic": "v1"} and old["version"] == "1"

    assert http.post("/v1.0/workflows/dapr/pinned/start", params={"instanceID": "new"}).status_code == 202
    http.post("/v1.0/workflows/dapr/new/raiseEvent/go", json="e")
    new = wait_for(http, "new", {"COMPLETED"})
    assert new["output"] == {"got": "e", "logic": "v2"} and new["version"] == "2"

    # Deleting the version an instance runs does not disturb it either.
    assert http.post("/v1.0/workflows/dapr/pinned@1/start", params={"instanceID": "orphan"}).status_code == 202
    wait_for(http, "orphan", {"RUNNING"})
    http.delete("/api/v1/definitions/pinned@1")
    http.post("/v1.0/workflows/dapr/orphan/raiseEvent/go", json="e")
    assert wait_for(http, "orphan", {"COMPLETED"})["output"] == {"got": "e", "logic": "v1"}
