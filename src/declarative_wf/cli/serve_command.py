"""``dwf serve``: the engine, workers, HTTP API and gRPC API in one process, until SIGTERM."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from declarative_wf.activities.sw_run import add_enable_option, apply_enable_option

from . import common


def register(commands: Any) -> None:
    from declarative_wf.api.http import DEFAULT_MAX_BODY
    from declarative_wf.api.server import DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT

    parser = commands.add_parser(
        "serve",
        help="run the engine, workers and the HTTP and gRPC APIs (Dapr-compatible) until SIGTERM",
        description=(
            "Serve registered definitions: Dapr's workflow API over HTTP and gRPC, definitions and "
            "instance management, on an embedded engine with interpreter workers. Binds 127.0.0.1. "
            "Prints one line 'dwf serve ready: ...' with every address when it accepts requests; "
            "shuts down cleanly on SIGTERM or SIGINT."
        ),
    )
    parser.add_argument("--db", default="dwf.db", help="the engine's SQLite file (default dwf.db); definitions go to DB.definitions.sqlite")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--http-port", type=int, default=DEFAULT_HTTP_PORT, help=f"HTTP API port (default {DEFAULT_HTTP_PORT}, Dapr's; 0 picks one)")
    parser.add_argument("--grpc-port", type=int, default=DEFAULT_GRPC_PORT, help=f"gRPC API port (default {DEFAULT_GRPC_PORT}, Dapr's; 0 picks one)")
    parser.add_argument("--engine-port", type=int, default=0, help="the engine's sidecar port, for extra 'dwf worker' processes (default: any free port)")
    parser.add_argument("--workers", type=int, default=1, help="interpreter workers in this process (default 1)")
    common.add_activities_option(parser)
    parser.add_argument("--definitions", metavar="DIR", help="register every definition file (*.yaml, *.yml, *.json) of DIR at start")
    parser.add_argument(
        "--api-token-env", metavar="VAR",
        help="require the token in environment variable VAR: header dapr-api-token (HTTP) and metadata dapr-api-token (gRPC)",
    )  # fmt: skip
    parser.add_argument("--max-request-bytes", type=int, default=DEFAULT_MAX_BODY, help=f"largest request body (default {DEFAULT_MAX_BODY})")
    parser.add_argument("--event-sink", metavar="URL", help="forward every event published on the event bus to this CloudEvents HTTP endpoint (docs/events.md)")
    common.add_log_level_option(parser)
    add_enable_option(parser)  # run: shell/script/container (Serverless Workflow), off by default
    parser.set_defaults(run=run)


def _usage(message: str) -> int:
    return common.usage("serve", message)


def run(args: argparse.Namespace) -> int:
    level = common.log_level(args)
    if level is None:
        return _usage(common.bad_log_level(args))
    for option in ("http_port", "grpc_port", "engine_port"):
        if not 0 <= getattr(args, option) <= 65535:
            return _usage(f"--{option.replace('_', '-')} {getattr(args, option)} is not a port number (0-65535)")
    if args.workers < 0:
        return _usage("--workers must be 0 or more")
    if args.max_request_bytes < 1024:
        return _usage("--max-request-bytes must be at least 1024")
    if (problem := apply_enable_option(args)) is not None:
        return _usage(problem)
    token = None
    if args.api_token_env:
        token = os.environ.get(args.api_token_env)
        if not token:
            return _usage(f"--api-token-env {args.api_token_env}: the variable is not set or empty")
    common.configure_logging(level)

    from declarative_wf.activities import RegistryError
    from declarative_wf.api.server import DefinitionsDirError, ServeOptions, Server
    from declarative_wf.diagnostics import render
    from declarative_wf.engine import EngineLockedError, StoreError

    try:
        activities = common.import_activities(args.activities)
    except RegistryError as error:
        return _usage(str(error))
    options = ServeOptions(
        db=Path(args.db),
        host=args.host,
        http_port=args.http_port,
        grpc_port=args.grpc_port,
        engine_port=args.engine_port,
        workers=args.workers,
        activities=activities,
        definitions_dir=Path(args.definitions) if args.definitions else None,
        api_token=token,
        max_request_bytes=args.max_request_bytes,
        log_level=level,
    )
    if args.event_sink:
        import dataclasses

        options.engine = dataclasses.replace(options.engine, event_sink_url=args.event_sink)
    stop = common.stop_on_signals()
    server = Server(options)
    try:
        server.start()
    except DefinitionsDirError as error:
        print(render(error.diagnostics, None, color=False), file=sys.stderr)
        return _usage(f"the definitions in {args.definitions} are invalid")
    except (EngineLockedError, StoreError, OSError, RegistryError, RuntimeError) as error:
        return _usage(str(error))
    assert server.engine is not None
    print(
        f"dwf serve ready: http=http://{args.host}:{server.http_port} grpc={args.host}:{server.grpc_port} "
        f"engine={server.engine.address} db={args.db} workers={args.workers} definitions={len(server.definitions)}",
        flush=True,
    )
    try:
        while not stop.wait(0.5):
            if not server.healthy:
                print("dwf serve: the HTTP server stopped unexpectedly", file=sys.stderr)
                server.stop()
                return common.EXIT_FAILED
    finally:
        server.stop()
    print("dwf serve: stopped", file=sys.stderr, flush=True)
    return common.EXIT_OK
