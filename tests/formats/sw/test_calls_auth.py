"""Authentication of HTTP-based calls (basic, bearer, digest, OAuth2, OIDC, secrets) against a
local token endpoint and protected resources started by the tests."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from declarative_wf.activities.http import http
from declarative_wf.activities.problems import standard_type
from declarative_wf.activities.sw_calls import sw_openapi

from .call_helpers import problem, run
from .petstore import CLIENT_ID, CLIENT_SECRET, PASSWORD, PRESIGNED_ASSERTION, USERNAME, PetstoreServer

AUTHORITY = "https://auth.example.com"
PROTECTED = "https://auth.example.com/protected"


def call(url: str, auth: Any) -> Any:
    return http({"url": url, "auth": auth, "errors": "problem", "raise_for_status": True})


def oauth2(**overrides: Any) -> dict[str, Any]:
    spec = {"authority": AUTHORITY, "grant": "client_credentials", "client": {"id": CLIENT_ID, "secret": CLIENT_SECRET}}
    return {"oauth2": {**spec, **overrides}}


def test_basic(petstore: PetstoreServer) -> None:
    url = "https://httpbin.org/basic-auth/serverless-workflow/conformance-test"
    ok = run(call(url, {"basic": {"username": "serverless-workflow", "password": "conformance-test"}}))
    assert ok["body"] == {"authenticated": True, "user": "serverless-workflow"}
    error = problem(call(url, {"basic": {"username": "serverless-workflow", "password": "wrong"}}))
    assert error["type"] == standard_type("authentication") and error["status"] == 401


def test_without_credentials_a_401_is_a_communication_error(petstore: PetstoreServer) -> None:
    error = problem(http({"url": "https://httpbin.org/basic-auth/a/b", "errors": "problem", "raise_for_status": True}))
    assert error["type"] == standard_type("communication") and error["status"] == 401


def test_digest(petstore: PetstoreServer) -> None:
    url = "https://httpbin.org/digest-auth/auth/ann/s3cret"
    assert run(call(url, {"digest": {"username": "ann", "password": "s3cret"}}))["status"] == 200
    error = problem(call(url, {"digest": {"username": "ann", "password": "nope"}}))
    assert error["type"] == standard_type("authentication")


def test_bearer(petstore: PetstoreServer) -> None:
    petstore.state.tokens["known-token"] = {"grant": "manual"}
    assert run(call(PROTECTED, {"bearer": {"token": "known-token"}}))["body"]["grant"] == "manual"
    assert run(call(PROTECTED, {"bearer": "known-token"}))["status"] == 200
    assert problem(call(PROTECTED, {"bearer": {"token": "forged"}}))["status"] == 401


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_oauth2_client_credentials_and_token_cache(petstore: PetstoreServer, method: str) -> None:
    before = len(petstore.state.token_requests)
    auth = oauth2(client={"id": CLIENT_ID, "secret": CLIENT_SECRET, "authentication": method}, scopes=["pets:read", "pets:write"])
    first = run(call(PROTECTED, auth))
    second = run(call(PROTECTED, auth))
    assert first["body"]["grant"] == second["body"]["grant"] == "client_credentials"
    assert first["body"]["scope"] == "pets:read pets:write"
    requests = petstore.state.token_requests[before:]
    assert len(requests) == 1, "the token is cached until it expires"
    assert requests[0]["client_auth"] == ("basic" if method == "client_secret_basic" else "post")


def test_oauth2_client_assertions(petstore: PetstoreServer) -> None:
    signed = oauth2(client={"id": CLIENT_ID, "secret": CLIENT_SECRET, "authentication": "client_secret_jwt"})
    assert run(call(PROTECTED, signed))["status"] == 200
    assert petstore.state.token_requests[-1]["client_auth"] == "jwt"
    presigned = oauth2(client={"id": CLIENT_ID, "assertion": PRESIGNED_ASSERTION, "authentication": "private_key_jwt"})
    assert run(call(PROTECTED, presigned))["status"] == 200
    assert petstore.state.token_requests[-1]["client_auth"] == "assertion"
    wrong = oauth2(client={"id": CLIENT_ID, "secret": "not-the-secret", "authentication": "client_secret_jwt"})
    assert problem(call(PROTECTED, wrong))["status"] == 401


def test_oauth2_expired_tokens_are_renewed(petstore: PetstoreServer) -> None:
    petstore.state.token_lifetime = 30  # = the safety margin: expired at once
    try:
        before = len(petstore.state.token_requests)
        run(call(PROTECTED, oauth2()))
        run(call(PROTECTED, oauth2()))
        assert len(petstore.state.token_requests) - before == 2
    finally:
        petstore.state.token_lifetime = 3600


def test_oauth2_password_grant_json_encoding_and_custom_endpoint(petstore: PetstoreServer) -> None:
    auth = oauth2(grant="password", username=USERNAME, password=PASSWORD, endpoints={"token": "/oauth2/token"},
                  request={"encoding": "application/json"})  # fmt: skip
    assert run(call(PROTECTED, auth))["body"] == {"ok": True, "grant": "password", "scope": None, "username": USERNAME}
    assert petstore.state.token_requests[-1]["grant_type"] == "password"


def test_oauth2_refused_token_is_an_authentication_error(petstore: PetstoreServer) -> None:
    wrong_secret = problem(call(PROTECTED, oauth2(client={"id": CLIENT_ID, "secret": "nope"})))
    assert wrong_secret["type"] == standard_type("authentication") and wrong_secret["status"] == 401
    assert "invalid_client" in wrong_secret["detail"]
    wrong_user = problem(call(PROTECTED, oauth2(grant="password", username=USERNAME, password="nope")))
    assert wrong_user["status"] == 401 and "invalid_grant" in wrong_user["detail"]


def test_oidc_discovers_the_token_endpoint(petstore: PetstoreServer) -> None:
    auth = {"oidc": {"authority": AUTHORITY, "grant": "client_credentials", "client": {"id": CLIENT_ID, "secret": CLIENT_SECRET}}}
    assert run(call(PROTECTED, auth))["status"] == 200
    assert any(path == "/.well-known/openid-configuration" for _, path, _ in petstore.state.requests)


@pytest.fixture()
def secrets_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({
        "httpbin": {"username": "serverless-workflow", "password": "conformance-test"},
        "authServer": {"authority": AUTHORITY, "grant": "client_credentials", "client": {"id": CLIENT_ID, "secret": CLIENT_SECRET}},
    }))  # fmt: skip
    monkeypatch.setenv("DWF_SECRETS_FILE", str(path))
    yield path


def test_secret_based_credentials(petstore: PetstoreServer, secrets_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = "https://httpbin.org/basic-auth/serverless-workflow/conformance-test"
    assert run(call(url, {"basic": {"$secret": "httpbin"}}))["status"] == 200
    assert run(call(PROTECTED, {"oauth2": {"$secret": "authServer"}}))["status"] == 200
    monkeypatch.setenv("DWF_SECRET_API_TOKEN", "known-token")  # environment variables work too
    petstore.state.tokens["known-token"] = {"grant": "env"}
    assert run(call(PROTECTED, {"bearer": {"$secret": "api-token"}}))["body"]["grant"] == "env"


def test_missing_secret_is_an_authorization_error(petstore: PetstoreServer, secrets_file: Path) -> None:
    error = problem(call(PROTECTED, {"basic": {"$secret": "nothere"}}))
    assert error["type"] == standard_type("authorization") and error["status"] == 403
    assert "secret 'nothere' not found" in error["detail"]


@pytest.mark.parametrize(
    ("auth", "message"),
    [
        ({"certificate": {}}, "auth must be"),
        ({"basic": {"username": "a"}, "bearer": "t"}, "auth must be"),
        ({"oauth2": {"authority": "ftp://x"}}, "authority must be the http(s) URL"),
        ({"oauth2": {"authority": AUTHORITY, "grant": "implicit"}}, "grant 'implicit' is not supported"),
        ({"oauth2": {"authority": AUTHORITY, "client": {"id": "a", "authentication": "private_key_jwt"}}}, "needs client.assertion"),
        ({"oauth2": {"authority": AUTHORITY, "client": {"id": "a", "authentication": "tls_client_auth"}}}, "not supported"),
    ],
)
def test_malformed_authentication_is_a_configuration_error(petstore: PetstoreServer, auth: Any, message: str) -> None:
    error = problem(call(PROTECTED, auth))
    assert error["type"] == standard_type("configuration") and message in error["detail"]


def test_openapi_call_with_authentication(petstore: PetstoreServer) -> None:
    # The OpenAPI document and the operation both sit behind the routed petstore host; the
    # credentials go with the operation call.
    result = run(sw_openapi({
        "document": {"endpoint": "https://petstore.swagger.io/v2/swagger.json"}, "operationId": "getPetById",
        "parameters": {"petId": 1}, "authentication": oauth2(), "output": "response",
    }))  # fmt: skip
    assert result["content"]["id"] == 1
    _, _, headers = petstore.state.requests[-1]
    assert headers["authorization"].startswith("Bearer ")
    assert "authorization" not in result["request"]["headers"], "credentials are not echoed into the output"
