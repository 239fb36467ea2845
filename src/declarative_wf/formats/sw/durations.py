"""Serverless Workflow durations: an inline object, an ISO 8601 string, or a runtime expression.

Inline and ISO 8601 durations become seconds when the definition is compiled. An expression
becomes a jq program that converts whatever the expression yields (a number of seconds, an
inline object or an ISO 8601 string) into seconds when the task runs.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import isodate

__all__ = ["DurationError", "expression_seconds", "is_expression", "parse_duration", "strip_expression"]

_UNITS = {"days": 86400.0, "hours": 3600.0, "minutes": 60.0, "seconds": 1.0, "milliseconds": 0.001}

# jq: seconds from a number, an inline duration object or an ISO 8601 duration (days and less;
# weeks too). Years and months have no fixed length and are refused, as at compile time.
_JQ_TO_SECONDS = (
    'if type == "number" then . '
    'elif type == "object" then ((.days // 0) * 86400 + (.hours // 0) * 3600 + (.minutes // 0) * 60'
    ' + (.seconds // 0) + (.milliseconds // 0) / 1000) '
    'elif type == "string" then (capture("^P(?:(?<w>[0-9.]+)W)?(?:(?<d>[0-9.]+)D)?(?:T(?:(?<h>[0-9.]+)H)?'
    '(?:(?<m>[0-9.]+)M)?(?:(?<s>[0-9.]+)S)?)?$") // error("not an ISO 8601 duration of weeks, days or less: \\(.)")'
    ' | ((.w // "0") | tonumber) * 604800 + ((.d // "0") | tonumber) * 86400 + ((.h // "0") | tonumber) * 3600'
    ' + ((.m // "0") | tonumber) * 60 + ((.s // "0") | tonumber)) '
    'else error("a duration must be a number of seconds, an object or an ISO 8601 string, not \\(type)") end'
)


class DurationError(ValueError):
    """The value is not a duration; the message says why."""


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.strip().startswith("${") and value.strip().endswith("}")


def strip_expression(value: str) -> str:
    text = value.strip()
    if text.startswith("${") and text.endswith("}"):
        return text[2:-1].strip()
    return text


def parse_duration(value: Any) -> float:
    """Seconds of an inline or ISO 8601 duration; DurationError otherwise."""
    if isinstance(value, dict):
        unknown = sorted(set(value) - set(_UNITS))
        if unknown:
            raise DurationError(f"unknown duration unit(s) {', '.join(unknown)}; use {', '.join(_UNITS)}")
        if not value:
            raise DurationError("an inline duration needs at least one of " + ", ".join(_UNITS))
        total = 0.0
        for unit, amount in value.items():
            if isinstance(amount, bool) or not isinstance(amount, (int, float)) or amount < 0:
                raise DurationError(f"{unit} must be a non-negative number, not {amount!r}")
            total += float(amount) * _UNITS[unit]
        return total
    if isinstance(value, str):
        try:
            parsed = isodate.parse_duration(value)
        except (isodate.ISO8601Error, ValueError) as error:
            raise DurationError(f"{value!r} is not an ISO 8601 duration (such as PT30S or P1DT2H): {error}") from None
        if not isinstance(parsed, timedelta):
            raise DurationError(f"{value!r} uses years or months, which have no fixed length; use days or less")
        return parsed.total_seconds()
    raise DurationError(f"a duration is an object such as {{seconds: 30}} or an ISO 8601 string such as PT30S, not {type(value).__name__}")


def expression_seconds(program: str) -> str:
    """A jq program yielding the seconds of the duration ``program`` evaluates to."""
    return f"({program}) | {_JQ_TO_SECONDS}"
