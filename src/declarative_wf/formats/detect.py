"""Which format a loaded document is written in: explicit rules, tried in order.

A document that matches no rule, or more than one, is an error: we never guess a format from
whichever keys happen to be present (the ambiguity that makes errors unreadable).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from declarative_wf.diagnostics import Diagnostic, DiagnosticError, quote
from declarative_wf.loading import LoadedDocument

__all__ = ["FORMAT_CODES", "FORMAT_NAMES", "RULES", "detect_format", "unavailable"]

FORMAT_CODES: dict[str, str] = {
    "FMT-E001": "the format of the document cannot be told (no detection rule matches)",
    "FMT-E002": "a known format whose support is not available yet",
    "FMT-E003": "the document matches the rules of more than one format",
    "FMT-E004": "internal error while compiling (a bug: please report it with the document)",
}

FORMAT_NAMES: dict[str, str] = {
    "dsl": "declarative_wf DSL",
    "asl": "Amazon States Language",
    "sw1": "Serverless Workflow 1.x",
    "sw08": "Serverless Workflow 0.8",
}


@dataclass(frozen=True)
class Rule:
    format: str
    description: str
    #: The pointer of the key that identifies the format, or None if the rule does not match.
    match: Callable[[dict[str, Any]], str | None]


def _sw1(data: dict[str, Any]) -> str | None:
    document = data.get("document")
    if isinstance(document, dict) and isinstance(document.get("dsl"), str) and document["dsl"].startswith("1."):
        return "/document/dsl"
    return None


RULES: tuple[Rule, ...] = (
    Rule("dsl", "a top-level 'dwf' key", lambda d: "/dwf" if "dwf" in d else None),
    Rule("asl", "top-level 'StartAt' and 'States'", lambda d: "/StartAt" if "StartAt" in d and "States" in d else None),
    Rule("sw1", "'document.dsl' starting with \"1.\"", _sw1),
    Rule("sw08", "'specVersion: \"0.8\"'", lambda d: "/specVersion" if str(d.get("specVersion")) == "0.8" else None),
)


def detect_format(document: LoadedDocument) -> str:
    """The format name ("dsl", "asl", "sw1", "sw08"); DiagnosticError if none or several match."""
    data = document.data
    if not isinstance(data, dict):
        raise DiagnosticError([document.diagnostic("FMT-E001", "cannot tell the format: a workflow definition is a mapping", "")])
    matches = [(rule, pointer) for rule in RULES if (pointer := rule.match(data)) is not None]
    if len(matches) == 1:
        return matches[0][0].format
    if matches:
        described = " and ".join(f"{FORMAT_NAMES[rule.format]} ({rule.description})" for rule, _ in matches)
        message = f"the document looks like more than one format: {described}"
        raise DiagnosticError([document.diagnostic("FMT-E003", message, matches[1][1], key=True, hint="keep the keys of one format only")])
    raise DiagnosticError([_unknown(document, data)])


def _unknown(document: LoadedDocument, data: dict[str, Any]) -> Diagnostic:
    if "States" in data or "StartAt" in data:
        missing = "StartAt" if "States" in data else "States"
        return document.diagnostic("FMT-E001", f"this looks like Amazon States Language but has no {quote(missing)}", "")
    document_key = data.get("document")
    if isinstance(document_key, dict) and "dsl" in document_key:
        version = document_key.get("dsl")
        message = f"Serverless Workflow {quote(str(version))} is not supported (1.x and 0.8 are)"
        return document.diagnostic("FMT-E001", message, "/document/dsl")
    if "specVersion" in data:
        message = f"Serverless Workflow specVersion {quote(str(data['specVersion']))} is not supported (0.8 and 1.x are)"
        return document.diagnostic("FMT-E001", message, "/specVersion")
    hint = "start a DSL workflow with 'dwf: 1'; ASL needs StartAt and States; Serverless Workflow needs document.dsl or specVersion"
    return document.diagnostic("FMT-E001", "cannot tell the format of this document", "", hint=hint)


def unavailable(document: LoadedDocument, format_name: str) -> Diagnostic:
    pointer = next((p for rule in RULES if rule.format == format_name and isinstance(document.data, dict) and (p := rule.match(document.data))), "")
    name = FORMAT_NAMES.get(format_name, format_name)
    return document.diagnostic("FMT-E002", f"this is a {name} definition: support for this format is not available yet", pointer, key=True)
