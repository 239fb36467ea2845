"""The source of ``schemas/sw1.schema.json``: our JSON Schema (2020-12) of Serverless Workflow 1.0.x.

Written from ``dsl-reference.md`` (property tables, "required" columns, the union types) and
checked against the official schema of 1.0.3 by ``tests/formats/sw/test_validate_differential.py``:
both must accept and reject the same documents. Where the official schema has quirks that decide
acceptance (an ``instance`` that is an expression matches two ``oneOf`` branches and is rejected;
MCP ``client`` requires ``version`` but declares ``description``; a call's ``query`` is an object
of strings or an expression) we keep them, so that a document is valid here exactly when it is
valid for every other 1.0.3 tool; :mod:`.validate` reports them with a clear message instead.
Formats (``uri``, ``date-time``...) are annotations only, as in every Draft 2020-12 validator
by default.

Each task kind (and each ``call`` variant) is its own ``$defs`` entry (``callHttpTask``,
``forTask``...): the validator checks a task against the definition of its kind, which gives
one precise message instead of the twelve failed alternatives of a ``oneOf``.

Regenerate the file after a change: ``python -m declarative_wf.formats.sw.sw1_schema``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["CALL_KINDS", "SCHEMA_ID", "TASK_KINDS", "build_schema", "render"]

SCHEMA_ID = "https://declarative-wf.dev/schemas/sw1.schema.json"

Schema = dict[str, Any]

#: The task kinds, in the order the validator tells them apart (``for`` and ``listen`` tasks may
#: also have ``do``/``foreach``; ``try`` has ``catch``): the first key present decides.
TASK_KINDS: tuple[str, ...] = ("call", "emit", "for", "fork", "listen", "raise", "run", "set", "switch", "try", "wait", "do")
#: The built-in ``call`` targets; any other string calls a custom function.
CALL_KINDS: dict[str, str] = {
    "asyncapi": "callAsyncApiTask", "grpc": "callGrpcTask", "http": "callHttpTask", "openapi": "callOpenApiTask",
    "a2a": "callA2aTask", "mcp": "callMcpTask",
}  # fmt: skip

_SEMVER = (
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_LABEL = r"^[a-zA-Z0-9](?:[a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$"  # an RFC 1123 DNS label
_HOST = r"^[a-zA-Z0-9](?:[a-zA-Z0-9-.]{0,61}[a-zA-Z0-9])?$"
_ISO_DURATION = (
    r"^P(?!$)(\d+(?:\.\d+)?Y)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?W)?(\d+(?:\.\d+)?D)?"
    r"(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$"
)
_ABSOLUTE_URI = r"^[A-Za-z][A-Za-z0-9+\-.]*://.*"


# --------------------------------------------------------------------------- small builders


def ref(name: str) -> Schema:
    return {"$ref": f"#/$defs/{name}"}


STRING: Schema = {"type": "string"}
INTEGER: Schema = {"type": "integer"}
BOOLEAN: Schema = {"type": "boolean"}
OPEN_OBJECT: Schema = {"type": "object", "additionalProperties": True}
STRINGS: Schema = {"type": "array", "items": STRING}
STRING_MAP: Schema = {"type": "object", "additionalProperties": STRING}


def closed(properties: dict[str, Any], required: tuple[str, ...] = (), **extra: Any) -> Schema:
    """An object with exactly these properties (``unevaluatedProperties: false``, so that keys
    declared by ``oneOf`` branches or ``allOf`` parts count as known)."""
    schema: Schema = {"type": "object", "unevaluatedProperties": False}
    if properties:
        schema["properties"] = properties
    if required:
        schema["required"] = list(required)
    schema.update(extra)
    return schema


def enum(*values: str, default: str | None = None) -> Schema:
    schema: Schema = {"type": "string", "enum": list(values)}
    if default is not None:
        schema["default"] = default
    return schema


def with_default(schema: Schema, default: Any) -> Schema:
    return {**schema, "default": default}


def task(properties: dict[str, Any], required: tuple[str, ...], description: str) -> Schema:
    """A task kind: the common task properties (``taskBase``) plus its own."""
    return {
        "description": description,
        "type": "object",
        "required": list(required),
        "unevaluatedProperties": False,
        "allOf": [ref("taskBase"), {"properties": properties}],
    }


def call(kind: str, with_schema: Schema, description: str) -> Schema:
    return task({"call": {"type": "string", "const": kind}, "with": with_schema}, ("call", "with"), description)


def string_or_expression_anyof() -> Schema:
    return {"anyOf": [ref("runtimeExpression"), STRING]}


# --------------------------------------------------------------------------- the document


def _document() -> Schema:
    return closed(
        {
            "dsl": {"type": "string", "pattern": _SEMVER, "description": "the DSL version (semver), 1.x"},
            "namespace": {"type": "string", "pattern": _LABEL},
            "name": {"type": "string", "pattern": _LABEL},
            "version": {"type": "string", "pattern": _SEMVER},
            "title": STRING,
            "summary": STRING,
            "tags": OPEN_OBJECT,
            "metadata": OPEN_OBJECT,
        },
        ("dsl", "namespace", "name", "version"),
    )


def _use() -> Schema:
    return closed({
        "authentications": {"type": "object", "additionalProperties": ref("authenticationPolicy")},
        "errors": {"type": "object", "additionalProperties": ref("error")},
        "extensions": {
            "type": "array",
            "items": {"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": ref("extension")},
        },
        "functions": {"type": "object", "additionalProperties": ref("task")},
        "retries": {"type": "object", "additionalProperties": ref("retryPolicy")},
        "secrets": STRINGS,
        "timeouts": {"type": "object", "additionalProperties": ref("timeout")},
        "catalogs": {"type": "object", "additionalProperties": ref("catalog")},
    })  # fmt: skip


def _timeout_or_name() -> Schema:
    return {"oneOf": [ref("timeout"), STRING]}


def _top_level() -> Schema:
    return {
        "type": "object",
        "required": ["document", "do"],
        "properties": {
            "document": _document(),
            "input": ref("input"),
            "use": _use(),
            "do": ref("taskList"),
            "timeout": _timeout_or_name(),
            "output": ref("output"),
            "schedule": closed({"every": ref("duration"), "cron": STRING, "after": ref("duration"), "on": ref("eventConsumptionStrategy")}),
        },
    }


# --------------------------------------------------------------------------- tasks


def _tasks() -> dict[str, Schema]:
    defs: dict[str, Schema] = {}
    defs["taskList"] = {
        "description": "a task list: an array of single-key maps {name: task}",
        "type": "array",
        "items": {"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": ref("task")},
    }
    defs["taskBase"] = {
        "type": "object",
        "properties": {
            "if": STRING, "input": ref("input"), "output": ref("output"), "export": ref("export"),
            "timeout": _timeout_or_name(), "then": ref("flowDirective"), "metadata": OPEN_OBJECT,
        },
    }  # fmt: skip
    defs["task"] = {
        "unevaluatedProperties": False,
        "oneOf": [ref(name) for name in ("callTask", "doTask", "forkTask", "emitTask", "forTask", "listenTask", "raiseTask",
                                         "runTask", "setTask", "switchTask", "tryTask", "waitTask")],
    }  # fmt: skip
    defs["callTask"] = {"oneOf": [ref(name) for name in (*CALL_KINDS.values(), "callFunctionTask")]}
    defs["callAsyncApiTask"] = call("asyncapi", closed(
        {
            "document": ref("externalResource"), "channel": STRING, "operation": STRING, "server": ref("asyncApiServer"),
            "protocol": enum("amqp", "amqp1", "anypointmq", "googlepubsub", "http", "ibmmq", "jms", "kafka", "mercure", "mqtt",
                             "mqtt5", "nats", "pulsar", "redis", "sns", "solace", "sqs", "stomp", "ws"),
            "message": ref("asyncApiOutboundMessage"), "subscription": ref("asyncApiSubscription"),
            "authentication": ref("referenceableAuthenticationPolicy"),
        },
        oneOf=[{"required": ["document", where, what]} for where in ("operation", "channel") for what in ("message", "subscription")],
    ), "publishes or subscribes through an AsyncAPI document")  # fmt: skip
    defs["callGrpcTask"] = call("grpc", closed(
        {
            "proto": ref("externalResource"),
            "service": closed({
                "name": STRING, "host": {"type": "string", "pattern": _HOST},
                "port": {"type": "integer", "minimum": 0, "maximum": 65535},
                "authentication": ref("referenceableAuthenticationPolicy"),
            }, ("name", "host")),
            "method": STRING, "arguments": OPEN_OBJECT,
        },
        ("proto", "service", "method"),
    ), "calls a gRPC method described by a proto file")  # fmt: skip
    string_map_or_expression = {"oneOf": [STRING_MAP, ref("runtimeExpression")]}
    defs["callHttpTask"] = call("http", closed(
        {
            "method": STRING, "endpoint": ref("endpoint"), "headers": string_map_or_expression, "body": {},
            "query": string_map_or_expression, "output": enum("raw", "content", "response"), "redirect": BOOLEAN,
        },
        ("method", "endpoint"),
    ), "sends an HTTP request")  # fmt: skip
    defs["callOpenApiTask"] = call("openapi", closed(
        {
            "document": ref("externalResource"), "operationId": STRING, "parameters": OPEN_OBJECT,
            "authentication": ref("referenceableAuthenticationPolicy"), "output": enum("raw", "content", "response"),
            "redirect": BOOLEAN,
        },
        ("document", "operationId"),
    ), "calls an operation of an OpenAPI document")  # fmt: skip
    defs["callA2aTask"] = call("a2a", closed(
        {
            "agentCard": ref("externalResource"), "server": ref("endpoint"),
            "method": enum("message/send", "message/stream", "tasks/get", "tasks/list", "tasks/cancel", "tasks/resubscribe",
                           "tasks/pushNotificationConfig/set", "tasks/pushNotificationConfig/get",
                           "tasks/pushNotificationConfig/list", "tasks/pushNotificationConfig/delete",
                           "agent/getAuthenticatedExtendedCard"),
            "parameters": {"oneOf": [{"type": "object", "minProperties": 1, "additionalProperties": True}, STRING]},
        },
        ("method",),
    ), "calls an Agent-to-Agent (A2A) agent")  # fmt: skip
    # MCP's `with` is the one open object of the calls (the 1.0.3 schema does not close it), and
    # its `client` requires `version` while declaring `description` (a 1.0.3 erratum, fixed on OWS main).
    defs["callMcpTask"] = call("mcp", {
        "type": "object",
        "properties": {
            "protocolVersion": with_default(STRING, "2025-06-18"),
            "method": enum("tools/list", "tools/call", "prompts/list", "prompts/get", "resources/list", "resources/read",
                           "resources/templates/list"),
            "parameters": {"oneOf": [OPEN_OBJECT, STRING]},
            "timeout": ref("duration"),
            "transport": {
                "type": "object",
                "properties": {
                    "http": {"type": "object", "properties": {"endpoint": ref("endpoint"), "headers": STRING_MAP}, "required": ["endpoint"]},
                    "stdio": {"type": "object", "properties": {"command": STRING, "arguments": STRINGS, "environment": STRING_MAP},
                              "required": ["command"]},
                    "options": STRING_MAP,
                },
                "oneOf": [{"required": ["http"]}, {"required": ["stdio"]}],
            },
            "client": {"type": "object", "properties": {"name": STRING, "description": STRING}, "required": ["name", "version"]},
        },
        "required": ["method", "transport"],
    }, "calls a Model Context Protocol (MCP) server")  # fmt: skip
    defs["callFunctionTask"] = task({
        "call": {"type": "string", "not": {"enum": list(CALL_KINDS)}}, "with": OPEN_OBJECT,
    }, ("call",), "calls a function of use.functions, of a catalog (name:version@catalog) or at a URI")  # fmt: skip
    defs["doTask"] = task({"do": ref("taskList")}, ("do",), "runs a task list in order")
    defs["forkTask"] = task({
        "fork": closed({"branches": ref("taskList"), "compete": with_default(BOOLEAN, False)}, ("branches",)),
    }, ("fork",), "runs branches concurrently")  # fmt: skip
    defs["emitTask"] = task({
        "emit": closed({
            "event": {"type": "object", "properties": {"with": {**ref("eventProperties"), "required": ["source", "type"]}},
                      "additionalProperties": True},
        }, ("event",)),
    }, ("emit",), "publishes a CloudEvent")  # fmt: skip
    defs["forTask"] = task({
        "for": closed({"each": with_default(STRING, "item"), "in": STRING, "at": with_default(STRING, "index")}, ("in",)),
        "while": STRING,
        "do": ref("taskList"),
    }, ("for", "do"), "runs a task list for each item of a collection")  # fmt: skip
    defs["listenTask"] = task({
        "listen": closed({"to": ref("eventConsumptionStrategy"), "read": enum("data", "envelope", "raw", default="data")}, ("to",)),
        "foreach": ref("subscriptionIterator"),
    }, ("listen",), "waits for events")  # fmt: skip
    defs["raiseTask"] = task({
        "raise": closed({"error": {"oneOf": [ref("error"), STRING]}}, ("error",)),
    }, ("raise",), "raises an error (inline, or a use.errors name)")  # fmt: skip
    defs["runTask"] = task({"run": _run()}, ("run",), "runs a container, a script, a shell command or a workflow")
    defs["setTask"] = task({
        "set": {"oneOf": [{"type": "object", "minProperties": 1, "additionalProperties": True}, STRING]},
    }, ("set",), "sets data: an object or one expression")  # fmt: skip
    defs["switchTask"] = task({
        "switch": {
            "type": "array", "minItems": 1,
            "items": {
                "type": "object", "minProperties": 1, "maxProperties": 1,
                "additionalProperties": closed({"when": STRING, "then": ref("flowDirective")}, ("then",)),
            },
        },
    }, ("switch",), "chooses where to go next by the first case whose `when` is true")  # fmt: skip
    defs["tryTask"] = task({
        "try": ref("taskList"),
        "catch": closed({
            "errors": {"type": "object", "properties": {"with": ref("errorFilter")}},
            "as": STRING, "when": STRING, "exceptWhen": STRING,
            "retry": {"oneOf": [ref("retryPolicy"), STRING]},
            "do": ref("taskList"),
        }),
    }, ("try", "catch"), "runs a task list and handles its errors")  # fmt: skip
    defs["waitTask"] = task({"wait": ref("duration")}, ("wait",), "waits for a duration")
    return defs


def _run() -> Schema:
    process = {"stdin": STRING, "arguments": STRINGS}
    return closed(
        {"await": with_default(BOOLEAN, True), "return": enum("stdout", "stderr", "code", "all", "none", default="stdout")},
        oneOf=[
            {"properties": {"container": closed({
                "image": STRING, "name": STRING, "command": STRING, "ports": {"type": "object"}, "volumes": {"type": "object"},
                "environment": {"type": "object"}, **process, "lifetime": ref("containerLifetime"),
                "pullPolicy": enum("ifNotPresent", "always", "never"),
            }, ("image",))}, "required": ["container"]},
            {"properties": {"script": closed(
                {"language": STRING, **process, "environment": OPEN_OBJECT},
                ("language",),
                oneOf=[
                    {"type": "object", "properties": {"code": STRING}, "required": ["code"]},
                    {"type": "object", "properties": {"source": ref("externalResource")}, "required": ["source"]},
                ],
            )}, "required": ["script"]},
            {"properties": {"shell": closed({"command": STRING, **process, "environment": OPEN_OBJECT}, ("command",))},
             "required": ["shell"]},
            {"properties": {"workflow": closed({
                "namespace": STRING, "name": STRING, "version": with_default(STRING, "latest"), "input": OPEN_OBJECT,
            }, ("namespace", "name", "version"))}, "required": ["workflow"]},
        ],
    )  # fmt: skip


# --------------------------------------------------------------------------- shared definitions


def _authentication() -> dict[str, Schema]:
    defs: dict[str, Schema] = {}
    defs["referenceableAuthenticationPolicy"] = closed({}, oneOf=[
        {"properties": {"use": {"type": "string", "minLength": 1}}, "required": ["use"]},
        ref("authenticationPolicy"),
    ])  # fmt: skip
    defs["secretBasedAuthenticationPolicy"] = closed({"use": {"type": "string", "minLength": 1}}, ("use",))

    def scheme(name: str, fields: Schema) -> Schema:
        return {"properties": {name: closed({}, oneOf=[fields, ref("secretBasedAuthenticationPolicy")])}, "required": [name]}

    user_password = {"properties": {"username": STRING, "password": STRING}, "required": ["username", "password"]}
    uri_template = {"type": "string", "format": "uri-template"}
    defs["authenticationPolicy"] = {"type": "object", "oneOf": [
        scheme("basic", user_password),
        scheme("bearer", {"properties": {"token": STRING}, "required": ["token"]}),
        scheme("digest", user_password),
        scheme("oauth2", {
            **ref("oauth2AuthenticationProperties"), "type": "object", "unevaluatedProperties": False,
            "properties": {"endpoints": {"type": "object", "properties": {
                "token": with_default(uri_template, "/oauth2/token"), "revocation": with_default(uri_template, "/oauth2/revoke"),
                "introspection": with_default(uri_template, "/oauth2/introspect"),
            }}},
        }),
        scheme("oidc", {**ref("oauth2AuthenticationProperties"), "unevaluatedProperties": False}),
    ]}  # fmt: skip
    defs["oauth2AuthenticationProperties"] = {"type": "object", "properties": {
        "authority": ref("uriTemplate"),
        "grant": enum("authorization_code", "client_credentials", "password", "refresh_token",
                      "urn:ietf:params:oauth:grant-type:token-exchange"),
        "client": closed({
            "id": STRING, "secret": STRING, "assertion": STRING,
            "authentication": enum("client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none",
                                   default="client_secret_post"),
        }),
        "request": {"type": "object", "properties": {
            "encoding": enum("application/x-www-form-urlencoded", "application/json", default="application/x-www-form-urlencoded"),
        }},
        "issuers": STRINGS, "scopes": STRINGS, "audiences": STRINGS, "username": STRING, "password": STRING,
        "subject": ref("oauth2Token"), "actor": ref("oauth2Token"),
    }}  # fmt: skip
    defs["oauth2Token"] = closed({"token": STRING, "type": STRING}, ("token", "type"))
    return defs


def _shared() -> dict[str, Schema]:
    defs: dict[str, Schema] = {}
    defs["flowDirective"] = {"anyOf": [enum("continue", "exit", "end", default="continue"), STRING]}
    defs["duration"] = {"oneOf": [
        closed({unit: INTEGER for unit in ("days", "hours", "minutes", "seconds", "milliseconds")}, minProperties=1),
        ref("runtimeExpression"),
        {"type": "string", "pattern": _ISO_DURATION},
    ]}  # fmt: skip
    # `instance` keeps the 1.0.3 oneOf of "any string" and "an expression": an expression matches
    # both, so only a literal JSON Pointer is accepted (the runtime sets the instance anyway).
    defs["error"] = closed({
        "type": {"oneOf": [ref("uriTemplate"), ref("runtimeExpression")]},
        "status": INTEGER,
        "instance": {"oneOf": [{"type": "string", "format": "json-pointer"}, ref("runtimeExpression")]},
        "title": string_or_expression_anyof(),
        "detail": string_or_expression_anyof(),
    }, ("type", "status"))  # fmt: skip
    defs["errorFilter"] = {"type": "object", "minProperties": 1, "properties": {
        "type": STRING, "status": INTEGER, "instance": STRING, "title": STRING, "details": STRING,
    }}  # fmt: skip
    defs["uriTemplate"] = {"anyOf": [
        {"type": "string", "format": "uri-template", "pattern": _ABSOLUTE_URI},
        {"type": "string", "format": "uri", "pattern": _ABSOLUTE_URI},
    ]}  # fmt: skip
    defs["endpoint"] = {"oneOf": [
        ref("runtimeExpression"),
        ref("uriTemplate"),
        closed({
            "uri": {"oneOf": [ref("uriTemplate"), ref("runtimeExpression")]},
            "authentication": ref("referenceableAuthenticationPolicy"),
        }, ("uri",)),
    ]}  # fmt: skip
    uri_or_expression = {"oneOf": [ref("uriTemplate"), ref("runtimeExpression")]}
    defs["eventProperties"] = {"type": "object", "additionalProperties": True, "properties": {
        "id": STRING, "source": uri_or_expression, "type": STRING,
        "time": {"oneOf": [{"type": "string", "format": "date-time"}, ref("runtimeExpression")]},
        "subject": STRING, "datacontenttype": STRING, "dataschema": uri_or_expression,
        "data": {"anyOf": [ref("runtimeExpression"), {}]},
    }}  # fmt: skip
    defs["eventConsumptionStrategy"] = closed({}, oneOf=[
        {"properties": {"all": {"type": "array", "items": ref("eventFilter")}}, "required": ["all"]},
        {"properties": {
            "any": {"type": "array", "items": ref("eventFilter")},
            "until": {"oneOf": [STRING, {"allOf": [ref("eventConsumptionStrategy"), {"properties": {"until": False}}]}]},
        }, "required": ["any"]},
        {"properties": {"one": ref("eventFilter")}, "required": ["one"]},
    ])  # fmt: skip
    defs["eventFilter"] = closed({
        "with": {**ref("eventProperties"), "minProperties": 1},
        "correlate": {"type": "object", "additionalProperties": {
            "type": "object", "properties": {"from": STRING, "expect": STRING}, "required": ["from"],
        }},
    }, ("with",))  # fmt: skip
    defs["extension"] = closed({
        "extend": enum("call", "composite", "emit", "for", "listen", "raise", "run", "set", "switch", "try", "wait", "all"),
        "when": STRING, "before": ref("taskList"), "after": ref("taskList"),
    }, ("extend",))  # fmt: skip
    defs["externalResource"] = closed({"name": STRING, "endpoint": ref("endpoint")}, ("endpoint",))
    string_or_object = {"oneOf": [STRING, {"type": "object"}]}
    defs["input"] = closed({"schema": ref("schema"), "from": string_or_object})
    defs["output"] = closed({"schema": ref("schema"), "as": string_or_object})
    defs["export"] = closed({"schema": ref("schema"), "as": string_or_object})
    defs["retryPolicy"] = closed({
        "when": STRING, "exceptWhen": STRING, "delay": ref("duration"),
        "backoff": closed({}, oneOf=[
            {"properties": {kind: {"type": "object"}}, "required": [kind]} for kind in ("constant", "exponential", "linear")
        ]),
        "limit": closed({"attempt": closed({"count": INTEGER, "duration": ref("duration")}), "duration": ref("duration")}),
        "jitter": closed({"from": ref("duration"), "to": ref("duration")}, ("from", "to")),
    })  # fmt: skip
    defs["schema"] = closed({"format": with_default(STRING, "json")}, oneOf=[
        {"properties": {"document": {}}, "required": ["document"]},
        {"properties": {"resource": ref("externalResource")}, "required": ["resource"]},
    ])  # fmt: skip
    defs["timeout"] = closed({"after": ref("duration")}, ("after",))
    defs["catalog"] = closed({"endpoint": ref("endpoint")}, ("endpoint",))
    defs["runtimeExpression"] = {"type": "string", "pattern": r"^\s*\$\{.+\}\s*$"}
    defs["containerLifetime"] = closed(
        {"cleanup": enum("always", "never", "eventually", default="never"), "after": ref("duration")},
        ("cleanup",),
        **{"if": {"properties": {"cleanup": {"const": "eventually"}}}, "then": {"required": ["after"]},
           "else": {"not": {"required": ["after"]}}},
    )  # fmt: skip
    defs["asyncApiServer"] = closed({"name": STRING, "variables": {"type": "object"}}, ("name",))
    defs["asyncApiOutboundMessage"] = closed({"payload": {"type": "object"}, "headers": {"type": "object"}})
    defs["asyncApiSubscription"] = closed({
        "filter": ref("runtimeExpression"), "consume": ref("asyncApiMessageConsumptionPolicy"),
        "foreach": ref("subscriptionIterator"),
    }, ("consume",))  # fmt: skip
    defs["asyncApiMessageConsumptionPolicy"] = closed({"for": ref("duration")}, oneOf=[
        {"properties": {"amount": INTEGER}, "required": ["amount"]},
        {"properties": {"while": ref("runtimeExpression")}, "required": ["while"]},
        {"properties": {"until": ref("runtimeExpression")}, "required": ["until"]},
    ])  # fmt: skip
    defs["subscriptionIterator"] = closed({
        "item": with_default(STRING, "item"), "at": with_default(STRING, "index"), "do": ref("taskList"),
        "output": ref("output"), "export": ref("export"),
    })  # fmt: skip
    return defs


def build_schema() -> Schema:
    schema: Schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Serverless Workflow 1.0.x (declarative_wf)",
        "description": "Generated by declarative_wf.formats.sw.sw1_schema; edit that module, not this file.",
    }
    schema.update(_top_level())
    schema["$defs"] = {**_tasks(), **_authentication(), **_shared()}
    return schema


def render() -> str:
    return json.dumps(build_schema(), indent=1, ensure_ascii=False) + "\n"


def main() -> int:
    target = Path(__file__).resolve().parents[4] / "schemas" / "sw1.schema.json"
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
