"""A tiny job API for the async-http sample: POST /jobs answers 202 Accepted with a Location
and Retry-After; GET on that location answers 202 twice, then 200 with the job's result.

    python samples/async-http/server.py 8080
"""

from __future__ import annotations

import itertools
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_ids = itertools.count(1)
_jobs: dict[str, dict] = {}
_lock = threading.Lock()
POLLS_BEFORE_DONE = 2


class JobAPI(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _reply(self, status: int, body: object | None = None, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode() if body is not None else b""
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        job = json.loads(self.rfile.read(length) or b"null")
        job_id = str(next(_ids))
        with _lock:
            _jobs[job_id] = {"job": job, "polls": 0}
        self._reply(202, {"id": job_id}, {"Location": f"/jobs/{job_id}", "Retry-After": "0"})

    def do_GET(self) -> None:
        job_id = self.path.rstrip("/").rsplit("/", 1)[-1]
        with _lock:
            job = _jobs.get(job_id)
            if job is None:
                self._reply(404, {"error": "no such job"})
                return
            job["polls"] += 1
            done = job["polls"] > POLLS_BEFORE_DONE
        if done:
            self._reply(200, {"id": job_id, "result": f"processed {job['job']}"})
        else:
            self._reply(202, {"id": job_id, "state": "running"}, {"Location": f"/jobs/{job_id}", "Retry-After": "0"})


def serve(port: int = 0) -> ThreadingHTTPServer:
    """Starts the API on 127.0.0.1 in a background thread; returns the server."""
    server = ThreadingHTTPServer(("127.0.0.1", port), JobAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


if __name__ == "__main__":
    server = serve(int(sys.argv[1]) if len(sys.argv) > 1 else 8080)
    print(f"job API on http://127.0.0.1:{server.server_address[1]}/jobs", flush=True)
    threading.Event().wait()
