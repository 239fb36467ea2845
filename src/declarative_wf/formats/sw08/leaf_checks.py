"""Serverless Workflow 0.8 validation, the checks of single values wherever they appear.

References to ``functions`` / ``events`` / ``retries`` / ``errors`` definitions (with a
suggestion for a near miss), jq expressions (``${ }``, ``fn:`` calls inlined), templates,
``stateDataFilter``-style filters and ISO 8601 durations.  :class:`.validate._Checker` builds
on :class:`_LeafChecks` with the checks of the graph, the states and the workflow level.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from declarative_wf.diagnostics import quote, suggest
from declarative_wf.expressions.jq_eval import check_jq
from declarative_wf.loading import LoadedDocument, pointer_join

from .definitions import (
    EMBEDDED_EXPRESSION,
    FUNCTION_CALL,
    WHOLE_EXPRESSION,
    Definitions,
    fix_duration,
    parse_duration,
)
from .schema import Report


@dataclass
class _LeafChecks:
    document: LoadedDocument
    report: Report
    defs: Definitions

    def ref(
        self, kind: str, name: str, pointer: str, direction: str | None = None
    ) -> None:
        known = getattr(self.defs, kind)
        if known is None:
            return  # read from a file we could not read: warned once already
        code = {
            "functions": "SW08-E020",
            "events": "SW08-E021",
            "retries": "SW08-E022",
            "errors": "SW08-E023",
        }[kind]
        if name not in known:
            if (
                not known
                and kind in ("functions", "events")
                and kind not in self.document.data
            ):
                # A fragment that relies on shared definitions: runnable (the function is the
                # activity of that name, the event the type of that name), so only a warning.
                meaning = (
                    f"runs the activity {quote(name)}"
                    if kind == "functions"
                    else f"waits for / emits events of type {quote(name)}"
                )
                self.report.warning(
                    "SW08-W005",
                    f"{quote(name)} is not defined (the workflow has no '{kind}'); it {meaning}",
                    pointer,
                )
                return
            if kind in ("functions", "events"):
                # The specification's own examples have such slips (15, 20, 23-2, 28): the
                # definition still runs every path that does not reach this reference.
                self.report.warning(
                    "SW08-W007", f"{quote(name)} is not a defined {kind[:-1]}: reaching it fails with UndefinedReference",
                    pointer, hint=suggest(name, known) or f"add it to '{kind}'",
                )  # fmt: skip
                return
            self.report.error(
                code,
                f"{quote(name)} is not a defined {kind[:-1]}",
                pointer,
                hint=suggest(name, known) or f"add it to '{kind}'",
            )
            return
        if direction is not None and kind == "events":
            declared = known[name].get("kind", "consumed")
            if declared != direction:
                self.report.warning(
                    "SW08-W003",
                    f"event {quote(name)} is declared kind {declared!r} but used as {direction}",
                    pointer,
                )

    def filters(self, filters: Any, pointer: str) -> None:
        if not isinstance(filters, dict):
            return
        for key, value in filters.items():
            if isinstance(value, str):
                self.expression(value, pointer_join(pointer, key))

    def expression(self, text: str, pointer: str, *, bare: bool = False) -> None:
        match = WHOLE_EXPRESSION.match(text)
        program = match.group("body") if match else text
        if not match and not bare and "${" in text:
            program = "\n".join(EMBEDDED_EXPRESSION.findall(text)) or text
        program = self.inline_functions(program, pointer)
        problem = check_jq(program)
        if problem is not None:
            self.report.error(
                "SW08-E030", f"the jq expression does not compile: {problem}", pointer
            )

    def inline_functions(self, program: str, pointer: str) -> str:
        def replace(match: re.Match[str]) -> str:
            function = (self.defs.functions or {}).get(match.group(1))
            if self.defs.functions is not None and function is None:
                self.report.error(
                    "SW08-E020",
                    f"{quote('fn:' + match.group(1))} is not a defined function",
                    pointer,
                )
            elif function is not None and function.get("type") != "expression":
                self.report.error(
                    "SW08-E020",
                    f"fn:{match.group(1)} is a {function.get('type', 'rest')} function; expressions can only call functions of type expression",
                    pointer,
                )
            return "null"

        return FUNCTION_CALL.sub(replace, program)

    def template(self, value: Any, pointer: str) -> None:
        if isinstance(value, str):
            if "${" in value:
                self.expression(value, pointer)
        elif isinstance(value, dict):
            for key, item in value.items():
                self.template(item, pointer_join(pointer, key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.template(item, pointer_join(pointer, index))

    def duration(self, text: Any, pointer: str) -> None:
        if isinstance(text, str) and WHOLE_EXPRESSION.match(text):
            return
        fixed = fix_duration(text) if isinstance(text, str) else None
        if parse_duration(text) is None:
            self.report.error(
                "SW08-E031",
                f"{quote(str(text))} is not an ISO 8601 duration",
                pointer,
                hint="write e.g. PT30S, PT5M, P1D",
            )
        elif fixed is not None:
            self.report.warning(
                "SW08-W004", f"{quote(str(text))} is not ISO 8601 (days and weeks go before the T); read as {quote(fixed)}",
                pointer, hint=f"write {fixed}",
            )  # fmt: skip
