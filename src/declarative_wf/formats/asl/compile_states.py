"""ASL → IR for the states without activities or nested blocks: Pass, Choice, Wait, Succeed, Fail.

Task, Parallel and Map (which run activities or compile nested blocks) are in :mod:`.compile`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from declarative_wf.expressions.asl_eval import is_jsonata_template, jsonata_source
from declarative_wf.ir import (
    ChoiceCase,
    ChoiceNode,
    Expr,
    FailNode,
    Node,
    SetNode,
    SucceedNode,
    WaitNode,
)
from declarative_wf.loading import pointer_join

from .compile_fields import (
    COMPARISON_OPERATORS,
    JSONATA,
    JSONPATH,
    _FieldCompiler,
    _has_jsonata,
    _ja,
    _jp,
    _name,
    rule_text,
)  # fmt: skip


class _SimpleStates(_FieldCompiler):
    """One method per state type; ``base`` holds the node fields every state has (id, label...)."""

    def pass_state(self, state: dict[str, Any], pointer: str, language: str, base: dict[str, Any], ids: Mapping[str, str]) -> Node:
        if language == JSONATA:
            return SetNode(**base, assign=self.assign(state.get("Assign"), language, "data"), output=self.output(state, language))
        if "Result" in state:
            value: Expr | None = Expr.literal(state["Result"])
        elif "Parameters" in state:
            value = self.payload(state["Parameters"], "Parameters")
        else:
            value = None
        return SetNode(
            **base,
            input=self.input_path(state, language),
            value=value,
            merge=self.merge(state, pointer, language),
            assign=self.assign(state.get("Assign"), language, "data"),
            output=self.output_path(state),
        )
    def choice_state(self, state: dict[str, Any], pointer: str, language: str, base: dict[str, Any], ids: Mapping[str, str]) -> Node:
        cases = []
        for index, rule in enumerate(state.get("Choices") or []):
            if not isinstance(rule, dict):
                continue
            target = ids.get(_name(rule.get("Next")) or "")
            rule_pointer = pointer_join(pointer_join(pointer, "Choices"), index)
            if language == JSONATA:
                raw = rule.get("Condition", False)
                text = jsonata_source(raw) if is_jsonata_template(raw) else json.dumps(raw)
                condition = _ja({"op": "condition", "value": raw, "text": text})
                output = self.jsonata(rule["Output"], "Output", vars_="prior") if "Output" in rule else None
            else:
                compiled = self.rule(rule, rule_pointer)
                condition = _jp({"op": "choice", "rule": compiled, "text": rule_text(compiled)})
                output = None
            cases.append(ChoiceCase(condition, target, output=output, assign=self.assign(rule.get("Assign"), language, "effective")))
        default = state.get("Default")
        base = {**base, "next": ids.get(default) if isinstance(default, str) else None}
        return ChoiceNode(
            **base,
            input=self.input_path(state, language),
            output=self.output_path(state) if language == JSONPATH else None,
            cases=tuple(cases),
            no_default_is_error="Default" not in state,
            default_output=self.jsonata(state["Output"], "Output", vars_="prior") if language == JSONATA and "Output" in state else None,
            default_assign=self.assign(state.get("Assign"), language, "effective"),
        )

    def rule(self, rule: Mapping[str, Any], pointer: str) -> dict[str, Any]:
        """A JSONPath Choice rule as the operation tree ``asl_eval`` evaluates."""
        if "And" in rule:
            return {"and": [self.rule(item, pointer_join(pointer_join(pointer, "And"), i)) for i, item in enumerate(rule["And"] or []) if isinstance(item, dict)]}
        if "Or" in rule:
            return {"or": [self.rule(item, pointer_join(pointer_join(pointer, "Or"), i)) for i, item in enumerate(rule["Or"] or []) if isinstance(item, dict)]}
        if "Not" in rule:
            inner = rule["Not"] if isinstance(rule["Not"], dict) else {}
            return {"not": self.rule(inner, pointer_join(pointer, "Not"))}
        operator = next((key for key in rule if key in COMPARISON_OPERATORS), None)
        if operator is None:
            self.error("ASL-E050", "a Choice rule needs a comparison operator, And, Or or Not", pointer)
            return {"variable": "$", "operator": "IsPresent", "operand": False}
        return {"variable": rule.get("Variable", "$"), "operator": operator, "operand": rule[operator]}

    def wait_state(self, state: dict[str, Any], pointer: str, language: str, base: dict[str, Any], ids: Mapping[str, str]) -> Node:
        seconds = until = None
        if "Seconds" in state:
            value = state["Seconds"]
            if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
                seconds = Expr.literal(value)
            else:
                seconds = (_ja if language == JSONATA else _jp)({"op": "wait_seconds", "value": value, "field": "Seconds"})
        elif "SecondsPath" in state:
            seconds = _jp({"op": "wait_seconds", "path": state["SecondsPath"], "field": "SecondsPath"})
        elif "Timestamp" in state:
            until = (_ja if language == JSONATA else _jp)({"op": "wait_timestamp", "value": state["Timestamp"], "field": "Timestamp"})
        elif "TimestampPath" in state:
            until = _jp({"op": "wait_timestamp", "path": state["TimestampPath"], "field": "TimestampPath"})
        return WaitNode(
            **base,
            input=self.input_path(state, language),
            output=self.output(state, language),
            assign=self.assign(state.get("Assign"), language, "effective"),
            seconds=seconds,
            until=until,
        )

    def succeed_state(self, state: dict[str, Any], pointer: str, language: str, base: dict[str, Any], ids: Mapping[str, str]) -> Node:
        return SucceedNode(**{**base, "next": None}, input=self.input_path(state, language), output=self.output(state, language), scope="block")

    def fail_state(self, state: dict[str, Any], pointer: str, language: str, base: dict[str, Any], ids: Mapping[str, str]) -> Node:
        def field_expr(name: str) -> Expr | None:
            if name in state:
                value = state[name]
                if language == JSONATA and _has_jsonata(value):
                    return _ja({"op": "fail_field", "value": value, "field": name})
                return Expr.literal(value)
            if f"{name}Path" in state:
                return _jp({"op": "fail_field", "expr": state[f"{name}Path"], "field": f"{name}Path"})
            return None

        return FailNode(**{**base, "next": None}, error=field_expr("Error") or Expr.literal(None), message=field_expr("Cause"))
