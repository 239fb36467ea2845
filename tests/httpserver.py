"""The small real HTTP servers of the tests: stdlib, bound to 127.0.0.1 on a free port, served
from a daemon thread.

One base for every stand-in server so that the plumbing (quiet logging, Content-Length
framing, HEAD without a body, shutting down cleanly) is written once; each server keeps only
its routes. :class:`JsonHandler` is the handler base, :class:`LocalServer` the server and
:func:`serving` runs any ``socketserver`` server for the length of a ``with`` block.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import BaseRequestHandler, BaseServer
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

_Server = TypeVar("_Server", bound=BaseServer)


class QuietHandler(BaseHTTPRequestHandler):
    """A handler that keeps the test output clean (no access log on stderr)."""

    def log_message(self, format: str, *args: Any) -> None:
        pass


class JsonHandler(QuietHandler):
    """Keep-alive (HTTP/1.1) responses framed by Content-Length, and the request parsed once."""

    protocol_version = "HTTP/1.1"

    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":  # a HEAD answer has the headers of a GET but no body
            self.wfile.write(body)

    def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(value).encode(), "application/json", headers)

    def _request(self) -> tuple[str, dict[str, list[str]], bytes]:
        """``(path, query, body)`` of the current request; the body is read in full, so the
        connection can serve the next request."""
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        return parts.path, parse_qs(parts.query), body


class LocalServer(ThreadingHTTPServer):
    """A threading HTTP server on 127.0.0.1 and a free port."""

    daemon_threads = True

    def __init__(self, handler: Callable[..., BaseRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # clients that gave up (timeout tests) close the connection early

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_port}"


@contextmanager
def serving(server: _Server, name: str = "test-http") -> Iterator[_Server]:
    """Serves ``server`` from a daemon thread until the block ends, then closes its socket."""
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
