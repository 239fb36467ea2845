"""What the validator and the compiler share about a 0.8 document: its named definitions
(inline or in files next to it), durations, expression syntax, and its transitions."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import isodate

from declarative_wf.diagnostics import quote
from declarative_wf.loading import LoadedDocument, load_file, pointer_join

from .schema import Report, join_all

__all__ = [
    "EMBEDDED_EXPRESSION", "FUNCTION_CALL", "STATE_KINDS", "WHOLE_EXPRESSION", "Definitions", "files_allowed",
    "fix_duration", "parse_duration", "resolve_definitions", "resource_path", "start_state", "transitions_of",
    "workflow_run_before",
]  # fmt: skip

STATE_KINDS = (
    "event",
    "operation",
    "switch",
    "sleep",
    "parallel",
    "inject",
    "foreach",
    "callback",
)
#: A string that is wholly one ``${ ... }`` expression.
WHOLE_EXPRESSION = re.compile(r"^\s*\$\{(?P<body>.*)\}\s*$", re.DOTALL)
#: ``${ ... }`` embedded in a longer string (interpolation).
EMBEDDED_EXPRESSION = re.compile(r"\$\{(?P<body>[^}]*)\}")
#: ``fn:name`` inside an expression: a function of type ``expression``, inlined.
FUNCTION_CALL = re.compile(r"\bfn:([A-Za-z_][\w\-]*)")


_MISPLACED_DAYS = re.compile(r"^P(?:T)(\d+(?:[.,]\d+)?[DW])(.*)$")


def fix_duration(text: str) -> str | None:
    """The valid form of a duration that puts days or weeks after ``T`` (``PT30D`` → ``P30D``),
    or None when the text has no such mistake."""
    match = _MISPLACED_DAYS.match(text.strip())
    if match is None:
        return None
    rest = match.group(2)
    return f"P{match.group(1)}" + (f"T{rest}" if rest else "")


def parse_duration(text: Any) -> float | None:
    """Seconds of an ISO 8601 duration (``PT10S``, ``P2D``, ``P2W``), or None when it is not one.
    Months and years count 30 and 365 days. ``PT30D`` is read as ``P30D`` (validation warns)."""
    if not isinstance(text, str):
        return None
    try:
        value = isodate.parse_duration(fix_duration(text) or text.strip())
    except (isodate.ISO8601Error, ValueError):
        return None
    if isinstance(
        value, isodate.Duration
    ):  # years / months: no calendar inside a workflow
        days = float(value.years) * 365 + float(value.months) * 30
        return days * 86400 + value.tdelta.total_seconds()
    return float(value.total_seconds())


@dataclass
class Definitions:
    """The named definitions of a workflow; a kind read from an unreadable file is None."""

    functions: dict[str, dict[str, Any]] | None
    events: dict[str, dict[str, Any]] | None
    retries: dict[str, dict[str, Any]] | None
    errors: dict[str, dict[str, Any]] | None
    #: Where each definition is (a pointer into this document, or "" for an external file).
    pointers: dict[tuple[str, str], str] = field(default_factory=dict)


def is_undefined(
    defs: Definitions, data: Mapping[str, Any], kind: str, name: str
) -> bool:
    """True when ``name`` is not among the ``kind`` ("functions", "events") definitions and the
    workflow does define that kind. Such a reference is a warning (SW08-W007) and compiles
    into a node that fails with ``UndefinedReference`` when reached; a kind that is absent
    altogether (a fragment, SW08-W005) or unreadable (SW08-W002) is not "undefined"."""
    known = getattr(defs, kind)
    if known is None or name in known:
        return False
    return bool(known) or kind in data


def legacy_event_timeout(state: Mapping[str, Any]) -> bool:
    """A switch state with ``eventTimeout`` on the state itself, the 0.7 layout (0.8 moved it to
    ``timeouts.eventTimeout``). The official 0.8 schema rejects it; we accept it with a warning
    (SW08-W008) because the specification's own example 08 is written so and its meaning is
    unambiguous. With both fields present it stays a schema error (which one would win?)."""
    timeouts = state.get("timeouts")
    both = isinstance(timeouts, dict) and "eventTimeout" in timeouts
    return state.get("type") == "switch" and "eventTimeout" in state and not both


def event_timeout(state: Mapping[str, Any]) -> Any:
    """The state's ``timeouts.eventTimeout``, or the 0.7-layout field (:func:`legacy_event_timeout`)."""
    timeouts = state.get("timeouts")
    value = timeouts.get("eventTimeout") if isinstance(timeouts, dict) else None
    return (
        state.get("eventTimeout")
        if value is None and legacy_event_timeout(state)
        else value
    )


def files_allowed() -> bool:
    """False while the API compiles a submitted definition: submitted text never reaches the
    file system (docs/architecture.md), so external files and subflow files are not read."""
    try:
        from declarative_wf.api import compiling
    except ImportError:
        return True
    flag = getattr(compiling, "_no_files", None)
    return not (flag is not None and flag.get())


def resource_path(document: LoadedDocument, uri: str) -> Path | None:
    """A local file a URI names, relative to the definition's directory; None for remote URIs
    and when file access is off."""
    if (
        not files_allowed()
        or re.match(r"^[a-z][a-z0-9+.-]*://", uri)
        and not uri.startswith("file:")
    ):
        return None
    path = Path(re.sub(r"^file:(//)?", "", uri).split("#", 1)[0])
    if not path.is_absolute():
        path = Path(document.file).resolve().parent / path
    return path


def resolve_definitions(document: LoadedDocument, report: Report) -> Definitions:
    data = document.data
    found: dict[str, dict[str, dict[str, Any]] | None] = {}
    pointers: dict[tuple[str, str], str] = {}
    for kind in ("functions", "events", "retries", "errors"):
        value = data.get(kind, [])
        items: list[Any] | None = value if isinstance(value, list) else None
        inline = items is not None
        if isinstance(value, str):
            items = _external(document, report, kind, value)
        if items is None:
            found[kind] = None
            continue
        named: dict[str, dict[str, Any]] = {}
        for index, item in enumerate(items):
            if not isinstance(item, dict) or not isinstance(item.get("name"), str):
                continue
            pointer = pointer_join(pointer_join("", kind), index) if inline else ""
            if item["name"] in named and inline:
                report.error(
                    "SW08-E024",
                    f"{kind[:-1]} {quote(item['name'])} is defined twice",
                    pointer_join(pointer, "name"),
                )
            named[item["name"]] = item
            pointers[(kind, item["name"])] = pointer
        found[kind] = named
    return Definitions(
        found["functions"], found["events"], found["retries"], found["errors"], pointers
    )


def _external(
    document: LoadedDocument, report: Report, kind: str, uri: str
) -> list[Any] | None:
    pointer = pointer_join("", kind)
    path = resource_path(document, uri)
    if path is None or not path.is_file():
        report.warning(
            "SW08-W002",
            f"{kind} file {quote(uri)} cannot be read; references to {kind} are not checked",
            pointer,
            hint="put the file next to the definition, or define the list inline",
        )
        return None
    try:
        loaded = load_file(path).data
    except Exception as error:  # noqa: BLE001 - any unreadable file is one warning
        report.warning(
            "SW08-W002", f"{kind} file {quote(uri)} cannot be loaded: {error}", pointer
        )
        return None
    items = loaded.get(kind) if isinstance(loaded, dict) else loaded
    return items if isinstance(items, list) else None


def transitions_of(state: Mapping[str, Any], pointer: str) -> Iterator[tuple[str, str]]:
    """(target state, pointer of the transition) of every normal transition of a state."""

    def target(value: Any, where: str) -> Iterator[tuple[str, str]]:
        if isinstance(value, str):
            yield value, where
        elif isinstance(value, dict) and isinstance(value.get("nextState"), str):
            yield value["nextState"], pointer_join(where, "nextState")

    yield from target(state.get("transition"), pointer_join(pointer, "transition"))
    for key in ("dataConditions", "eventConditions"):
        for index, condition in enumerate(state.get(key) or []):
            if isinstance(condition, dict):
                yield from target(
                    condition.get("transition"),
                    join_all(pointer, (key, index, "transition")),
                )
    default = state.get("defaultCondition")
    if isinstance(default, dict):
        yield from target(
            default.get("transition"),
            join_all(pointer, ("defaultCondition", "transition")),
        )
    for index, handler in enumerate(state.get("onErrors") or []):
        if isinstance(handler, dict):
            yield from target(
                handler.get("transition"),
                join_all(pointer, ("onErrors", index, "transition")),
            )


def workflow_run_before(data: Mapping[str, Any]) -> str | None:
    """The state that runs when the workflow's execution timeout expires, if any."""
    timeouts = data.get("timeouts")
    limit = timeouts.get("workflowExecTimeout") if isinstance(timeouts, dict) else None
    value = limit.get("runBefore") if isinstance(limit, dict) else None
    return value if isinstance(value, str) else None


def start_state(data: Mapping[str, Any]) -> str | None:
    """The start state's name: ``start`` (string or ``stateName``), else the first state."""
    start = data.get("start")
    if isinstance(start, str):
        return start
    if isinstance(start, dict) and isinstance(start.get("stateName"), str):
        return start["stateName"]
    states = data.get("states")
    if (
        isinstance(states, list)
        and states
        and isinstance(states[0], dict)
        and isinstance(states[0].get("name"), str)
    ):
        return str(states[0]["name"])
    return None
