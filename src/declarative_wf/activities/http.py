"""The built-in ``http`` activity (httpx), registered in every worker.

Input::

    {"method": "POST", "url": "https://api.example.com/orders",
     "headers": {...}?, "query": {...}?, "body": <JSON or string>?, "form": {...}?,
     "timeout": 30?, "follow_redirects": true?, "expect": "json"|"text"|"raw"?,
     "raise_for_status": false?, "auth": AUTH?, "errors": "exceptions"|"problem"?,
     "echo_request": false?}

``AUTH`` is basic, bearer, digest, OAuth2 or OIDC (see :mod:`.auth`). With ``"errors": "problem"``
failures are raised as :class:`~.problems.ProblemError` (Serverless Workflow's Problem Details:
``communication`` with the answer's status, ``authentication`` 401 / ``authorization`` 403 when
the call carried credentials, ``timeout`` 408), and ``raise_for_status`` follows the
specification's ``redirect`` rule: any status outside 200–299 is an error, except 3xx when
``follow_redirects`` is true. ``echo_request`` adds
``"request": {"method", "uri", "headers"}`` (what was sent, before host routing) to the result.

**Host routing.** ``DWF_HTTP_ROUTES="petstore.swagger.io=http://127.0.0.1:8080,..."`` or
:func:`set_http_routes` send requests for a host to another base URL (tests, offline runs,
proxies) while definitions keep their real URLs.

Result: ``{"status": 200, "headers": {lower-case name: value}, "body": ...}``. The body is
parsed JSON when the response says it is JSON, text when it is text, base64 otherwise (or as
``expect`` says). A 4xx/5xx answer is a *result*, not an error — the workflow decides —
unless ``raise_for_status`` is true. Failures raise exceptions whose class names are the error
types workflows match on: ``HTTPError`` (status >= 400 with ``raise_for_status``),
``HTTPConnectionError``, ``HTTPTimeout``, ``HTTPTooManyRedirects``, ``HTTPInvalidRequest``,
``HTTPInvalidResponse``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

from . import auth as _auth_module
from .auth import AuthError, AuthSpec, SecretNotFound, TokenRequestFailed, parse_auth
from .problems import ProblemError

DEFAULT_TIMEOUT_SECONDS = 60.0
MAX_TIMEOUT_SECONDS = 3600.0
#: How much of an error response's body goes into the HTTPError message.
ERROR_BODY_CHARS = 200

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # an HTTP method is a token (RFC 9110)
#: Fields that format compilers set for their own error and output models (Serverless
#: Workflow's Problem errors and ``output: response``); not offered to DSL users.
FORMAT_KEYS = frozenset({"errors", "echo_request", "expose_authorization"})
_KNOWN_KEYS = frozenset(
    {
        "method", "url", "headers", "query", "body", "form", "timeout", "follow_redirects", "expect",
        "raise_for_status", "auth",
    }
) | FORMAT_KEYS

Expect = Literal["auto", "json", "text", "raw"]


class HTTPInvalidRequest(ValueError):
    """The activity input is not a request we can send (bad URL, scheme, method, field)."""


class HTTPError(Exception):
    """The server answered 4xx/5xx and the request asked for ``raise_for_status``."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.status = status


class HTTPConnectionError(Exception):
    """The request could not be sent or the answer not received (DNS, refused, reset...)."""


class HTTPTimeout(Exception):
    """No complete answer within the request's ``timeout``."""


class HTTPTooManyRedirects(Exception):
    """The server kept redirecting."""


class HTTPInvalidResponse(Exception):
    """The answer is not what ``expect`` asked for (e.g. not JSON)."""


@dataclass(frozen=True)
class HTTPRequest:
    method: str
    url: str
    headers: dict[str, str] = field(default_factory=dict)
    query: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    has_body: bool = False
    form: dict[str, Any] | None = None
    timeout: float = DEFAULT_TIMEOUT_SECONDS
    follow_redirects: bool = True
    expect: Expect = "auto"
    raise_for_status: bool = False
    auth: AuthSpec | None = None
    #: "problem": failures raise ProblemError (Serverless Workflow) instead of this module's errors.
    errors: Literal["exceptions", "problem"] = "exceptions"
    echo_request: bool = False
    #: Add ``authorization: {scheme, parameter}`` (the Authorization header sent) to the
    #: result: Serverless Workflow's ``$authorization``, asked for only by a task whose
    #: ``output.as`` / ``export.as`` uses it (the result, so the credential, enters the history).
    expose_authorization: bool = False


def redact(url: str) -> str:
    """The URL without ``user:password@``, for messages (history and logs are not secret)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<invalid URL>"
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


def parse_request(value: Any) -> HTTPRequest:
    if not isinstance(value, dict):
        raise HTTPInvalidRequest(f"the http activity takes an object with at least a url, not {type(value).__name__}")
    unknown = sorted(set(value) - _KNOWN_KEYS)
    if unknown:
        raise HTTPInvalidRequest(f"unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(_KNOWN_KEYS))}")
    url = value.get("url")
    if not isinstance(url, str) or not url:
        raise HTTPInvalidRequest("the request needs a url (a string)")
    try:
        parts = urlsplit(url)
    except ValueError as error:
        raise HTTPInvalidRequest(f"invalid url {redact(url)!r}: {error}") from None
    # Only http(s): no file://, ftp:// or other schemes a definition could use to read the host.
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise HTTPInvalidRequest(f"only http:// and https:// URLs with a host are allowed, not {redact(url)!r}")
    method = value.get("method", "GET")
    if not isinstance(method, str) or not _TOKEN.match(method):
        raise HTTPInvalidRequest(f"invalid method {method!r}")
    timeout = value.get("timeout", DEFAULT_TIMEOUT_SECONDS)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not 0 < timeout <= MAX_TIMEOUT_SECONDS:
        raise HTTPInvalidRequest(f"timeout must be a number of seconds in (0, {MAX_TIMEOUT_SECONDS:g}], not {timeout!r}")
    expect: Expect = value.get("expect") or "auto"
    if expect not in ("auto", "json", "text", "raw"):
        raise HTTPInvalidRequest(f"expect must be json, text or raw, not {expect!r}")
    form = value.get("form")
    if form is not None and not isinstance(form, dict):
        raise HTTPInvalidRequest("form must be an object of field names to values")
    has_body = value.get("body") is not None
    if has_body and form is not None:
        raise HTTPInvalidRequest("give either body or form, not both")
    errors: Literal["exceptions", "problem"] = value.get("errors") or "exceptions"
    if errors not in ("exceptions", "problem"):
        raise HTTPInvalidRequest(f"errors must be exceptions or problem, not {errors!r}")
    try:
        auth = parse_auth(value.get("auth"))
    except AuthError as error:
        raise HTTPInvalidRequest(str(error)) from None
    return HTTPRequest(
        method=method.upper(),
        url=url,
        headers=_headers(value.get("headers")),
        query=_query(value.get("query")),
        body=value.get("body"),
        has_body=has_body,
        form=form,
        timeout=float(timeout),
        follow_redirects=_flag(value, "follow_redirects", True),
        expect=expect,
        raise_for_status=_flag(value, "raise_for_status", False),
        auth=auth,
        errors=errors,
        echo_request=_flag(value, "echo_request", False),
        expose_authorization=_flag(value, "expose_authorization", False),
    )


def _flag(value: dict[str, Any], key: str, default: bool) -> bool:
    flag = value.get(key, default)
    if flag is None:
        return default
    if not isinstance(flag, bool):
        raise HTTPInvalidRequest(f"{key} must be true or false, not {flag!r}")
    return flag


def _scalar(value: Any, what: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise HTTPInvalidRequest(f"{what} must be a string, number or boolean, not {type(value).__name__}")


def _headers(value: Any) -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise HTTPInvalidRequest("headers must be an object of header names to values")
    out = {}
    for name, item in value.items():
        if item is None:
            continue
        text = _scalar(item, f"header {name!r}")
        if "\r" in text or "\n" in text:  # no header injection
            raise HTTPInvalidRequest(f"header {name!r} contains a line break")
        out[str(name)] = text
    return out


def _query(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise HTTPInvalidRequest("query must be an object of parameter names to values")
    out: dict[str, Any] = {}
    for name, item in value.items():
        if item is None:
            continue
        if isinstance(item, list):
            out[str(name)] = [_scalar(x, f"query parameter {name!r}") for x in item]
        else:
            out[str(name)] = _scalar(item, f"query parameter {name!r}")
    return out


# -- sending ------------------------------------------------------------------------------------

# One client (connection pool) per event loop: the SDK runs async activities on its worker's
# loop, and httpx connections belong to the loop that opened them.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient] = weakref.WeakKeyDictionary()


def _client() -> httpx.AsyncClient:
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None or client.is_closed:
        client = _clients[loop] = httpx.AsyncClient()
    return client


# -- host routing -------------------------------------------------------------------------------

ROUTES_ENV = "DWF_HTTP_ROUTES"
_routes: dict[str, str] = {}
_routes_lock = threading.Lock()


def _parse_routes(text: str) -> dict[str, str]:
    routes: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        host, sep, target = item.partition("=")
        if not sep or not host.strip() or not target.strip().startswith(("http://", "https://")):
            raise HTTPInvalidRequest(
                f"{ROUTES_ENV} entry {item.strip()!r} is not HOST=http(s)://TARGET "
                "(e.g. petstore.swagger.io=http://127.0.0.1:8080)"
            )
        routes[host.strip().lower()] = target.strip().rstrip("/")
    return routes


def set_http_routes(routes: Mapping[str, str] | None) -> None:
    """Routes requests for each host (``"petstore.swagger.io"`` or ``"host:port"``) to a base URL
    (``"http://127.0.0.1:8080"``, optionally with a path prefix). Replaces the routes set before;
    None or ``{}`` removes them. ``$DWF_HTTP_ROUTES`` is read on every request and applies to
    hosts these routes do not name."""
    parsed = _parse_routes(",".join(f"{host}={target}" for host, target in (routes or {}).items()))
    with _routes_lock:
        _routes.clear()
        _routes.update(parsed)


def http_routes() -> dict[str, str]:
    """The routes in force: ``$DWF_HTTP_ROUTES`` overlaid with :func:`set_http_routes`."""
    routes = _parse_routes(os.environ.get(ROUTES_ENV, ""))
    with _routes_lock:
        routes.update(_routes)
    return routes


def routed(url: str) -> str:
    """``url`` with scheme, host and port replaced when a route names its host."""
    routes = http_routes()
    if not routes:
        return url
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    target = routes.get(f"{host}:{parts.port}") if parts.port else None
    target = target or routes.get(host)
    if target is None:
        return url
    base = urlsplit(target)
    return urlunsplit(parts._replace(scheme=base.scheme, netloc=base.netloc, path=base.path.rstrip("/") + parts.path))


async def raw_request(method: str, url: str, **kwargs: Any) -> httpx.Response:
    """One request through the shared client and the host routes (token requests, documents)."""
    return await _client().request(method, routed(url), **kwargs)


# -- sending ----------------------------------------------------------------------------------------


async def send(request: HTTPRequest) -> dict[str, Any]:
    """Sends ``request``; returns ``{"status", "headers", "body"}`` (+ ``request``) or raises
    one of this module's exceptions (or ProblemError with ``errors: problem``)."""
    if request.errors == "problem":
        try:
            return await _send(request)
        except ProblemError:
            raise
        except HTTPError as error:
            raise problem_for_status(request, error.status, str(error)) from None
        except HTTPTimeout as error:
            raise ProblemError("timeout", title="Request timed out", detail=str(error)) from None
        except HTTPInvalidRequest as error:
            raise ProblemError("configuration", title="Invalid request", detail=str(error)) from None
        except (HTTPConnectionError, HTTPTooManyRedirects, HTTPInvalidResponse) as error:
            raise ProblemError("communication", status=500, title=type(error).__name__, detail=str(error)) from None
    return await _send(request)


def problem_for_status(request: HTTPRequest, status: int, detail: str) -> ProblemError:
    """The Problem for an answer with ``status`` (SW: ``communication``, or ``authentication`` /
    ``authorization`` for a 401 / 403 to a request that carried credentials)."""
    from http import HTTPStatus

    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = f"HTTP {status}"
    # With credentials, a 401/403 is an authentication/authorization failure (SW error types).
    if request.auth is not None and status == 401:
        return ProblemError("authentication", status=401, title=title, detail=detail)
    if request.auth is not None and status == 403:
        return ProblemError("authorization", status=403, title=title, detail=detail)
    return ProblemError("communication", status=status, title=title, detail=detail)


async def _send(request: HTTPRequest) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    headers = dict(request.headers)
    if request.has_body:
        if isinstance(request.body, str):
            kwargs["content"] = request.body.encode()
            if not any(name.lower() == "content-type" for name in headers):
                headers["Content-Type"] = "text/plain; charset=utf-8"
        else:
            kwargs["json"] = request.body
    elif request.form is not None:
        kwargs["data"] = {str(k): _scalar(v, f"form field {k!r}") for k, v in request.form.items()}
    where = f"{request.method} {redact(request.url)}"
    try:
        auth = await _auth_module.httpx_auth(request.auth, raw_request)
    except TokenRequestFailed as error:
        if request.errors == "problem":
            raise ProblemError("authentication", status=401, title="Unauthorized", detail=str(error)) from None
        raise HTTPError(f"{where}: {error}", error.status or 401) from None
    try:
        async with asyncio.timeout(request.timeout):  # a deadline for the whole exchange
            response = await _client().request(
                request.method,
                routed(request.url),
                headers=headers,
                params=request.query or None,
                auth=auth,
                follow_redirects=request.follow_redirects,
                timeout=request.timeout,
                **kwargs,
            )
    except (TimeoutError, httpx.TimeoutException):
        raise HTTPTimeout(f"{where}: no answer within {request.timeout:g} seconds") from None
    except httpx.TooManyRedirects:
        raise HTTPTooManyRedirects(f"{where}: too many redirects") from None
    except (httpx.UnsupportedProtocol, httpx.InvalidURL) as error:
        raise HTTPInvalidRequest(f"{where}: {error}") from None
    except httpx.DecodingError as error:
        raise HTTPInvalidResponse(f"{where}: cannot decode the answer: {error}") from None
    except httpx.HTTPError as error:
        detail = str(error) or type(error).__name__
        raise HTTPConnectionError(f"{where}: {detail}") from None
    body = _body(response, request.expect, where)
    # Serverless Workflow (errors: problem): outside 200-299 is an error, 300-399 too unless
    # redirects are followed (its `redirect` property); otherwise 400 and above.
    limit = 400 if request.errors != "problem" or request.follow_redirects else 300
    if request.raise_for_status and not 200 <= response.status_code < limit:
        snippet = response.text[:ERROR_BODY_CHARS] if response.content else ""
        message = f"{where} answered {response.status_code} {response.reason_phrase}"
        raise HTTPError(f"{message}: {snippet}" if snippet else message, response.status_code)
    result: dict[str, Any] = {"status": response.status_code, "headers": dict(response.headers.items()), "body": body}
    if request.echo_request:
        # The first request of a redirect chain is the one the task made.
        first = response.history[0].request if response.history else response.request
        # The URL as the definition wrote it (before routing), headers without credentials.
        uri = str(httpx.URL(request.url, params=request.query or None))
        sent_headers = {k: v for k, v in first.headers.items() if k.lower() != "authorization"}
        if "host" in sent_headers:  # the host the definition named, not the route's target
            sent_headers["host"] = urlsplit(request.url).netloc.rsplit("@", 1)[-1]
        result["request"] = {"method": first.method, "uri": redact(uri), "headers": sent_headers}
    if request.expose_authorization:
        # The last request of the exchange carries the credentials (digest answers a challenge).
        result["authorization"] = _auth_module.descriptor(response.request.headers.get("authorization"))
    return result


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or media.endswith("+json")


def _is_text(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return (
        media.startswith("text/")
        or media.endswith("+xml")
        or media in ("application/xml", "application/javascript", "application/x-www-form-urlencoded", "")
    )


def _body(response: httpx.Response, expect: Expect, where: str) -> Any:
    content = response.content
    content_type = response.headers.get("content-type", "")
    if expect == "raw":
        return base64.b64encode(content).decode("ascii")
    if expect == "text":
        return response.text
    if not content:
        return None
    if expect == "json" or _is_json(content_type):
        try:
            return json.loads(response.text)
        except ValueError:
            if expect == "json":
                raise HTTPInvalidResponse(
                    f"{where} answered {response.status_code} with a body that is not JSON "
                    f"(content type {content_type or 'none'})"
                ) from None
            return response.text  # it claimed JSON but is not: still show what came back
    if _is_text(content_type):
        try:
            return content.decode(response.encoding or "utf-8")
        except (LookupError, UnicodeDecodeError):
            pass
    return base64.b64encode(content).decode("ascii")


async def http(request: Any) -> dict[str, Any]:
    """The ``http`` activity."""
    problem = isinstance(request, dict) and request.get("errors") == "problem"
    try:
        parsed = parse_request(request)
    except SecretNotFound as error:
        if problem:  # SW: a secret that cannot be found is an authorization error
            raise ProblemError("authorization", title="Secret not found", detail=str(error)) from None
        raise HTTPInvalidRequest(str(error)) from None
    except HTTPInvalidRequest as error:
        if problem:
            raise ProblemError("configuration", title="Invalid request", detail=str(error)) from None
        raise
    return await send(parsed)
