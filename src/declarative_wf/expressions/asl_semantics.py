"""ASL's own rules as pure functions, shared by the evaluator, the compiler and the validator.

The ASL error names and :class:`AslEvalError`, ``{% %}`` JSONata templates, RFC 3339
timestamps, ``StringMatches`` patterns, Choice comparisons with AWS's type rules,
``ErrorEquals`` matching and the shapes AWS gives integration results.  Nothing here reads an
evaluation scope; :mod:`declarative_wf.expressions.asl_eval` re-exports the public names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from operator import eq, ge, gt, le, lt
from typing import Any

from .asl_paths import json_text

RUNTIME = "States.Runtime"
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
INTRINSIC_FAILURE = "States.IntrinsicFailure"


class AslEvalError(Exception):
    """An ASL run-time error: ``error`` is the ASL name, ``cause`` AWS's text."""

    def __init__(self, error: str, cause: str) -> None:
        super().__init__(cause)
        self.error = error
        self.cause = cause


# --------------------------------------------------------------------------- helpers


_JSONATA_TEMPLATE = re.compile(r"\A\{%(.*)%\}\Z", re.S)


def is_jsonata_template(value: Any) -> bool:
    """True for a string that is exactly ``{% expression %}``."""
    return isinstance(value, str) and _JSONATA_TEMPLATE.match(value) is not None


def jsonata_source(value: str) -> str:
    """The expression inside ``{% ... %}``, trimmed."""
    match = _JSONATA_TEMPLATE.match(value)
    assert match is not None
    return match.group(1).strip()


def _shown(value: Any) -> str:
    """A value as AWS quotes it after ``==`` in causes: strings raw, the rest as JSON."""
    return value if isinstance(value, str) else json_text(value)


#: RFC 3339 as ASL accepts it: upper-case ``T``, and ``Z`` or a numeric offset.
_TIMESTAMP = re.compile(
    r"\A(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})\Z"
)


def parse_timestamp(value: Any) -> datetime | None:
    """The instant an ASL timestamp string denotes, or None when it is not one."""
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.match(value)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups()[:6])
    fraction, offset = match.group(7), match.group(8)
    try:
        if offset == "Z":
            zone = timezone.utc
        else:
            sign = 1 if offset[0] == "+" else -1
            hours, minutes = int(offset[1:3]), int(offset[4:6])
            if hours > 23 or minutes > 59:
                return None
            zone = timezone(sign * timedelta(hours=hours, minutes=minutes))
        micros = int((fraction[1:] + "000000")[:6]) if fraction else 0
        return datetime(year, month, day, hour, minute, second, micros, tzinfo=zone)
    except ValueError:  # month 13, hour 25, February 30...
        return None


def string_matches(value: str, pattern: str) -> bool:
    """``StringMatches``: ``*`` matches any run of characters; ``\\*`` and ``\\\\`` are a literal
    star and backslash. Nothing else is special."""
    parts: list[str] = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern) and pattern[index + 1] in "*\\":
            parts.append(re.escape(pattern[index + 1]))
            index += 2
            continue
        parts.append(".*" if char == "*" else re.escape(char))
        index += 1
    return re.fullmatch("".join(parts), value, re.S) is not None


class _Missing:
    """A Choice ``Variable`` whose path selects nothing."""


_MISSING = _Missing()


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def shape_result(shape: str, raw: Any) -> Any:
    """An integration's result as AWS shapes it, from what our activity or child returned."""
    if shape == "http" and isinstance(raw, Mapping):
        return {
            "ResponseBody": raw.get("body"),
            "StatusCode": raw.get("status"),
            "StatusText": raw.get("reason") or _STATUS_TEXT.get(raw.get("status"), ""),  # type: ignore[arg-type]
            "Headers": raw.get("headers") or {},
        }
    if shape == "lambda":
        return {"ExecutedVersion": "$LATEST", "Payload": raw, "StatusCode": 200}
    if shape == "sfn.sync":
        return {"Output": json_text(raw), "Status": "SUCCEEDED"}
    if shape in ("sfn.sync2", "sfn"):
        return {"Output": raw, "Status": "SUCCEEDED"}
    return raw


_STATUS_TEXT = {200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 301: "Moved Permanently", 302: "Found",
                304: "Not Modified", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
                409: "Conflict", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
                503: "Service Unavailable", 504: "Gateway Timeout"}  # fmt: skip


def error_output(error: Mapping[str, Any]) -> dict[str, Any]:
    """The ASL error output ``{"Error", "Cause"}`` of an interpreter error object."""
    return {"Error": error.get("type") or "", "Cause": error.get("message") or ""}


#: ASL names that ``States.ALL`` does not match.
_NOT_CAUGHT_BY_ALL = frozenset({"States.Runtime", "States.DataLimitExceeded"})
#: ASL names that ``States.TaskFailed`` does not match.
_NOT_TASK_FAILED = _NOT_CAUGHT_BY_ALL | {"States.Timeout", "States.HeartbeatTimeout"}


def error_matches(names: list[str] | tuple[str, ...], error_name: str) -> bool:
    """Whether a retrier's or catcher's ``ErrorEquals`` matches an error name."""
    for name in names:
        if name == error_name:
            return True
        if name == "States.ALL" and error_name not in _NOT_CAUGHT_BY_ALL:
            return True
        if name == "States.TaskFailed" and error_name not in _NOT_TASK_FAILED:
            return True
        if name == "States.Timeout" and error_name == "States.HeartbeatTimeout":
            return True  # "a Task ran longer than TimeoutSeconds, or sent no heartbeat in time"
    return False


# -- Choice comparisons (JSONPath) -----------------------------------------------------------


#: The five comparisons each of String…, Numeric… and Timestamp… has (``StringLessThan``...).
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "Equals": eq, "LessThan": lt, "GreaterThan": gt, "LessThanEquals": le, "GreaterThanEquals": ge,
}  # fmt: skip
_STRING_OPS = {f"String{name}": fn for name, fn in _ORDER.items()}
_NUMERIC_OPS = {f"Numeric{name}": fn for name, fn in _ORDER.items()}
_TIMESTAMP_OPS = {f"Timestamp{name}": fn for name, fn in _ORDER.items()}


def compare(operator: str, variable: Any, operand: Any) -> bool:
    """One Choice comparison with AWS's type rules: a comparison of a value of the wrong type
    (or of a missing one) is false, never an error. ``operand`` is the literal (or the value a
    ``…Path`` operand selected)."""
    if operator in _STRING_OPS:
        return isinstance(variable, str) and isinstance(operand, str) and _STRING_OPS[operator](variable, operand)
    if operator == "StringMatches":
        return isinstance(variable, str) and isinstance(operand, str) and string_matches(variable, operand)
    if operator in _NUMERIC_OPS:
        return _is_number(variable) and _is_number(operand) and _NUMERIC_OPS[operator](variable, operand)
    if operator == "BooleanEquals":
        return isinstance(variable, bool) and isinstance(operand, bool) and variable is operand
    if operator in _TIMESTAMP_OPS:
        left, right = parse_timestamp(variable), parse_timestamp(operand)
        return left is not None and right is not None and _TIMESTAMP_OPS[operator](left, right)
    present = variable is not _MISSING
    if operator == "IsPresent":
        return present is operand
    if operator == "IsNull":
        return (present and variable is None) is operand
    if operator == "IsNumeric":
        return _is_number(variable) is operand
    if operator == "IsString":
        return isinstance(variable, str) is operand
    if operator == "IsBoolean":
        return isinstance(variable, bool) is operand
    if operator == "IsTimestamp":
        return (parse_timestamp(variable) is not None) is operand
    raise AslEvalError(RUNTIME, f"unknown comparison operator {operator!r}")
