"""Secret-based credentials reach the server but never the workflow's history: the engine's
database files do not contain them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import declarative_wf
from declarative_wf.formats.sw import runtime

from .petstore import PetstoreServer

pytestmark = pytest.mark.integration

TOKEN = "tok-Sup3rS3cret-4711"


def test_secret_credentials_stay_out_of_the_history(petstore: PetstoreServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"apiToken": {"token": TOKEN}}))
    monkeypatch.setenv("DWF_SECRETS_FILE", str(secrets))
    runtime.reset_secrets()
    petstore.state.tokens[TOKEN] = {"grant": "secret"}
    definition = tmp_path / "secret.sw.yaml"
    definition.write_text("""document: {dsl: '1.0.3', namespace: test, name: secret-auth, version: '0.1.0'}
use:
  secrets: [apiToken]
do:
  - viaHttp:
      call: http
      with:
        method: get
        endpoint:
          uri: https://auth.example.com/protected
          authentication: {bearer: {use: apiToken}}
        output: response
  - viaOpenApi:
      call: openapi
      with:
        document: {endpoint: https://petstore.swagger.io/v2/swagger.json}
        operationId: getPetById
        parameters: {petId: 1}
        authentication: {bearer: {use: apiToken}}
        output: response
""")
    db = tmp_path / "wf.db"
    try:
        result = declarative_wf.run(str(definition), {}, db=str(db))
    finally:
        runtime.reset_secrets()
    assert result.status == "COMPLETED", result.error
    assert result.output["content"]["id"] == 1
    sent = {path: headers.get("authorization") for _, path, headers in petstore.state.requests if path in ("/protected", "/v2/pet/1")}
    assert sent == {"/protected": f"Bearer {TOKEN}", "/v2/pet/1": f"Bearer {TOKEN}"}
    for path in tmp_path.glob("wf.db*"):
        assert TOKEN.encode() not in path.read_bytes(), f"the secret is in {path.name}"
