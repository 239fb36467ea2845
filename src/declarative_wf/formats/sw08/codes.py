"""Stable diagnostic codes of the Serverless Workflow 0.8 format (never reuse a retired number)."""

from __future__ import annotations

SW08_CODES: dict[str, str] = {
    "SW08-E001": "the definition does not match the 0.8 schema (a missing, unknown or mistyped field)",
    "SW08-E002": "a state has an unknown type",
    "SW08-E010": "two states have the same name",
    "SW08-E011": "'start' names a state that does not exist",
    "SW08-E012": "runBefore names a state that does not exist (a transition to a missing state is SW08-W007)",
    "SW08-E013": "'compensatedBy' names a missing state, or one without 'usedForCompensation: true'",
    "SW08-E014": "a state used for compensation is also reached by a normal transition (or is the start)",
    "SW08-E015": "a state cannot be reached from the start state",
    "SW08-E016": "'completionType: atLeast' needs 'numCompleted' (at most the number of branches)",
    "SW08-E020": "an fn: call in an expression names an undefined function, or one not of type expression (a functionRef is SW08-W007)",
    "SW08-E021": "retired: an undefined event is now SW08-W007",
    "SW08-E022": "a retryRef names a retry strategy that is not defined",
    "SW08-E023": "an errorRef names an error that is not defined in 'errors'",
    "SW08-E024": "two definitions (functions, events, retries, errors) have the same name",
    "SW08-E025": "an authRef names an auth definition that is not defined",
    "SW08-E030": "a jq expression does not compile",
    "SW08-E031": "not an ISO 8601 duration",
    "SW08-E032": "a number written as a string is not a number (maxAttempts, multiplier, batchSize)",
    "SW08-E040": "a construct this runtime does not run (see docs/sw08.md)",
    "SW08-E041": "a subflow or continueAs workflow cannot be found or compiled",
    "SW08-W001": "a construct that runs with a documented difference (see docs/sw08.md)",
    "SW08-W002": "an external resource (functions/events/retries file, OpenAPI document) cannot be read; references to it are not checked",
    "SW08-W003": "an event is used in the wrong direction (a produced event consumed, or a consumed event produced)",
    "SW08-W004": "a duration with days or weeks after the T (PT30D): read as P30D",
    "SW08-W006": "a top-level field the 0.8 spec does not define (allowed as an additional property, ignored)",
    "SW08-W005": "a function or event is referenced but the workflow defines none of that kind (a fragment)",
    "SW08-W007": "a functionRef, event reference or transition names a definition that does not exist: reaching it fails with UndefinedReference",
    "SW08-W008": "eventTimeout directly on a switch state (the 0.7 layout, rejected by the official 0.8 schema): read as timeouts.eventTimeout",
}
