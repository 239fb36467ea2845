"""Running the engine: embedded in a process (``with Engine(db) as engine``) or standalone
(``dwf engine``). Both serve gRPC on loopback from one asyncio event loop."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import signal
import threading
from pathlib import Path
from types import TracebackType
from typing import IO

import grpc

from .backend import Backend
from .eventbus import EventBus
from .events_lifecycle import LifecycleSidecarServicer
from .events_service import event_bus_handler, new_bus
from .options import EngineOptions
from .protocol import pb_grpc
from .servicer import admin_handler
from .store import Store

log = logging.getLogger("declarative_wf.engine")


class EngineLockedError(RuntimeError):
    """Another engine process already serves this database file."""


def _lock_database(db_path: Path) -> IO[str]:
    """Takes an exclusive lock beside the database for the life of the process.

    Two engines on one file would each dispatch the same work; the OS lock makes the second
    refuse instead. It is released by the OS even on kill -9."""
    lock_path = db_path.with_name(db_path.name + ".lock")
    handle = open(lock_path, "a+")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.seek(0)
        owner = handle.read().strip() or "another process"
        handle.close()
        raise EngineLockedError(
            f"{db_path} is in use by an engine ({owner}); stop it first or use another --db file"
        ) from None
    handle.truncate(0)
    handle.write(f"pid {os.getpid()}")
    handle.flush()
    return handle


class _Runtime:
    """The store, backend and gRPC server of one engine, on one event loop."""

    def __init__(self, db_path: Path, host: str, port: int, options: EngineOptions) -> None:
        self.db_path = db_path
        self.host = host
        self.requested_port = port
        self.options = options
        self.port = 0
        self._lock: IO[str] | None = None
        self.store: Store | None = None
        self.backend: Backend | None = None
        self.server: grpc.aio.Server | None = None
        self.bus: EventBus | None = None

    async def start(self) -> None:
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = _lock_database(self.db_path)
        try:
            self.store = Store(self.db_path, self.options.synchronous)
            self.backend = Backend(self.store, self.options)
            self.backend.start(asyncio.get_running_loop())
            self.server = grpc.aio.server(
                options=[
                    ("grpc.max_receive_message_length", self.options.max_message_bytes),
                    ("grpc.max_send_message_length", -1),
                    # Notice silently dead connections, so their leases are released.
                    ("grpc.keepalive_time_ms", 20_000),
                    ("grpc.keepalive_timeout_ms", 10_000),
                    ("grpc.http2.min_ping_interval_without_data_ms", 5_000),
                    ("grpc.keepalive_permit_without_calls", 1),
                    ("grpc.so_reuseport", 0),
                ]
            )
            # The event bus (own tables, own service dwf.EventBus): engine/events_service.py.
            self.bus = new_bus(self.db_path, self.backend, self.options.event_sink_url)
            self.bus.start(asyncio.get_running_loop())
            # The sidecar service, plus lifecycle events of suspend / resume / terminate.
            pb_grpc.add_TaskHubSidecarServiceServicer_to_server(
                LifecycleSidecarServicer(self.backend, self.options.health_ping_seconds, self.bus), self.server
            )
            self.server.add_generic_rpc_handlers((admin_handler(self.backend),))
            self.server.add_generic_rpc_handlers((event_bus_handler(self.bus),))
            address = f"{self.host}:{self.requested_port}"
            self.port = self.server.add_insecure_port(address)
            if self.port == 0:
                raise OSError(f"cannot listen on {address}: the port is taken or the host is not local")
            await self.server.start()
        except BaseException:
            await self.stop(grace=0)
            raise
        log.info("engine serving %s on %s:%d", self.db_path, self.host, self.port)

    async def stop(self, grace: float | None = 2.0) -> None:
        if self.server is not None:
            await self.server.stop(grace)
            self.server = None
        if self.bus is not None:
            self.bus.close()
            self.bus = None
        if self.backend is not None:
            self.backend.stop()
            self.backend = None
        if self.store is not None:
            self.store.close()
            self.store = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None


class Engine:
    """The embedded engine, serving on a loopback port from a background thread.

    >>> with Engine("state.db") as engine:
    ...     runtime = WorkflowRuntime(host=engine.host, port=engine.port)
    """

    def __init__(
        self,
        db_path: str | os.PathLike[str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        options: EngineOptions | None = None,
    ) -> None:
        self._runtime = _Runtime(Path(db_path), host, port, options or EngineOptions())
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self._runtime.host

    @property
    def port(self) -> int:
        return self._runtime.port

    @property
    def address(self) -> str:
        """``host:port``, as `DaprWorkflowClient(host=..., port=...)` and `DAPR_GRPC_ENDPOINT` take it."""
        return f"{self.host}:{self.port}"

    def start(self) -> Engine:
        if self._thread is not None:
            return self
        loop = asyncio.new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self._runtime.start())
            except BaseException as error:  # handed to the starting thread
                failure.append(error)
                started.set()
                loop.close()
                return
            started.set()
            loop.run_forever()
            loop.run_until_complete(self._runtime.stop())
            # Like asyncio.run: let every remaining task (open worker streams, waits) see its
            # cancellation before the loop goes away.
            pending = asyncio.all_tasks(loop)
            for task in pending:
                task.cancel()
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()

        self._loop = loop
        self._thread = threading.Thread(target=run, name="dwf-engine", daemon=True)
        self._thread.start()
        started.wait()
        if failure:
            self._thread.join()
            self._thread = None
            raise failure[0]
        return self

    def stop(self) -> None:
        if self._thread is None or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._thread = None

    def __enter__(self) -> Engine:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()


async def serve(
    db_path: str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 0,
    options: EngineOptions | None = None,
    ready: asyncio.Event | None = None,
    announce: IO[str] | None = None,
) -> None:
    """Runs a standalone engine until SIGTERM or SIGINT, then shuts down cleanly."""
    runtime = _Runtime(Path(db_path), host, port, options or EngineOptions())
    await runtime.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if announce is not None:
        announce.write(f"engine listening on {runtime.host}:{runtime.port} (db {runtime.db_path})\n")
        announce.flush()
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
        await runtime.stop()
