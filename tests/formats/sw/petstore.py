"""A real HTTP server on 127.0.0.1 standing in for the hosts the Serverless Workflow CTK and our
call tests reach: petstore.swagger.io, httpbin.org, an OAuth2/OIDC authority and an AsyncAPI
HTTP broker. Definitions keep their real URLs; tests route the hosts here with
``declarative_wf.activities.http.set_http_routes`` (see :func:`routes`).

Routes (``/v2`` = Swagger 2.0 base path, ``/api/v3`` = the OpenAPI 3 variant's server):

* ``GET  {base}/pet/findByStatus?status=S`` → pets with that status
* ``GET  {base}/pet/{id}`` → the pet, or 404 (``/pet/getPetByName/...`` is a 404, as on the real site)
* ``POST {base}/pet`` → the JSON body echoed with ``id`` 100
* ``GET  /v2/swagger.json``, ``GET /api/v3/openapi.json`` → the fixture documents
* ``GET  /flaky/{key}?fail=N`` → 503 for the first N calls with that key, then 200 ``{"attempts"}``
* ``GET  /delay/{seconds}`` → 200 after that many seconds (httpbin)
* ``GET  /redirect-to-pet`` → 302 to ``/v2/pet/1``
* ``GET  /basic-auth/{user}/{password}`` → 200 only with those Basic credentials (httpbin)
* ``GET  /digest-auth/auth/{user}/{password}`` → RFC 7616 MD5 digest challenge/check (httpbin)
* ``POST /oauth2/token`` → client_credentials / password grants (client ``app``/``app-secret``
  via Basic, form, an HS256 client_secret_jwt or :data:`PRESIGNED_ASSERTION`; user ``ann``/``pw``); ``GET /.well-known/openid-configuration``
* ``GET  /protected`` → 200 with a token this server issued, else 401
* ``POST|PUT /broker/{channel}`` → an AsyncAPI HTTP publish: records the message, answers 202
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

from ...httpserver import JsonHandler, LocalServer, serving

FIXTURES = Path(__file__).parent / "fixtures"
PETS = [
    {"id": 1, "name": "Milou", "status": "available", "category": {"id": 1, "name": "dogs"}},
    {"id": 2, "name": "Idefix", "status": "available"},
    {"id": 3, "name": "Garfield", "status": "sold"},
    {"id": 4, "name": "Snoopy", "status": "pending"},
]
CLIENT_ID, CLIENT_SECRET = "app", "app-secret"
#: A client assertion the token endpoint accepts as if signed with the client's private key.
PRESIGNED_ASSERTION = "eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJhcHAifQ.c2lnbmVk"
USERNAME, PASSWORD = "ann", "pw"
#: The public names the routed hosts are known by in definitions.
HOSTS = ("petstore.swagger.io", "petstore3.swagger.io", "httpbin.org", "auth.example.com", "broker.example.com")


@dataclass
class State:
    tokens: dict[str, dict[str, Any]] = field(default_factory=dict)  # token -> grant info
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    published: list[dict[str, Any]] = field(default_factory=list)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    token_lifetime: int = 3600
    flaky: dict[str, int] = field(default_factory=dict)  # key -> calls so far
    lock: threading.Lock = field(default_factory=threading.Lock)


class Handler(JsonHandler):
    server: PetstoreServer

    def _dispatch(self) -> None:
        path, query, body = self._request()
        state = self.server.state
        with state.lock:
            state.requests.append((self.command, self.path, {k.lower(): v for k, v in self.headers.items()}))
        base = re.match(r"^/(v2|api/v3)(/.*)$", path)
        if path == "/v2/swagger.json":
            self._send(200, (FIXTURES / "petstore-swagger.json").read_bytes(), "application/json")
        elif path == "/api/v3/openapi.json":
            self._send(200, (FIXTURES / "petstore-openapi3.json").read_bytes(), "application/json")
        elif base:
            self._pets(base.group(2), query, body)
        elif path.startswith("/flaky/"):  # fails the first ?fail=N calls per key with 503
            key = path[len("/flaky/"):]
            with state.lock:
                state.flaky[key] = state.flaky.get(key, 0) + 1
                count = state.flaky[key]
            if count <= int(query.get("fail", ["2"])[0]):
                self._json(503, {"attempt": count, "error": "try again"})
            else:
                self._json(200, {"attempts": count})
        elif path.startswith("/delay/"):  # httpbin: answers after N seconds
            time.sleep(float(path.rsplit("/", 1)[1]))
            self._json(200, {"delayed": True})
        elif path == "/redirect-to-pet":  # httpbin-like: a relative redirect to pet 1
            self._send(302, headers={"Location": "/v2/pet/1"})
        elif path.startswith("/basic-auth/"):
            self._basic(path)
        elif path.startswith("/digest-auth/auth/"):
            self._digest(path)
        elif path == "/oauth2/token" and self.command == "POST":
            self._token(body)
        elif path == "/.well-known/openid-configuration":
            self._json(200, {"issuer": "https://auth.example.com", "token_endpoint": "https://auth.example.com/oauth2/token"})
        elif path == "/protected":
            self._protected()
        elif path.startswith("/broker/") and self.command in ("POST", "PUT"):
            with state.lock:
                headers = {k.lower(): v for k, v in self.headers.items()}
                message = {"channel": unquote(path[len("/broker/"):]), "headers": headers, "body": json.loads(body or b"null")}
                state.published.append(message)
            self._send(202)
        else:
            self._json(404, {"code": 404, "type": "unknown", "message": "not found"})

    def _pets(self, rest: str, query: dict[str, list[str]], body: bytes) -> None:
        if rest == "/pet/findByStatus" and self.command == "GET":
            wanted = set(",".join(query.get("status", ["available"])).split(","))
            self._json(200, [pet for pet in PETS if pet["status"] in wanted])
        elif rest == "/pet" and self.command == "POST":
            pet = json.loads(body or b"{}")
            self._json(200, {**pet, "id": 100})
        elif re.fullmatch(r"/pet/\d+", rest) and self.command == "GET":
            pet_id = int(rest.rsplit("/", 1)[1])
            found = next((pet for pet in PETS if pet["id"] == pet_id), None)
            if found is None:
                self._json(404, {"code": 1, "type": "error", "message": "Pet not found"})
            else:
                self._json(200, found)
        else:
            self._json(404, {"code": 404, "type": "unknown", "message": "not found"})

    def _basic(self, path: str) -> None:
        user, _, password = path[len("/basic-auth/"):].partition("/")
        expected = "Basic " + base64.b64encode(f"{unquote(user)}:{unquote(password)}".encode()).decode()
        if self.headers.get("Authorization") == expected:
            self._json(200, {"authenticated": True, "user": unquote(user)})
        else:
            self._json(401, {"authenticated": False}, {"WWW-Authenticate": 'Basic realm="Fake Realm"'})

    def _digest(self, path: str) -> None:
        user, _, password = path[len("/digest-auth/auth/"):].partition("/")
        header = self.headers.get("Authorization", "")
        if header.startswith("Digest "):
            fields = dict(re.findall(r'(\w+)="?([^",]*)"?', header[len("Digest "):]))
            ha1 = hashlib.md5(f"{user}:{fields.get('realm')}:{password}".encode()).hexdigest()
            ha2 = hashlib.md5(f"{self.command}:{fields.get('uri')}".encode()).hexdigest()
            expected = hashlib.md5(
                f"{ha1}:{fields.get('nonce')}:{fields.get('nc')}:{fields.get('cnonce')}:{fields.get('qop')}:{ha2}".encode()
            ).hexdigest()
            if fields.get("username") == user and fields.get("response") == expected:
                self._json(200, {"authenticated": True, "user": user})
                return
        challenge = f'Digest realm="me@example.com", nonce="{secrets.token_hex(8)}", qop="auth", algorithm=MD5'
        self._json(401, {"authenticated": False}, {"WWW-Authenticate": challenge})

    def _token(self, body: bytes) -> None:
        content_type = self.headers.get("Content-Type", "")
        form: dict[str, Any]
        if content_type.startswith("application/json"):
            form = json.loads(body or b"{}")
        else:
            form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        client_id, client_secret, how = form.get("client_id"), form.get("client_secret"), "post"
        header = self.headers.get("Authorization", "")
        if header.startswith("Basic "):
            client_id, _, client_secret = base64.b64decode(header[6:]).decode().partition(":")
            how = "basic"
        elif form.get("client_assertion_type") == "urn:ietf:params:oauth:client-assertion-type:jwt-bearer":
            how, client_secret = self._assertion(str(form.get("client_assertion", "")))
            client_id = client_id or CLIENT_ID
        state = self.server.state
        with state.lock:
            state.token_requests.append({**form, "client_auth": how, "client_id": client_id})
        if client_id != CLIENT_ID or client_secret != CLIENT_SECRET:
            self._json(401, {"error": "invalid_client"})
            return
        grant = form.get("grant_type")
        if grant == "password" and (form.get("username"), form.get("password")) != (USERNAME, PASSWORD):
            self._json(400, {"error": "invalid_grant"})
            return
        if grant not in ("client_credentials", "password"):
            self._json(400, {"error": "unsupported_grant_type"})
            return
        token = secrets.token_urlsafe(12)
        with state.lock:
            state.tokens[token] = {"grant": grant, "scope": form.get("scope"), "username": form.get("username")}
        self._json(200, {"access_token": token, "token_type": "Bearer", "expires_in": state.token_lifetime})

    @staticmethod
    def _assertion(assertion: str) -> tuple[str, str | None]:
        """``(how, the client secret it proves)``: a pre-signed assertion, or an HS256 JWT signed
        with the client secret for this token endpoint and not expired."""
        if assertion == PRESIGNED_ASSERTION:
            return "assertion", CLIENT_SECRET
        try:
            header, payload, signature = assertion.split(".")
            expected = hmac.new(CLIENT_SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            given = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        except ValueError:
            return "jwt", None
        valid = hmac.compare_digest(given, expected) and claims.get("iss") == CLIENT_ID and claims["exp"] > time.time()
        return "jwt", CLIENT_SECRET if valid and str(claims.get("aud", "")).endswith("/oauth2/token") else None

    def _protected(self) -> None:
        header = self.headers.get("Authorization", "")
        grant = self.server.state.tokens.get(header[7:]) if header.startswith("Bearer ") else None
        if grant is None:
            self._json(401, {"error": "invalid_token"}, {"WWW-Authenticate": "Bearer"})
        else:
            self._json(200, {"ok": True, **grant})

    do_GET = do_POST = do_PUT = do_DELETE = _dispatch


class PetstoreServer(LocalServer):
    def __init__(self) -> None:
        super().__init__(Handler)
        self.state = State()

    def routes(self) -> dict[str, str]:
        """Every public host of :data:`HOSTS` → this server."""
        return {host: self.url for host in HOSTS}


@contextmanager
def running_petstore() -> Iterator[PetstoreServer]:
    with serving(PetstoreServer(), "test-petstore") as server:
        yield server
