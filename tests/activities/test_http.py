"""The built-in http activity against a real local server."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from typing import Any

import pytest

from declarative_wf.activities.http import (
    HTTPConnectionError,
    HTTPError,
    HTTPInvalidRequest,
    HTTPInvalidResponse,
    HTTPTimeout,
    HTTPTooManyRedirects,
    http,
    redact,
)

from .server import Server


def call(request: Any) -> dict[str, Any]:
    return asyncio.run(http(request))


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get"])
def test_methods(server: Server, method: str) -> None:
    result = call({"method": method, "url": f"{server.url}/echo"})
    assert result["status"] == 200
    assert result["body"]["method"] == method.upper()
    assert result["headers"]["content-type"] == "application/json"


def test_head_has_no_body(server: Server) -> None:
    result = call({"method": "HEAD", "url": f"{server.url}/echo"})
    assert result["status"] == 200 and result["body"] is None


def test_json_body_query_and_headers(server: Server) -> None:
    result = call(
        {
            "method": "POST",
            "url": f"{server.url}/echo",
            "query": {"a": 1, "b": ["x", "y"], "c": True, "skip": None},
            "headers": {"X-Trace": "t-1", "X-Number": 7},
            "body": {"order": 42, "items": ["é"]},
        }
    )
    echo = result["body"]
    assert echo["query"] == {"a": ["1"], "b": ["x", "y"], "c": ["true"]}
    assert echo["headers"]["x-trace"] == "t-1" and echo["headers"]["x-number"] == "7"
    assert echo["headers"]["content-type"] == "application/json"
    assert json.loads(echo["body"]) == {"order": 42, "items": ["é"]}


def test_string_body_and_form(server: Server) -> None:
    text = call({"method": "POST", "url": f"{server.url}/echo", "body": "plain words"})["body"]
    assert text["body"] == "plain words" and text["headers"]["content-type"].startswith("text/plain")
    custom = call({"method": "POST", "url": f"{server.url}/echo", "body": "<a/>", "headers": {"Content-Type": "application/xml"}})
    assert custom["body"]["headers"]["content-type"] == "application/xml"
    form = call({"method": "POST", "url": f"{server.url}/echo", "form": {"name": "a b", "n": 2}})["body"]
    assert form["body"] == "name=a+b&n=2"
    assert form["headers"]["content-type"] == "application/x-www-form-urlencoded"


def test_response_bodies(server: Server) -> None:
    assert call({"url": f"{server.url}/text"})["body"] == "héllo"
    raw = call({"url": f"{server.url}/bytes"})["body"]
    assert base64.b64decode(raw) == bytes(range(256))
    empty = call({"url": f"{server.url}/empty"})
    assert (empty["status"], empty["body"]) == (204, None)
    # Claims JSON but is not: the text, unless JSON was demanded.
    assert call({"url": f"{server.url}/badjson"})["body"] == "{not json"
    with pytest.raises(HTTPInvalidResponse, match="not JSON"):
        call({"url": f"{server.url}/badjson", "expect": "json"})
    assert call({"url": f"{server.url}/echo", "expect": "text"})["body"].startswith("{")
    assert base64.b64decode(call({"url": f"{server.url}/text", "expect": "raw"})["body"]) == "héllo".encode()


def test_auth(server: Server) -> None:
    basic = call({"url": f"{server.url}/echo", "auth": {"basic": {"username": "ann", "password": "s3cret"}}})
    expected = "Basic " + base64.b64encode(b"ann:s3cret").decode()
    assert basic["body"]["headers"]["authorization"] == expected
    bearer = call({"url": f"{server.url}/echo", "auth": {"bearer": "tok-1"}})
    assert bearer["body"]["headers"]["authorization"] == "Bearer tok-1"
    with pytest.raises(HTTPInvalidRequest, match="auth must be"):
        call({"url": f"{server.url}/echo", "auth": {"digest": {}}})


def test_credentials_do_not_follow_a_redirect_to_another_origin(server: Server) -> None:
    result = call({"url": f"{server.url}/redirect-other-host", "auth": {"bearer": "tok-1"}})
    assert result["status"] == 200
    assert "authorization" not in result["body"]["headers"]


def test_error_statuses_are_results_by_default(server: Server) -> None:
    result = call({"url": f"{server.url}/status/503"})
    assert result["status"] == 503 and result["body"] == {"error": "status 503"}


def test_raise_for_status(server: Server) -> None:
    with pytest.raises(HTTPError, match="404") as caught:
        call({"url": f"{server.url}/status/404", "raise_for_status": True})
    assert caught.value.status == 404
    assert type(caught.value).__name__ == "HTTPError"  # the error type workflows match on
    assert call({"url": f"{server.url}/status/201", "raise_for_status": True})["status"] == 201


def test_redirects(server: Server) -> None:
    followed = call({"url": f"{server.url}/redirect"})
    assert followed["status"] == 200 and followed["body"]["query"] == {"redirected": ["1"]}
    kept = call({"url": f"{server.url}/redirect", "follow_redirects": False})
    assert kept["status"] == 302 and kept["headers"]["location"] == "/echo?redirected=1"
    with pytest.raises(HTTPTooManyRedirects):
        call({"url": f"{server.url}/redirect-loop"})
    with pytest.raises(HTTPInvalidRequest):
        call({"url": f"{server.url}/redirect-file"})


def test_timeout(server: Server) -> None:
    with pytest.raises(HTTPTimeout, match="0.2 seconds"):
        call({"url": f"{server.url}/slow?seconds=1", "timeout": 0.2})


def test_connection_refused() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(HTTPConnectionError, match=f"GET http://127.0.0.1:{port}/"):
        call({"url": f"http://127.0.0.1:{port}/"})


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        ({"url": "file:///etc/passwd"}, "only http:// and https://"),
        ({"url": "ftp://example.com/x"}, "only http:// and https://"),
        ({"url": "http:///nohost"}, "only http:// and https://"),
        ({"method": "GET"}, "needs a url"),
        ("http://example.com", "takes an object"),
        ({"url": "http://x", "method": "BAD METHOD"}, "invalid method"),
        ({"url": "http://x", "timeout": 0}, "timeout must be"),
        ({"url": "http://x", "expect": "xml"}, "expect must be"),
        ({"url": "http://x", "follow_redirects": "yes"}, "follow_redirects must be"),
        ({"url": "http://x", "headers": {"X": "a\r\nInjected: 1"}}, "line break"),
        ({"url": "http://x", "body": {}, "form": {}}, "either body or form"),
        ({"url": "http://x", "bogus": 1}, "unknown field"),
    ],
)
def test_invalid_requests(request_: Any, message: str) -> None:
    with pytest.raises(HTTPInvalidRequest, match=message):
        call(request_)


def test_messages_never_show_url_credentials() -> None:
    assert redact("https://user:pw@example.com/a?b=1") == "https://example.com/a?b=1"
    with pytest.raises(HTTPInvalidRequest) as caught:
        call({"url": "ftp://user:pw@example.com/"})
    assert "pw" not in str(caught.value)
