"""End-to-end runs of call: http (against a real local server), call: <function> (use.functions
entries and the user's Python activities) and run: workflow (child workflows)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

import declarative_wf
from declarative_wf.activities.registry import Registry

from .petstore import PetstoreServer
from .run_helpers import definition, run_completed, run_sw, write

pytestmark = pytest.mark.integration

STD = "https://serverlessworkflow.io/spec/1.0.0/errors/"


HTTP_RUNS = [
    pytest.param(
        """
            do:
              - one:
                  call: http
                  with:
                    method: get
                    endpoint: https://petstore.swagger.io/v2/pet/{petId}
                  output:
                    as: .name
              - many:
                  call: http
                  with:
                    method: get
                    endpoint:
                      uri: https://petstore.swagger.io/v2/pet/findByStatus
                    query:
                      status: ${ "sold" }
                  output:
                    as: '[$input, (. | map(.name))]'
        """,
        {"petId": 2},
        ["Idefix", ["Garfield"]],
        id="call-http-content-with-uri-template-and-query",
    ),
    pytest.param(
        """
            do:
              - follow:
                  call: http
                  with:
                    method: get
                    endpoint: https://httpbin.org/redirect-to-pet
                    redirect: true
                  output:
                    as: .id
        """,
        None,
        1,
        id="call-http-redirects-only-when-asked",
    ),
    pytest.param(
        """
            use:
              functions:
                getPet:
                  call: http
                  with:
                    method: get
                    endpoint: https://petstore.swagger.io/v2/pet/{petId}
                  output:
                    as: .name
            do:
              - first:
                  call: getPet
                  with:
                    petId: ${ .ids[0] }
              - second:
                  call: getPet
                  with:
                    petId: 3
                  output:
                    as: '[$input, .]'
        """,
        {"ids": [1]},
        ["Milou", "Garfield"],
        id="call-function-from-use-functions-with-arguments",
    ),
]


@pytest.mark.parametrize(("body", "input", "output"), HTTP_RUNS)
def test_calls_to_the_stand_in_server(tmp_path: Path, petstore: PetstoreServer, body: str, input: Any, output: Any) -> None:
    """Each row: a definition calling the petstore / httpbin stand-in, its input, its output."""
    assert run_completed(tmp_path, body, input).output == output


def test_call_http_response_and_raw_outputs(tmp_path: Path, petstore: PetstoreServer) -> None:
    result = run_sw(tmp_path, """
        do:
          - response:
              call: http
              with:
                method: get
                endpoint: https://petstore.swagger.io/v2/pet/1
                output: response
              export:
                as: '{response: .}'
          - raw:
              call: http
              with:
                method: get
                endpoint: https://petstore.swagger.io/v2/pet/1
                output: raw
              output:
                as: '{raw: ., response: $context.response}'
    """)
    response = result.output["response"]
    assert response["statusCode"] == 200 and response["content"]["id"] == 1
    assert response["request"]["method"] == "GET" and response["request"]["uri"] == "https://petstore.swagger.io/v2/pet/1"
    assert response["headers"]["content-type"] == "application/json"
    import base64
    import json

    assert json.loads(base64.b64decode(result.output["raw"]))["name"] == "Milou"


def test_call_http_post_body_with_expressions(tmp_path: Path, petstore: PetstoreServer) -> None:
    result = run_sw(tmp_path, """
        do:
          - create:
              call: http
              with:
                method: post
                endpoint: https://petstore.swagger.io/v2/pet
                headers:
                  X-Trace: ${ .trace }
                body:
                  name: ${ .name }
                  status: available
    """, {"name": "Rex", "trace": "t-1"})
    assert result.output == {"name": "Rex", "status": "available", "id": 100}
    sent = [headers for method, path, headers in petstore.state.requests if method == "POST"]
    assert sent[-1]["x-trace"] == "t-1"


def test_call_http_non_2xx_is_a_communication_error_with_the_status(tmp_path: Path, petstore: PetstoreServer) -> None:
    result = run_sw(tmp_path, """
        do:
          - wrapper:
              do:
                - missing:
                    call: http
                    with:
                      method: get
                      endpoint: https://petstore.swagger.io/v2/pet/999
    """)
    assert result.status == "FAILED"
    assert result.error["type"] == STD + "communication" and result.error["status"] == 404
    assert result.error["title"] == "Not Found" and result.error["instance"] == "/do/0/wrapper/do/0/missing"


def test_call_a_registered_python_activity(tmp_path: Path) -> None:
    def greet(args: dict[str, Any]) -> dict[str, str]:
        return {"greeting": f"Hello {args['name']}"}

    result = run_sw(tmp_path, """
        do:
          - hello:
              call: greet
              with:
                name: ${ .user }
    """, {"user": "Ann"}, activities=[greet])
    assert result.output == {"greeting": "Hello Ann"}


def test_call_an_unregistered_activity_is_refused_before_starting(tmp_path: Path) -> None:
    from declarative_wf.runner import MissingActivityError

    with pytest.raises(MissingActivityError, match="nobody"):
        run_sw(tmp_path, """
            do:
              - hello:
                  call: nobody
        """)


CHILD = """
input:
  from: '{x: .n}'
do:
  - double:
      set:
        y: ${ .x * 2 }
output:
  as: .y
"""


def test_run_workflow_found_next_to_the_definition(tmp_path: Path) -> None:
    (tmp_path / "child.sw.yaml").write_text(definition(CHILD, name="child").replace("version: '1.0.0'", "version: '1.2.0'"))
    (tmp_path / "old-child.sw.yaml").write_text(definition("do:\n  - old:\n      set: { old: true }\n", name="child"))
    path = write(tmp_path, """
        do:
          - callChild:
              run:
                workflow:
                  namespace: test
                  name: child
                  version: latest
                  input:
                    n: ${ .n + 1 }
              output:
                as: '{fromChild: .}'
    """)
    result = declarative_wf.run(path, {"n": 1}, db=tmp_path / "run.db")
    assert result.status == "COMPLETED", result.error
    assert result.output == {"fromChild": 4}


def test_run_workflow_errors_reach_the_parent(tmp_path: Path) -> None:
    (tmp_path / "child.sw.yaml").write_text(definition("""
do:
  - refuse:
      raise:
        error: { type: https://example.com/child-error, status: 418, title: Teapot }
""", name="child"))
    result = run_sw(tmp_path, """
        do:
          - guarded:
              try:
                - callChild:
                    run:
                      workflow: { namespace: test, name: child, version: '1.0.0' }
              catch:
                as: e
                do:
                  - note:
                      set: { caught: '${ $e.type }', status: '${ $e.status }' }
    """)
    assert result.output == {"caught": "https://example.com/child-error", "status": 418}


def test_run_workflow_not_found_warns_then_fails_at_run_time(tmp_path: Path) -> None:
    path = write(tmp_path, """
        do:
          - callChild:
              run:
                workflow: { namespace: test, name: elsewhere, version: '1.0.0' }
    """)
    from declarative_wf.formats import load_definition

    compiled = load_definition(path)
    assert any(d.code == "SW-W100" and "elsewhere@1.0.0" in d.message for d in compiled.document.warnings)
    result = declarative_wf.run(path, {}, activities=Registry([]), db=tmp_path / "run.db")
    assert result.status == "FAILED"
    assert "cannot be resolved" in (result.error.get("detail") or "")
