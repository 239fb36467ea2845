"""Durations and timestamps: the one place that says what ``30s``, ``1h30m`` and ``PT5M`` mean.

Compact durations are numbers with a unit, largest unit first, each unit once (``1h30m``,
``1.5h``, ``500ms``); ISO 8601 durations use weeks, days, hours, minutes and seconds. Years
and months are refused: they have no fixed length, and a timer needs one.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from declarative_wf.diagnostics import quote

__all__ = ["DurationError", "parse_duration", "parse_timestamp"]

_UNITS: dict[str, float] = {"d": 86400.0, "h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
_ORDER = list(_UNITS)
_COMPACT_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d)")
_ISO = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:[.,]\d+)?)S)?)?"
)
_ISO_SECONDS = {"weeks": 604800.0, "days": 86400.0, "hours": 3600.0, "minutes": 60.0, "seconds": 1.0}
_HINT = "write it like 500ms, 30s, 5m, 1h30m, 1d or PT5M"


class DurationError(ValueError):
    """Not a duration; the message says why and how to write one."""


def parse_duration(value: object) -> float:
    """Seconds in ``value``: a number of seconds, a compact duration or an ISO 8601 one."""
    if isinstance(value, bool) or value is None:
        raise DurationError(f"a duration is expected, not {_json_type(value)}; {_HINT}")
    if isinstance(value, (int, float)):
        if not math.isfinite(value) or value < 0:
            raise DurationError(f"a duration must be a finite number of seconds >= 0, not {value}")
        return float(value)
    if not isinstance(value, str):
        raise DurationError(f"a duration is expected, not {_json_type(value)}; {_HINT}")
    text = value.strip()
    if not text:
        raise DurationError(f"a duration is expected, not an empty string; {_HINT}")
    if text[0] in "Pp":
        return _iso(text)
    return _compact(text)


def _compact(text: str) -> float:
    total, position, last = 0.0, 0, -1
    for match in _COMPACT_PART.finditer(text):
        if match.start() != position:
            break
        rank = _ORDER.index(match.group(2))
        if rank <= last:
            raise DurationError(f"{quote(text)} is not a duration: units go from the largest to the smallest, once each (1h30m, not 30m1h)")
        last = rank
        total += float(match.group(1)) * _UNITS[match.group(2)]
        position = match.end()
    if position != len(text) or position == 0:
        bad = text[position:] or text
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            raise DurationError(f"{quote(text)} is not a duration: add a unit ({text}s), or write a number without quotes for seconds")
        unit = re.match(r"\d+(?:\.\d+)?\s*([A-Za-z]+)", bad)
        if unit and unit.group(1) not in _UNITS:
            raise DurationError(f"{quote(text)} is not a duration: unknown unit {quote(unit.group(1))} (use ms, s, m, h or d)")
        raise DurationError(f"{quote(text)} is not a duration; {_HINT}")
    return total


def _iso(text: str) -> float:
    upper = text.upper()
    match = _ISO.fullmatch(upper)
    if match is None or upper in ("P", "PT") or upper.endswith("T"):
        if re.fullmatch(r"P(?:\d+Y)?(?:\d+M)?(?:\d+[WD])*(?:T.*)?", upper) and re.search(r"\d+[YM]", upper.split("T")[0]):
            raise DurationError(f"{quote(text)}: years and months have no fixed length; use weeks or days (P30D)")
        raise DurationError(f"{quote(text)} is not an ISO 8601 duration (PnWnDTnHnMnS, e.g. PT5M or P1DT2H)")
    return sum(float(amount.replace(",", ".")) * _ISO_SECONDS[name] for name, amount in match.groupdict().items() if amount)


_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})")


def parse_timestamp(value: object) -> datetime:
    """An RFC 3339 timestamp with a time zone (``2025-01-01T09:00:00Z``)."""
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value.strip()):
        raise ValueError(f"{quote(str(value))} is not an RFC 3339 timestamp such as 2025-01-01T09:00:00Z (the time zone is required)")
    text = value.strip()
    text = text[:10] + "T" + text[11:]  # 3.11's fromisoformat wants an upper-case T
    try:
        return datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError as error:
        raise ValueError(f"{quote(str(value))} is not a valid moment: {error}") from None


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (list, tuple)):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__
