"""The operations an ASL field compiles to (``{"op": ...}``), one function each, and their table.

Each ``_op_*`` takes the evaluation (:class:`~.asl_eval_state._Eval`) and the operation's JSON
spec and returns the field's value: paths and payloads, Wait durations, Map items and limits,
timeouts, Fail fields, Catch matching and Choice rules.  :data:`_OPERATIONS` maps the ``op``
name to its function; ``asl_eval`` dispatches through it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from declarative_wf.ir import Expr

from .asl_eval_state import _Eval
from .asl_paths import (
    AslRuntimeError,
    PathSyntaxError,
    json_text,
    json_type,
    resolve_path,
)
from .asl_semantics import (
    _MISSING,
    QUERY_EVALUATION_ERROR,
    RUNTIME,
    AslEvalError,
    _is_number,
    _shown,
    compare,
    error_matches,
    error_output,
    is_jsonata_template,
    jsonata_source,
    parse_timestamp,
)  # fmt: skip


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
