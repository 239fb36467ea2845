"""The CloudEvents HTTP endpoint: ``POST /events`` publishes to the engine's event bus.

Accepted (CloudEvents HTTP protocol binding 1.0):

* **structured** mode: ``Content-Type: application/cloudevents+json``, the body is one event;
* **batch** mode: ``Content-Type: application/cloudevents-batch+json``, the body is a JSON
  array of events (all published, or none when one is invalid);
* **binary** mode: the attributes in ``ce-*`` headers (``ce-specversion``, ``ce-id``,
  ``ce-source``, ``ce-type``, ...), ``Content-Type`` is ``datacontenttype`` and the body is the
  data (JSON when the content type is JSON, text for ``text/*``, otherwise base64 in
  ``data_base64``);
* a plain ``application/json`` body that is an event object (it has ``specversion``) is
  treated as structured mode, as many producers send it that way.

Answers ``202 {"results": [{"seq", "deliveries"}]}``, or ``400 {"errorCode":
"ERR_INVALID_CLOUDEVENT", "message"}`` naming what is wrong. The same routes are mounted in
``dwf serve``'s HTTP API and served alone by :class:`EventsHttpServer` (``dwf engine
--events-port``, or next to an embedded ``Engine``).
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Callable
from typing import Any, Self
from urllib.parse import unquote

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from declarative_wf.engine.eventbus import EventValidationError, validate_event

STRUCTURED = "application/cloudevents+json"
BATCH = "application/cloudevents-batch+json"
INVALID = "ERR_INVALID_CLOUDEVENT"
UNAVAILABLE = "ERR_EVENT_BUS_UNAVAILABLE"

#: Publishes validated events; returns one ``{"seq", "deliveries"}`` per event.
Publisher = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]


class BadEvent(ValueError):
    pass


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def _is_json(media: str) -> bool:
    return media in ("application/json", "text/json") or media.endswith("+json")


def _json_body(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadEvent(f"the body is not valid JSON ({error}); {what}") from None


def parse_events(headers: dict[str, str], body: bytes) -> list[dict[str, Any]]:
    """The events of one request (header names lower-case), validated; BadEvent otherwise."""
    media = _media_type(headers.get("content-type"))
    if media == BATCH:
        events = _json_body(body, "a batch is a JSON array of CloudEvents")
        if not isinstance(events, list) or not events:
            raise BadEvent("a batch (application/cloudevents-batch+json) must be a non-empty JSON array of CloudEvents")
    elif media == STRUCTURED:
        events = [_json_body(body, "structured mode sends one CloudEvent as a JSON object")]
    elif "ce-specversion" in headers:
        events = [_binary_event(headers, body, media)]
    elif _is_json(media):
        value = _json_body(body, "send a CloudEvent object")
        if not isinstance(value, dict) or "specversion" not in value:
            raise BadEvent(
                "not a CloudEvent: send Content-Type application/cloudevents+json with the event as the body "
                "(structured mode), or the data as the body with ce-specversion, ce-id, ce-source and ce-type headers (binary mode)"
            )
        events = [value]
    else:
        raise BadEvent(
            f"Content-Type {media or '(none)'!r} without ce-* headers is not a CloudEvent: use "
            f"{STRUCTURED}, {BATCH}, or binary mode (ce-specversion, ce-id, ce-source, ce-type headers)"
        )
    for index, event in enumerate(events):
        try:
            validate_event(event, "the event" if len(events) == 1 else f"event #{index}")
        except EventValidationError as error:
            raise BadEvent(str(error)) from None
    return events


def _binary_event(headers: dict[str, str], body: bytes, media: str) -> dict[str, Any]:
    event: dict[str, Any] = {}
    for name, value in headers.items():
        if name.startswith("ce-") and len(name) > 3:
            # Header values are percent-encoded where needed (binding spec, 3.1.3.2).
            event[name[3:]] = unquote(value)
    if media:
        event["datacontenttype"] = headers.get("content-type", media)
    if body:
        if not media or _is_json(media):
            event["data"] = _json_body(body, "binary mode with a JSON content type needs a JSON body")
        elif media.startswith("text/"):
            try:
                event["data"] = body.decode()
            except UnicodeDecodeError:
                raise BadEvent(f"the body is not UTF-8 text although Content-Type is {media}") from None
        else:
            event["data_base64"] = base64.b64encode(body).decode()
    return event


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"errorCode": code, "message": message}, status_code=status)


def event_routes(publish: Publisher, path: str = "/events") -> list[Route]:
    async def post(request: Request) -> Response:
        headers = {key.lower(): value for key, value in request.headers.items()}
        try:
            events = parse_events(headers, await request.body())
        except BadEvent as error:
            return _error(400, INVALID, str(error))
        from declarative_wf.engine.events_service import EventBusError

        try:
            results = await run_in_threadpool(publish, events)
        except EventBusError as error:
            if error.invalid:
                return _error(400, INVALID, error.message)
            return _error(503, UNAVAILABLE, error.message)
        return JSONResponse({"results": results}, status_code=202)

    return [Route(path, post, methods=["POST"])]


def bus_publisher(engine_address: str) -> Publisher:
    """Publishes through the engine's ``dwf.EventBus`` gRPC service."""
    from declarative_wf.engine.events_service import EventBusClient

    client = EventBusClient(engine_address)
    return client.publish_many


def create_events_app(engine_address: str) -> Starlette:
    return Starlette(routes=event_routes(bus_publisher(engine_address)))


class EventsHttpServer:
    """The CloudEvents endpoint alone, for an embedded engine or ``dwf engine --events-port``::

        with Engine("wf.db") as engine, EventsHttpServer(engine.address, port=8080):
            ...   # POST http://127.0.0.1:8080/events
    """

    def __init__(self, engine_address: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self.engine_address = engine_address
        self.host = host
        self.requested_port = port
        self.port = 0
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/events"

    def start(self) -> Self:
        import uvicorn

        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.requested_port))
        except OSError as error:
            sock.close()
            raise OSError(f"cannot listen on {self.host}:{self.requested_port} for events: {error.strerror or error}") from None
        sock.listen(512)
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(create_events_app(self.engine_address), lifespan="off", access_log=False, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [sock]}, name="dwf-events-http", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the CloudEvents HTTP endpoint did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
            if self._thread is not None:
                self._thread.join(timeout=15)
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_for_engine_command(host: str, engine_port: int, events_port: int) -> tuple[int, EventsHttpServer]:
    """For ``dwf engine --events-port``: the engine port to use (a free one is chosen now when
    it is 0, so the endpoint knows where to publish) and the started endpoint."""
    if engine_port == 0:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind((host, 0))
            engine_port = probe.getsockname()[1]
    server = EventsHttpServer(f"{host}:{engine_port}", host, events_port).start()
    print(f"CloudEvents endpoint on {server.url}", flush=True)
    return engine_port, server
