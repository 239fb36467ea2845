"""Amazon States Language fields as IR expressions: the ``jsonpath`` and ``jsonata`` languages.

The ASL compiler (``declarative_wf.formats.asl``) turns every field that computes something
into an :class:`~declarative_wf.ir.Expr` whose language is the state's query language and
whose value is an *operation*: a JSON object ``{"op": ..., ...}`` this module evaluates. A plain
string value is a reference path (``jsonpath``) or a JSONata expression (``jsonata``).

What an operation reads (see :class:`~declarative_wf.expressions.evaluate.Scope`):

* ``$`` (JSONPath) is ``scope.data`` unless the operation names another ``root`` from
  ``scope.step`` (``input``, ``effective``, ``result``, ``error``...), so one field can see the
  state input while another sees the task result, as ASL prescribes;
* ``$$`` is ``scope.context`` (the ASL context object, built by the ASL format profile);
* ``$name`` is a variable; ``$states`` (JSONata) is built from ``scope.step`` and the context.

Failures raise :class:`~declarative_wf.expressions.evaluate.ExpressionError` whose
``error_type`` is the ASL error name (``States.Runtime``, ``States.QueryEvaluationError``,
``States.IntrinsicFailure``) and whose message is AWS's cause text without the "An error
occurred while executing the state ..." prefix (the ASL profile adds it).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from declarative_wf.ir import Expr

from . import jsonata_eval
from .asl_intrinsics import IntrinsicSyntaxError, parse_intrinsic
from .asl_intrinsics import evaluate as evaluate_intrinsic
from .asl_paths import AslRuntimeError, PathNotFound, PathSyntaxError, compile_path, json_text, json_type, resolve_path
from .evaluate import ExpressionError, Scope, register_language

__all__ = [
    "QUERY_EVALUATION_ERROR", "RUNTIME", "AslEvalError", "jsonata_source", "parse_timestamp",
    "is_jsonata_template", "string_matches",
]  # fmt: skip

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


# --------------------------------------------------------------------------- evaluation state


class _Eval:
    """One evaluation: the scope and the query language."""

    def __init__(self, scope: Scope, language: str) -> None:
        self.scope = scope
        self.language = language

    # -- roots ------------------------------------------------------------------------------

    def root(self, spec: Mapping[str, Any]) -> Any:
        name = spec.get("root", "data")
        value = self.scope.data if name == "data" else self.scope.step.get(name, self.scope.data)
        shape = spec.get("shape")
        if shape and name in ("data", "result"):
            return shape_result(shape, value)
        return value

    @property
    def context(self) -> Any:
        return self.scope.context

    def variables(self, spec: Mapping[str, Any]) -> Mapping[str, Any]:
        if spec.get("vars") == "prior":
            prior = self.scope.step.get("prior_variables")
            if prior is not None:
                return prior
        return self.scope.variables

    # -- JSONPath ---------------------------------------------------------------------------

    def path(self, path: str, document: Any, variables: Mapping[str, Any]) -> Any:
        try:
            return resolve_path(path, document, self.context, variables)
        except AslRuntimeError as error:
            raise AslEvalError(error.error, error.cause) from None
        except PathSyntaxError as error:
            raise AslEvalError(RUNTIME, f"Invalid path '{path}': {error.message}") from None

    def reference(self, text: str, field: str, document: Any, variables: Mapping[str, Any]) -> Any:
        """The value of a ``key.$`` field: a path or an intrinsic function call."""
        if text.startswith("$"):
            try:
                return resolve_path(text, document, self.context, variables)
            except PathNotFound as error:
                if error.document is None:  # an undefined variable
                    raise AslEvalError(RUNTIME, error.cause) from None
                start = self.context if text.startswith("$$") else error.document
                cause = (
                    f"The JSONPath '{text}' specified for the field '{field}' "
                    f"could not be found in the input '{json_text(start)}'"
                )
                raise AslEvalError(RUNTIME, cause) from None
            except PathSyntaxError as error:
                raise AslEvalError(RUNTIME, f"Invalid path '{text}': {error.message}") from None
        try:
            call = parse_intrinsic(text)
        except IntrinsicSyntaxError as error:
            raise AslEvalError(INTRINSIC_FAILURE, f"Invalid intrinsic function '{text}': {error.message}") from None
        try:
            return evaluate_intrinsic(
                call, input=document, context=self.context, variables=variables, random_source=self._random()
            )
        except AslRuntimeError as error:
            raise AslEvalError(error.error, error.cause) from None

    def _random(self) -> Any:
        source = self.scope.random
        if source is None:
            raise AslEvalError(INTRINSIC_FAILURE, "no orchestration entropy is available to draw random values")
        return source

    def payload(self, template: Any, document: Any, variables: Mapping[str, Any]) -> Any:
        """A payload template: ``key.$`` entries are evaluated, everything else is literal."""
        if isinstance(template, dict):
            out: dict[str, Any] = {}
            for key, value in template.items():
                if key.endswith(".$") and isinstance(value, str):
                    out[key[:-2]] = self.reference(value, key, document, variables)
                else:
                    out[key] = self.payload(value, document, variables)
            return out
        if isinstance(template, list):
            return [self.payload(item, document, variables) for item in template]
        return template

    # -- JSONata ----------------------------------------------------------------------------

    def states(self, spec: Mapping[str, Any]) -> dict[str, Any]:
        step = self.scope.step
        states: dict[str, Any] = {"input": step.get("input", self.scope.data), "context": self.context}
        if "result" in step and spec.get("result", True):
            states["result"] = shape_result(spec["shape"], step["result"]) if spec.get("shape") else step["result"]
        if "error" in step:
            error = step["error"]
            states["errorOutput"] = error_output(error) if isinstance(error, Mapping) else error
        return states

    def jsonata(self, text: str, field: str, spec: Mapping[str, Any], *, allow_undefined: bool = False) -> Any:
        variables = {name: value for name, value in self.variables(spec).items() if not name.startswith("__")}
        variables["states"] = self.states(spec)
        try:
            value = jsonata_eval.evaluate(text, variables, random=self.scope.random, now=self.scope.now)
        except jsonata_eval.JsonataSyntaxError as error:
            raise AslEvalError(
                QUERY_EVALUATION_ERROR,
                f"The JSONata expression '{text}' specified for the field '{field}' could not be parsed: {error.message}",
            ) from None
        except jsonata_eval.JsonataError as error:
            raise AslEvalError(
                QUERY_EVALUATION_ERROR,
                f"The JSONata expression '{text}' specified for the field '{field}' "
                f"threw an error during evaluation: {error.message}",
            ) from None
        if value is jsonata_eval.UNDEFINED and not allow_undefined:
            raise AslEvalError(
                QUERY_EVALUATION_ERROR,
                f"The JSONata expression '{text}' specified for the field '{field}' returned nothing (undefined).",
            )
        if value is jsonata_eval.unsupported:
            raise AslEvalError(
                QUERY_EVALUATION_ERROR,
                f"The JSONata expression '{text}' specified for the field '{field}' returned an unsupported result type.",
            )
        return value

    def template(self, template: Any, field: str, spec: Mapping[str, Any]) -> Any:
        """A JSONata-mode value: every ``{% %}`` string in it is evaluated."""
        if isinstance(template, str):
            if is_jsonata_template(template):
                return self.jsonata(jsonata_source(template), field, spec)
            return template
        if isinstance(template, dict):
            return {key: self.template(value, f"{field}/{key}", spec) for key, value in template.items()}
        if isinstance(template, list):
            return [self.template(item, f"{field}/{index}", spec) for index, item in enumerate(template)]
        return template

    def typed(self, spec: Mapping[str, Any], value: Any, expected: str) -> Any:
        """Checks the type of a JSONata field's value (``Items`` must be an array...)."""
        raw = spec.get("value")
        if not is_jsonata_template(raw):
            return value
        actual = json_type(value)
        if actual == expected:
            return value
        text = jsonata_source(str(raw))
        raise AslEvalError(
            QUERY_EVALUATION_ERROR,
            f"The JSONata expression '{text}' specified for the field '{spec.get('field')}' returned an unexpected "
            f"result type. Expected '{expected}', but was '{actual}' for value: {json_text(value)}",
        )

    # -- a value in the state's query language ------------------------------------------------

    def value(self, spec: Mapping[str, Any]) -> Any:
        """``{"value": <field value>, "field": name}``: JSONPath ``…Path`` fields give a path in
        ``path``; JSONata fields may hold ``{% %}``; otherwise a literal."""
        if "path" in spec:
            return self.path(spec["path"], self.root(spec), self.variables(spec))
        raw = spec.get("value")
        if self.language == "jsonata":
            return self.template(raw, spec.get("field", "?"), spec)
        return raw


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


# --------------------------------------------------------------------------- operations


def _op_path(ev: _Eval, spec: Mapping[str, Any]) -> Any:
    return ev.path(spec["path"], ev.root(spec), ev.variables(spec))


def _op_payload(ev: _Eval, spec: Mapping[str, Any]) -> Any:
    value = ev.payload(spec["template"], ev.root(spec), ev.variables(spec))
    if spec.get("unwrap") and isinstance(value, Mapping):
        return value.get(spec["unwrap"])
    return value


def _op_http_request(ev: _Eval, spec: Mapping[str, Any]) -> Any:
    """``http:invoke`` Parameters → the built-in ``http`` activity's request."""
    from .evaluate import evaluate

    inner = spec["parameters"]
    parameters = evaluate(Expr(inner["lang"], inner["value"]), ev.scope)
    if not isinstance(parameters, Mapping):
        raise AslEvalError(RUNTIME, f"the parameters of an HTTP Task must be an object, got {json_text(parameters)}")
    request: dict[str, Any] = {
        "method": str(parameters.get("Method", "GET")),
        "url": parameters.get("ApiEndpoint"),
        "raise_for_status": True,
    }
    if parameters.get("Headers"):
        request["headers"] = parameters["Headers"]
    if parameters.get("QueryParameters"):
        request["query"] = parameters["QueryParameters"]
    if "RequestBody" in parameters:
        body = parameters["RequestBody"]
        transform = parameters.get("Transform") or {}
        if transform.get("RequestBodyEncoding") == "URL_ENCODED" and isinstance(body, Mapping):
            request["form"] = body
        else:
            request["body"] = body
    return request


def _op_reference(ev: _Eval, spec: Mapping[str, Any]) -> Any:
    return ev.reference(spec["expr"], spec.get("field", "?"), ev.root(spec), ev.variables(spec))


def _op_template(ev: _Eval, spec: Mapping[str, Any]) -> Any:
    return ev.template(spec["template"], spec.get("field", "?"), spec)


def _op_root(ev: _Eval, spec: Mapping[str, Any]) -> Any:
    return ev.root(spec)


def _op_error_output(ev: _Eval, spec: Mapping[str, Any]) -> Any:
    error = ev.scope.step.get("error", ev.scope.data)
    return error_output(error if isinstance(error, Mapping) else {})


def _op_condition(ev: _Eval, spec: Mapping[str, Any]) -> Any:
    """A JSONata Choice rule's ``Condition``: a boolean literal or ``{% %}`` giving one."""
    raw = spec["value"]
    if isinstance(raw, bool):
        return raw
    value = ev.template(raw, "Condition", spec)
    if not isinstance(value, bool):
        text = jsonata_source(raw) if is_jsonata_template(raw) else json_text(raw)
        raise AslEvalError(
            QUERY_EVALUATION_ERROR,
            f"The JSONata expression '{text}' specified for the field 'Condition' returned an unexpected result "
            f"type. Expected 'boolean', but was '{json_type(value)}' for value: {json_text(value)}",
        )
    return value


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


def _op_error_match(ev: _Eval, spec: Mapping[str, Any]) -> Any:
    error = ev.scope.data if isinstance(ev.scope.data, Mapping) else {}
    return error_matches(spec["names"], str(error.get("type") or ""))


def _op_wait_seconds(ev: _Eval, spec: Mapping[str, Any]) -> Any:
    value = ev.value(spec)
    if "path" in spec:
        shown = f"{spec['path']} == {_shown(value)}"
        if isinstance(value, bool) or not _is_number(value) or (isinstance(value, float) and not value.is_integer()):
            raise AslEvalError(RUNTIME, f"The SecondsPath parameter cannot be parsed as a long value: {shown}")
        if value < 0:
            raise AslEvalError(RUNTIME, f"The SecondsPath parameter references a negative value: {shown}")
        return int(value)
    if isinstance(value, bool) or not _is_number(value) or (isinstance(value, float) and not value.is_integer()):
        raise AslEvalError(
            QUERY_EVALUATION_ERROR if ev.language == "jsonata" else RUNTIME,
            f"The Seconds field must be a non-negative integer, but was: {json_text(value)}",
        )
    if value < 0:
        raise AslEvalError(
            QUERY_EVALUATION_ERROR if ev.language == "jsonata" else RUNTIME,
            f"The Seconds field references a negative value: {json_text(value)}",
        )
    return int(value)


def _op_wait_timestamp(ev: _Eval, spec: Mapping[str, Any]) -> Any:
    value = ev.value(spec)
    moment = parse_timestamp(value)
    if moment is None:
        if "path" in spec:
            raise AslEvalError(
                RUNTIME,
                "The TimestampPath parameter does not reference a valid ISO-8601 extended offset date-time "
                f"format string: {spec['path']} == {_shown(value)}",
            )
        raise AslEvalError(
            QUERY_EVALUATION_ERROR if ev.language == "jsonata" else RUNTIME,
            f"The Timestamp field cannot be parsed as an ISO-8601 extended offset date-time format string: {_shown(value)}",
        )
    return moment.isoformat()


def _op_items(ev: _Eval, spec: Mapping[str, Any]) -> Any:
    """The array a Map state iterates over (``ItemsPath`` / ``Items`` / the input)."""
    unsupported = spec.get("unsupported")
    if unsupported:
        error = "States.ItemReaderFailed" if unsupported == "ItemReader" else "States.ResultWriterFailed"
        raise AslEvalError(error, f"{unsupported} is not supported by this runtime (see docs/asl.md)")
    if "path" in spec or "value" in spec:
        value = ev.value(spec)
        if "value" in spec and ev.language == "jsonata":
            value = ev.typed(spec, value, "array")
    else:
        value = ev.root(spec)
    if not isinstance(value, list):
        raise AslEvalError(
            QUERY_EVALUATION_ERROR if ev.language == "jsonata" else RUNTIME,
            f"Map state input must be an array but was: {json_text(value)}",
        )
    batcher = spec.get("batcher")
    if batcher:
        value = _batches(ev, value, batcher)
    return value


def _batches(ev: _Eval, items: list[Any], batcher: Mapping[str, Any]) -> list[Any]:
    size = _limit(ev, batcher["max_items"], "MaxItemsPerBatch", minimum=1) if batcher.get("max_items") else None
    max_bytes = _limit(ev, batcher["max_bytes"], "MaxInputBytesPerBatch", minimum=1) if batcher.get("max_bytes") else None
    batch_input = ev.value(batcher["batch_input"]) if batcher.get("batch_input") else None
    batches: list[list[Any]] = []
    current: list[Any] = []
    used = 0
    for item in items:
        weight = len(json_text(item).encode())
        full = (size is not None and len(current) >= size) or (max_bytes is not None and current and used + weight > max_bytes)
        if full:
            batches.append(current)
            current, used = [], 0
        current.append(item)
        used += weight
    if current:
        batches.append(current)
    out = []
    for batch in batches:
        entry: dict[str, Any] = {"Items": batch}
        if batch_input is not None:
            entry["BatchInput"] = batch_input
        out.append(entry)
    return out


def _limit(ev: _Eval, spec: Mapping[str, Any], name: str, *, minimum: int = 0) -> int:
    """An integer setting from a literal, a ``…Path`` or ``{% %}``; AWS accepts integer
    strings ("1") too."""
    value = ev.value(spec)
    number: int | None = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        number = int(value)
    if number is None:
        if "path" in spec:
            raise AslEvalError(
                RUNTIME,
                f'The {name}Path field refers to value "{_shown(value)}" which is not a valid integer: {spec["path"]}',
            )
        raise AslEvalError(
            QUERY_EVALUATION_ERROR if ev.language == "jsonata" else RUNTIME,
            f"The {name} field must be an integer, but was: {json_text(value)}",
        )
    if number < minimum:
        raise AslEvalError(RUNTIME, f"{name} cannot be {'negative' if minimum == 0 else f'less than {minimum}'}.")
    return number


def _percentage(ev: _Eval, spec: Mapping[str, Any]) -> float:
    value = ev.value(spec)
    number: float | None = None
    if _is_number(value):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            number = None
    if number is None:
        if "path" in spec:
            raise AslEvalError(
                RUNTIME,
                f'The ToleratedFailurePercentagePath field refers to value "{_shown(value)}" which is not a valid '
                f"number: {spec['path']}",
            )
        raise AslEvalError(
            QUERY_EVALUATION_ERROR if ev.language == "jsonata" else RUNTIME,
            f"The ToleratedFailurePercentage field must be a number, but was: {json_text(value)}",
        )
    if not 0 <= number <= 100:
        raise AslEvalError(RUNTIME, "ToleratedFailurePercentage must be between 0 and 100.")
    return number


def _op_limits(ev: _Eval, spec: Mapping[str, Any]) -> Any:
    out: dict[str, Any] = {}
    if spec.get("max_concurrency"):
        concurrency = _limit(ev, spec["max_concurrency"], "MaxConcurrency")
        out["max_concurrency"] = concurrency or None  # 0 means "no limit"
    if spec.get("tolerated_failure_count"):
        out["tolerated_failure_count"] = _limit(ev, spec["tolerated_failure_count"], "ToleratedFailureCount")
    if spec.get("tolerated_failure_percent"):
        out["tolerated_failure_percent"] = _percentage(ev, spec["tolerated_failure_percent"])
    return out


def _op_timeout(ev: _Eval, spec: Mapping[str, Any]) -> Any:
    value = ev.value(spec)
    if isinstance(value, bool) or not _is_number(value) or value <= 0 or (isinstance(value, float) and not value.is_integer()):
        where = f"{spec['path']} == {_shown(value)}" if "path" in spec else json_text(value)
        raise AslEvalError(
            QUERY_EVALUATION_ERROR if ev.language == "jsonata" and "path" not in spec else RUNTIME,
            f"The {spec.get('field', 'TimeoutSeconds')} field must be a positive integer, but was: {where}",
        )
    return int(value)


def _op_fail_field(ev: _Eval, spec: Mapping[str, Any]) -> Any:
    """A Fail state's ``Error``/``Cause`` (literal), ``ErrorPath``/``CausePath`` (a path or an
    intrinsic), or a JSONata template; the result must be a string."""
    if "expr" in spec:
        value = ev.reference(spec["expr"], spec.get("field", "?"), ev.root(spec), ev.variables(spec))
    else:
        value = ev.value(spec)
    if value is None:
        return None
    if not isinstance(value, str):
        raise AslEvalError(
            RUNTIME if ev.language == "jsonpath" else QUERY_EVALUATION_ERROR,
            f"The {spec.get('field', 'Error')} field must be a string, but was: {json_text(value)}",
        )
    return value


# -- Choice rules (JSONPath) ------------------------------------------------------------------


_STRING_OPS = {
    "StringEquals": lambda a, b: a == b,
    "StringLessThan": lambda a, b: a < b,
    "StringGreaterThan": lambda a, b: a > b,
    "StringLessThanEquals": lambda a, b: a <= b,
    "StringGreaterThanEquals": lambda a, b: a >= b,
}
_NUMERIC_OPS = {
    "NumericEquals": lambda a, b: a == b,
    "NumericLessThan": lambda a, b: a < b,
    "NumericGreaterThan": lambda a, b: a > b,
    "NumericLessThanEquals": lambda a, b: a <= b,
    "NumericGreaterThanEquals": lambda a, b: a >= b,
}
_TIMESTAMP_OPS = {
    "TimestampEquals": lambda a, b: a == b,
    "TimestampLessThan": lambda a, b: a < b,
    "TimestampGreaterThan": lambda a, b: a > b,
    "TimestampLessThanEquals": lambda a, b: a <= b,
    "TimestampGreaterThanEquals": lambda a, b: a >= b,
}


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


def _rule(ev: _Eval, rule: Mapping[str, Any], document: Any, variables: Mapping[str, Any]) -> bool:
    if "and" in rule:
        return all(_rule(ev, item, document, variables) for item in rule["and"])
    if "or" in rule:
        return any(_rule(ev, item, document, variables) for item in rule["or"])
    if "not" in rule:
        return not _rule(ev, rule["not"], document, variables)
    try:
        variable = resolve_path(rule["variable"], document, ev.context, variables)
    except (AslRuntimeError, PathSyntaxError):
        variable = _MISSING
    operator = rule["operator"]
    operand = rule["operand"]
    if operator.endswith("Path"):
        operator = operator[: -len("Path")]
        if operator == "BooleanEquals":
            operand = ev.path(operand, document, variables)
            if not isinstance(operand, bool):
                raise AslEvalError(RUNTIME, f"Expected type bool, but got '{json_text(operand)}' from path '{rule['operand']}'.")
        else:
            operand = ev.path(operand, document, variables)
    return compare(operator, variable, operand)


def _op_choice(ev: _Eval, spec: Mapping[str, Any]) -> Any:
    return _rule(ev, spec["rule"], ev.root(spec), ev.variables(spec))


_OPERATIONS = {
    "path": _op_path,
    "payload": _op_payload,
    "http_request": _op_http_request,
    "reference": _op_reference,
    "template": _op_template,
    "root": _op_root,
    "error_output": _op_error_output,
    "error_match": _op_error_match,
    "condition": _op_condition,
    "choice": _op_choice,
    "wait_seconds": _op_wait_seconds,
    "wait_timestamp": _op_wait_timestamp,
    "items": _op_items,
    "limits": _op_limits,
    "timeout": _op_timeout,
    "fail_field": _op_fail_field,
    "value": lambda ev, spec: ev.value(spec),
}


def _evaluator(language: str) -> Any:
    def run(source: Any, scope: Scope) -> Any:
        ev = _Eval(scope, language)
        try:
            if isinstance(source, str):
                if language == "jsonpath":
                    return ev.path(source, scope.data, scope.variables)
                return ev.jsonata(source, "?", {})
            operation = _OPERATIONS.get(str(source.get("op"))) if isinstance(source, Mapping) else None
            if operation is None:
                raise AslEvalError(RUNTIME, f"not an ASL expression: {source!r}")
            return operation(ev, source)
        except AslEvalError as error:
            raise ExpressionError(error.cause, Expr(language, source), error.error) from None  # type: ignore[arg-type]
        except RecursionError:
            raise ExpressionError("the value is nested too deeply", Expr(language, source), RUNTIME) from None  # type: ignore[arg-type]

    return run


register_language("jsonpath", _evaluator("jsonpath"))
register_language("jsonata", _evaluator("jsonata"))


def check_path(path: str) -> str | None:
    """None when ``path`` is a valid reference path, else the problem."""
    try:
        compile_path(path)
    except PathSyntaxError as error:
        return error.message
    return None
