"""``$authorization`` end to end on the real engine, against the local stand-in server: in
``output.as`` / ``export.as`` (every scheme, returned by the call activity only when asked for),
in the task definition (basic / bearer, resolved by the orchestrator), refused where it cannot
be known, and kept out of the history when no expression uses it."""

from __future__ import annotations

import base64
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import declarative_wf
from declarative_wf.formats.sw import runtime
from declarative_wf.runner import RunResult

from .greeter import PROTO, SERVICE, running_greeter
from .petstore import PetstoreServer
from .run_helpers import diagnostics, write

pytestmark = pytest.mark.integration

BASIC_URL = "https://httpbin.org/basic-auth/ann/s3cret-pw"
BASIC = {"scheme": "Basic", "parameter": base64.b64encode(b"ann:s3cret-pw").decode()}
TOKEN = "tok-authz-4242"


def _login(output_as: str) -> str:
    """A task (its YAML, unindented) that logs in with Basic credentials, its output ``output_as``."""
    return f"""\
call: http
with:
  method: get
  endpoint:
    uri: {BASIC_URL}
    authentication: {{basic: {{username: ann, password: s3cret-pw}}}}
output:
  as: '{output_as}'
"""


def _login_task(auth: str) -> str:
    """A definition that only logs in; ``auth`` is what its output makes of ``$authorization``."""
    return "do:\n  - login:\n" + textwrap.indent(_login(f"{{user: .user, auth: {auth}}}"), " " * 6)


def _history_holds(tmp_path: Path, text: str) -> bool:
    return any(text.encode() in path.read_bytes() for path in tmp_path.glob("run.db*"))


def _completed(tmp_path: Path, body: str, input: Any = None) -> RunResult:
    """Runs the definition (default activities, history in run.db) and checks it completed."""
    result = declarative_wf.run(write(tmp_path, body), {} if input is None else input, db=tmp_path / "run.db")
    assert result.status == "COMPLETED", result.error
    return result


def test_output_as_sees_the_basic_credentials_sent(tmp_path: Path, petstore: PetstoreServer) -> None:
    result = _completed(tmp_path, _login_task("$authorization"))
    assert result.output == {"user": "ann", "auth": BASIC}


def test_export_as_sees_a_digest_authorization_and_later_tasks_get_null(tmp_path: Path, petstore: PetstoreServer) -> None:
    result = _completed(tmp_path, """
        do:
          - login:
              call: http
              with:
                method: get
                endpoint:
                  uri: https://httpbin.org/digest-auth/auth/ann/s3cret
                  authentication: {digest: {username: ann, password: s3cret}}
              export:
                as: '{scheme: $authorization.scheme, hasResponse: ($authorization.parameter | contains("response="))}'
          - after:
              set: { ctx: '${ $context }', here: '${ $authorization }' }
    """)
    assert result.output == {"ctx": {"scheme": "Digest", "hasResponse": True}, "here": None}


def test_without_a_mention_the_credentials_stay_out_of_the_history(tmp_path: Path, petstore: PetstoreServer) -> None:
    _completed(tmp_path, _login_task("null"))
    assert not _history_holds(tmp_path, BASIC["parameter"])
    for file in tmp_path.glob("run.db*"):
        file.unlink()
    asked = _completed(tmp_path, _login_task("$authorization"))
    assert asked.output["auth"] == BASIC
    assert _history_holds(tmp_path, BASIC["parameter"]), "asked for: the call's result carries it"


def test_the_task_definition_sees_a_bearer_secret_resolved_before_the_call(
    tmp_path: Path, petstore: PetstoreServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"apiToken": {"token": TOKEN}}))
    monkeypatch.setenv("DWF_SECRETS_FILE", str(secrets))
    runtime.reset_secrets()
    petstore.state.tokens[TOKEN] = {"grant": "secret"}
    body = """
        use:
          secrets: [apiToken]
        do:
          - call:
              call: http
              with:
                method: get
                headers:
                  X-Auth-Scheme: ${ $authorization.scheme }
                endpoint:
                  uri: https://auth.example.com/protected
                  authentication: {bearer: {use: apiToken}}
    """
    try:
        _completed(tmp_path, body)
    finally:
        runtime.reset_secrets()
    sent = [headers for _, where, headers in petstore.state.requests if where == "/protected"][-1]
    assert sent["x-auth-scheme"] == "Bearer" and sent["authorization"] == f"Bearer {TOKEN}"
    assert not _history_holds(tmp_path, TOKEN)


def test_the_task_definition_sees_basic_credentials_from_expressions(tmp_path: Path, petstore: PetstoreServer) -> None:
    _completed(tmp_path, f"""
        do:
          - login:
              call: http
              with:
                method: get
                headers:
                  X-Echo: ${{ $authorization.scheme + " " + $authorization.parameter }}
                endpoint:
                  uri: {BASIC_URL}
                  authentication: {{basic: {{username: '${{ .user }}', password: s3cret-pw}}}}
    """, {"user": "ann"})
    sent = [headers for _, where, headers in petstore.state.requests if where.startswith("/basic-auth/")][-1]
    assert sent["x-echo"] == sent["authorization"] == "Basic " + BASIC["parameter"]


def test_the_task_definition_cannot_use_it_with_digest_or_oauth2() -> None:
    found = diagnostics("""
        do:
          - call:
              call: http
              with:
                method: get
                headers: { X-A: '${ $authorization.parameter }' }
                endpoint:
                  uri: https://httpbin.org/digest-auth/auth/ann/s3cret
                  authentication: {digest: {username: ann, password: s3cret}}
    """)
    assert any(d.code == "SW-E113" and "only with basic or bearer" in d.message for d in found), found
    assert any("output.as or export.as" in (d.hint or "") for d in found)


def test_openapi_output_as_sees_the_bearer_token(tmp_path: Path, petstore: PetstoreServer) -> None:
    petstore.state.tokens[TOKEN] = {"grant": "manual"}
    result = _completed(tmp_path, f"""
        do:
          - pet:
              call: openapi
              with:
                document: {{endpoint: https://petstore.swagger.io/v2/swagger.json}}
                operationId: getPetById
                parameters: {{petId: 1}}
                authentication: {{bearer: {{token: {TOKEN}}}}}
              output:
                as: '{{id: .id, auth: $authorization}}'
    """)
    assert result.output == {"id": 1, "auth": {"scheme": "Bearer", "parameter": TOKEN}}


def test_a_use_functions_call_sees_its_own_authorization(tmp_path: Path, petstore: PetstoreServer) -> None:
    login = textwrap.indent(_login("{user: .user, scheme: $authorization.scheme}"), " " * 6)
    result = _completed(tmp_path, "use:\n  functions:\n    login:\n" + login + """
do:
  - viaFunction:
      call: login
      output:
        as: '. + {outside: $authorization}'
""")
    assert result.output == {"user": "ann", "scheme": "Basic", "outside": None}


def test_authorization_is_null_where_the_task_has_no_authentication(tmp_path: Path) -> None:
    result = _completed(tmp_path, "do:\n  - s:\n      set: { a: '${ $authorization }' }\n")
    assert result.output == {"a": None}


@pytest.fixture(scope="module")
def grpc_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    with running_greeter(tmp_path_factory.mktemp("generated")) as port:
        yield port


def test_grpc_export_as_sees_the_metadata_credentials(tmp_path: Path, grpc_port: int) -> None:
    result = _completed(tmp_path, f"""
        do:
          - hello:
              call: grpc
              with:
                proto: {{endpoint: '{PROTO.as_uri()}'}}
                service:
                  name: {SERVICE}
                  host: 127.0.0.1
                  port: {grpc_port}
                  authentication: {{basic: {{username: u, password: p}}}}
                method: SayHello
                arguments: {{name: Ann}}
              export:
                as: '$authorization'
          - after:
              set: {{ sent: '${{ .authorization }}', ctx: '${{ $context }}' }}
    """)
    assert result.output == {"sent": "Basic dTpw", "ctx": {"scheme": "Basic", "parameter": "dTpw"}}
