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

from declarative_wf.api.remote import ApiClient, ServerError

from .common import JsonArg, add_actions, arg, usage
from .output import emit, fields, output_format, table
from .server_args import (
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    ask,
    client,
    read_json,
    report_server_error,
    server_action,
)

_STATUSES = ("RUNNING", "COMPLETED", "CONTINUED_AS_NEW", "FAILED", "CANCELED", "TERMINATED", "PENDING", "SUSPENDED", "STALLED")
_ID = arg("instance_id", metavar="ID")


def register(commands: Any) -> None:
    actions = add_actions(commands, "workflow", "start and manage instances on a server")
    server_action(
        actions, "start", "start an instance of a registered definition", run_start,
        arg("definition", metavar="DEFINITION", help="NAME (latest version), NAME@VERSION or sha256:HASH"),
        JsonArg("--input", "the input, as JSON text", "input"),
        arg("--instance-id", metavar="ID", help="the instance id (default: a random UUID)"),
        arg("--start-at", metavar="TIME", help="start later (RFC 3339, e.g. 2026-01-31T12:00:00Z)"),
        arg("--wait", action="store_true", help="wait for the end; exit 0 only when it completed"),
        arg("--timeout", type=float, metavar="SECONDS", help="with --wait: give up after SECONDS (exit 1)"),
    )  # fmt: skip
    server_action(actions, "get", "an instance's status, input, output and error", run_get, _ID)
    server_action(
        actions, "list", "instances in creation order, filtered", run_list,
        arg("--status", action="append", choices=_STATUSES, type=str.upper, help="keep this status; repeatable"),
        arg("--definition", metavar="NAME", help="keep instances of this definition"),
        arg("--created-from", metavar="TIME", help="created at or after (RFC 3339)"),
        arg("--created-to", metavar="TIME", help="created before (RFC 3339)"),
        arg("--page-size", type=int, metavar="N", help="at most N per page (1-1000)"),
        arg("--continuation-token", metavar="TOKEN", help="the next page (printed by the previous one)"),
        arg("--all", action="store_true", help="follow every page"),
    )  # fmt: skip
    server_action(actions, "history", "the history events of an instance", run_history, _ID)
    for name, text in (("suspend", "suspend an instance"), ("resume", "resume a suspended instance")):
        server_action(actions, name, text, run_simple, _ID, arg("--reason", help="recorded in the history"), operation=name)
    server_action(
        actions, "terminate", "terminate an instance and its children", run_simple, _ID,
        arg("--result", dest="terminate_output", metavar="JSON", help="JSON recorded as the instance's output"),
        operation="terminate",
    )  # fmt: skip
    server_action(actions, "purge", "delete a finished instance and its children", run_simple, _ID, operation="purge")
    server_action(
        actions, "raise-event", "send an event to an instance", run_simple,
        _ID, arg("event_name", metavar="NAME"), JsonArg("--data", "the event's data, as JSON text", "data"),
        operation="raise-event",
    )  # fmt: skip


def _usage(action: str, message: str) -> int:
    return usage(f"workflow {action}", message)


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
    data = ask(args, "workflow get", lambda api: api.get(args.instance_id))
    _show_instance(data, output_format(args))
    return EXIT_OK


def run_list(args: argparse.Namespace) -> int:
    fmt = output_format(args)

    def pages(api: ApiClient) -> tuple[list[dict[str, Any]], str | None]:
        token = args.continuation_token
        instances: list[dict[str, Any]] = []
        while True:
            page = api.list_instances(
                statuses=args.status, definition=args.definition, created_from=args.created_from,
                created_to=args.created_to, page_size=args.page_size, continuation_token=token,
            )  # fmt: skip
            instances.extend(page["instances"])
            token = page["continuationToken"]
            if not args.all or not token:
                return instances, token

    instances, token = ask(args, "workflow list", pages)
    if fmt != "table":
        emit({"instances": instances, "continuationToken": token}, fmt)
        return EXIT_OK
    rows = [[i["instanceID"], i["workflowName"], i["runtimeStatus"], i["createdAt"], i["lastUpdatedAt"]] for i in instances]
    table(["INSTANCE", "WORKFLOW", "STATUS", "CREATED", "UPDATED"], rows)
    if token:
        print(f"more: --continuation-token {token}", file=sys.stderr)
    return EXIT_OK


def run_history(args: argparse.Namespace) -> int:
    events = ask(args, "workflow history", lambda api: api.history(args.instance_id))
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

    def send(api: ApiClient) -> None:
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

    ask(args, f"workflow {operation}", send)
    fmt = output_format(args)
    result = {"instanceID": args.instance_id, "operation": operation, "accepted": True}
    if fmt == "table":
        print(f"{args.instance_id}: {operation} accepted")
    else:
        emit(result, fmt)
    return EXIT_OK
