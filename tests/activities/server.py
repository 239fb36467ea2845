"""A real HTTP server on 127.0.0.1 for the http activity tests (stdlib, in a thread).

Routes: ``/echo`` (any method: echoes method, path, query, headers and body as JSON),
``/text``, ``/bytes``, ``/empty``, ``/badjson``, ``/status/<n>``, ``/redirect``,
``/redirect-loop``, ``/redirect-file``, ``/redirect-other-host``, ``/slow?seconds=S``, and
the asynchronous request-reply pattern: ``POST /jobs`` answers ``202`` + ``Location``, then
``GET /jobs/<id>`` answers 202 twice and 200 with the result.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class ServerState:
    jobs: dict[str, int] = field(default_factory=dict)  # job id -> polls answered
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(BaseHTTPRequestHandler):
    server: Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, body: bytes = b"", content_type: str | None = None, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(value).encode(), "application/json", headers)

    def _dispatch(self) -> None:
        parts = urlsplit(self.path)
        path, query = parts.path, parse_qs(parts.query)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        state = self.server.state
        with state.lock:
            state.requests.append((self.command, self.path))
        if path == "/echo":
            self._json(
                200,
                {
                    "method": self.command,
                    "path": path,
                    "query": query,
                    "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": body.decode("utf-8", "replace"),
                },
            )
        elif path == "/text":
            self._send(200, "héllo".encode(), "text/plain; charset=utf-8")
        elif path == "/bytes":
            self._send(200, bytes(range(256)), "application/octet-stream")
        elif path == "/empty":
            self._send(204)
        elif path == "/badjson":
            self._send(200, b"{not json", "application/json")
        elif path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
            self._json(status, {"error": f"status {status}"})
        elif path == "/redirect":
            self._send(302, headers={"Location": "/echo?redirected=1"})
        elif path == "/redirect-loop":
            self._send(302, headers={"Location": "/redirect-loop"})
        elif path == "/redirect-file":
            self._send(302, headers={"Location": "file:///etc/passwd"})
        elif path == "/redirect-other-host":
            # Same server, other origin (localhost vs 127.0.0.1): credentials must not follow.
            self._send(302, headers={"Location": f"http://localhost:{self.server.server_port}/echo"})
        elif path == "/slow":
            time.sleep(float(query.get("seconds", ["1"])[0]))
            self._json(200, {"slow": True})
        elif path == "/jobs" and self.command == "POST":
            with state.lock:
                job = f"job{len(state.jobs) + 1}"
                state.jobs[job] = 0
            self._json(202, {"accepted": job}, {"Location": f"/jobs/{job}", "Retry-After": "0"})
        elif path.startswith("/jobs/") and self.command == "GET":
            job = path.rsplit("/", 1)[1]
            with state.lock:
                state.jobs[job] += 1
                polls = state.jobs[job]
            if polls <= 2:
                self._json(202, {"status": "running"}, {"Location": f"/jobs/{job}", "Retry-After": "0"})
            else:
                self._json(200, {"job": job, "result": 42, "auth": self.headers.get("Authorization")})
        else:
            self._json(404, {"error": "not found"})

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _dispatch


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.state = ServerState()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that gave up (timeout tests) close the connection early

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


@contextmanager
def running_server() -> Iterator[Server]:
    server = Server()
    thread = threading.Thread(target=server.serve_forever, name="test-http", daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
