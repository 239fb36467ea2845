"""Stable diagnostic codes of Serverless Workflow 1.x validation (never reuse a retired number).

``docs/sw-validation.md`` explains each one with an example and the fix.
"""

from __future__ import annotations

SW_CODES: dict[str, str] = {
    "SW-E001": "the definition does not match the Serverless Workflow 1.0 schema (a missing, unknown or mistyped field)",
    "SW-E002": "a task has no kind (none of call, do, emit, for, fork, listen, raise, run, set, switch, try, wait)",
    "SW-E003": "an item of a task list is not one {name: task} map",
    "SW-E004": "evaluate is not {language: <name>, mode: strict | loose}",
    "SW-E010": "a flow directive (then) names a task that is not in the same task list",
    "SW-E011": "two tasks of one task list have the same name",
    "SW-E012": "a switch has more than one default case (a case without when)",
    "SW-E020": "call names a function that is not in use.functions, or a catalog that is not in use.catalogs",
    "SW-E021": "raise.error names an error that is not in use.errors",
    "SW-E022": "catch.retry names a retry policy that is not in use.retries",
    "SW-E023": "authentication.use names an authentication that is not in use.authentications",
    "SW-E024": "timeout names a timeout that is not in use.timeouts",
    "SW-E025": "a secret is used ($secrets.name, or a secret-based authentication) but not declared in use.secrets",
    "SW-E030": "a runtime expression is not valid jq",
    "SW-E040": "a duration is not a valid ISO 8601 duration",
    "SW-E050": "run.workflow does not name a workflow (namespace and name are DNS labels, version is semver or 'latest')",
    "SW-E060": "a listen, emit or schedule.on event strategy, filter or correlation that cannot be used (formats/sw/events.py)",
    "SW-W001": "a feature of the unreleased Open Workflow Specification (OWS main), accepted beyond 1.0.x",
    "SW-W002": "a top-level key that Serverless Workflow 1.0 does not define (ignored)",
    "SW-W003": "an expression language other than jq: expressions are not checked",
    "SW-W060": "an event option that has no effect here (until without any, foreach.export)",
}
