"""The built-in ``http`` activity (httpx), registered in every worker.

Input::

    {"method": "POST", "url": "https://api.example.com/orders",
     "headers": {...}?, "query": {...}?, "body": <JSON or string>?, "form": {...}?,
     "timeout": 30?, "follow_redirects": true?, "expect": "json"|"text"|"raw"?,
     "raise_for_status": false?, "auth": {"basic": {"username", "password"}} | {"bearer": TOKEN}?}

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
import re
import weakref
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import httpx

DEFAULT_TIMEOUT_SECONDS = 60.0
MAX_TIMEOUT_SECONDS = 3600.0
#: How much of an error response's body goes into the HTTPError message.
ERROR_BODY_CHARS = 200

_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # an HTTP method is a token (RFC 9110)
_KNOWN_KEYS = frozenset(
    {"method", "url", "headers", "query", "body", "form", "timeout", "follow_redirects", "expect", "raise_for_status", "auth"}
)

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
    auth: httpx.Auth | None = None


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
        auth=_auth(value.get("auth")),
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


def _auth(value: Any) -> httpx.Auth | None:
    if value is None:
        return None
    if isinstance(value, dict) and set(value) == {"basic"} and isinstance(value["basic"], dict):
        basic = value["basic"]
        username, password = basic.get("username"), basic.get("password", "")
        if isinstance(username, str) and isinstance(password, str):
            return httpx.BasicAuth(username, password)
    if isinstance(value, dict) and set(value) == {"bearer"} and isinstance(value["bearer"], str) and value["bearer"]:
        return _Bearer(value["bearer"])
    raise HTTPInvalidRequest('auth must be {"basic": {"username", "password"}} or {"bearer": TOKEN}')


class _Bearer(httpx.Auth):
    def __init__(self, token: str) -> None:
        self._header = f"Bearer {token}"

    def auth_flow(self, request: httpx.Request):  # type: ignore[no-untyped-def]
        request.headers["Authorization"] = self._header
        yield request


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


async def send(request: HTTPRequest) -> dict[str, Any]:
    """Sends ``request``; returns ``{"status", "headers", "body"}`` or raises one of this
    module's exceptions."""
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
        async with asyncio.timeout(request.timeout):  # a deadline for the whole exchange
            response = await _client().request(
                request.method,
                request.url,
                headers=headers,
                params=request.query or None,
                auth=request.auth,
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
    if request.raise_for_status and response.status_code >= 400:
        snippet = response.text[:ERROR_BODY_CHARS] if response.content else ""
        message = f"{where} answered {response.status_code} {response.reason_phrase}"
        raise HTTPError(f"{message}: {snippet}" if snippet else message, response.status_code)
    return {"status": response.status_code, "headers": dict(response.headers.items()), "body": body}


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
    return await send(parse_request(request))
