"""Host routing of the http stack ($DWF_HTTP_ROUTES and set_http_routes), and a whole run of a
verbatim definition through `declarative_wf.run` with the environment variable only."""

from __future__ import annotations

from pathlib import Path

import pytest

from declarative_wf.activities.http import HTTPInvalidRequest, http_routes, routed, set_http_routes

from .call_helpers import run
from .petstore import PetstoreServer


@pytest.fixture(autouse=True)
def no_routes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DWF_HTTP_ROUTES", raising=False)
    set_http_routes(None)


def test_routes_rewrite_scheme_host_and_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DWF_HTTP_ROUTES", "petstore.swagger.io=http://127.0.0.1:8080, api.example.com:8443=http://10.0.0.1/mirror")
    assert routed("https://petstore.swagger.io/v2/pet/1?x=1") == "http://127.0.0.1:8080/v2/pet/1?x=1"
    assert routed("https://PetStore.Swagger.io/v2") == "http://127.0.0.1:8080/v2"
    assert routed("https://api.example.com:8443/a") == "http://10.0.0.1/mirror/a"
    assert routed("https://api.example.com/a") == "https://api.example.com/a"  # another port
    assert routed("https://other.example.com/") == "https://other.example.com/"


def test_python_routes_take_precedence(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DWF_HTTP_ROUTES", "petstore.swagger.io=http://127.0.0.1:1")
    set_http_routes({"petstore.swagger.io": "http://127.0.0.1:2"})
    assert http_routes()["petstore.swagger.io"] == "http://127.0.0.1:2"
    set_http_routes(None)
    assert http_routes()["petstore.swagger.io"] == "http://127.0.0.1:1"


@pytest.mark.parametrize("bad", ["petstore.swagger.io", "=http://x", "a=ftp://x"])
def test_bad_routes_say_the_expected_form(monkeypatch: pytest.MonkeyPatch, bad: str) -> None:
    monkeypatch.setenv("DWF_HTTP_ROUTES", bad)
    with pytest.raises(HTTPInvalidRequest, match="is not HOST=http"):
        routed("https://petstore.swagger.io/")


def test_an_http_call_goes_to_the_route(petstore_server: PetstoreServer, monkeypatch: pytest.MonkeyPatch) -> None:
    from declarative_wf.activities.http import http

    monkeypatch.setenv("DWF_HTTP_ROUTES", f"petstore.swagger.io={petstore_server.url}")
    result = run(http({"url": "https://petstore.swagger.io/v2/pet/1", "echo_request": True}))
    assert result["body"]["name"] == "Milou"
    assert result["request"]["uri"] == "https://petstore.swagger.io/v2/pet/1"
    assert result["request"]["headers"]["host"] == "petstore.swagger.io"


@pytest.mark.integration
def test_a_verbatim_definition_runs_offline(petstore_server: PetstoreServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import declarative_wf

    monkeypatch.setenv("DWF_HTTP_ROUTES", f"petstore.swagger.io={petstore_server.url}")
    definition = tmp_path / "openapi.sw.yaml"
    definition.write_text("""document: {dsl: '1.0.3', namespace: test, name: openapi-example, version: '0.1.0'}
do:
  - findPet:
      call: openapi
      with:
        document:
          endpoint: https://petstore.swagger.io/v2/swagger.json
        operationId: findPetsByStatus
        parameters:
          status: available
""")
    result = declarative_wf.run(str(definition), {}, db=str(tmp_path / "wf.db"))
    assert result.status == "COMPLETED", result.error
    assert [pet["name"] for pet in result.output] == ["Milou", "Idefix"]


def test_bad_routes_fail_calls_with_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from declarative_wf.activities.http import http
    from declarative_wf.activities.problems import standard_type
    from declarative_wf.activities.sw_calls import sw_openapi

    from .call_helpers import problem

    monkeypatch.setenv("DWF_HTTP_ROUTES", "petstore.swagger.io")
    # A document no other test fetched: fetched documents are cached per worker process.
    document = {"endpoint": "https://petstore.swagger.io/v2/never-fetched-swagger.json"}
    error = problem(sw_openapi({"document": document, "operationId": "x"}))
    assert error["type"] == standard_type("configuration") and "DWF_HTTP_ROUTES" in error["detail"]
    error = problem(http({"url": "https://petstore.swagger.io/", "errors": "problem"}))
    assert error["type"] == standard_type("configuration") and "DWF_HTTP_ROUTES" in error["detail"]
