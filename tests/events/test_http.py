"""The CloudEvents HTTP endpoint: structured, binary and batch modes, bad input; alone next to
an embedded engine and mounted in ``dwf serve``'s HTTP API."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from declarative_wf.api.events_http import EventsHttpServer
from declarative_wf.engine import Engine
from declarative_wf.engine.events_service import EventBusClient

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, EventBusClient]]:
    with Engine(tmp_path_factory.mktemp("http") / "wf.db") as engine, EventsHttpServer(engine.address) as server, EventBusClient(engine.address) as bus:
        bus.subscribe("all", {"groups": {"main": []}})
        yield server.url, bus


def drain(bus: EventBusClient) -> list[dict[str, Any]]:
    deliveries = bus.poll("all")
    bus.ack("all", [d["seq"] for d in deliveries])
    return [d["event"] for d in deliveries]


CE = {"specversion": "1.0", "id": "e1", "source": "/tests", "type": "t.structured", "data": {"a": 1}}


def test_structured_mode(endpoint: tuple[str, EventBusClient]) -> None:
    url, bus = endpoint
    answer = httpx.post(url, json=CE, headers={"content-type": "application/cloudevents+json; charset=utf-8"})
    assert answer.status_code == 202 and answer.json()["results"][0]["deliveries"] == 1
    assert drain(bus) == [CE]


def test_plain_json_event_object_is_accepted(endpoint: tuple[str, EventBusClient]) -> None:
    url, bus = endpoint
    assert httpx.post(url, json={**CE, "id": "e2"}).status_code == 202
    assert drain(bus)[0]["id"] == "e2"


def test_batch_mode(endpoint: tuple[str, EventBusClient]) -> None:
    url, bus = endpoint
    batch = [{**CE, "id": "b1"}, {**CE, "id": "b2", "type": "t.other"}]
    answer = httpx.post(url, json=batch, headers={"content-type": "application/cloudevents-batch+json"})
    assert answer.status_code == 202 and len(answer.json()["results"]) == 2
    assert [e["id"] for e in drain(bus)] == ["b1", "b2"]


def _binary_headers(**extra: str) -> dict[str, str]:
    return {"ce-specversion": "1.0", "ce-id": "bin-1", "ce-source": "/tests%2Fbinary", "ce-type": "t.binary", **extra}


def test_binary_mode_json_text_and_bytes(endpoint: tuple[str, EventBusClient]) -> None:
    url, bus = endpoint
    answer = httpx.post(url, content=b'{"x": 2}', headers=_binary_headers(**{"content-type": "application/json", "ce-subject": "s1"}))
    assert answer.status_code == 202
    (event,) = drain(bus)
    assert event == {"specversion": "1.0", "id": "bin-1", "source": "/tests/binary", "type": "t.binary", "subject": "s1",
                     "datacontenttype": "application/json", "data": {"x": 2}}
    httpx.post(url, content="hello", headers=_binary_headers(**{"content-type": "text/plain"}))
    assert drain(bus)[0]["data"] == "hello"
    httpx.post(url, content=b"\x00\xff", headers=_binary_headers(**{"content-type": "application/octet-stream"}))
    assert drain(bus)[0]["data_base64"] == base64.b64encode(b"\x00\xff").decode()


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"json": {"id": "1", "source": "s", "type": "t"}, "headers": {"content-type": "application/cloudevents+json"}}, "has no 'specversion'"),
        ({"content": b"{not json", "headers": {"content-type": "application/cloudevents+json"}}, "not valid JSON"),
        ({"json": [], "headers": {"content-type": "application/cloudevents-batch+json"}}, "non-empty JSON array"),
        ({"json": [CE, {**CE, "type": ""}], "headers": {"content-type": "application/cloudevents-batch+json"}}, "event #1: 'type' must be a non-empty string"),
        ({"content": b"x", "headers": {"content-type": "text/plain"}}, "without ce-* headers is not a CloudEvent"),
        ({"json": {"hello": 1}}, "not a CloudEvent"),
        ({"content": b"{}", "headers": {"ce-specversion": "1.0", "ce-id": "1", "ce-type": "t", "content-type": "application/json"}}, "has no 'source'"),
        ({"json": {**CE, "time": "noon"}, "headers": {"content-type": "application/cloudevents+json"}}, "RFC 3339"),
    ],
)
def test_bad_requests_get_400_with_the_reason(endpoint: tuple[str, EventBusClient], kwargs: dict[str, Any], words: str) -> None:
    url, bus = endpoint
    answer = httpx.post(url, **kwargs)
    assert answer.status_code == 400, answer.text
    assert answer.json()["errorCode"] == "ERR_INVALID_CLOUDEVENT" and words in answer.json()["message"]
    assert drain(bus) == [], "nothing of a rejected request is published"


def test_engine_down_is_503(tmp_path: Path) -> None:
    with EventsHttpServer("127.0.0.1:1") as server:
        answer = httpx.post(server.url, json=CE, timeout=60)
    assert answer.status_code == 503 and answer.json()["errorCode"] == "ERR_EVENT_BUS_UNAVAILABLE"


def test_mounted_in_dwf_serve(tmp_path: Path) -> None:
    from declarative_wf.api.server import ServeOptions, Server

    server = Server(ServeOptions(db=tmp_path / "state.db", http_port=0, grpc_port=0, workers=0)).start()
    try:
        assert server.engine is not None
        with EventBusClient(server.engine.address) as bus:
            bus.subscribe("all", {"groups": {"main": []}})
            answer = httpx.post(f"http://127.0.0.1:{server.http_port}/events", json=CE, headers={"content-type": "application/cloudevents+json"})
            assert answer.status_code == 202
            assert drain(bus) == [CE]
            assert httpx.post(f"http://127.0.0.1:{server.http_port}/events", json={"x": 1}).status_code == 400
    finally:
        server.stop()


def test_event_bus_is_relayed_on_the_serve_grpc_port(tmp_path: Path) -> None:
    from declarative_wf.api.server import ServeOptions, Server

    server = Server(ServeOptions(db=tmp_path / "state.db", http_port=0, grpc_port=0, workers=0)).start()
    try:
        with EventBusClient(f"127.0.0.1:{server.grpc_port}") as bus:
            bus.subscribe("relayed", {"groups": {"main": []}})
            assert bus.publish({**CE, "id": "r1"})["deliveries"] == 1
            assert [d["event"]["id"] for d in bus.poll("relayed")] == ["r1"]
            with pytest.raises(Exception, match="has no 'source'"):
                bus.publish({"specversion": "1.0", "id": "1", "type": "t"})
    finally:
        server.stop()


def test_serve_endpoint_needs_the_api_token(tmp_path: Path) -> None:
    from declarative_wf.api.server import ServeOptions, Server

    server = Server(ServeOptions(db=tmp_path / "state.db", http_port=0, grpc_port=0, workers=0, api_token="s3cret")).start()
    try:
        url = f"http://127.0.0.1:{server.http_port}/events"
        assert httpx.post(url, json=CE).status_code == 401
        assert httpx.post(url, json=CE, headers={"dapr-api-token": "s3cret"}).status_code == 202
    finally:
        server.stop()
