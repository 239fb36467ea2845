"""``dwf task success|failure|heartbeat TOKEN`` — callbacks of ASL tasks that wait with
``.waitForTaskToken``, sent to a running server (``--server URL``), as AWS's
``aws stepfunctions send-task-success|send-task-failure|send-task-heartbeat``.

Exit status: 0 delivered; 1 refused (``ERR_TASK_TOKEN_INVALID``, ``ERR_TASK_DOES_NOT_EXIST``,
``ERR_TASK_TIMED_OUT``, ...) or the server could not be reached; 2 usage (bad JSON in
``--result``...).
"""

from __future__ import annotations

import argparse
from typing import Any

from .common import Argument, JsonArg, add_actions, arg, usage
from .output import emit, output_format
from .server_args import EXIT_OK, UsageError, ask, read_json, server_action

_TOKEN = arg("token", metavar="TOKEN")
#: Each action with its help and its own arguments; all three are sent by :func:`run_task`.
_ACTIONS: tuple[tuple[str, str, tuple[Argument, ...]], ...] = (
    ("success", "complete the task: --result becomes its result", (
        arg("token", metavar="TOKEN", help="the task token ($$.Task.Token the task received)"),
        JsonArg("--result", "the task's result, as JSON text (default: null)", "result"),
    )),
    ("failure", "fail the task with an error name and a cause", (
        _TOKEN,
        arg("--error", help="the error name a Catch matches (at most 256 characters)"),
        arg("--cause", help="a description of the failure"),
    )),
    ("heartbeat", "tell the task its worker is alive (restarts HeartbeatSeconds)", (_TOKEN,)),
)  # fmt: skip


def register(commands: Any) -> None:
    actions = add_actions(commands, "task", "answer a task waiting for a callback (ASL .waitForTaskToken)")
    for name, text, arguments in _ACTIONS:
        server_action(actions, name, text, run_task, *arguments)


def run_task(args: argparse.Namespace) -> int:
    action = args.action
    body: dict[str, Any] = {"taskToken": args.token}
    try:
        if action == "success":
            body["output"] = read_json(args.result, args.result_file, "--result")
    except UsageError as error:
        return usage(f"task {action}", str(error))
    if action == "failure":
        body.update({key: value for key, value in (("error", args.error), ("cause", args.cause)) if value is not None})
    ask(args, f"task {action}", lambda api: api.request("POST", f"/api/v1/tasks/{action}", json=body))
    fmt = output_format(args)
    if fmt == "table":
        print(f"task {action} delivered")
    else:
        emit({"operation": action, "delivered": True}, fmt)
    return EXIT_OK
