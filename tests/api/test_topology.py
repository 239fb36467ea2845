"""Beyond one process: ``dwf worker`` as its own process against ``dwf engine`` in its own
process (the same topology as an app beside daprd), and against ``dwf serve``'s gRPC port."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import dapr.ext.workflow as wf
import httpx
import pytest

from declarative_wf.api.registry import DefinitionRegistry
from declarative_wf.api.service import WorkflowService
from tests.engine.processes import free_port, start_engine

from .definitions import DOUBLER, WAITER_V1
from .helpers import submit, wait_for
from .servers import start_serve, start_worker

pytestmark = pytest.mark.integration


@pytest.fixture()
def engine(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    process = start_engine(tmp_path / "engine.db", port)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        process.terminate()


def test_worker_process_against_engine_process(engine: str, tmp_path: Path) -> None:
    definitions = tmp_path / "definitions"
    definitions.mkdir()
    (definitions / "doubler.yaml").write_text(DOUBLER)
    worker = start_worker(engine, "--definitions", str(definitions))
    host, port = engine.rsplit(":", 1)
    client = wf.DaprWorkflowClient(host=host, port=port)
    try:
        # Started by name with a plain input, as Dapr's own API on daprd would: the worker pins
        # the version its definitions have.
        by_name = client.schedule_new_workflow("doubler", input={"n": 3})
        state = client.wait_for_workflow_completion(by_name, timeout_in_seconds=60)
        assert state is not None and json.loads(state.serialized_output) == {"n": 6}
        # Started through the service layer (what dwf serve does): the graph travels with the
        # instance, so the worker needs no definition for it.
        registry = DefinitionRegistry(None)
        service = WorkflowService(registry, engine)
        waiter_text = WAITER_V1.replace("name: waiter", "name: only-in-the-registry")
        service.submit(waiter_text, "w.yaml")
        started = service.start("only-in-the-registry", {"k": 1}, instance_id="pinned-1")
        service.raise_event(started.instance_id, "go", "now")
        state = client.wait_for_workflow_completion("pinned-1", timeout_in_seconds=60)
        assert state is not None and json.loads(state.serialized_output) == {"got": "now", "logic": "v1"}
        assert service.get("pinned-1").workflow_name == "only-in-the-registry"
        service.close()
    finally:
        client.close()
        worker.terminate()
        assert worker.wait(timeout=30) == 0


def test_external_worker_through_the_serve_grpc_port(tmp_path: Path) -> None:
    served = start_serve(tmp_path / "state.db", "--workers", "0", "--api-token-env", "TOKEN", extra_env={"TOKEN": "t"})
    worker = start_worker(served.grpc, extra_env={"DAPR_API_TOKEN": "t"})
    try:
        with httpx.Client(base_url=served.url, headers={"dapr-api-token": "t"}) as http:
            submit(http, DOUBLER)
            for number in range(5):
                assert http.post("/api/v1/instances", json={"definition": "doubler", "input": {"n": number}, "instanceID": f"ext-{number}"}).status_code == 202
            for number in range(5):
                assert wait_for(http, f"ext-{number}", {"COMPLETED"}, 60)["output"] == {"n": 2 * number}
    finally:
        worker.terminate()
        worker.wait(timeout=30)
        served.terminate()
