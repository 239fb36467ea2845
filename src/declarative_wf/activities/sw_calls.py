"""Built-in activities behind Serverless Workflow's ``call: openapi``, ``call: asyncapi`` (and,
in :mod:`.sw_grpc`, ``call: grpc``).

The compiler (``formats/sw/calls.py``) evaluates the task's ``with`` and hands it over as the
activity input, plus ``base`` (the directory of the definition, for relative file
references). Everything that touches the network or the file system happens here, in the
activity, so it is retried and recorded like any other step, and nothing secret is evaluated
by the orchestrator.

Failures are :class:`~.problems.ProblemError` (Problem Details): ``communication`` with the
answer's status, ``authentication`` (401) when a call with credentials is refused or a token
cannot be obtained, ``authorization`` (403) for a missing secret, ``configuration`` (400) for a
document or operation that does not fit the call.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urljoin, urlsplit

import httpx

from . import http as _http
from .auth import AuthError, SecretNotFound, TokenRequestFailed, httpx_auth, parse_auth
from .problems import ProblemError

__all__ = ["SW_CALL_ACTIVITIES", "clear_document_cache", "load_resource", "sw_asyncapi", "sw_openapi", "sw_response"]

OUTPUTS = ("content", "response", "raw")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _config(detail: str, title: str = "Invalid call") -> ProblemError:
    return ProblemError("configuration", title=title, detail=detail)


# -- external resources -------------------------------------------------------------------------

_documents: dict[str, Any] = {}
_documents_lock = threading.Lock()


def clear_document_cache() -> None:
    with _documents_lock:
        _documents.clear()


def _endpoint(resource: Any, what: str) -> tuple[str, Any]:
    """``(uri, authentication)`` of an externalResource (``{endpoint: uri | {uri, authentication}}``)."""
    if isinstance(resource, str):
        return resource, None
    if not isinstance(resource, Mapping):
        raise _config(f"{what} must be an external resource {{endpoint: URI}}")
    endpoint = resource.get("endpoint", resource.get("uri"))
    if isinstance(endpoint, Mapping):
        uri, auth = endpoint.get("uri"), endpoint.get("authentication")
    else:
        uri, auth = endpoint, None
    if not isinstance(uri, str) or not uri:
        raise _config(f"{what}.endpoint must be a URI (http(s)://, file:// or a path relative to the definition)")
    return uri, auth


def _local_path(uri: str, base: str | None) -> Path | None:
    """The file an endpoint names, or None when it is an http(s) URL."""
    scheme = urlsplit(uri).scheme.lower()
    if scheme in ("http", "https"):
        return None
    if scheme == "file":
        # file://app/greet.proto (the spec's own example) is relative; file:///abs is absolute.
        raw = uri[len("file://"):]
        path = Path(raw)
    elif scheme and len(scheme) > 1:
        raise _config(f"unsupported resource scheme {scheme!r} in {uri!r}: use http(s)://, file:// or a relative path")
    else:
        path = Path(uri)
    if not path.is_absolute() and base:
        path = Path(base) / path
    return path


async def load_resource(resource: Any, base: str | None, what: str) -> tuple[str, str]:
    """The text of an external resource and the URL it came from (for relative references)."""
    uri, auth = _endpoint(resource, what)
    path = _local_path(uri, base)
    if path is not None:
        if base is None:
            # The definition was compiled from text (e.g. submitted to `dwf serve`): such
            # definitions never reach the worker's file system.
            raise _config(
                f"{what} {uri!r} is a local file, but this definition was not loaded from a file; "
                "serve the resource over http(s) or load the definition from its file",
                "File resources not allowed",
            )
        try:
            return path.read_text(encoding="utf-8"), path.resolve().as_uri()
        except OSError as error:
            raise _config(f"cannot read {what} {uri!r} ({path}): {error.strerror}", "Resource not found") from None
    try:
        credentials = await httpx_auth(parse_auth(auth), _http.raw_request)
        response = await _http.raw_request("GET", uri, auth=credentials, follow_redirects=True, timeout=30)
    except (AuthError, SecretNotFound) as error:
        raise ProblemError("authorization", title="Cannot authenticate", detail=str(error)) from None
    except TokenRequestFailed as error:
        raise ProblemError("authentication", status=401, title="Unauthorized", detail=str(error)) from None
    except _http.HTTPInvalidRequest as error:  # e.g. a malformed $DWF_HTTP_ROUTES
        raise _config(str(error), "Invalid request") from None
    except httpx.HTTPError as error:
        raise ProblemError("communication", title="Resource unreachable", detail=f"GET {uri}: {error or type(error).__name__}") from None
    if response.status_code != 200:
        raise ProblemError(
            "communication", status=response.status_code, title="Resource not found",
            detail=f"GET {uri} answered {response.status_code} {response.reason_phrase}",
        )  # fmt: skip
    return response.text, uri


async def load_document(resource: Any, base: str | None, what: str) -> tuple[Any, str]:
    """A JSON or YAML document (cached per process and URL) and its URL."""
    uri, _ = _endpoint(resource, what)
    key = f"{base}|{uri}"
    with _documents_lock:
        cached = _documents.get(key)
    if cached is not None:
        return cached
    text, url = await load_resource(resource, base, what)
    try:
        document = json.loads(text)
    except ValueError:
        from declarative_wf.diagnostics import DiagnosticError
        from declarative_wf.loading import load_text

        try:
            document = load_text(text, uri, syntax="yaml").data  # YAML 1.2, as definitions
        except DiagnosticError as error:
            # Only the position: the message of a parse error can quote the text it read.
            first = error.diagnostics[0] if error.diagnostics else None
            where = f" (line {first.position.line})" if first is not None and first.position is not None else ""
            raise _config(f"{what} {uri} is neither JSON nor YAML{where}", "Invalid document") from None
    if not isinstance(document, dict):
        raise _config(f"{what} {uri} is not a JSON/YAML object", "Invalid document")
    with _documents_lock:
        _documents[key] = (document, url)
    return document, url


# -- the HTTP response as Serverless Workflow shows it --------------------------------------------


def sw_response(result: Mapping[str, Any], output: str) -> Any:
    """The task output for ``output`` (content | response | raw) from an ``http`` activity result
    sent with ``echo_request``."""
    if output == "response":
        return {
            "request": result.get("request"),
            "statusCode": result["status"],
            "headers": result["headers"],
            "content": result["body"],
        }
    return result["body"]  # raw: the request asked for expect=raw, so the body is base64


def check_status(request: _http.HTTPRequest, result: Mapping[str, Any], redirect: bool) -> None:
    """SW: outside 200–299 (200–399 with ``redirect``) the call fails with the status."""
    status = result["status"]
    if 200 <= status < (400 if redirect else 300):
        return
    body = result.get("body")
    snippet = body if isinstance(body, str) else json.dumps(body) if body is not None else ""
    detail = f"{request.method} {_http.redact(request.url)} answered {status}" + (f": {snippet[:200]}" if snippet else "")
    raise _http.problem_for_status(request, status, detail)


async def send_sw(
    method: str, url: str, *, headers: dict[str, Any], query: dict[str, Any], body: Any = None,
    has_body: bool = False, form: dict[str, Any] | None = None, auth: Any = None,
    output: str = "content", redirect: bool = False, expose: bool = False,
) -> Any:  # fmt: skip
    """One HTTP call with Serverless Workflow semantics (errors, output modes). With
    ``expose``: ``{result, authorization}``, the descriptor of the credentials sent (for
    ``$authorization``; only asked for by a task whose output.as / export.as uses it)."""
    if output not in OUTPUTS:
        raise _config(f"output must be content, response or raw, not {output!r}")
    raw: dict[str, Any] = {
        "method": method, "url": url, "headers": headers, "query": query, "follow_redirects": redirect,
        "errors": "problem", "echo_request": True, "expect": "raw" if output == "raw" else "auto", "auth": auth,
        "expose_authorization": expose,
    }  # fmt: skip
    if has_body:
        raw["body"] = body
    if form is not None:
        raw["form"] = form
    try:
        request = _http.parse_request(raw)
    except SecretNotFound as error:
        raise ProblemError("authorization", title="Secret not found", detail=str(error)) from None
    except _http.HTTPInvalidRequest as error:
        raise _config(str(error), "Invalid request") from None
    result = await _http.send(request)
    check_status(request, result, redirect)
    if expose:
        return {"result": sw_response(result, output), "authorization": result.get("authorization")}
    return sw_response(result, output)


# -- OpenAPI --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    parameters: tuple[dict[str, Any], ...]
    body: dict[str, Any] | None  # OpenAPI 3 requestBody
    operation: dict[str, Any]
    #: OpenAPI 3 ``servers`` of the operation or its path item (they override the document's).
    servers: list[Any] | None = None


def _resolve_ref(document: Mapping[str, Any], value: Any) -> Any:
    """Follows local ``$ref``s (``#/components/parameters/x``); remote refs are not fetched."""
    seen = 0
    while isinstance(value, Mapping) and isinstance(value.get("$ref"), str):
        ref = value["$ref"]
        if not ref.startswith("#/") or seen > 20:
            raise _config(f"cannot resolve $ref {ref!r}: only local references (#/...) are supported", "Invalid document")
        target: Any = document
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(target, Mapping) or part not in target:
                raise _config(f"$ref {ref!r} points nowhere in the document", "Invalid document")
            target = target[part]
        value, seen = target, seen + 1
    return value


def find_operation(document: Mapping[str, Any], operation_id: str) -> Operation:
    paths = document.get("paths")
    known: list[str] = []
    for path, item in (paths or {}).items() if isinstance(paths, Mapping) else ():
        item = _resolve_ref(document, item)
        if not isinstance(item, Mapping):
            continue
        shared = [_resolve_ref(document, p) for p in item.get("parameters") or []]
        for method in HTTP_METHODS:
            op = item.get(method)
            if not isinstance(op, Mapping):
                continue
            if isinstance(op.get("operationId"), str):
                known.append(op["operationId"])
            if op.get("operationId") != operation_id:
                continue
            own = [_resolve_ref(document, p) for p in op.get("parameters") or []]
            keys = {(p.get("name"), p.get("in")) for p in own if isinstance(p, Mapping)}
            merged = [p for p in shared if isinstance(p, Mapping) and (p.get("name"), p.get("in")) not in keys] + [
                p for p in own if isinstance(p, Mapping)
            ]
            body = _resolve_ref(document, op.get("requestBody")) if op.get("requestBody") else None
            servers = op.get("servers") or item.get("servers") or None
            return Operation(method.upper(), str(path), tuple(dict(p) for p in merged), body, dict(op), servers)
    from declarative_wf.diagnostics import suggest

    hint = suggest(operation_id, known)
    listed = ", ".join(sorted(known)[:20]) or "none"
    raise _config(
        f"operationId {operation_id!r} is not in the document" + (f" ({hint})" if hint else "")
        + f"; it defines: {listed}",
        "Unknown operation",
    )  # fmt: skip


def base_url(document: Mapping[str, Any], document_url: str, servers: list[Any] | None = None) -> str:
    """Where the operations live: Swagger 2 ``schemes``/``host``/``basePath``, or OpenAPI 3's
    first server (variables at their defaults), relative to the document's own URL."""
    if "swagger" in document:
        doc = urlsplit(document_url)
        schemes = document.get("schemes") or []
        scheme = "https" if "https" in schemes else (schemes[0] if schemes else doc.scheme if doc.scheme in ("http", "https") else "https")
        host = document.get("host") or doc.netloc
        if not host:
            raise _config("the Swagger document has no host and was not fetched over http(s)", "Invalid document")
        return f"{scheme}://{host}{(document.get('basePath') or '/').rstrip('/')}"
    servers = servers or document.get("servers") or [{"url": "/"}]
    server: Mapping[str, Any] = servers[0] if isinstance(servers, list) and isinstance(servers[0], Mapping) else {"url": "/"}
    url = str(server.get("url") or "/")
    for name, variable in (server.get("variables") or {}).items():
        if isinstance(variable, Mapping) and "default" in variable:
            url = url.replace("{" + name + "}", str(variable["default"]))
    if not urlsplit(url).scheme:
        if not document_url.startswith(("http://", "https://")):
            raise _config(f"the server URL {url!r} is relative and the document was not fetched over http(s)", "Invalid document")
        url = urljoin(document_url, url)
    return url.rstrip("/")


def _param_value(value: Any) -> Any:
    """A parameter as text: booleans as JSON spells them, objects as JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return json.dumps(value, separators=(",", ":"))
    return value


_SEPARATORS = {"csv": ",", "ssv": " ", "tsv": "\t", "pipes": "|", "spaceDelimited": " ", "pipeDelimited": "|"}


def _array(param: Mapping[str, Any], where: str, value: list[Any]) -> Any:
    """An array parameter as the operation serializes it: a list (one query parameter per item)
    for Swagger's ``collectionFormat: multi`` and OpenAPI 3's exploded ``form`` query style
    (its default), else one string joined by the style's separator (Swagger's default is csv)."""
    items = [_param_value(v) for v in value]
    if "collectionFormat" in param or "type" in param:  # Swagger 2.0
        style = param.get("collectionFormat", "csv")
        if style == "multi" and where in ("query", "formData"):
            return items
    else:  # OpenAPI 3
        style = param.get("style", "form" if where in ("query", "cookie") else "simple")
        if style == "form" and where == "query" and param.get("explode", True):
            return items
    return _SEPARATORS.get(style, ",").join(str(item) for item in items)


async def sw_openapi(call: Any) -> Any:
    """``call: openapi``: input ``{document, operationId, parameters?, authentication?, output?,
    redirect?, base?}``."""
    if not isinstance(call, Mapping):
        raise _config("call: openapi takes an object (document, operationId, parameters...)")
    operation_id = call.get("operationId")
    if not isinstance(operation_id, str) or not operation_id:
        raise _config("operationId must be a non-empty string")
    document, url = await load_document(call.get("document"), call.get("base"), "document")
    if "swagger" not in document and "openapi" not in document:
        raise _config(f"{url} is not an OpenAPI document (no 'openapi' or 'swagger' version field)", "Invalid document")
    op = find_operation(document, operation_id)
    parameters = dict(call.get("parameters") or {})
    path, query, headers = op.path, {}, {}
    cookies: list[str] = []
    body: Any = None
    has_body = False
    form: dict[str, Any] | None = None
    missing: list[str] = []
    for param in op.parameters:
        name, where = param.get("name"), param.get("in")
        if not isinstance(name, str):
            continue
        if name not in parameters:
            default = param.get("default", (param.get("schema") or {}).get("default") if isinstance(param.get("schema"), Mapping) else None)
            if param.get("required") or where == "path":
                missing.append(f"{name} (in {where})")
            elif default is not None and where == "query":
                query[name] = _param_value(default)
            continue
        value = parameters.pop(name)
        if isinstance(value, list) and where != "body":
            value = _array(param, str(where), value)
        if where == "path":
            path = path.replace("{" + name + "}", quote(str(_param_value(value)), safe=","))
        elif where == "query":
            query[name] = [_param_value(v) for v in value] if isinstance(value, list) else _param_value(value)
        elif where == "header":
            headers[name] = _param_value(value)
        elif where == "cookie":
            cookies.append(f"{name}={quote(str(_param_value(value)))}")
        elif where == "body":  # Swagger 2
            body, has_body = value, True
        elif where == "formData":  # Swagger 2
            form = {**(form or {}), name: value}
    if op.body is not None:
        if "body" in parameters:
            body, has_body = parameters.pop("body"), True
        elif parameters:  # the remaining parameters are the body's properties
            body, has_body, parameters = parameters, True, {}
        elif op.body.get("required"):
            missing.append("body (the request body)")
    if missing:
        raise ProblemError(
            "validation", title="Missing parameters",
            detail=f"operation {operation_id!r} needs parameter(s) {', '.join(missing)}; give them in with.parameters",
        )  # fmt: skip
    if cookies:
        headers["Cookie"] = "; ".join(cookies)
    if parameters:
        # Parameters the operation does not declare: sent as query parameters, as most
        # runtimes do, rather than silently dropped.
        query.update({k: _param_value(v) for k, v in parameters.items()})
    return await send_sw(
        op.method, base_url(document, url, op.servers) + path, headers=headers, query=query, body=body, has_body=has_body,
        form=form, auth=call.get("authentication"), output=call.get("output") or "content",
        redirect=bool(call.get("redirect", False)), expose=call.get("expose_authorization") is True,
    )  # fmt: skip


# -- AsyncAPI (HTTP publish) ----------------------------------------------------------------------

REACHABLE_PROTOCOLS = ("http", "https")


def _asyncapi_version(document: Mapping[str, Any]) -> int:
    version = str(document.get("asyncapi") or "")
    if version.startswith("2."):
        return 2
    if version.startswith("3."):
        return 3
    raise _config(f"not an AsyncAPI 2.x or 3.x document (asyncapi: {version or 'missing'})", "Invalid document")


def _server_url(server: Mapping[str, Any], version: int, variables: Mapping[str, Any]) -> str:
    if version == 2:
        url = str(server.get("url") or "")
    else:
        host, pathname = str(server.get("host") or ""), str(server.get("pathname") or "")
        url = f"{server.get('protocol', 'http')}://{host}{pathname}" if "://" not in host else host + pathname
    defaults = {k: v.get("default") for k, v in (server.get("variables") or {}).items() if isinstance(v, Mapping)}
    for name, value in {**defaults, **dict(variables)}.items():
        url = url.replace("{" + name + "}", str(value))
    if not urlsplit(url).scheme:
        url = f"{server.get('protocol', 'http')}://{url}"
    return url.rstrip("/")


async def sw_asyncapi(call: Any) -> Any:
    """``call: asyncapi``: publishes ``message`` over an HTTP server of the document. Output: the
    server's answer (deserialized), null when it has no body."""
    if not isinstance(call, Mapping):
        raise _config("call: asyncapi takes an object (document, channel/operation, message...)")
    if call.get("subscription") is not None:
        raise ProblemError(
            "runtime", status=501, title="Not Implemented",
            detail="call: asyncapi subscriptions are not supported yet (only publishing over http); use a listen task for events",
        )  # fmt: skip
    document, _ = await load_document(call.get("document"), call.get("base"), "document")
    version = _asyncapi_version(document)
    servers: Mapping[str, Any] = document.get("servers") or {}
    channels: Mapping[str, Any] = document.get("channels") or {}
    bindings: Mapping[str, Any] = {}
    if version == 2:
        name = call.get("channel")
        channel = channels.get(name) if isinstance(name, str) else None
        if not isinstance(channel, Mapping):
            raise _config(f"channel {name!r} is not in the document; it defines: {', '.join(channels) or 'none'}", "Unknown channel")
        address, allowed = name, channel.get("servers")
        op = channel.get("publish") or channel.get("subscribe") or {}
        bindings = op.get("bindings") or {} if isinstance(op, Mapping) else {}
    else:
        name = call.get("operation")
        operations: Mapping[str, Any] = document.get("operations") or {}
        op = operations.get(name) if isinstance(name, str) else None
        if not isinstance(op, Mapping):
            raise _config(f"operation {name!r} is not in the document; it defines: {', '.join(operations) or 'none'}", "Unknown operation")
        channel = _resolve_ref(document, op.get("channel") or {})
        address = str(channel.get("address") or "") if isinstance(channel, Mapping) else ""
        refs = channel.get("servers") if isinstance(channel, Mapping) else None
        allowed = [str(r.get("$ref", "")).rsplit("/", 1)[-1] for r in refs or [] if isinstance(r, Mapping)] or None
        bindings = op.get("bindings") or {}
    server_call = call.get("server") or {}
    wanted = server_call.get("name") if isinstance(server_call, Mapping) else None
    protocol = call.get("protocol")
    candidates = [n for n in servers if allowed is None or n in allowed]
    if wanted is not None:
        if wanted not in servers:
            raise _config(f"server {wanted!r} is not in the document; it defines: {', '.join(servers) or 'none'}", "Unknown server")
        chosen = wanted
    else:
        matching = [n for n in candidates if protocol is None or servers[n].get("protocol") == protocol]
        if not matching:
            raise _config(f"no server of the document carries this channel{' over ' + protocol if protocol else ''}")
        chosen = matching[0]
    server = servers[chosen]
    server_protocol = str(server.get("protocol") or "").lower()
    if server_protocol not in REACHABLE_PROTOCOLS:
        raise ProblemError(
            "runtime", status=501, title="Not Implemented",
            detail=f"server {chosen!r} speaks {server_protocol or 'an unknown protocol'}; declarative_wf publishes "
            "AsyncAPI messages over http(s) only",
        )  # fmt: skip
    variables = server_call.get("variables") or {} if isinstance(server_call, Mapping) else {}
    url = _server_url(server, version, variables) + "/" + str(address).lstrip("/")
    http_binding = bindings.get("http") if isinstance(bindings, Mapping) else None
    method = str((http_binding or {}).get("method") or "POST").upper()
    message = call.get("message") or {}
    if not isinstance(message, Mapping):
        raise _config("message must be an object {payload, headers}")
    return await send_sw(
        method, url, headers=dict(message.get("headers") or {}), query={}, body=message.get("payload"),
        has_body=message.get("payload") is not None, auth=call.get("authentication"), output="content",
        expose=call.get("expose_authorization") is True,
    )  # fmt: skip


SW_CALL_ACTIVITIES = {"sw_openapi": sw_openapi, "sw_asyncapi": sw_asyncapi}

