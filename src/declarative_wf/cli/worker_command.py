"""``dwf worker``: only the interpreter and activities, against an existing sidecar.

The same topology as an app beside ``daprd``: ``--dapr-grpc-endpoint`` is the sidecar
(``daprd``, or ``dwf engine``, or the ``engine=`` address ``dwf serve`` prints). Instances
started through ``dwf serve`` carry their graph, so the worker needs no definitions for them;
``--definitions DIR`` / ``--registry-db FILE`` serve starts *by name* that arrive without a graph
(Dapr's own HTTP API on daprd) and child workflows that name a definition.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from declarative_wf.activities.sw_run import add_enable_option, apply_enable_option

from . import common


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "worker",
        help="run interpreter workers and activities against an existing Dapr sidecar (daprd or dwf engine)",
        description=(
            "Connect to a workflow sidecar and run every definition's instances there. Prints "
            "'dwf worker ready: ...' once connected; stops on SIGTERM or SIGINT."
        ),
    )
    parser.add_argument(
        "--dapr-grpc-endpoint", metavar="HOST:PORT", default=_default_endpoint(),
        help="the sidecar's gRPC address (default $DAPR_GRPC_ENDPOINT, else 127.0.0.1:$DAPR_GRPC_PORT as `dapr run` sets it)",
    )  # fmt: skip
    common.add_activities_option(parser)
    parser.add_argument("--definitions", metavar="DIR", help="definitions for starts by name (files of DIR)")
    parser.add_argument("--registry-db", metavar="FILE", help="definitions for starts by name: a server's DB.definitions.sqlite")
    parser.add_argument("--workers", type=int, default=1, help="workers in this process (default 1)")
    common.add_log_level_option(parser)
    add_enable_option(parser)  # run: shell/script/container (Serverless Workflow), off by default
    parser.set_defaults(run=run)


def _default_endpoint() -> str | None:
    if os.environ.get("DAPR_GRPC_ENDPOINT"):
        return os.environ["DAPR_GRPC_ENDPOINT"]
    port = os.environ.get("DAPR_GRPC_PORT")
    return f"127.0.0.1:{port}" if port else None


def _usage(message: str) -> int:
    return common.usage("worker", message)


def run(args: argparse.Namespace) -> int:
    endpoint = (args.dapr_grpc_endpoint or "").removeprefix("http://").removeprefix("dns:")
    host, _, port = endpoint.rpartition(":")
    if not host or not port.isdigit():
        return _usage("--dapr-grpc-endpoint HOST:PORT is required (or set DAPR_GRPC_ENDPOINT)")
    if args.definitions and args.registry_db:
        return _usage("give --definitions or --registry-db, not both")
    if args.workers < 1:
        return _usage("--workers must be at least 1")
    if (problem := apply_enable_option(args)) is not None:
        return _usage(problem)
    level = common.log_level(args)
    if level is None:
        return _usage(common.bad_log_level(args))
    common.configure_logging(level)

    from declarative_wf.activities import RegistryError
    from declarative_wf.api.registry import DefinitionRegistry
    from declarative_wf.api.server import DefinitionsDirError, load_definitions_dir
    from declarative_wf.api.workers import registry_resolver, start_definitions_worker
    from declarative_wf.diagnostics import render

    try:
        activities = common.import_activities(args.activities)
    except RegistryError as error:
        return _usage(str(error))
    if args.registry_db:
        if not Path(args.registry_db).is_file():
            return _usage(f"--registry-db {args.registry_db}: no such file")
        registry = DefinitionRegistry(args.registry_db)
    else:
        registry = DefinitionRegistry(None)
        if args.definitions:
            try:
                load_definitions_dir(registry, Path(args.definitions))
            except DefinitionsDirError as error:
                print(render(error.diagnostics, None, color=False), file=sys.stderr)
                return _usage(f"the definitions in {args.definitions} are invalid")
    stop = common.stop_on_signals()
    token = os.environ.get("DAPR_API_TOKEN") or None
    resolve = registry_resolver(registry)
    runtimes = []
    try:
        for _ in range(args.workers):
            runtimes.append(start_definitions_worker(host, int(port), activities, resolve, log_level=level, api_token=token))
        print(f"dwf worker ready: sidecar={host}:{port} workers={args.workers} activities={len(activities.names())}", flush=True)
        stop.wait()
    finally:
        for runtime in runtimes:
            runtime.shutdown()  # type: ignore[no-untyped-call]
        registry.close()
    return common.EXIT_OK
