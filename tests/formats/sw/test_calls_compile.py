"""Compiling call: openapi / grpc / asyncapi and authentication policies: the task node, its
arguments, and diagnostics with FILE:LINE:COL for what cannot work."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from declarative_wf import ir, validate
from declarative_wf.diagnostics import DiagnosticError
from declarative_wf.formats import load_definition

from .petstore import FIXTURES

HEAD = "document: {dsl: '1.0.3', namespace: default, name: calls, version: '1.0.0'}\n"


def write(tmp_path: Path, body: str, name: str = "wf.sw.yaml") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + body)
    return path


def only_task(path: Path) -> ir.TaskNode:
    workflow = load_definition(path).workflow
    tasks = [node for node in _nodes(workflow.body) if isinstance(node, ir.TaskNode)]
    assert len(tasks) == 1, tasks
    return tasks[0]


def _nodes(block: ir.Block) -> list[ir.Node]:
    found: list[ir.Node] = []
    for node in block.nodes.values():
        found.append(node)
        for value in vars(node).values():
            if isinstance(value, ir.Block):
                found.extend(_nodes(value))
    return found


def evaluate(expr: ir.Expr | None, data: Any) -> Any:
    from declarative_wf.expressions.evaluate import Scope
    from declarative_wf.expressions.evaluate import evaluate as run

    assert expr is not None
    return run(expr, Scope(data=data))


def test_openapi_task(tmp_path: Path) -> None:
    path = write(tmp_path, """do:
  - findPet:
      call: openapi
      with:
        document: {endpoint: https://petstore.swagger.io/v2/swagger.json}
        operationId: findPetsByStatus
        parameters: {status: '${ .status }'}
        output: response
""")
    task = only_task(path)
    assert task.activity == "sw_openapi"
    args = evaluate(task.args, {"status": "sold"})
    assert args["parameters"] == {"status": "sold"} and args["operationId"] == "findPetsByStatus"
    assert args["output"] == "response" and args["base"] == str(tmp_path.resolve())
    assert args["document"] == {"endpoint": "https://petstore.swagger.io/v2/swagger.json"}


def test_grpc_task_with_reusable_authentication(tmp_path: Path) -> None:
    path = write(tmp_path, """use:
  authentications:
    svc: {bearer: {token: '${ .token }'}}
do:
  - greet:
      call: grpc
      with:
        proto: {endpoint: 'file://greeter.proto'}
        service: {name: greeter.v1.Greeter, host: localhost, port: 5011, authentication: {use: svc}}
        method: SayHello
        arguments: {name: '${ .name }'}
""")
    args = evaluate(only_task(path).args, {"token": "t", "name": "Ann"})
    assert args["service"]["authentication"] == {"bearer": {"token": "t"}}
    assert args["arguments"] == {"name": "Ann"} and args["service"]["port"] == 5011


def test_secret_based_authentication_is_resolved_by_the_activity(tmp_path: Path) -> None:
    path = write(tmp_path, """use:
  secrets: [creds]
do:
  - publish:
      call: asyncapi
      with:
        document: {endpoint: {uri: 'https://broker.example.com/asyncapi.json', authentication: {basic: {use: creds}}}}
        operation: announce
        message: {payload: {a: 1}}
        authentication: {oauth2: {use: creds}}
""")
    args = evaluate(only_task(path).args, {})
    assert args["authentication"] == {"oauth2": {"$secret": "creds"}}
    assert args["document"]["endpoint"]["authentication"] == {"basic": {"$secret": "creds"}}


def test_unknown_operation_id_in_a_local_document(tmp_path: Path) -> None:
    (tmp_path / "petstore.json").write_text((FIXTURES / "petstore-swagger.json").read_text())
    path = write(tmp_path, """do:
  - findPet:
      call: openapi
      with:
        document: {endpoint: 'file://petstore.json'}
        operationId: getPetByID
""")
    problems = validate(str(path))
    assert any("operationId 'getPetByID' is not in file://petstore.json" in p.message for p in problems), problems
    problem = next(p for p in problems if "getPetByID" in p.message)
    assert problem.position is not None and (problem.position.line, problem.position.column) == (7, 22)
    assert "getPetById" in (problem.hint or "")


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("""do:
  - c:
      call: openapi
      with: {document: {endpoint: 'https://x.example/o.json'}, operationId: o, authentication: {use: missing}}
""", "missing"),
        ("""do:
  - c:
      call: openapi
      with: {document: {endpoint: 'https://x.example/o.json'}, operationId: o, authentication: {basic: {use: undeclared}}}
""", "undeclared"),
    ],
)
def test_undefined_references_are_diagnosed(tmp_path: Path, body: str, message: str) -> None:
    problems = validate(str(write(tmp_path, body)))
    assert problems and any(message in p.message for p in problems), problems
    assert all(p.position is not None for p in problems)


def test_asyncapi_subscription_is_a_warning_and_fails_at_run_time(tmp_path: Path) -> None:
    path = write(tmp_path, """do:
  - sub:
      call: asyncapi
      with:
        document: {endpoint: 'https://broker.example.com/asyncapi.json'}
        operation: chat
        protocol: kafka
        subscription: {consume: {amount: 1}}
""")
    compiled = load_definition(path)
    messages = [w.message for w in compiled.document.warnings] + [w.message for w in getattr(compiled, "warnings", [])]
    assert any("subscriptions are not supported yet" in m for m in messages), messages
    assert any("over kafka is not supported yet" in m for m in messages), messages


def test_corpus_call_examples_compile() -> None:
    from .ctk.runner import corpus_root

    examples = corpus_root() / "serverless-workflow-1.0" / "examples"
    if not examples.is_dir():
        pytest.skip("corpus not found: set $DWF_CORPUS or put it at ../shared/corpus")
    names = ["call-openapi.yaml", "call-openapi-redirect.yaml", "call-grpc.yaml", "call-asyncapi-publish.yaml",
             "authentication-reusable.yaml", "authentication-oauth2-secret.yaml", "authentication-oidc.yaml"]  # fmt: skip
    for name in names:
        try:
            load_definition(examples / name)
        except DiagnosticError as error:
            pytest.fail(f"{name} does not compile: {error}")


@pytest.mark.parametrize(
    ("change", "message", "hint"),
    [
        ({"method": "SayHelo"}, "service greeter.v1.Greeter has no method 'SayHelo'", "SayHello"),
        ({"service": "Greeter"}, "service 'Greeter' is not in file://greeter.proto", "greeter.v1.Greeter"),
        ({"proto": "broken.proto"}, "the proto file file://broken.proto does not compile", "protoc"),
    ],
)
def test_grpc_proto_checked_when_local(tmp_path: Path, change: dict[str, str], message: str, hint: str) -> None:
    (tmp_path / "greeter.proto").write_text((FIXTURES / "greeter.proto").read_text())
    (tmp_path / "broken.proto").write_text('syntax = "proto3";\nmessage {\n')
    values = {"method": "SayHello", "service": "greeter.v1.Greeter", "proto": "greeter.proto", **change}
    path = write(tmp_path, f"""do:
  - greet:
      call: grpc
      with:
        proto: {{endpoint: 'file://{values["proto"]}'}}
        service: {{name: {values["service"]}, host: localhost, port: 5011}}
        method: {values["method"]}
""")
    problems = [p for p in validate(str(path)) if message in p.message]
    assert problems, validate(str(path))
    assert problems[0].position is not None and hint in (problems[0].hint or "")


def test_grpc_good_local_proto_compiles(tmp_path: Path) -> None:
    (tmp_path / "greeter.proto").write_text((FIXTURES / "greeter.proto").read_text())
    path = write(tmp_path, """do:
  - greet:
      call: grpc
      with:
        proto: {endpoint: 'file://greeter.proto'}
        service: {name: greeter.v1.Greeter, host: localhost, port: 5011}
        method: SayHello
""")
    assert validate(str(path)) == []
