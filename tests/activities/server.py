"""A real HTTP server on 127.0.0.1 for the http activity tests (stdlib, in a thread).

Routes: ``/echo`` (any method: echoes method, path, query, headers and body as JSON),
``/text``, ``/bytes``, ``/empty``, ``/badjson``, ``/status/<n>``, ``/redirect``,
``/redirect-loop``, ``/redirect-file``, ``/redirect-other-host``, ``/slow?seconds=S``, and
the asynchronous request-reply pattern: ``POST /jobs`` answers ``202`` + ``Location``, then
``GET /jobs/<id>`` answers 202 twice and 200 with the result.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..httpserver import JsonHandler, LocalServer, serving


@dataclass
class ServerState:
    jobs: dict[str, int] = field(default_factory=dict)  # job id -> polls answered
    requests: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(JsonHandler):
    server: Server

    def _dispatch(self) -> None:
        path, query, body = self._request()
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


class Server(LocalServer):
    def __init__(self) -> None:
        super().__init__(Handler)
        self.state = ServerState()


@contextmanager
def running_server() -> Iterator[Server]:
    with serving(Server(), "test-http") as server:
        yield server
