"""One evaluation of an ASL field: its scope, its query language, and how each language reads.

:class:`_Eval` knows the roots an operation may read (``$``, ``$$``, variables), evaluates
JSONPath reference paths, ``key.$`` payload templates and intrinsic functions, and JSONata
expressions and ``{% %}`` templates, turning every failure into an :class:`AslEvalError`
with AWS's error name and cause.  The operations built on it are in ``asl_operations``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from . import jsonata_eval
from .asl_intrinsics import IntrinsicSyntaxError, parse_intrinsic
from .asl_intrinsics import evaluate as evaluate_intrinsic
from .asl_paths import (
    AslRuntimeError,
    PathNotFound,
    PathSyntaxError,
    json_text,
    json_type,
    resolve_path,
)
from .asl_semantics import (
    INTRINSIC_FAILURE,
    QUERY_EVALUATION_ERROR,
    RUNTIME,
    AslEvalError,
    error_output,
    is_jsonata_template,
    jsonata_source,
    shape_result,
)  # fmt: skip
from .evaluate import Scope


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
