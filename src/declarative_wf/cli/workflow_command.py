"""``dwf workflow start|get|list|history|suspend|resume|terminate|raise-event|purge`` against a
running server (``--server URL``).

Exit status: 0 done (``start --wait``: the instance completed); 1 the server refused (unknown
instance, wrong state...), could not be reached, or the awaited instance failed, was terminated
or did not finish in time; 2 usage (bad JSON in ``--input``...).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from declarative_wf.api.remote import ServerError

from .output import emit, fields, output_format, table
from .server_args import (
    EXIT_FAILED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    add_server_options,
    client,
    read_json,
    report_server_error,
)

_STATUSES = ("RUNNING", "COMPLETED", "CONTINUED_AS_NEW", "FAILED", "CANCELED", "TERMINATED", "PENDING", "SUSPENDED", "STALLED")


def register(commands: Any) -> None:
    parser = commands.add_parser("workflow", help="start and manage instances on a server")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    start = actions.add_parser("start", help="start an instance of a registered definition")
    start.add_argument("definition", metavar="DEFINITION", help="NAME (latest version), NAME@VERSION or sha256:HASH")
    given = start.add_mutually_exclusive_group()
    given.add_argument("--input", metavar="JSON", help="the input, as JSON text")
    given.add_argument("--input-file", metavar="PATH", help="read the input (JSON) from PATH; - is stdin")
    start.add_argument("--instance-id", metavar="ID", help="the instance id (default: a random UUID)")
    start.add_argument("--start-at", metavar="TIME", help="start later (RFC 3339, e.g. 2026-01-31T12:00:00Z)")
    start.add_argument("--wait", action="store_true", help="wait for the end; exit 0 only when it completed")
    start.add_argument("--timeout", type=float, metavar="SECONDS", help="with --wait: give up after SECONDS (exit 1)")
    add_server_options(start)
    start.set_defaults(run=run_start)

    get = actions.add_parser("get", help="an instance's status, input, output and error")
    get.add_argument("instance_id", metavar="ID")
    add_server_options(get)
    get.set_defaults(run=run_get)

    listing = actions.add_parser("list", help="instances in creation order, filtered")
    listing.add_argument("--status", action="append", choices=_STATUSES, type=str.upper, help="keep this status; repeatable")
    listing.add_argument("--definition", metavar="NAME", help="keep instances of this definition")
    listing.add_argument("--created-from", metavar="TIME", help="created at or after (RFC 3339)")
    listing.add_argument("--created-to", metavar="TIME", help="created before (RFC 3339)")
    listing.add_argument("--page-size", type=int, metavar="N", help="at most N per page (1-1000)")
    listing.add_argument("--continuation-token", metavar="TOKEN", help="the next page (printed by the previous one)")
    listing.add_argument("--all", action="store_true", help="follow every page")
    add_server_options(listing)
    listing.set_defaults(run=run_list)

    history = actions.add_parser("history", help="the history events of an instance")
    history.add_argument("instance_id", metavar="ID")
    add_server_options(history)
    history.set_defaults(run=run_history)

    for name, text in (("suspend", "suspend an instance"), ("resume", "resume a suspended instance")):
        sub = actions.add_parser(name, help=text)
        sub.add_argument("instance_id", metavar="ID")
        sub.add_argument("--reason", help="recorded in the history")
        add_server_options(sub)
        sub.set_defaults(run=run_simple, operation=name)

    terminate = actions.add_parser("terminate", help="terminate an instance and its children")
    terminate.add_argument("instance_id", metavar="ID")
    terminate.add_argument("--result", dest="terminate_output", metavar="JSON", help="JSON recorded as the instance's output")
    add_server_options(terminate)
    terminate.set_defaults(run=run_simple, operation="terminate")

    purge = actions.add_parser("purge", help="delete a finished instance and its children")
    purge.add_argument("instance_id", metavar="ID")
    add_server_options(purge)
    purge.set_defaults(run=run_simple, operation="purge")

    event = actions.add_parser("raise-event", help="send an event to an instance")
    event.add_argument("instance_id", metavar="ID")
    event.add_argument("event_name", metavar="NAME")
    data = event.add_mutually_exclusive_group()
    data.add_argument("--data", metavar="JSON", help="the event's data, as JSON text")
    data.add_argument("--data-file", metavar="PATH", help="read the data (JSON) from PATH; - is stdin")
    add_server_options(event)
    event.set_defaults(run=run_simple, operation="raise-event")


def _usage(action: str, message: str) -> int:
    print(f"dwf workflow {action}: {message}", file=sys.stderr)
    return EXIT_USAGE


def _show_instance(data: dict[str, Any], fmt: str) -> None:
    if fmt != "table":
        emit(data, fmt)
        return
    version = f"{data['workflowName']}@{data['version']}" if data.get("version") else data["workflowName"]
    pairs = [
        ("instance", data["instanceID"]),
        ("definition", version),
        ("status", data["runtimeStatus"]),
        ("created", data["createdAt"]),
        ("updated", data["lastUpdatedAt"]),
        ("input", data["input"]),
        ("output", data["output"]),
    ]
    if data.get("error") is not None:
        pairs.append(("error", data["error"]))
    if data.get("customStatus") is not None:
        pairs.append(("progress", data["customStatus"]))
    fields(pairs)


def run_start(args: argparse.Namespace) -> int:
    try:
        value = read_json(args.input, args.input_file, "--input")
    except UsageError as error:
        return _usage("start", str(error))
    if args.timeout is not None and (not args.wait or args.timeout <= 0):
        return _usage("start", "--timeout needs --wait and a positive number of seconds")
    fmt = output_format(args)
    try:
        with client(args) as api:
            started = api.start(args.definition, value, instance_id=args.instance_id, start_at=args.start_at)
            if not args.wait:
                if fmt == "table":
                    print(f"{started['instanceID']}  ({started['workflowName']}@{started['version']})")
                else:
                    emit(started, fmt)
                return EXIT_OK
            try:
                final = api.wait(started["instanceID"], args.timeout)
            except TimeoutError as error:
                print(f"dwf workflow start: {error}", file=sys.stderr)
                return EXIT_FAILED
    except ServerError as error:
        return report_server_error("workflow start", error)
    _show_instance(final, fmt)
    return EXIT_OK if final["runtimeStatus"] == "COMPLETED" else EXIT_FAILED


def run_get(args: argparse.Namespace) -> int:
    try:
        with client(args) as api:
            data = api.get(args.instance_id)
    except ServerError as error:
        return report_server_error("workflow get", error)
    _show_instance(data, output_format(args))
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    fmt = output_format(args)
    token = args.continuation_token
    instances: list[dict[str, Any]] = []
    try:
        with client(args) as api:
            while True:
                page = api.list_instances(
                    statuses=args.status, definition=args.definition, created_from=args.created_from,
                    created_to=args.created_to, page_size=args.page_size, continuation_token=token,
                )  # fmt: skip
                instances.extend(page["instances"])
                token = page["continuationToken"]
                if not args.all or not token:
                    break
    except ServerError as error:
        return report_server_error("workflow list", error)
    if fmt != "table":
        emit({"instances": instances, "continuationToken": token}, fmt)
        return EXIT_OK
    rows = [[i["instanceID"], i["workflowName"], i["runtimeStatus"], i["createdAt"], i["lastUpdatedAt"]] for i in instances]
    table(["INSTANCE", "WORKFLOW", "STATUS", "CREATED", "UPDATED"], rows)
    if token:
        print(f"more: --continuation-token {token}", file=sys.stderr)
    return EXIT_OK


def run_history(args: argparse.Namespace) -> int:
    try:
        with client(args) as api:
            events = api.history(args.instance_id)
    except ServerError as error:
        return report_server_error("workflow history", error)
    fmt = output_format(args)
    if fmt != "table":
        emit(events, fmt)
        return EXIT_OK
    rows = []
    for event in events:
        body = event.get(event.get("type") or "", {}) or {}
        rows.append([event.get("eventId", ""), event.get("timestamp", ""), event.get("type", ""), body.get("name", "")])
    table(["ID", "TIME", "EVENT", "NAME"], rows)
    return EXIT_OK


def run_simple(args: argparse.Namespace) -> int:
    operation = args.operation
    try:
        data = None
        if operation == "raise-event":
            data = read_json(args.data, args.data_file, "--data")
        elif operation == "terminate" and args.terminate_output is not None:
            data = read_json(args.terminate_output, None, "--result")
    except UsageError as error:
        return _usage(operation, str(error))
    try:
        with client(args) as api:
            if operation == "suspend":
                api.suspend(args.instance_id, args.reason)
            elif operation == "resume":
                api.resume(args.instance_id, args.reason)
            elif operation == "terminate":
                api.terminate(args.instance_id, data)
            elif operation == "purge":
                api.purge(args.instance_id)
            else:
                api.raise_event(args.instance_id, args.event_name, data)
    except ServerError as error:
        return report_server_error(f"workflow {operation}", error)
    fmt = output_format(args)
    result = {"instanceID": args.instance_id, "operation": operation, "accepted": True}
    if fmt == "table":
        print(f"{args.instance_id}: {operation} accepted")
    else:
        emit(result, fmt)
    return EXIT_OK
