"""``dwf serve``: the embedded engine, interpreter workers, the HTTP API and the gRPC API in one
process.

Start order: engine → registry (and ``--definitions DIR``) → workers → gRPC API → HTTP API, so
nothing is accepted before it can be served. Stop order is the reverse: the APIs stop taking
requests and finish the ones in flight, the workers stop, the engine closes its database. Every
request that was answered has been committed to SQLite by then (the engine commits a start,
an event or a terminate before it answers), so a stop — or a crash — loses nothing that was
acknowledged; work in progress is leased again when the engine starts next.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import uvicorn

from declarative_wf.activities import Registry
from declarative_wf.diagnostics import Diagnostic, DiagnosticError
from declarative_wf.engine import Engine, EngineOptions

from . import grpc_api
from .compiling import Compiled, check_name
from .errors import ServiceError
from .http import DEFAULT_MAX_BODY, create_app
from .registry import DefinitionRegistry, registry_path
from .service import WorkflowService
from .sidecar_proxy import SidecarProxy
from .workers import registry_resolver, start_definitions_worker

log = logging.getLogger("declarative_wf.api")

#: Dapr's own default ports, so Dapr clients and SDKs find the server without configuration.
DEFAULT_HTTP_PORT = 3500
DEFAULT_GRPC_PORT = 50001
DEFINITION_SUFFIXES = (".yaml", ".yml", ".json")


class DefinitionsDirError(Exception):
    """Definitions of ``--definitions DIR`` that are invalid: every diagnostic."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        super().__init__(f"{len(diagnostics)} problems in the definitions directory")
        self.diagnostics = diagnostics


@dataclass
class ServeOptions:
    db: Path
    host: str = "127.0.0.1"
    http_port: int = DEFAULT_HTTP_PORT
    grpc_port: int = DEFAULT_GRPC_PORT
    #: The engine's own sidecar port (0: any free one). ``dwf worker`` processes may connect to it.
    engine_port: int = 0
    workers: int = 1
    activities: Registry | None = None
    definitions_dir: Path | None = None
    api_token: str | None = None
    max_request_bytes: int = DEFAULT_MAX_BODY
    log_level: str = "WARNING"
    engine: EngineOptions = field(default_factory=EngineOptions)


def load_definitions_dir(registry: DefinitionRegistry, directory: Path) -> list[str]:
    """Registers every definition file of ``directory`` (files are read from disk here, so
    child workflow files next to them resolve). Raises :class:`DefinitionsDirError` listing
    every problem; returns the ``name@version`` registered."""
    from declarative_wf.formats import load_definition

    if not directory.is_dir():
        raise DefinitionsDirError([Diagnostic("LOAD-E001", "cannot read the directory: not a directory", file=str(directory))])
    problems: list[Diagnostic] = []
    loaded: list[tuple[Path, Any]] = []
    for path in sorted(p for p in directory.iterdir() if p.is_file() and p.suffix.lower() in DEFINITION_SUFFIXES):
        try:
            loaded.append((path, load_definition(path)))
        except DiagnosticError as error:
            problems.extend(d for d in error.diagnostics if d.is_error)
    if problems:
        raise DefinitionsDirError(problems)
    refs = []
    for path, definition in loaded:
        try:
            check_name(definition.workflow.name)
            compiled = Compiled(definition.workflow, definition.format, list(definition.document.warnings))
            record, _ = registry.submit(compiled, path.read_text(encoding="utf-8"), path.name)
        except ServiceError as error:
            raise DefinitionsDirError([Diagnostic(error.code, error.message, file=str(path))]) from None
        refs.append(record.ref)
    return refs


class Server:
    """One ``dwf serve`` process. ``start()``, then ``stop()`` (idempotent)."""

    def __init__(self, options: ServeOptions) -> None:
        self.options = options
        self.engine: Engine | None = None
        self.registry: DefinitionRegistry | None = None
        self.service: WorkflowService | None = None
        self.runtimes: list[Any] = []
        self.grpc_server: grpc.Server | None = None
        self.relay: SidecarProxy | None = None
        self.scheduler: Any = None  # api/scheduler.py: schedule.every / cron / after / on
        self.grpc_port = 0
        self.http_port = 0
        self.definitions: list[str] = []
        self._http: uvicorn.Server | None = None
        self._http_thread: threading.Thread | None = None

    def start(self) -> Server:
        options = self.options
        try:
            self.engine = Engine(options.db, host=options.host, port=options.engine_port, options=options.engine).start()
            self.registry = DefinitionRegistry(registry_path(options.db))
            if options.definitions_dir is not None:
                self.definitions = load_definitions_dir(self.registry, options.definitions_dir)
            self.service = WorkflowService(self.registry, self.engine.address)
            resolve = registry_resolver(self.registry)
            for _ in range(options.workers):
                self.runtimes.append(
                    start_definitions_worker(self.engine.host, self.engine.port, options.activities, resolve, log_level=options.log_level)
                )
            from .scheduler import registry_scheduler

            self.scheduler = registry_scheduler(self.registry, self.service, self.engine.address).start()
            self.relay = SidecarProxy(self.engine.address)
            self.grpc_server, self.grpc_port = grpc_api.create_server(
                self.service, f"{options.host}:{options.grpc_port}", api_token=options.api_token,
                max_message=options.max_request_bytes + 1024, relay=self.relay,
            )
            # dwf.EventBus relayed too, so `dwf worker`s connected here can emit and listen.
            from declarative_wf.engine.events_service import event_bus_relay

            self.grpc_server.add_generic_rpc_handlers((event_bus_relay(self.engine.address),))
            self.grpc_server.start()
            self._start_http()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_http(self) -> None:
        assert self.service is not None
        app = create_app(self.service, api_token=self.options.api_token, max_body=self.options.max_request_bytes)
        # Bind here, in the caller's thread, so a taken port is an error the caller sees.
        sock = socket.socket(socket.AF_INET6 if ":" in self.options.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.options.host, self.options.http_port))
        except OSError as error:
            sock.close()
            raise OSError(f"cannot listen on {self.options.host}:{self.options.http_port} for HTTP: {error.strerror or error}") from None
        sock.listen(2048)
        self.http_port = sock.getsockname()[1]
        config = uvicorn.Config(
            app,
            lifespan="off",
            access_log=False,
            log_level=self.options.log_level.lower(),
            timeout_graceful_shutdown=10,
        )
        self._http = uvicorn.Server(config)
        # uvicorn installs signal handlers only on the main thread; in its own thread it
        # leaves SIGTERM to us, so the whole process shuts down in order.
        self._http_thread = threading.Thread(target=self._http.run, kwargs={"sockets": [sock]}, name="dwf-http", daemon=True)
        self._http_thread.start()
        deadline = time.monotonic() + 30
        while not self._http.started:
            if not self._http_thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the HTTP server did not start")
            time.sleep(0.01)

    @property
    def healthy(self) -> bool:
        return self._http_thread is not None and self._http_thread.is_alive()

    def stop(self) -> None:
        if self._http is not None:
            self._http.should_exit = True
            if self._http_thread is not None:
                self._http_thread.join(timeout=15)
            self._http = None
        if self.grpc_server is not None:
            self.grpc_server.stop(grace=5).wait()
            self.grpc_server = None
        if self.relay is not None:
            self.relay.close()
            self.relay = None
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        for runtime in self.runtimes:
            try:
                runtime.shutdown()
            except Exception:
                log.exception("stopping a worker failed")
        self.runtimes = []
        if self.service is not None:
            self.service.close()
            self.service = None
        if self.engine is not None:
            self.engine.stop()
            self.engine = None
        if self.registry is not None:
            self.registry.close()
            self.registry = None
