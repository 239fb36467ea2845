"""0.8 rest functions: OpenAPI operations called over real HTTP (a server on 127.0.0.1)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from ...httpserver import JsonHandler, LocalServer, serving
from .helpers import definition, run_text

pytestmark = pytest.mark.integration

# -- rest functions: OpenAPI operations over real HTTP ---------------------------------------------


class _Api(JsonHandler):
    def do_GET(self) -> None:
        if self.path.startswith("/vault/"):
            expected = "Basic " + base64.b64encode(b"ann:s3cret").decode()
            if self.headers.get("Authorization") != expected:
                self._json(401, {"message": "who are you?"})
            else:
                self._json(200, {"secret": self.path.rsplit("/", 1)[-1]})
        elif self.path.startswith("/pets/"):
            pet = self.path.rsplit("/", 1)[-1]
            if pet == "missing":
                self._json(404, {"message": "no such pet"})
            else:
                self._json(200, {"id": pet, "name": f"pet {pet}"})
        else:
            self._json(404, {"message": "unknown path"})


@pytest.fixture
def pet_api(tmp_path: Path) -> Iterator[Path]:
    with serving(LocalServer(_Api)) as server:
        document = {
            "openapi": "3.0.0", "info": {"title": "pets", "version": "1"},
            "servers": [{"url": server.url}],
            "paths": {
                "/pets/{petId}": {"get": {
                    "operationId": "getPet",
                    "parameters": [{"name": "petId", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "a pet"}},
                }},
                "/vault/{key}": {"get": {
                    "operationId": "readVault",
                    "parameters": [{"name": "key", "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {"200": {"description": "a secret"}},
                }},
            },
        }  # fmt: skip
        (tmp_path / "petstore.json").write_text(json.dumps(document), encoding="utf-8")
        yield tmp_path


REST = definition(
    "pets",
    """\
functions:
  - name: getPet
    operation: file://petstore.json#getPet
errors:
  - { name: Pet not found, code: "404" }
states:
  - name: Fetch
    type: operation
    actions:
      - functionRef: { refName: getPet, arguments: { petId: "${ .id }" } }
        actionDataFilter: { toStateData: "${ .pet }" }
    onErrors:
      - errorRef: Pet not found
        transition: Unknown
    end: true
  - name: Unknown
    type: inject
    data: { unknown: true }
    end: true
""",
)


def test_rest_function_calls_the_openapi_operation(pet_api: Path) -> None:
    found = run_text(pet_api, REST, {"id": "7"})
    assert (found.status, found.output) == (
        "COMPLETED",
        {"id": "7", "pet": {"id": "7", "name": "pet 7"}},
    ), found
    missing = run_text(pet_api, REST, {"id": "missing"})
    assert (missing.status, missing.output) == (
        "COMPLETED",
        {"id": "missing", "unknown": True},
    ), missing


def test_rest_function_with_basic_auth(pet_api: Path) -> None:
    text = definition(
        "vault",
        """\
auth:
  - { name: vault-login, scheme: basic, properties: { username: ann, password: PASSWORD } }
functions:
  - { name: readVault, operation: "petstore.json#readVault", authRef: vault-login }
errors:
  - { name: Unauthorized, code: "401" }
states:
  - name: Read
    type: operation
    actions:
      - functionRef: { refName: readVault, arguments: { key: k1 } }
    onErrors: [ { errorRef: Unauthorized, transition: Denied } ]
    end: true
  - { name: Denied, type: inject, data: { denied: true }, end: true }
""",
    )
    allowed = run_text(pet_api, text.replace("PASSWORD", "s3cret"), {})
    assert (allowed.status, allowed.output) == ("COMPLETED", {"secret": "k1"}), allowed
    denied = run_text(pet_api, text.replace("PASSWORD", "wrong"), {})
    assert (denied.status, denied.output) == ("COMPLETED", {"denied": True}), denied
