"""ASL validation, the checks of one field: paths, intrinsic functions, payloads, JSONata, Assign.

:class:`_FieldChecks` is the part of the validator that looks at a single value wherever it
appears (a state, a Choice rule, a catcher): reference paths and ``ResultPath``, ``key.$``
payload templates and the literal arguments of intrinsic functions, ``{% %}`` JSONata
expressions, ``Assign`` variable names, and fields of the other query language.
:class:`.validate._Validator` builds on it with the checks of machines and state types.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from declarative_wf.diagnostics import quote
from declarative_wf.expressions.asl_eval import jsonata_source
from declarative_wf.expressions.asl_intrinsics import (
    IntrinsicCall,
    IntrinsicSyntaxError,
    Literal,
    PathReference,
    StringLiteral,
    parse_intrinsic,
)
from declarative_wf.expressions.asl_paths import PathKind, PathSyntaxError, compile_path
from declarative_wf.expressions.jsonata_eval import JsonataSyntaxError, compile_jsonata
from declarative_wf.loading import pointer_join

from .compile_fields import JSONATA, JSONPATH, result_path
from .schema import _Report

#: Fields that only JSONPath states have, and only JSONata states.
_JSONPATH_FIELDS = (
    "InputPath", "OutputPath", "Parameters", "ResultSelector", "ResultPath", "ItemsPath", "SecondsPath",
    "TimestampPath", "ErrorPath", "CausePath", "TimeoutSecondsPath", "HeartbeatSecondsPath", "MaxConcurrencyPath",
    "ToleratedFailurePercentagePath", "ToleratedFailureCountPath",
)  # fmt: skip
_JSONATA_FIELDS = ("Arguments", "Output", "Items")


_WELL_FORMED = re.compile(r"\A\{% .+ %\}\Z")
_VARIABLE_NAME = re.compile(r"\A[^\s.$\[\]{}()'\"`,;:*?/\\]+\Z")
_LAMBDA = re.compile(r"\Aarn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::(.*))?\Z")
_QUALIFIER = re.compile(r"\A(\$LATEST|[A-Za-z0-9_-]+)\Z")
_SUBSTITUTION = re.compile(r"\A\$\{[A-Za-z0-9_.:-]+\}\Z")
_PLAIN_NAME = re.compile(r"\A[A-Za-z0-9_.+-]+\Z")


def _resource_problem(resource: str) -> str | None:
    if match := _LAMBDA.match(resource):
        qualifier = match.group(2)
        if qualifier is not None and not _QUALIFIER.match(qualifier):
            return f"the Lambda function version or alias {quote(qualifier)} is not valid (letters, digits, - and _, or $LATEST)"
        return None
    if resource.startswith("arn:"):
        return None if len(resource.split(":")) >= 6 else f"{quote(resource)} is not a valid ARN"
    if "${" in resource:
        return None if _SUBSTITUTION.match(resource) else f"{quote(resource)} is not a valid ${{...}} substitution"
    if _PLAIN_NAME.match(resource):
        return None
    return f"Resource {quote(resource)} is neither an ARN nor an activity name"


#: What a literal argument of an intrinsic function must be: n number, s string, b boolean,
#: * anything; an argument that is a path or a nested call is only checked at run time.
_ARGUMENTS: dict[str, str] = {
    "States.MathAdd": "nn", "States.MathRandom": "nnn", "States.ArrayRange": "nnn", "States.ArrayPartition": "*n",
    "States.ArrayGetItem": "*n", "States.StringSplit": "ss", "States.Base64Encode": "s", "States.Base64Decode": "s",
    "States.Hash": "*s", "States.JsonMerge": "**b", "States.StringToJson": "s", "States.Format": "s",
}  # fmt: skip
_KIND_NAMES = {"n": "a number", "s": "a string", "b": "true or false"}


def _argument_problems(call: IntrinsicCall) -> Iterator[str]:
    kinds = _ARGUMENTS.get(call.name, "")
    for index, argument in enumerate(call.args):
        if isinstance(argument, IntrinsicCall):
            yield from _argument_problems(argument)
            continue
        if isinstance(argument, PathReference) or index >= len(kinds) or kinds[index] == "*":
            continue
        wanted = kinds[index]
        if isinstance(argument, StringLiteral):
            ok = wanted == "s"
        elif isinstance(argument, Literal):
            value = argument.value
            ok = (wanted == "n" and isinstance(value, (int, float)) and not isinstance(value, bool)) or (wanted == "b" and isinstance(value, bool))
        else:
            ok = True
        if not ok:
            yield f"argument {index + 1} of {call.name} must be {_KIND_NAMES[wanted]}"


@dataclass
class _FieldChecks:
    """Checks of single values; every problem goes to ``report``."""

    report: _Report

    def language_fields(self, state: Mapping[str, Any], pointer: str, language: str, kind: str) -> None:
        if language == JSONATA:
            for key in _JSONPATH_FIELDS:
                if key in state:
                    self.report.error(
                        "ASL-E020", f"{key} is a JSONPath field; this state uses JSONata (use Arguments, Output or {{% %}})",
                        pointer_join(pointer, key), key=True,
                    )  # fmt: skip
        else:
            for key in _JSONATA_FIELDS:
                if key in state:
                    self.report.error(
                        "ASL-E020", f"{key} is a JSONata field; set \"QueryLanguage\": \"JSONata\" to use it",
                        pointer_join(pointer, key), key=True,
                    )  # fmt: skip

    # -- JSONPath -------------------------------------------------------------------------------

    def path(self, value: Any, pointer: str, what: str, *, kinds: tuple[PathKind, ...] = (PathKind.INPUT, PathKind.CONTEXT, PathKind.VARIABLE)) -> None:
        if not isinstance(value, str):
            return
        try:
            compiled = compile_path(value)
        except PathSyntaxError as error:
            self.report.error("ASL-E030", f"{what} {quote(value)} is not a valid path: {error.message}", pointer)
            return
        if compiled.kind not in kinds:
            allowed = {PathKind.INPUT: "$", PathKind.CONTEXT: "$$", PathKind.VARIABLE: "$variable"}
            self.report.error("ASL-E030", f"{what} {quote(value)} must start with {' or '.join(allowed[k] for k in kinds)}", pointer)

    def jsonpath_fields(self, state: Mapping[str, Any], pointer: str, kind: str) -> None:
        for key in ("InputPath", "OutputPath", "ItemsPath", "SecondsPath", "TimestampPath", "TimeoutSecondsPath",
                    "HeartbeatSecondsPath", "MaxConcurrencyPath", "ToleratedFailurePercentagePath", "ToleratedFailureCountPath"):  # fmt: skip
            if key in state:
                self.path(state[key], pointer_join(pointer, key), key)
        if "ResultPath" in state:
            self.result_path(state["ResultPath"], pointer_join(pointer, "ResultPath"))
        for key in ("ErrorPath", "CausePath"):
            if key in state:
                self.reference(state[key], pointer_join(pointer, key), key)
        for key in ("Parameters", "ResultSelector", "ItemSelector", "Credentials"):
            if key in state:
                self.payload(state[key], pointer_join(pointer, key))

    def result_path(self, value: Any, pointer: str) -> None:
        if not isinstance(value, str):
            return
        try:
            result_path(value)
        except PathSyntaxError as error:
            self.report.error("ASL-E031", f"ResultPath {quote(value)} is not a valid path: {error.message}", pointer)
        except ValueError as error:
            self.report.error("ASL-E031", f"ResultPath {quote(value)} is not valid: {error}", pointer)

    def reference(self, value: Any, pointer: str, what: str) -> None:
        """A path or an intrinsic function call (a ``key.$`` value, ErrorPath, CausePath)."""
        if not isinstance(value, str):
            self.report.error("ASL-E032", f"{what} must be a string holding a path or an intrinsic function", pointer)
            return
        if value.startswith("$"):
            self.path(value, pointer, what)
            return
        try:
            call = parse_intrinsic(value)
        except IntrinsicSyntaxError as error:
            if not value.startswith("States."):
                message = f"{what} {quote(value)} is neither a path (starting with $) nor an intrinsic function"
            else:
                message = f"{what}: {error.message} in {quote(value)}"
            self.report.error("ASL-E032", message, pointer)
            return
        for problem in _argument_problems(call):
            self.report.error("ASL-E032", f"{what}: {problem}", pointer)

    def payload(self, template: Any, pointer: str) -> None:
        if isinstance(template, dict):
            plain: dict[str, str] = {}
            for key, value in template.items():
                here = pointer_join(pointer, key)
                name = key[:-2] if key.endswith(".$") else key
                if name in plain:
                    self.report.error(
                        "ASL-E033", f"the field {quote(name)} is given twice ({quote(plain[name])} and {quote(key)})", here, key=True,
                    )  # fmt: skip
                plain[name] = key
                if key.endswith(".$"):
                    self.reference(value, here, quote(key))
                else:
                    self.payload(value, here)
        elif isinstance(template, list):
            for index, item in enumerate(template):
                self.payload(item, pointer_join(pointer, index))

    # -- JSONata --------------------------------------------------------------------------------

    def jsonata_fields(self, state: Mapping[str, Any], pointer: str, kind: str) -> None:
        for key in ("Output", "Arguments", "Items", "ItemSelector", "Seconds", "Timestamp", "Error", "Cause",
                    "TimeoutSeconds", "HeartbeatSeconds", "MaxConcurrency", "ToleratedFailurePercentage", "ToleratedFailureCount"):  # fmt: skip
            if key in state:
                self.jsonata(state[key], pointer_join(pointer, key))
        batcher = state.get("ItemBatcher")
        if isinstance(batcher, dict):
            self.jsonata(batcher, pointer_join(pointer, "ItemBatcher"))

    def jsonata(self, value: Any, pointer: str) -> None:
        """Every string of a JSONata-mode value: {% %} well formed, and the expression parses."""
        if isinstance(value, dict):
            for key, item in value.items():
                self.jsonata(item, pointer_join(pointer, key))
            return
        if isinstance(value, list):
            for index, item in enumerate(value):
                self.jsonata(item, pointer_join(pointer, index))
            return
        if not isinstance(value, str):
            return
        opens, closes = value.startswith("{%"), value.endswith("%}")
        if not (opens or closes):
            return
        if not (opens and closes and _WELL_FORMED.match(value)):
            self.report.error(
                "ASL-E022", f"{quote(value[:60])} is not a JSONata expression: write {{% expression %}} on one line, "
                "with one space inside each brace", pointer,
            )  # fmt: skip
            return
        source = jsonata_source(value)
        try:
            compile_jsonata(source)
        except JsonataSyntaxError as error:
            self.report.error("ASL-E023", f"the JSONata expression {quote(source[:80])} does not parse: {error.message}", pointer)

    def assign(self, assignments: Any, pointer: str, language: str) -> None:
        if not isinstance(assignments, dict):
            if assignments is not None:
                self.report.error("ASL-E034", "Assign must be an object of variable names to values", pointer)
            return
        for key in assignments:
            name = key[:-2] if key.endswith(".$") and language == JSONPATH else key
            if not name or name == "states" or not _VARIABLE_NAME.match(name):
                self.report.error("ASL-E034", f"{quote(key)} is not a valid variable name", pointer_join(pointer, key), key=True)
        if language == JSONPATH:
            self.payload(assignments, pointer)
        else:
            self.jsonata(assignments, pointer)
