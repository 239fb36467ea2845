"""``dwf engine``: run the embedded engine as a standalone sidecar process."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from declarative_wf.engine import EngineLockedError, EngineOptions, StoreError, serve

from .common import EXIT_OK, add_log_level_option, configure_logging, usage


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "engine",
        help="run the embedded engine (a Dapr Workflow sidecar on SQLite) until SIGTERM",
        description=(
            "Serve the Durable Task sidecar protocol (Dapr fork) on loopback, keeping all "
            "state in one SQLite file. Point a Dapr WorkflowRuntime and DaprWorkflowClient at "
            "the printed address."
        ),
    )
    parser.add_argument("--db", required=True, help="the SQLite file (created if missing)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=50001, help="port (default 50001; 0 picks a free one)")
    parser.add_argument(
        "--max-payload-bytes",
        type=int,
        default=EngineOptions.max_payload_bytes,
        help="largest input/output/event payload accepted (default %(default)s)",
    )
    parser.add_argument(
        "--synchronous",
        choices=["NORMAL", "FULL"],
        default="NORMAL",
        help="SQLite durability: NORMAL survives process crashes, FULL also power loss",
    )
    parser.add_argument(
        "--no-stateful-history",
        action="store_true",
        help="always send workers the full history (for comparison; by default workers that "
        "cache histories get only the new events)",
    )
    parser.add_argument(
        "--coalesce-ms",
        type=float,
        default=EngineOptions.coalesce_seconds * 1000,
        help="how long an activity result may wait for more results of the same instance while "
        "its other activities run, so one turn takes them together (default %(default)g; 0 = off)",
    )
    parser.add_argument(
        "--events-port",
        type=int,
        default=None,
        help="also serve the CloudEvents endpoint POST /events on this port (0 picks one; see docs/events.md)",
    )
    parser.add_argument("--event-sink", default=None, metavar="URL", help="forward every published event to this CloudEvents HTTP endpoint")
    add_log_level_option(parser)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    configure_logging(args.log_level.upper())
    if not 0 <= args.port <= 65535:
        return usage("engine", f"--port {args.port} is not a port number (0-65535)")
    if not 0 <= args.coalesce_ms <= 1000:
        return usage("engine", f"--coalesce-ms {args.coalesce_ms:g} is out of range (0-1000 milliseconds)")
    options = EngineOptions(
        max_payload_bytes=args.max_payload_bytes,
        synchronous=args.synchronous,
        stateful_history=not args.no_stateful_history,
        coalesce_seconds=args.coalesce_ms / 1000,
        event_sink_url=args.event_sink,
    )
    events = None
    try:
        if args.events_port is not None:
            from declarative_wf.api.events_http import start_for_engine_command

            args.port, events = start_for_engine_command(args.host, args.port, args.events_port)
        asyncio.run(serve(args.db, args.host, args.port, options, announce=sys.stdout))
    except (EngineLockedError, StoreError, OSError) as error:
        return usage("engine", str(error))
    finally:
        if events is not None:
            events.stop()
    return EXIT_OK
