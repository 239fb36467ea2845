"""``dwf task success|failure|heartbeat TOKEN`` — callbacks of ASL tasks that wait with
``.waitForTaskToken``, sent to a running server (``--server URL``), as AWS's
``aws stepfunctions send-task-success|send-task-failure|send-task-heartbeat``.

Exit status: 0 delivered; 1 refused (``ERR_TASK_TOKEN_INVALID``, ``ERR_TASK_DOES_NOT_EXIST``,
``ERR_TASK_TIMED_OUT``, ...) or the server could not be reached; 2 usage (bad JSON in
``--result``...).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from declarative_wf.api.remote import ServerError

from .output import emit, output_format
from .server_args import (
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    add_server_options,
    client,
    read_json,
    report_server_error,
)


def register(commands: Any) -> None:
    parser = commands.add_parser("task", help="answer a task waiting for a callback (ASL .waitForTaskToken)")
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    actions.required = True

    success = actions.add_parser("success", help="complete the task: --result becomes its result")
    success.add_argument("token", metavar="TOKEN", help="the task token ($$.Task.Token the task received)")
    given = success.add_mutually_exclusive_group()
    given.add_argument("--result", metavar="JSON", help="the task's result, as JSON text (default: null)")
    given.add_argument("--result-file", metavar="PATH", help="read the result (JSON) from PATH; - is stdin")
    add_server_options(success)
    success.set_defaults(run=run_task)

    failure = actions.add_parser("failure", help="fail the task with an error name and a cause")
    failure.add_argument("token", metavar="TOKEN")
    failure.add_argument("--error", help="the error name a Catch matches (at most 256 characters)")
    failure.add_argument("--cause", help="a description of the failure")
    add_server_options(failure)
    failure.set_defaults(run=run_task)

    heartbeat = actions.add_parser("heartbeat", help="tell the task its worker is alive (restarts HeartbeatSeconds)")
    heartbeat.add_argument("token", metavar="TOKEN")
    add_server_options(heartbeat)
    heartbeat.set_defaults(run=run_task)


def run_task(args: argparse.Namespace) -> int:
    action = args.action
    body: dict[str, Any] = {"taskToken": args.token}
    try:
        if action == "success":
            body["output"] = read_json(args.result, args.result_file, "--result")
    except UsageError as error:
        print(f"dwf task {action}: {error}", file=sys.stderr)
        return EXIT_USAGE
    if action == "failure":
        body.update({key: value for key, value in (("error", args.error), ("cause", args.cause)) if value is not None})
    try:
        with client(args) as api:
            api.request("POST", f"/api/v1/tasks/{action}", json=body)
    except ServerError as error:
        return report_server_error(f"task {action}", error)
    fmt = output_format(args)
    if fmt == "table":
        print(f"task {action} delivered")
    else:
        emit({"operation": action, "delivered": True}, fmt)
    return EXIT_OK
