"""call: openapi against a local server that stands in for petstore.swagger.io (Swagger 2.0)
and petstore3.swagger.io (OpenAPI 3), through the real http stack and host routing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from declarative_wf.activities.problems import standard_type
from declarative_wf.activities.sw_calls import sw_openapi

from .call_helpers import problem, run
from .petstore import FIXTURES, PetstoreServer

SWAGGER = {"endpoint": "https://petstore.swagger.io/v2/swagger.json"}
OPENAPI3 = {"endpoint": "https://petstore3.swagger.io/api/v3/openapi.json"}


@pytest.mark.parametrize("document", [SWAGGER, OPENAPI3], ids=["swagger2", "openapi3"])
def test_query_parameter_and_content_output(petstore: PetstoreServer, document: dict) -> None:
    pets = run(sw_openapi({"document": document, "operationId": "findPetsByStatus", "parameters": {"status": "available"}}))
    assert [pet["id"] for pet in pets] == [1, 2]
    sold = run(sw_openapi({"document": document, "operationId": "findPetsByStatus", "parameters": {"status": "sold"}}))
    assert [pet["name"] for pet in sold] == ["Garfield"]


@pytest.mark.parametrize("document", [SWAGGER, OPENAPI3], ids=["swagger2", "openapi3"])
def test_path_parameter_and_response_output(petstore: PetstoreServer, document: dict) -> None:
    response = run(sw_openapi({"document": document, "operationId": "getPetById", "parameters": {"petId": 2}, "output": "response"}))
    assert response["statusCode"] == 200
    assert response["content"] == {"id": 2, "name": "Idefix", "status": "available"}
    assert response["request"]["method"] == "GET"
    host = "petstore.swagger.io/v2" if document is SWAGGER else "petstore3.swagger.io/api/v3"
    assert response["request"]["uri"] == f"https://{host}/pet/2"  # the URL as written, not the route
    assert response["headers"]["content-type"] == "application/json"


def test_raw_output_is_base64(petstore: PetstoreServer) -> None:
    import base64

    raw = run(sw_openapi({"document": SWAGGER, "operationId": "getPetById", "parameters": {"petId": 1}, "output": "raw"}))
    assert json.loads(base64.b64decode(raw))["name"] == "Milou"


@pytest.mark.parametrize("document", [SWAGGER, OPENAPI3], ids=["swagger2", "openapi3"])
def test_body_and_header_parameters(petstore: PetstoreServer, document: dict) -> None:
    pet = {"name": "Rantanplan", "status": "pending"}
    params = {"body": pet, "X-Request-Id": "r-1"}
    created = run(sw_openapi({"document": document, "operationId": "addPet", "parameters": params}))
    assert created == {**pet, "id": 100}
    method, _, headers = petstore.state.requests[-1]
    assert method == "POST" and headers["x-request-id"] == "r-1"


def test_document_from_a_file_relative_to_the_definition(petstore: PetstoreServer) -> None:
    call = {"document": {"endpoint": "fixtures/petstore-swagger.json"}, "base": str(Path(FIXTURES).parent),
            "operationId": "getPetById", "parameters": {"petId": 1}}  # fmt: skip
    assert run(sw_openapi(call))["name"] == "Milou"
    file_uri = {"document": {"endpoint": (FIXTURES / "petstore-openapi3.json").as_uri()}, "base": "/",
                "operationId": "getPetById", "parameters": {"petId": 1}}  # fmt: skip
    assert run(sw_openapi(file_uri))["name"] == "Milou"


def test_definitions_compiled_from_text_cannot_read_files(petstore: PetstoreServer) -> None:
    call = {"document": {"endpoint": (FIXTURES / "petstore-swagger.json").as_uri()}, "operationId": "getPetById"}
    error = problem(sw_openapi(call))  # no base: the definition was not loaded from a file
    assert error["type"] == standard_type("configuration") and "not loaded from a file" in error["detail"]


def test_not_found_is_a_communication_error_with_the_status(petstore: PetstoreServer) -> None:
    error = problem(sw_openapi({"document": SWAGGER, "operationId": "getPetById", "parameters": {"petId": 99}}))
    assert error["type"] == standard_type("communication") and error["status"] == 404
    assert "answered 404" in error["detail"]


def test_unknown_operation_id_names_the_known_ones(petstore: PetstoreServer) -> None:
    error = problem(sw_openapi({"document": SWAGGER, "operationId": "getPetByID"}))
    assert error["type"] == standard_type("configuration") and error["status"] == 400
    assert "did you mean \"getPetById\"" in error["detail"] and "findPetsByStatus" in error["detail"]


def test_missing_required_parameter(petstore: PetstoreServer) -> None:
    error = problem(sw_openapi({"document": SWAGGER, "operationId": "getPetById", "parameters": {}}))
    assert error["type"] == standard_type("validation")
    assert "petId (in path)" in error["detail"]


def test_missing_document(petstore: PetstoreServer) -> None:
    error = problem(sw_openapi({"document": {"endpoint": "https://petstore.swagger.io/v2/nope.json"}, "operationId": "x"}))
    assert error["type"] == standard_type("communication") and error["status"] == 404
    missing_file = problem(sw_openapi({"document": {"endpoint": "file:///nonexistent/openapi.json"}, "base": "/", "operationId": "x"}))
    assert missing_file["type"] == standard_type("configuration") and "cannot read document" in missing_file["detail"]


def test_not_an_openapi_document(petstore: PetstoreServer, tmp_path: Path) -> None:
    (tmp_path / "doc.yaml").write_text("title: not openapi\n")
    error = problem(sw_openapi({"document": {"endpoint": "doc.yaml"}, "base": str(tmp_path), "operationId": "x"}))
    assert "is not an OpenAPI document" in error["detail"]


def test_unreachable_host_is_a_communication_error() -> None:
    error = problem(sw_openapi({"document": {"endpoint": "http://127.0.0.1:9/openapi.json"}, "operationId": "x"}))
    assert error["type"] == standard_type("communication")


def test_redirect_flag(petstore: PetstoreServer, tmp_path: Path) -> None:
    # An operation answering 3xx: an error by default, accepted with redirect: true.
    doc = {"swagger": "2.0", "host": "httpbin.org", "basePath": "/", "schemes": ["https"],
           "paths": {"/redirect-to-pet": {"get": {"operationId": "moved"}}}}  # fmt: skip
    (tmp_path / "doc.json").write_text(json.dumps(doc))
    call = {"document": {"endpoint": "doc.json"}, "base": str(tmp_path), "operationId": "moved"}
    error = problem(sw_openapi(call))
    assert error["type"] == standard_type("communication") and error["status"] == 302
    assert run(sw_openapi({**call, "redirect": True}))["name"] == "Milou"


def test_array_parameters_follow_the_document(petstore: PetstoreServer, tmp_path: Path) -> None:
    # Swagger 2.0: collectionFormat multi repeats the parameter, csv (the default) joins it;
    # OpenAPI 3: form + explode (the default) repeats, explode: false joins. Operation-level
    # servers override the document's.
    run(sw_openapi({"document": SWAGGER, "operationId": "findPetsByStatus", "parameters": {"status": ["sold", "pending"]}}))
    assert petstore.state.requests[-1][1] == "/v2/pet/findByStatus?status=sold&status=pending"
    doc = {"openapi": "3.0.0", "servers": [{"url": "https://nowhere.example.com"}],
           "paths": {"/pet/findByStatus": {"servers": [{"url": "https://petstore.swagger.io/{base}", "variables": {"base": {"default": "v2"}}}],
                     "get": {"operationId": "joined", "parameters": [{"in": "query", "name": "status", "explode": False}]}}}}  # fmt: skip
    (tmp_path / "doc.json").write_text(json.dumps(doc))
    pets = run(sw_openapi({"document": {"endpoint": "doc.json"}, "base": str(tmp_path), "operationId": "joined",
                           "parameters": {"status": ["sold", "pending"]}}))  # fmt: skip
    assert petstore.state.requests[-1][1] == "/v2/pet/findByStatus?status=sold%2Cpending"
    assert sorted(pet["name"] for pet in pets) == ["Garfield", "Snoopy"]
