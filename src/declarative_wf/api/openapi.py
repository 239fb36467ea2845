"""The OpenAPI 3.1 document served at ``/openapi.json``, written by hand to match ``api.http``.

tests/api checks it against the running server with schemathesis (every documented status
and response schema), so a change to an endpoint that is not reflected here fails a test.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from declarative_wf import __version__

from .instances import DAPR_STATUSES, LIST_STATUSES

DAPR_VERSIONS = ("v1.0", "v1.0-beta1", "v1.0-alpha1")

_ANY: dict[str, Any] = {}
_STRING = {"type": "string"}
_TIME = {"type": "string", "format": "date-time"}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"oneOf": [schema, {"type": "null"}]}


def _obj(properties: dict[str, Any], required: list[str] | None = None, *, closed: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    return schema


_DEFINITION_FIELDS: dict[str, Any] = {
    "name": _STRING,
    "version": _STRING,
    "ref": {**_STRING, "description": "name@version"},
    "hash": {**_STRING, "pattern": "^sha256:[0-9a-f]{64}$"},
    "format": {**_STRING, "description": "dsl, asl, sw1, sw08, or ir (a compiled graph)"},
    "filename": _STRING,
    "createdAt": _TIME,
    "autoVersion": {"type": "boolean", "description": "the version was assigned by the registry"},
}

SCHEMAS: dict[str, Any] = {
    "Error": _obj(
        {
            "errorCode": {**_STRING, "description": "Dapr's code (ERR_INSTANCE_ID_NOT_FOUND, ...) or ours (ERR_DEFINITION_...)"},
            "message": _STRING,
            "diagnostics": {"type": "array", "items": _ref("Diagnostic")},
            "problems": {"type": "array", "items": _STRING},
            "awsError": {**_STRING, "description": "task callbacks: AWS's error name (InvalidToken, TaskDoesNotExist, TaskTimedOut, InvalidOutput)"},
        },
        ["errorCode", "message"],
    ),
    "Diagnostic": _obj(
        {
            "file": _nullable(_STRING),
            "line": _nullable({"type": "integer"}),
            "column": _nullable({"type": "integer"}),
            "code": _STRING,
            "message": _STRING,
            "pointer": _STRING,
            "severity": {"type": "string", "enum": ["error", "warning"]},
            "hint": _nullable(_STRING),
        },
        ["file", "line", "column", "code", "message", "pointer", "severity", "hint"],
    ),
    "DaprStartResponse": _obj({"instanceID": _STRING}, ["instanceID"]),
    "DaprWorkflow": _obj(
        {
            "instanceID": _STRING,
            "workflowName": _STRING,
            "createdAt": _TIME,
            "lastUpdatedAt": _TIME,
            "runtimeStatus": {"type": "string", "enum": sorted(DAPR_STATUSES | {"UNKNOWN"})},
            "properties": {
                "type": "object",
                "additionalProperties": _STRING,
                "description": "dapr.workflow.input, dapr.workflow.output, dapr.workflow.custom_status, "
                "dapr.workflow.failure.error_type, dapr.workflow.failure.error_message, dapr.workflow.failure.stack_trace",
            },
        },
        ["instanceID", "workflowName", "createdAt", "lastUpdatedAt", "runtimeStatus", "properties"],
    ),
    "Definition": _obj(_DEFINITION_FIELDS, list(_DEFINITION_FIELDS)),
    "DefinitionDetail": _obj(
        {**_DEFINITION_FIELDS, "source": _STRING, "graph": {"type": "object", "description": "the compiled graph (IR JSON)"}},
        [*_DEFINITION_FIELDS, "source", "graph"],
    ),
    "NameSummary": _obj({"name": _STRING, "versions": {"type": "integer", "minimum": 1}, "latest": _ref("Definition")}, ["name", "versions", "latest"]),
    "Submitted": _obj(
        {"definition": _ref("Definition"), "created": {"type": "boolean"}, "warnings": {"type": "array", "items": _ref("Diagnostic")}},
        ["definition", "created", "warnings"],
    ),
    "Validation": _obj({"valid": {"type": "boolean"}, "diagnostics": {"type": "array", "items": _ref("Diagnostic")}}, ["valid", "diagnostics"]),
    "StartRequest": _obj(
        {
            "definition": {**_STRING, "description": "name (latest version), name@version or sha256:<hash>"},
            "input": {"description": "the workflow input (any JSON value)"},
            "instanceID": {**_STRING, "description": "at most 64 bytes of letters, digits, '-' and '_' (default: a random UUID)"},
            "startAt": {**_TIME, "description": "start later (RFC 3339)"},
        },
        ["definition"],
    ),
    "Started": _obj({"instanceID": _STRING, "workflowName": _STRING, "version": _STRING, "hash": _STRING}, ["instanceID", "workflowName", "version", "hash"]),
    "Instance": _obj(
        {
            "instanceID": _STRING,
            "workflowName": _STRING,
            "version": _nullable(_STRING),
            "hash": _nullable(_STRING),
            "runtimeStatus": {"type": "string", "enum": sorted(set(LIST_STATUSES) | {"UNKNOWN"})},
            "createdAt": _TIME,
            "lastUpdatedAt": _TIME,
            "input": _ANY,
            "output": _ANY,
            "customStatus": _ANY,
            "error": _nullable({"type": "object", "description": "the format's own error object"}),
            "failure": _nullable(_obj({"errorType": _STRING, "message": _STRING, "stackTrace": _nullable(_STRING)}, ["errorType", "message", "stackTrace"])),
        },
        ["instanceID", "workflowName", "version", "hash", "runtimeStatus", "createdAt", "lastUpdatedAt", "input", "output", "customStatus", "error", "failure"],
    ),
    "InstanceSummary": _obj(
        {
            "instanceID": _STRING,
            "workflowName": _STRING,
            "runtimeStatus": {"type": "string", "enum": sorted(set(LIST_STATUSES) | {"UNKNOWN"})},
            "createdAt": _TIME,
            "lastUpdatedAt": _TIME,
            "completedAt": _nullable(_TIME),
            "parentInstanceID": _nullable(_STRING),
            "customStatus": _ANY,
        },
        ["instanceID", "workflowName", "runtimeStatus", "createdAt", "lastUpdatedAt", "completedAt", "parentInstanceID", "customStatus"],
    ),
    "InstancePage": _obj(
        {"instances": {"type": "array", "items": _ref("InstanceSummary")}, "continuationToken": _nullable(_STRING)},
        ["instances", "continuationToken"],
    ),
    "History": _obj({"events": {"type": "array", "items": {"type": "object", "required": ["type"]}}}, ["events"]),
    "Deleted": _obj({"deleted": {"type": "array", "items": _ref("Definition")}}, ["deleted"]),
    "Reason": _obj({"reason": _STRING}),
    "TaskSuccess": _obj(
        {"taskToken": {**_STRING, "description": "the $$.Task.Token the task received"}, "output": {"description": "the task's result (any JSON value)"}},
        ["taskToken"],
    ),
    "TaskFailure": _obj(
        {"taskToken": _STRING, "error": {**_STRING, "maxLength": 256}, "cause": {**_STRING, "maxLength": 32768}},
        ["taskToken"],
    ),
    "TaskHeartbeat": _obj({"taskToken": _STRING}, ["taskToken"]),
    "TaskCallbackResponse": _obj({}),
    "TerminateRequest": _obj({"output": {"description": "recorded as the instance's output"}}),
}

_ERRORS = {
    400: "bad request: see errorCode",
    401: "an API token is configured and the dapr-api-token header is missing or wrong (ERR_API_TOKEN_INVALID)",
    404: "not found: ERR_INSTANCE_ID_NOT_FOUND or ERR_DEFINITION_NOT_FOUND",
    409: "the instance or definition is in a state that does not allow this",
    413: "the request body is larger than the limit (ERR_REQUEST_TOO_LARGE), or the payload is larger than the engine accepts",
    422: "the definition is invalid (ERR_DEFINITION_INVALID, with every diagnostic)",
    500: "an engine error (Dapr's ERR_..._WORKFLOW codes)",
    503: "the engine is not reachable",
}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _responses(success: dict[int, Any], errors: tuple[int, ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for status, answer in success.items():
        out[str(status)] = answer
    for status in sorted({*errors, 401, 413, 500, 503}):
        out[str(status)] = {"description": _ERRORS[status], "content": _json(_ref("Error"))}
    return out


def _ok(description: str, schema: dict[str, Any] | None = None, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": description}
    if schema is not None:
        answer["content"] = _json(schema)
    if headers:
        answer["headers"] = headers
    return answer


def _path(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": _STRING, "description": description}


def _query(name: str, description: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema or _STRING, "description": description}


_ASYNC_HEADERS = {
    "Location": {"description": "the status URL to poll", "schema": _STRING},
    "Retry-After": {"description": "seconds to wait before polling", "schema": _STRING},
}
_COMPONENT = {**_path("component", "the workflow component: always `dapr`"), "schema": {"type": "string", "enum": ["dapr"]}}
_INSTANCE = _path("instanceID", "the instance id")
_APP_ID = _query("appID", "Dapr's cross-app routing: not supported, any value is refused (400 ERR_WORKFLOW_APP_ID_INVALID)")
_ANY_BODY = {"required": False, "content": {"application/json": {"schema": _ANY}}}
_TEXT_BODY = {
    "required": True,
    "description": "the definition's text: YAML or JSON, any supported format, or a compiled graph (IR JSON)",
    "content": {
        # Any YAML or JSON document: what a definition must contain is reported as diagnostics
        # (422 on submit, valid=false on validate), not as a schema violation.
        "application/yaml": {"schema": _ANY},
        "application/json": {"schema": _ANY},
        "text/plain": {"schema": _STRING},
    },
}


def _dapr_paths(version: str) -> dict[str, Any]:
    base = f"/{version}/workflows/{{component}}"
    tag = ["Dapr workflow API"]
    deprecated = version != "v1.0"

    def op(operation_id: str, summary: str, params: list[Any], responses: dict[str, Any], body: Any = None) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "operationId": f"{operation_id}_{version.replace('.', '_').replace('-', '_')}",
            "summary": summary,
            "tags": tag,
            "parameters": [_COMPONENT, *params, _APP_ID],
            "responses": responses,
        }
        if body is not None:
            spec["requestBody"] = body
        if deprecated:
            spec["deprecated"] = True
        return spec

    accepted = _responses({202: _ok("accepted")}, (400, 404, 409))
    return {
        f"{base}/{{name}}/start": {
            "post": op(
                "daprStartWorkflow",
                "start an instance of a registered definition (name, name@version or sha256:hash)",
                [_path("name", "the definition: name (latest), name@version or sha256:<hash>"), _query("instanceID", "the instance id (default: a random UUID)")],
                _responses({202: _ok("started", _ref("DaprStartResponse"), _ASYNC_HEADERS)}, (400, 404, 409)),
                _ANY_BODY,
            )
        },
        f"{base}/{{instanceID}}": {
            "get": op("daprGetWorkflow", "an instance's status, input, output and failure", [_INSTANCE], _responses({200: _ok("the instance", _ref("DaprWorkflow"))}, (400, 404)))
        },
        f"{base}/{{instanceID}}/terminate": {"post": op("daprTerminateWorkflow", "terminate (recursive)", [_INSTANCE], accepted)},
        f"{base}/{{instanceID}}/raiseEvent/{{eventName}}": {
            "post": op("daprRaiseEvent", "raise an event; the body is its data", [_INSTANCE, _path("eventName", "the event name")], accepted, _ANY_BODY)
        },
        f"{base}/{{instanceID}}/pause": {"post": op("daprPauseWorkflow", "suspend", [_INSTANCE], accepted)},
        f"{base}/{{instanceID}}/resume": {"post": op("daprResumeWorkflow", "resume", [_INSTANCE], accepted)},
        f"{base}/{{instanceID}}/purge": {"post": op("daprPurgeWorkflow", "delete a finished instance (recursive)", [_INSTANCE], accepted)},
    }


def _our_paths() -> dict[str, Any]:
    api = "/api/v1"
    defs, inst = ["Definitions"], ["Instances"]
    accepted = _responses({202: _ok("accepted")}, (400, 404, 409))
    reason_body = {"required": False, "content": _json(_ref("Reason"))}
    return {
        f"{api}/definitions": {
            "post": {
                "operationId": "submitDefinition",
                "summary": "validate and register a definition (idempotent for identical content)",
                "tags": defs,
                "parameters": [
                    _query("filename", "names the text in diagnostics (only the last path component is kept; never opened)"),
                    _query("name", "register under this name instead of the definition's own"),
                ],
                "requestBody": _TEXT_BODY,
                "responses": _responses(
                    {
                        201: _ok("registered", _ref("Submitted"), {"Location": _ASYNC_HEADERS["Location"]}),
                        200: _ok("this content was already registered", _ref("Submitted"), {"Location": _ASYNC_HEADERS["Location"]}),
                    },
                    (400, 409, 422),
                ),
            },
            "get": {
                "operationId": "listDefinitions",
                "summary": "every registered name with its latest version",
                "tags": defs,
                "responses": _responses({200: _ok("names", _obj({"definitions": {"type": "array", "items": _ref("NameSummary")}}, ["definitions"]))}, ()),
            },
        },
        f"{api}/definitions/{{name}}/versions": {
            "get": {
                "operationId": "listVersions",
                "summary": "every version of a name, oldest first",
                "tags": defs,
                "parameters": [_path("name", "the definition's name")],
                "responses": _responses({200: _ok("versions", _obj({"versions": {"type": "array", "items": _ref("Definition")}}, ["versions"]))}, (404,)),
            }
        },
        f"{api}/definitions/{{ref}}": {
            "get": {
                "operationId": "getDefinition",
                "summary": "one version with its source and compiled graph",
                "tags": defs,
                "parameters": [_path("ref", "name (latest), name@version or sha256:<hash>")],
                "responses": _responses({200: _ok("the definition", _ref("DefinitionDetail"))}, (404,)),
            },
            "delete": {
                "operationId": "deleteDefinition",
                "summary": "delete one version (name@version, hash) or every version of a name; running instances are not affected",
                "tags": defs,
                "parameters": [_path("ref", "name (every version), name@version or sha256:<hash>")],
                "responses": _responses({200: _ok("what was deleted", _ref("Deleted"))}, (404,)),
            },
        },
        f"{api}/validate": {
            "post": {
                "operationId": "validateDefinition",
                "summary": "every diagnostic of a definition, as dwf validate reports them; nothing is registered",
                "tags": defs,
                "parameters": [_query("filename", "names the text in diagnostics")],
                "requestBody": {**_TEXT_BODY, "required": False},
                "responses": _responses({200: _ok("the diagnostics", _ref("Validation"))}, (400,)),
            }
        },
        f"{api}/instances": {
            "post": {
                "operationId": "startInstance",
                "summary": "start an instance; 202 with Location (the status URL) and Retry-After",
                "tags": inst,
                "requestBody": {"required": True, "content": _json(_ref("StartRequest"))},
                "responses": _responses({202: _ok("started", _ref("Started"), _ASYNC_HEADERS)}, (400, 404, 409)),
            },
            "get": {
                "operationId": "listInstances",
                "summary": "instances in creation order, filtered and paged",
                "tags": inst,
                "parameters": [
                    {
                        "name": "status",
                        "in": "query",
                        "required": False,
                        "style": "form",
                        "explode": True,
                        "schema": {"type": "array", "items": {"type": "string", "enum": list(LIST_STATUSES)}},
                        "description": "keep these statuses (repeat, or comma-separated)",
                    },
                    _query("definition", "keep instances of this definition name"),
                    _query("createdFrom", "created at or after (RFC 3339)", _TIME),
                    _query("createdTo", "created before (RFC 3339)", _TIME),
                    _query("pageSize", "at most this many (1-1000, default 1000)", {"type": "integer", "minimum": 1, "maximum": 1000}),
                    _query("continuationToken", "from the previous page"),
                ],
                "responses": _responses({200: _ok("a page", _ref("InstancePage"))}, (400,)),
            },
        },
        f"{api}/instances/{{instanceID}}": {
            "get": {
                "operationId": "getInstance",
                "summary": "an instance: status, definition version, input, output, error",
                "tags": inst,
                "parameters": [_INSTANCE],
                "responses": _responses({200: _ok("the instance", _ref("Instance"))}, (400, 404)),
            }
        },
        f"{api}/instances/{{instanceID}}/history": {
            "get": {
                "operationId": "getHistory",
                "summary": "the committed history of the current execution (protojson events with a type)",
                "tags": inst,
                "parameters": [_INSTANCE],
                "responses": _responses({200: _ok("the history", _ref("History"))}, (400, 404)),
            }
        },
        f"{api}/instances/{{instanceID}}/suspend": {
            "post": {"operationId": "suspendInstance", "summary": "suspend", "tags": inst, "parameters": [_INSTANCE], "requestBody": reason_body, "responses": accepted}
        },
        f"{api}/instances/{{instanceID}}/resume": {
            "post": {"operationId": "resumeInstance", "summary": "resume", "tags": inst, "parameters": [_INSTANCE], "requestBody": reason_body, "responses": accepted}
        },
        f"{api}/instances/{{instanceID}}/terminate": {
            "post": {
                "operationId": "terminateInstance",
                "summary": "terminate, with its children",
                "tags": inst,
                "parameters": [_INSTANCE],
                "requestBody": {"required": False, "content": _json(_ref("TerminateRequest"))},
                "responses": accepted,
            }
        },
        f"{api}/instances/{{instanceID}}/purge": {
            "post": {"operationId": "purgeInstance", "summary": "delete a finished instance and its children", "tags": inst, "parameters": [_INSTANCE], "responses": accepted}
        },
        f"{api}/instances/{{instanceID}}/events/{{eventName}}": {
            "post": {
                "operationId": "raiseEvent",
                "summary": "raise an event; the body (JSON) is its data",
                "tags": inst,
                "parameters": [_INSTANCE, _path("eventName", "the event name")],
                "requestBody": _ANY_BODY,
                "responses": accepted,
            }
        },
        **{
            f"{api}/tasks/{action}": {
                "post": {
                    "operationId": f"sendTask{action.capitalize()}",
                    "summary": summary,
                    "tags": ["Task callbacks"],
                    "requestBody": {"required": True, "content": _json(_ref(schema))},
                    # 400 invalid token/output, 404 its instance does not exist, 409 the task already ended
                    "responses": _responses({200: _ok("delivered", _ref("TaskCallbackResponse"))}, (400, 404, 409)),
                }
            }
            for action, schema, summary in (
                ("success", "TaskSuccess", "complete the task waiting with this token (ASL SendTaskSuccess)"),
                ("failure", "TaskFailure", "fail the task waiting with this token (ASL SendTaskFailure)"),
                ("heartbeat", "TaskHeartbeat", "restart the HeartbeatSeconds timer of the task (ASL SendTaskHeartbeat)"),
            )
        },
    }


@cache
def openapi_document() -> dict[str, Any]:
    paths: dict[str, Any] = {
        "/v1.0/healthz": {
            "get": {"operationId": "healthz", "summary": "the server is up (no token needed)", "tags": ["Health"], "responses": {"204": {"description": "healthy"}}}
        },
        "/v1.0/healthz/outbound": {
            "get": {
                "operationId": "healthzOutbound",
                "summary": "what Dapr's SDK clients wait for before their first call (no token needed)",
                "tags": ["Health"],
                "responses": {"204": {"description": "healthy"}},
            }
        },
    }
    for version in DAPR_VERSIONS:
        paths.update(_dapr_paths(version))
    paths.update(_our_paths())
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "declarative_wf server",
            "version": __version__,
            "description": "Dapr's workflow API (same paths, status codes, fields and error codes) over registered "
            "definitions, plus definitions and instance management. See docs/api.md.",
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"daprApiToken": {"type": "apiKey", "in": "header", "name": "dapr-api-token"}},
        },
        # Only when the server was started with --api-token-env; /v1.0/healthz never needs it.
        "security": [{}, {"daprApiToken": []}],
    }
