"""Tiny activities for the end-to-end tests. They unwrap the interpreter's envelope
``{"dwf": 1, "input": args, "attempt": n, "node": id}``; calls are recorded by tag so that a test
can see what ran (compensations, for instance, return nothing to the workflow)."""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

CALLS: dict[str, list[Any]] = defaultdict(list)
_lock = threading.Lock()


def record(tag: str, value: Any) -> None:
    with _lock:
        CALLS[tag].append(value)


class CardDeclined(Exception):
    pass


class Flaky(Exception):
    pass


def add_one(ctx: Any, env: dict[str, Any]) -> Any:
    return env["input"] + 1


def echo(ctx: Any, env: dict[str, Any]) -> Any:
    return env["input"]


def boom(ctx: Any, env: dict[str, Any]) -> Any:
    raise ValueError(f"boom {env['input']}")


def declined(ctx: Any, env: dict[str, Any]) -> Any:
    raise CardDeclined("card declined")


def flaky(ctx: Any, env: dict[str, Any]) -> Any:
    """Fails until attempt ``fail_times + 1``."""
    args = env["input"]
    record(args["tag"], env["attempt"])
    if env["attempt"] <= args["fail_times"]:
        raise Flaky(f"attempt {env['attempt']}")
    return {"attempts": env["attempt"]}


def log(ctx: Any, env: dict[str, Any]) -> Any:
    """Records ``input.value`` under ``input.tag`` and returns the value."""
    args = env["input"]
    record(args["tag"], args.get("value"))
    return args.get("value")


# -- the samples ---------------------------------------------------------------------------------


def validate_order(ctx: Any, env: dict[str, Any]) -> Any:
    order = env["input"]
    return {**order, "valid": True, "total": sum(item["price"] for item in order["items"])}


def charge(ctx: Any, env: dict[str, Any]) -> Any:
    return {"order": env["input"]["id"], "charged": env["input"]["total"]}


def ship(ctx: Any, env: dict[str, Any]) -> Any:
    return {"shipped": env["input"]["order"], "charged": env["input"]["charged"]}


def list_files(ctx: Any, env: dict[str, Any]) -> Any:
    return [f"{name}.png" for name in env["input"]["names"]]


def resize(ctx: Any, env: dict[str, Any]) -> Any:
    return {"file": env["input"], "size": len(env["input"])}


def summarize(ctx: Any, env: dict[str, Any]) -> Any:
    return {"count": len(env["input"]), "total": sum(item["size"] for item in env["input"])}


def http(ctx: Any, env: dict[str, Any]) -> Any:
    """A stand-in for the built-in HTTP activity: a POST is accepted (202 + Location), the
    first GET of the job says "still running", the second returns the result."""
    request = env["input"]
    if request.get("method") == "POST":
        record("http", ["POST", request["url"], request.get("body")])
        return {"status": 202, "headers": {"Location": "/jobs/1", "Retry-After": "0"}, "body": None}
    record("http", ["GET", request["url"]])
    polls = sum(1 for call in CALLS["http"] if call[0] == "GET")
    if polls < 2:
        return {"status": 202, "headers": {"Location": "/jobs/1", "Retry-After": "0"}, "body": None}
    return {"status": 200, "headers": {}, "body": {"job": 1, "state": "done"}}


def record_result(ctx: Any, env: dict[str, Any]) -> Any:
    return {"recorded": env["input"]["body"]}


def check_status(ctx: Any, env: dict[str, Any]) -> Any:
    record("check_status", 1)
    return {"done": len(CALLS["check_status"]) >= 2}


def notify(ctx: Any, env: dict[str, Any]) -> Any:
    return {"notified": env["input"]}


ALL = [
    add_one, echo, boom, declined, flaky, log, validate_order, charge, ship, list_files, resize, summarize,
    http, record_result, check_status, notify,
]  # fmt: skip
