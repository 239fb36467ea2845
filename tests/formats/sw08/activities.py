"""Activities the end-to-end tests register (under the 0.8 function names). Calls are
recorded by name so a test can see what ran, and in which order."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any

from declarative_wf.activities import ActivityContext, Registry

CALLS: dict[str, list[Any]] = defaultdict(list)
_lock = threading.Lock()


def record(tag: str, value: Any) -> None:
    with _lock:
        CALLS[tag].append(value)


class ServiceNotAvailable(Exception):
    pass


class OutOfStock(Exception):
    pass


def greet(args: dict[str, Any]) -> dict[str, Any]:
    record("greet", args)
    return {"greeting": f"Hello {args['name']}", "lang": "en"}


def add(args: dict[str, Any]) -> int:
    record("add", args)
    return int(args["a"]) + int(args["b"])


def slow_echo(args: dict[str, Any]) -> Any:
    time.sleep(float(args.get("seconds", 0)))
    record("slow_echo", args.get("value"))
    return args.get("value")


def flaky(args: dict[str, Any], context: ActivityContext) -> dict[str, Any]:
    """Fails with ServiceNotAvailable until attempt ``fail_times + 1``; records the time of each."""
    record(f"flaky:{args['tag']}", time.monotonic())
    if context.attempt <= int(args["fail_times"]):
        raise ServiceNotAvailable(f"attempt {context.attempt}")
    return {"attempts": context.attempt}


def reserve(args: dict[str, Any]) -> dict[str, Any]:
    record("reserve", args["item"])
    return {"reserved": args["item"]}


def charge(args: dict[str, Any]) -> dict[str, Any]:
    record("charge", args)
    if args.get("amount", 0) > 100:
        raise OutOfStock("not enough credit")
    return {"charged": args.get("amount")}


def undo(args: dict[str, Any]) -> None:
    record("undo", args)


def square(args: Any) -> int:
    record("square", args)
    return int(args["n"]) ** 2


def start_job(args: Any) -> dict[str, Any]:
    record("start_job", args)
    return {"job": "J-1"}


REGISTRY = Registry()
for function, name in (
    (greet, "greetingFunction"), (add, "addFunction"), (slow_echo, "slowEcho"), (flaky, "flakyService"),
    (reserve, "reserveItem"), (charge, "chargeCard"), (undo, "undoReservation"), (square, "squareFunction"),
    (start_job, "startJob"),
):  # fmt: skip
    REGISTRY.add(function, name)
