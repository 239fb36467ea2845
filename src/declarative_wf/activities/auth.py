"""Authentication for the built-in HTTP-based activities: basic, bearer, digest, OAuth2 and OIDC.

An ``auth`` value is one of::

    {"basic": {"username": U, "password": P}}
    {"bearer": TOKEN}  |  {"bearer": {"token": TOKEN}}
    {"digest": {"username": U, "password": P}}
    {"oauth2": {"authority": URL, "grant": "client_credentials" | "password" | ...,
                "client": {"id", "secret", "assertion", "authentication": "client_secret_basic" |
                           "client_secret_post" | "client_secret_jwt" | "private_key_jwt" | "none"},
                "endpoints": {"token": "/oauth2/token"}, "scopes": [...], "audiences": [...],
                "username", "password", "subject", "actor", "request": {"encoding": ...}}}
    {"oidc": {...the same without endpoints: the token endpoint comes from discovery...}}

Any scheme's properties may instead be ``{"$secret": NAME}`` (or SW's ``{"use": NAME}``): the activity reads them from the
secrets provider (:func:`resolve_secret`) when it runs, so secret values never enter the
workflow's history.

OAuth2 tokens are cached per process until shortly before they expire, keyed by everything that
shapes the token request, so a workflow calling one API a thousand times asks for one token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import time
from collections.abc import Awaitable, Callable, Generator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

__all__ = [
    "AuthError",
    "AuthSpec",
    "OAuth2Spec",
    "SecretNotFound",
    "clear_token_cache",
    "descriptor",
    "parse_auth",
    "resolve_secret",
]

#: Seconds before a token's announced expiry at which we stop using it (clock skew, latency).
EXPIRY_MARGIN_SECONDS = 30.0
#: Lifetime assumed when the token endpoint gives no ``expires_in``.
DEFAULT_TOKEN_SECONDS = 300.0
DEFAULT_TOKEN_ENDPOINT = "/oauth2/token"
CLIENT_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "client_secret_jwt", "private_key_jwt", "none")
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Lifetime of the client assertions we sign (client_secret_jwt).
ASSERTION_SECONDS = 300
GRANTS = ("client_credentials", "password", "refresh_token", "urn:ietf:params:oauth:grant-type:token-exchange")


class AuthError(ValueError):
    """The auth value is malformed (a definition or input problem, not a server answer)."""


class SecretNotFound(LookupError):
    """A ``{"$secret": NAME}`` names a secret no provider has."""


class TokenRequestFailed(Exception):
    """The token endpoint refused or could not be reached: an authentication failure."""

    def __init__(self, message: str, status: int | None) -> None:
        super().__init__(message)
        self.status = status


# -- secrets ------------------------------------------------------------------------------------

SECRETS_FILE_ENV = "DWF_SECRETS_FILE"
SECRET_ENV_PREFIX = "DWF_SECRET_"


def resolve_secret(name: str) -> Any:
    """The value of secret ``name``: from the JSON/YAML mapping in ``$DWF_SECRETS_FILE``, else
    the environment variable ``DWF_SECRET_<name>`` (as written, or upper case with ``-``/``.``
    → ``_``; a JSON value is parsed, anything else is a string). The same sources as the
    ``$secrets`` of Serverless Workflow expressions, read at each call. Raises :class:`SecretNotFound`."""
    path = os.environ.get(SECRETS_FILE_ENV)
    if path:
        secrets = _secrets_file(path)
        if name in secrets:
            return secrets[name]
    env_name = SECRET_ENV_PREFIX + "".join(c if c.isalnum() else "_" for c in name).upper()
    raw = os.environ.get(SECRET_ENV_PREFIX + name, os.environ.get(env_name))
    if raw is not None:
        try:
            return json.loads(raw)
        except ValueError:
            return raw
    where = f"{SECRETS_FILE_ENV} ({path})" if path else f"{SECRETS_FILE_ENV} (not set)"
    raise SecretNotFound(f"secret {name!r} not found in {where} nor in the environment variable {env_name}")


def _secrets_file(path: str) -> dict[str, Any]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise SecretNotFound(f"cannot read the secrets file {path}: {error.strerror}") from None
    import yaml  # JSON is YAML too

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        raise SecretNotFound(f"the secrets file {path} is not JSON or YAML") from None
    return data if isinstance(data, dict) else {}


def _with_secrets(value: Any) -> Any:
    """``value`` with every ``{"$secret": NAME}`` replaced by the secret."""
    if isinstance(value, dict):
        if set(value) == {"$secret"} and isinstance(value["$secret"], str):
            return resolve_secret(value["$secret"])
        return {key: _with_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_with_secrets(item) for item in value]
    return value


# -- parsing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OAuth2Spec:
    authority: str
    grant: str
    oidc: bool = False
    token_endpoint: str = DEFAULT_TOKEN_ENDPOINT
    client_id: str | None = None
    client_secret: str | None = None
    client_assertion: str | None = None
    client_auth: str = "client_secret_basic"
    encoding: str = "application/x-www-form-urlencoded"
    scopes: tuple[str, ...] = ()
    audiences: tuple[str, ...] = ()
    username: str | None = None
    password: str | None = None
    subject: Any = None
    actor: Any = None

    def cache_key(self) -> str:
        # Hashed so the cache never holds secrets in clear as keys of a debuggable dict.
        return hashlib.sha256(json.dumps(self.__dict__, sort_keys=True, default=str).encode()).hexdigest()


@dataclass(frozen=True)
class AuthSpec:
    scheme: str  # basic | bearer | digest | oauth2 | oidc
    username: str = ""
    password: str = ""
    token: str = ""
    oauth2: OAuth2Spec | None = None
    extra: dict[str, Any] = field(default_factory=dict)


SCHEMES = ("basic", "bearer", "digest", "oauth2", "oidc")
USAGE = (
    'auth must be {"basic": {"username", "password"}}, {"bearer": TOKEN}, {"digest": {"username", "password"}}, '
    '{"oauth2": {"authority", "grant", "client": {...}}} or {"oidc": {...}}'
)


def parse_auth(value: Any) -> AuthSpec | None:
    """Checks an ``auth`` value and resolves its secrets. Raises :class:`AuthError` or
    :class:`SecretNotFound`."""
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in SCHEMES:
        raise AuthError(USAGE)
    scheme, props = next(iter(value.items()))
    if isinstance(props, dict) and set(props) == {"use"} and isinstance(props["use"], str):
        props = resolve_secret(props["use"])  # SW's secret-based form, {basic: {use: SECRET}}
    props = _with_secrets(props)
    if scheme == "bearer":
        token = props.get("token") if isinstance(props, dict) else props
        if not isinstance(token, str) or not token:
            raise AuthError(f"{USAGE}; the bearer token must be a non-empty string")
        return AuthSpec("bearer", token=token)
    if not isinstance(props, dict):
        raise AuthError(f"{USAGE}; {scheme} takes an object")
    if scheme in ("basic", "digest"):
        username, password = props.get("username"), props.get("password", "")
        if not isinstance(username, str) or not username or not isinstance(password, str):
            raise AuthError(f"{USAGE}; {scheme} needs a username and a password (strings)")
        return AuthSpec(scheme, username=username, password=password)
    return AuthSpec(scheme, oauth2=_oauth2(props, oidc=scheme == "oidc"))


def _text(props: Mapping[str, Any], key: str, what: str) -> str | None:
    value = props.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise AuthError(f"{what}.{key} must be a string, not {type(value).__name__}")
    return value


def _names(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(value.split())
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise AuthError(f"{what} must be a list of strings")


def _oauth2(props: Mapping[str, Any], *, oidc: bool) -> OAuth2Spec:
    what = "oidc" if oidc else "oauth2"
    authority = _text(props, "authority", what)
    if not authority or not authority.startswith(("http://", "https://")):
        raise AuthError(f"{what}.authority must be the http(s) URL of the authorization server")
    grant = _text(props, "grant", what) or "client_credentials"
    if grant not in GRANTS:
        raise AuthError(f"{what}.grant {grant!r} is not supported; use one of {', '.join(GRANTS)}")
    if grant == "password" and not props.get("username"):
        raise AuthError(f"{what}: the password grant needs a username and a password")
    client = props.get("client") or {}
    if not isinstance(client, dict):
        raise AuthError(f"{what}.client must be an object (id, secret, authentication)")
    client_auth = _text(client, "authentication", f"{what}.client") or "client_secret_basic"
    if client_auth not in CLIENT_AUTH_METHODS:
        raise AuthError(
            f"{what}.client.authentication {client_auth!r} is not supported; use one of {', '.join(CLIENT_AUTH_METHODS)}"
        )
    if client_auth == "private_key_jwt" and not client.get("assertion"):
        raise AuthError(f"{what}: private_key_jwt needs client.assertion (a JWT signed with the client's key)")
    if client_auth == "client_secret_jwt" and not (client.get("id") and client.get("secret")):
        raise AuthError(f"{what}: client_secret_jwt needs client.id and client.secret")
    endpoints = props.get("endpoints") or {}
    if not isinstance(endpoints, dict):
        raise AuthError(f"{what}.endpoints must be an object")
    request = props.get("request") or {}
    encoding = (request.get("encoding") if isinstance(request, dict) else None) or "application/x-www-form-urlencoded"
    if encoding not in ("application/x-www-form-urlencoded", "application/json"):
        raise AuthError(f"{what}.request.encoding must be application/x-www-form-urlencoded or application/json")
    return OAuth2Spec(
        authority=authority.rstrip("/"),
        grant=grant,
        oidc=oidc,
        token_endpoint=_text(endpoints, "token", f"{what}.endpoints") or DEFAULT_TOKEN_ENDPOINT,
        client_id=_text(client, "id", f"{what}.client"),
        client_secret=_text(client, "secret", f"{what}.client"),
        client_assertion=_text(client, "assertion", f"{what}.client"),
        client_auth=client_auth,
        encoding=encoding,
        scopes=_names(props.get("scopes"), f"{what}.scopes"),
        audiences=_names(props.get("audiences"), f"{what}.audiences"),
        username=_text(props, "username", what),
        password=_text(props, "password", what),
        subject=props.get("subject"),
        actor=props.get("actor"),
    )


# -- tokens -------------------------------------------------------------------------------------

_tokens: dict[str, tuple[str, float]] = {}  # cache key -> (access token, monotonic expiry)
_discovered: dict[str, str] = {}  # OIDC authority -> token endpoint
_lock = threading.Lock()

Send = Callable[..., Awaitable[httpx.Response]]


def clear_token_cache() -> None:
    """Forgets every cached token and discovered endpoint (tests, credential rotation)."""
    with _lock:
        _tokens.clear()
        _discovered.clear()


async def access_token(spec: OAuth2Spec, send: Send) -> str:
    """A valid access token for ``spec``: from the cache, or from the token endpoint.
    ``send(method, url, **httpx kwargs)`` performs requests (so host routing applies).
    Raises :class:`TokenRequestFailed`."""
    key = spec.cache_key()
    with _lock:
        cached = _tokens.get(key)
    if cached is not None and cached[1] > time.monotonic():
        return cached[0]
    url = await _token_url(spec, send)
    data: dict[str, Any] = {"grant_type": spec.grant}
    if spec.scopes:
        data["scope"] = " ".join(spec.scopes)
    if spec.audiences:
        data["audience"] = " ".join(spec.audiences)
    if spec.grant == "password":
        data["username"], data["password"] = spec.username or "", spec.password or ""
    for name, value in (("subject_token", spec.subject), ("actor_token", spec.actor)):
        if value is not None:
            data[name] = value.get("token") if isinstance(value, dict) else value
    kwargs: dict[str, Any] = {}
    if spec.client_auth in ("client_secret_jwt", "private_key_jwt"):  # RFC 7523 client assertions
        if spec.client_id is not None:
            data["client_id"] = spec.client_id
        data["client_assertion_type"] = JWT_BEARER
        data["client_assertion"] = spec.client_assertion or _signed_assertion(spec, url)
    elif spec.client_id is not None:
        if spec.client_auth == "client_secret_basic":
            kwargs["auth"] = httpx.BasicAuth(spec.client_id, spec.client_secret or "")
        else:  # client_secret_post, or none: the id (and secret) go in the body
            data["client_id"] = spec.client_id
            if spec.client_auth == "client_secret_post" and spec.client_secret is not None:
                data["client_secret"] = spec.client_secret
    elif spec.client_assertion is not None:
        data["client_assertion_type"] = JWT_BEARER
        data["client_assertion"] = spec.client_assertion
    if spec.encoding == "application/json":
        kwargs["json"] = data
    else:
        kwargs["data"] = data
    try:
        response = await send("POST", url, headers={"Accept": "application/json"}, **kwargs)
    except httpx.HTTPError as error:
        raise TokenRequestFailed(f"token request to {url} failed: {error or type(error).__name__}", None) from None
    if response.status_code >= 400:
        raise TokenRequestFailed(
            f"token endpoint {url} answered {response.status_code} {response.reason_phrase}: {response.text[:200]}",
            response.status_code,
        )
    try:
        body = response.json()
        token = body["access_token"]
        lifetime = float(body.get("expires_in") or DEFAULT_TOKEN_SECONDS)
    except (ValueError, KeyError, TypeError):
        raise TokenRequestFailed(f"token endpoint {url} answered without an access_token", response.status_code) from None
    if not isinstance(token, str) or not token:
        raise TokenRequestFailed(f"token endpoint {url} answered an empty access_token", response.status_code)
    with _lock:
        _tokens[key] = (token, time.monotonic() + max(0.0, lifetime - EXPIRY_MARGIN_SECONDS))
    return token


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _signed_assertion(spec: OAuth2Spec, audience: str) -> str:
    """A client_secret_jwt assertion (RFC 7523): HS256 over the client secret, for the token URL."""
    import hmac
    import secrets as random_ids

    now = int(time.time())
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    claims = {"iss": spec.client_id, "sub": spec.client_id, "aud": audience, "iat": now,
              "exp": now + ASSERTION_SECONDS, "jti": random_ids.token_hex(12)}  # fmt: skip
    payload = _b64url(json.dumps(claims, separators=(",", ":")).encode())
    signature = hmac.new((spec.client_secret or "").encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url(signature)}"


async def _token_url(spec: OAuth2Spec, send: Send) -> str:
    if not spec.oidc:
        token = spec.token_endpoint
        return token if token.startswith(("http://", "https://")) else spec.authority + "/" + token.lstrip("/")
    with _lock:
        known = _discovered.get(spec.authority)
    if known:
        return known
    url = spec.authority + "/.well-known/openid-configuration"
    endpoint: Any
    try:
        response = await send("GET", url)
        endpoint = response.json()["token_endpoint"] if response.status_code == 200 else None
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        endpoint = None
    if not isinstance(endpoint, str) or not endpoint:
        raise TokenRequestFailed(f"OIDC discovery at {url} gave no token_endpoint", None)
    with _lock:
        _discovered[spec.authority] = endpoint
    return endpoint


def descriptor(header: str | None) -> dict[str, str] | None:
    """Serverless Workflow's authorization descriptor ``{scheme, parameter}`` of an
    Authorization header value (``Bearer abc`` → scheme ``Bearer``, parameter ``abc``); None
    without credentials."""
    if not header:
        return None
    scheme, _, parameter = header.strip().partition(" ")
    return {"scheme": scheme, "parameter": parameter.strip()}


def static_header(spec: AuthSpec) -> str | None:
    """The Authorization header of a spec known without talking to a server (basic, bearer);
    None for digest (challenge-based) and OAuth2 / OIDC (a token must be fetched)."""
    if spec.scheme == "basic":
        raw = f"{spec.username}:{spec.password}".encode()
        return "Basic " + base64.b64encode(raw).decode("ascii")
    if spec.scheme == "bearer":
        return f"Bearer {spec.token}"
    return None


class StaticAuth(httpx.Auth):
    """Sets one Authorization header (bearer, or a fetched OAuth2 token)."""

    def __init__(self, header: str) -> None:
        self.header = header

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = self.header
        yield request


async def httpx_auth(spec: AuthSpec | None, send: Send) -> httpx.Auth | None:
    """The httpx auth for ``spec`` (fetching an OAuth2 token first when needed)."""
    if spec is None:
        return None
    if spec.scheme == "basic":
        return httpx.BasicAuth(spec.username, spec.password)
    if spec.scheme == "digest":
        return httpx.DigestAuth(spec.username, spec.password)
    if spec.scheme == "bearer":
        return StaticAuth(f"Bearer {spec.token}")
    assert spec.oauth2 is not None
    return StaticAuth(f"Bearer {await access_token(spec.oauth2, send)}")
