"""The DSL's diagnostic codes. Stable: a retired number is never reused.

docs/dsl.md lists the same table; a test keeps the two in step and checks that every code is
produced by at least one test.
"""

from __future__ import annotations

DSL_CODES: dict[str, str] = {
    # -- shape (JSON Schema) ----------------------------------------------------------------
    "DSL-E001": "unknown key (with a did-you-mean suggestion when one is close)",
    "DSL-E002": "a required key is missing",
    "DSL-E003": "a value has the wrong type or form (not a duration, not an expression, out of range, ...)",
    "DSL-E004": "a step has no kind, or more than one (exactly one of call, workflow, set, ...)",
    # -- expressions ------------------------------------------------------------------------
    "DSL-E010": "JMESPath syntax error in an expression",
    "DSL-E011": "unknown JMESPath function, or the wrong number of arguments",
    "DSL-E012": "an expression uses a name that is neither input, result, context nor a variable",
    "DSL-E013": "an expression is required here (a condition written without ${ ... })",
    "DSL-E014": "unterminated or empty ${ ... } in a string",
    # -- durations and times ----------------------------------------------------------------
    "DSL-E020": "invalid duration",
    "DSL-E021": "invalid timestamp (RFC 3339 expected)",
    # -- step ids and jumps -----------------------------------------------------------------
    "DSL-E030": "duplicate step id",
    "DSL-E031": "goto / else / then names a step id that does not exist",
    "DSL-E032": "goto / else / then names a step in another list of steps",
    "DSL-E033": "reserved name used as a step id or variable",
    "DSL-E034": "'else' is not the last case of a switch",
    # -- child workflows --------------------------------------------------------------------
    "DSL-E040": "child workflow file cannot be read",
    "DSL-E041": "child workflow is invalid (its own problems are listed with its file)",
    "DSL-E042": "child workflows refer to each other in a cycle",
    # -- calls and input --------------------------------------------------------------------
    "DSL-E050": "'async' is only for 'call: http'",
    "DSL-E051": "invalid arguments of 'call: http'",
    "DSL-E052": "'input.schema' is not a valid JSON Schema",
    # -- warnings ---------------------------------------------------------------------------
    "DSL-W001": "a step can never run (nothing leads to it)",
}
