"""Errors as RFC 7807 Problem Details, raised by activities (Serverless Workflow's error model).

An activity that wants to fail with a precise Serverless Workflow error raises
:class:`ProblemError`. Activity failures cross the engine as ``(error type, message)`` only, so
the problem travels as JSON in the message; the Serverless Workflow runtime profile turns an
error of type ``ProblemError`` back into the problem object (and fills ``instance`` with the
task's JSON Pointer when the activity left it empty).
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["ERROR_TYPES", "ProblemError", "parse_problem", "standard_type"]

#: The standard error types of Serverless Workflow 1.0 and their default statuses.
ERROR_TYPES: dict[str, int] = {
    "configuration": 400,
    "validation": 400,
    "expression": 400,
    "authentication": 401,
    "authorization": 403,
    "timeout": 408,
    "communication": 500,
    "runtime": 500,
}
STANDARD_PREFIX = "https://serverlessworkflow.io/spec/1.0.0/errors/"


def standard_type(name: str) -> str:
    """The URI of a standard error type: ``standard_type("communication")``."""
    return STANDARD_PREFIX + name


class ProblemError(Exception):
    """``ProblemError("communication", status=404, title="Not Found", detail=...)``: ``kind`` is a
    standard type name or a full type URI."""

    def __init__(self, kind: str, *, status: int | None = None, title: str | None = None,
                 detail: str | None = None, instance: str | None = None) -> None:  # fmt: skip
        error_type = standard_type(kind) if kind in ERROR_TYPES else kind
        self.problem: dict[str, Any] = {"type": error_type, "status": status if status is not None else ERROR_TYPES.get(kind, 500)}
        for key, value in (("title", title), ("detail", detail), ("instance", instance)):
            if value is not None:
                self.problem[key] = value
        super().__init__(json.dumps(self.problem, separators=(",", ":")))


def parse_problem(message: str) -> dict[str, Any] | None:
    """The problem object carried by a ProblemError's message; None if it is not one."""
    try:
        value = json.loads(message)
    except (TypeError, ValueError):
        return None
    if isinstance(value, dict) and isinstance(value.get("type"), str) and isinstance(value.get("status"), int):
        return value
    return None
