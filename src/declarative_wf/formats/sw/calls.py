"""Compilers of ``call: openapi``, ``call: grpc`` and ``call: asyncapi``, and of authentication
policies (also used by the core's ``call: http``).

Each call becomes one ``TaskNode`` running a built-in activity (``sw_openapi``, ``sw_grpc``,
``sw_asyncapi``, see ``activities/sw_calls.py`` and ``activities/sw_grpc.py``) whose argument is
the task's ``with``, evaluated as free-form data (``${ }`` strings are jq on the task input),
plus ``base``: the definition's directory, against which relative ``file`` references resolve.
Documents, proto files and credentials are fetched by the activity, at run time (documents
are then cached per worker process), so secrets never enter the workflow history.

Authentication policies compile to the activities' ``auth`` form:

* ``{use: NAME}`` (or, where the spec allows, the bare ``NAME``) is replaced by the policy of
  ``use.authentications.NAME``;
* a secret-based policy ``{basic: {use: SECRET}}`` becomes ``{basic: {"$secret": SECRET}}``:
  the activity reads the secret when it runs (``DWF_SECRETS_FILE`` / ``DWF_SECRET_<name>``);
* inline policies keep their ``${ }`` expressions, evaluated on the task input.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from declarative_wf import ir
from declarative_wf.diagnostics import suggest
from declarative_wf.expressions.evaluate import embed
from declarative_wf.loading import pointer_join

from .extensions import TaskCompileContext, register_task_compiler

__all__ = ["SCHEMES", "compile_authentication"]

# Diagnostic codes are the core compiler's (compile.COMPILE_CODES): SW-E112 a `use` entry
# (authentication, secret) that does not exist, SW-E113 an invalid field value, SW-W100 a
# property that is accepted but cannot be honoured (the call fails when it runs).

SCHEMES = ("basic", "bearer", "digest", "oauth2", "oidc")
#: Protocols ``call: asyncapi`` can reach today (publishing only).
ASYNCAPI_PROTOCOLS = ("http", "https")
NONE = ir.Expr.literal(None)


def _part(expr: ir.Expr) -> Any:
    """``expr`` as a leaf of a template: its value when literal, an embedded expression otherwise."""
    return expr.value if expr.lang == "literal" else embed(expr)


def _uses(context: TaskCompileContext, section: str) -> Mapping[str, Any]:
    use = context.document.get("use")
    found = use.get(section) if isinstance(use, Mapping) else None
    return found if isinstance(found, Mapping) else {}


def compile_authentication(context: TaskCompileContext, value: Any, pointer: str) -> ir.Expr:
    """The ``auth`` argument of an HTTP-based activity for the authentication policy ``value``
    found at ``pointer`` (``with.endpoint.authentication``, ``with.authentication``,
    ``with.service.authentication``...). Problems are reported through ``context.error`` and
    give ``null`` (no authentication)."""
    if value is None:
        return NONE
    if isinstance(value, str) or (isinstance(value, Mapping) and set(value) == {"use"}):
        name = value if isinstance(value, str) else value["use"]
        where = pointer if isinstance(value, str) else pointer_join(pointer, "use")
        policies = _uses(context, "authentications")
        if not isinstance(name, str) or name not in policies:
            hint = suggest(str(name), list(policies))
            context.error("SW-E112", f"authentication {name!r} is not defined in use.authentications", where,
                          hint=hint or "define it under use.authentications, or write the policy inline")  # fmt: skip
            return NONE
        return _policy(context, policies[name], pointer_join("/use/authentications", name))
    return _policy(context, value, pointer)


def _policy(context: TaskCompileContext, value: Any, pointer: str) -> ir.Expr:
    if not isinstance(value, Mapping) or len(value) != 1:
        context.error("SW-E113", "an authentication policy is one scheme: basic, bearer, digest, oauth2 or oidc", pointer)
        return NONE
    scheme, settings = next(iter(value.items()))
    if scheme not in SCHEMES:
        detail = "the certificate scheme has no definition in the 1.0 specification" if scheme == "certificate" else f"unknown scheme {scheme!r}"
        context.error("SW-E113", f"authentication scheme {scheme!r} is not supported ({detail})", pointer_join(pointer, scheme),
                      hint="use basic, bearer, digest, oauth2 or oidc")  # fmt: skip
        return NONE
    if isinstance(settings, Mapping) and set(settings) == {"use"}:
        secret = settings["use"]
        secrets = _uses_list(context, "secrets")
        if secret not in secrets:
            context.error("SW-E112", f"secret {secret!r} is not declared in use.secrets", pointer_join(pointer_join(pointer, scheme), "use"),
                          hint=suggest(str(secret), secrets) or "add it to use.secrets")  # fmt: skip
            return NONE
        return ir.Expr.literal({scheme: {"$secret": secret}})
    return context.template(dict(value), pointer)


def _uses_list(context: TaskCompileContext, section: str) -> list[str]:
    use = context.document.get("use")
    found = use.get(section) if isinstance(use, Mapping) else None
    return [str(item) for item in found] if isinstance(found, list) else []


def _base(context: TaskCompileContext) -> str | None:
    """The definition's directory, when it was loaded from a file."""
    file = context.source.file if context.source is not None else ""
    path = Path(file) if file and not file.startswith("<") else None
    return str(path.resolve().parent) if path is not None and path.is_file() else None


def _resource(context: TaskCompileContext, value: Any, pointer: str) -> Any:
    """An externalResource with its endpoint's authentication compiled."""
    if isinstance(value, Mapping) and isinstance(value.get("endpoint"), Mapping) and "authentication" in value["endpoint"]:
        endpoint = dict(value["endpoint"])
        auth = compile_authentication(context, endpoint.pop("authentication"), pointer + "/endpoint/authentication")
        resource = _part(context.template({**value, "endpoint": endpoint}, pointer))
        if isinstance(resource, dict) and isinstance(resource.get("endpoint"), dict):
            resource["endpoint"]["authentication"] = _part(auth)
        return resource
    return _part(context.template(value, pointer))


def _node(context: TaskCompileContext, activity: str, args: dict[str, Any], task: Mapping[str, Any],
          policy: tuple[ir.Expr, str] | None) -> ir.TaskNode:  # fmt: skip
    """The call's node. ``$authorization`` (see ``authz.py``): when output.as / export.as use
    it, the activity returns ``{result, authorization}`` and the node selects the result;
    ``policy`` (the compiled authentication and its pointer) serves a ``with`` that uses it."""
    from . import authz

    result = None
    if authz.expose(context, task):
        args["expose_authorization"] = True
        result = ir.Expr("jq", ".result")
    if policy is not None:
        authz.use_in_definition(context, task, policy[0], policy[1])
    return ir.TaskNode(id=context.pointer, activity=activity, args=ir.Expr("template", args), result=result)


def _with(context: TaskCompileContext, task: Mapping[str, Any]) -> Mapping[str, Any] | None:
    value = task.get("with")
    if not isinstance(value, Mapping):
        context.error("SW-E113", f"call: {task.get('call')} needs a with object", context.pointer + "/with")
        return None
    return value


def _rest(context: TaskCompileContext, value: Mapping[str, Any], skip: tuple[str, ...]) -> dict[str, Any]:
    return {key: _part(context.template(item, f"{context.pointer}/with/{key}")) for key, item in value.items() if key not in skip}


def compile_openapi(context: TaskCompileContext, task: Mapping[str, Any]) -> ir.Node | None:
    spec = _with(context, task)
    if spec is None:
        return None
    at = context.pointer + "/with"
    args = _rest(context, spec, ("document", "authentication"))
    args["document"] = _resource(context, spec.get("document"), at + "/document")
    policy = compile_authentication(context, spec.get("authentication"), at + "/authentication")
    args["authentication"] = _part(policy)
    args["base"] = _base(context)
    _check_operation(context, spec, at, args["base"])
    return _node(context, "sw_openapi", args, task, (policy, at + "/authentication"))


def _local_text(context: TaskCompileContext, resource: Any, base: str | None, what: str, pointer: str) -> tuple[str, str] | None:
    """``(endpoint, text)`` of a resource that is a local file of a definition loaded from a
    file; None otherwise (nothing is fetched over the network while compiling)."""
    endpoint = resource.get("endpoint") if isinstance(resource, Mapping) else None
    endpoint = endpoint.get("uri") if isinstance(endpoint, Mapping) else endpoint
    if not isinstance(endpoint, str) or "${" in endpoint or endpoint.startswith(("http://", "https://")) or base is None:
        return None
    path = Path(endpoint.removeprefix("file://"))
    path = path if path.is_absolute() else Path(base) / path
    try:
        return endpoint, path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        context.warning("SW-W100", f"the {what} {endpoint!r} cannot be read ({path}); the call will fail", pointer)
        return None


def _check_operation(context: TaskCompileContext, spec: Mapping[str, Any], at: str, base: str | None) -> None:
    """When the document is a local file, an unknown operationId is reported now, not at run time."""
    operation = spec.get("operationId")
    if not isinstance(operation, str) or "${" in operation:
        return
    found = _local_text(context, spec.get("document"), base, "OpenAPI document", at + "/document")
    if found is None:
        return
    endpoint, text = found
    try:
        data = json.loads(text)
    except ValueError:
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            return
    paths = data.get("paths") if isinstance(data, dict) else None
    known = [op["operationId"] for item in (paths or {}).values() if isinstance(item, dict)
             for op in item.values() if isinstance(op, dict) and isinstance(op.get("operationId"), str)]  # fmt: skip
    if operation not in known:
        context.error("SW-E113", f"operationId {operation!r} is not in {endpoint}", at + "/operationId",
                      hint=suggest(operation, known) or f"it defines: {', '.join(sorted(known)) or 'no operations'}")  # fmt: skip


def compile_grpc(context: TaskCompileContext, task: Mapping[str, Any]) -> ir.Node | None:
    spec = _with(context, task)
    if spec is None:
        return None
    at = context.pointer + "/with"
    args = _rest(context, spec, ("proto", "service"))
    args["proto"] = _resource(context, spec.get("proto"), at + "/proto")
    service = spec.get("service")
    if isinstance(service, Mapping):
        compiled = {key: _part(context.template(item, f"{at}/service/{key}")) for key, item in service.items() if key != "authentication"}
        policy = compile_authentication(context, service.get("authentication"), at + "/service/authentication")
        compiled["authentication"] = _part(policy)
        args["service"] = compiled
    else:
        context.error("SW-E113", "call: grpc needs with.service {name, host, port}", at + "/service")
        return None
    args["base"] = _base(context)
    _check_grpc(context, spec, at, args["base"])
    return _node(context, "sw_grpc", args, task, (policy, at + "/service/authentication"))


def _check_grpc(context: TaskCompileContext, spec: Mapping[str, Any], at: str, base: str | None) -> None:
    """When the proto is a local file: it compiles, and names the service and the method."""
    found = _local_text(context, spec.get("proto"), base, "proto file", at + "/proto")
    if found is None:
        return
    endpoint, text = found
    from declarative_wf.activities.problems import ProblemError
    from declarative_wf.activities.sw_grpc import proto_services

    try:
        services = proto_services(text, endpoint.rsplit("/", 1)[-1])
    except ProblemError:
        context.error("SW-E113", f"the proto file {endpoint} does not compile", at + "/proto", hint="check it with protoc")
        return
    service_spec = spec.get("service")
    service = service_spec.get("name") if isinstance(service_spec, Mapping) else None
    method = spec.get("method")
    if not isinstance(service, str) or "${" in service:
        return
    if service not in services:
        context.error("SW-E113", f"service {service!r} is not in {endpoint}", at + "/service/name",
                      hint=suggest(service, list(services)) or f"it defines: {', '.join(services) or 'no services'}")  # fmt: skip
        return
    if isinstance(method, str) and "${" not in method and method not in services[service]:
        context.error("SW-E113", f"service {service} has no method {method!r}", at + "/method",
                      hint=suggest(method, services[service]) or f"its methods: {', '.join(services[service])}")  # fmt: skip


def compile_asyncapi(context: TaskCompileContext, task: Mapping[str, Any]) -> ir.Node | None:
    spec = _with(context, task)
    if spec is None:
        return None
    at = context.pointer + "/with"
    protocol = spec.get("protocol")
    if isinstance(protocol, str) and protocol not in ASYNCAPI_PROTOCOLS:
        context.warning("SW-W100", f"call: asyncapi over {protocol} is not supported yet: the call will fail when it runs",
                        at + "/protocol", hint="declarative_wf publishes AsyncAPI messages over http(s)")  # fmt: skip
    if "subscription" in spec:
        context.warning("SW-W100", "call: asyncapi subscriptions are not supported yet: the call will fail when it runs",
                        at + "/subscription", hint="consume events with a listen task")  # fmt: skip
    args = _rest(context, spec, ("document", "authentication"))
    args["document"] = _resource(context, spec.get("document"), at + "/document")
    policy = compile_authentication(context, spec.get("authentication"), at + "/authentication")
    args["authentication"] = _part(policy)
    args["base"] = _base(context)
    return _node(context, "sw_asyncapi", args, task, (policy, at + "/authentication"))


register_task_compiler("call:openapi", compile_openapi)
register_task_compiler("call:grpc", compile_grpc)
register_task_compiler("call:asyncapi", compile_asyncapi)
