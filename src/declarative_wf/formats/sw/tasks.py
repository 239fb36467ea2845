"""The built-in task compilers of Serverless Workflow 1.x: do, set, switch, for, fork, try,
raise, wait, call:http, call:function and run:workflow.

Each returns the node of the task's body; the core (``compile.py``) adds the common properties.
They receive the concrete :class:`~.compile.TaskContext`, so they may use its extras
(``directive``, ``duration``, ``use``, ``branch``) besides the extension protocol.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from declarative_wf import ir
from declarative_wf.expressions.evaluate import embed

from .compile import mapping
from .durations import is_expression, strip_expression
from .extensions import register_task_compiler

if TYPE_CHECKING:
    from .compile import TaskContext

__all__ = ["error_filter", "retry_rule"]

#: Effectively unlimited retries (a policy without ``limit.attempt.count``); the durations
#: still bound them when given.
UNLIMITED_RETRIES = 1_000_000
#: Hosts whose error types match a filter by their last path segment too (the CTK filters on
#: the legacy ``https://serverlessworkflow.io/dsl/errors/types/communication``).
STANDARD_HOSTS = ("serverlessworkflow.io", "open-workflow-specification.org")


def _jq_value(value: Any) -> str:
    """A jq program yielding ``value``: expressions as themselves, the rest as JSON literals."""
    if isinstance(value, str) and is_expression(value):
        return f"({strip_expression(value)})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {_jq_value(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_jq_value(v) for v in value) + "]"
    return json.dumps(value)


# -- do, set, wait, raise ---------------------------------------------------------------------


def compile_do(ctx: TaskContext, task: Mapping[str, Any]) -> ir.Node:
    # A try node without rules is a plain sub-block that shares the enclosing variables, so an
    # export.as inside reaches the tasks after it.
    return ir.TryNode(id=ctx.id, body=ctx.block(task["do"], ctx.pointer + "/do"))


def compile_set(ctx: TaskContext, task: Mapping[str, Any]) -> ir.Node | None:
    value = task["set"]
    if isinstance(value, str):
        return ir.SetNode(id=ctx.id, value=ctx.expression(value, ctx.pointer + "/set"))
    if not isinstance(value, dict):
        ctx.error("SW-E113", "set takes a mapping of values, or one ${ } expression", ctx.pointer + "/set")
        return None
    return ir.SetNode(id=ctx.id, value=ctx.template(value, ctx.pointer + "/set"))


def compile_wait(ctx: TaskContext, task: Mapping[str, Any]) -> ir.Node | None:
    seconds = ctx.duration(task["wait"], ctx.pointer + "/wait")
    return None if seconds is None else ir.WaitNode(id=ctx.id, seconds=seconds)


def compile_raise(ctx: TaskContext, task: Mapping[str, Any]) -> ir.Node | None:
    spec = task["raise"]
    pointer = ctx.pointer + "/raise/error"
    error = spec.get("error") if isinstance(spec, dict) else None
    if isinstance(error, str) and not is_expression(error):
        found = ctx.use("errors", error, pointer)
        if found is None:
            return None
        error, pointer = found
    if not isinstance(error, dict) or "type" not in error or "status" not in error:
        ctx.error("SW-E113", "raise.error needs at least type and status (or names a use.errors entry)", pointer)
        return None
    fields = {key: error[key] for key in ("type", "status", "title", "detail", "instance") if key in error}
    program = _jq_value(fields) + " | tojson"
    ctx.expression("${" + program + "}", pointer)  # checks the jq text, reported at the error
    status = error["status"] if isinstance(error["status"], int) and not isinstance(error["status"], bool) else None
    return ir.FailNode(id=ctx.id, error=ctx.template(error["type"], pointer + "/type"),
                       message=ir.Expr("jq", program), status=status)  # fmt: skip


# -- switch, for, fork --------------------------------------------------------------------------


def compile_switch(ctx: TaskContext, task: Mapping[str, Any]) -> ir.Node | None:
    cases = task["switch"]
    pointer = ctx.pointer + "/switch"
    if not isinstance(cases, list) or not cases:
        ctx.error("SW-E113", "switch takes a list of cases: - caseName: {when: <expression>, then: <directive>}", pointer)
        return None
    out: list[ir.ChoiceCase] = []
    default_at: str | None = None
    for index, item in enumerate(cases):
        if not isinstance(item, dict) or len(item) != 1 or not isinstance(next(iter(item.values())), dict):
            ctx.error("SW-E113", "each switch case is a mapping with one key, the case's name", f"{pointer}/{index}")
            continue
        name, case = next(iter(item.items()))
        at = f"{pointer}/{index}/{name}"
        target = ctx.directive(case.get("then"), at + "/then")
        if "when" not in case:
            if default_at is not None:
                ctx.error("SW-E113", f"a switch has at most one default case (without when); the first is at {default_at}", at)
            default_at = at
            condition = ir.Expr.literal(True)
        else:
            condition = ctx.expression(case["when"], at + "/when")
        out.append(ir.ChoiceCase(condition, target))
    # The default case goes last whatever its position: the cases with `when` are tried first.
    out.sort(key=lambda case: case.condition == ir.Expr.literal(True))
    return ir.ChoiceNode(id=ctx.id, cases=tuple(out))


def compile_for(ctx: TaskContext, task: Mapping[str, Any]) -> ir.Node | None:
    """``for`` runs its ``do`` once per item, in order, each iteration receiving the previous
    iteration's output (as the CTK expects): a loop of plain nodes in a sub-block."""
    spec = task["for"]
    pointer = ctx.pointer + "/for"
    if not isinstance(spec, dict) or "in" not in spec:
        ctx.error("SW-E113", "for needs in: <expression giving a list> (and optionally each, at, while)", pointer)
        return None
    each, at = str(spec.get("each") or "item"), str(spec.get("at") or "index")
    for key, name in (("each", each), ("at", at)):
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", name):
            ctx.error("SW-E113", f"for.{key} {name!r} must be a jq variable name (letters, digits, _)", f"{pointer}/{key}")
    state = "__for_" + hashlib.sha256(ctx.id.encode()).hexdigest()[:10]
    items = spec["in"]
    items_jq = _jq_value(items) if not isinstance(items, str) else f"({strip_expression(items)})"
    ctx.expression("${" + items_jq + "}", pointer + "/in")
    ids = {name: ctx.node_id(name) for name in ("init", "check", "item", "while", "body", "next")}
    nodes: list[ir.Node] = [
        ir.SetNode(id=ids["init"], next=ids["check"], assign={state: ir.Expr("jq", f"{{items: ({items_jq} // []), i: 0}}")}),
        ir.ChoiceNode(id=ids["check"], cases=(ir.ChoiceCase(ir.Expr("jq", f"${state}.i < (${state}.items | length)"), ids["item"]),)),
        ir.SetNode(id=ids["item"], next=ids["while"] if "while" in task else ids["body"],
                   assign={each: ir.Expr("jq", f"${state}.items[${state}.i]"), at: ir.Expr("jq", f"${state}.i")}),
    ]  # fmt: skip
    if "while" in task:
        condition = ctx.expression(task["while"], ctx.pointer + "/while")
        nodes.append(ir.ChoiceNode(id=ids["while"], cases=(ir.ChoiceCase(condition, ids["body"]),)))
    nodes.append(ir.TryNode(id=ids["body"], next=ids["next"], body=ctx.block(task.get("do"), ctx.pointer + "/do")))
    nodes.append(ir.SetNode(id=ids["next"], next=ids["check"], assign={state: ir.Expr("jq", f"${state} | .i += 1")}))
    for node in nodes:
        node.label, node.source = ctx.name, ctx.source
    return ir.TryNode(id=ctx.id, body=ir.Block(start=ids["init"], nodes={node.id: node for node in nodes}))


def compile_fork(ctx: TaskContext, task: Mapping[str, Any]) -> ir.Node | None:
    spec = task["fork"]
    pointer = ctx.pointer + "/fork"
    branches = spec.get("branches") if isinstance(spec, dict) else None
    if not isinstance(branches, list) or not branches:
        ctx.error("SW-E113", "fork needs branches: a task list whose tasks run concurrently", pointer)
        return None
    blocks = tuple(ctx.branch(branches, pointer + "/branches", index) for index in range(len(branches)))
    compete = bool(spec.get("compete", False))
    return ir.ParallelNode(id=ctx.id, branches=blocks, mode="any" if compete else "all")


# -- try, errors, retries ---------------------------------------------------------------------------


def _type_condition(expected: str) -> str:
    """jq: the error's type is ``expected``, or both are standard types (any known host, the
    legacy ``dsl/errors/types/`` path too) with the same last segment."""
    exact = f".cause.type == {json.dumps(expected)}"
    if not any(f"//{host}/" in expected for host in STANDARD_HOSTS):
        return f"({exact})"
    last = expected.rstrip("/").rsplit("/", 1)[-1]
    hosts = " or ".join(f"contains({json.dumps('//' + host + '/')})" for host in STANDARD_HOSTS)
    return f"({exact} or ((.cause.type // \"\") | ({hosts}) and (rtrimstr(\"/\") | split(\"/\") | last) == {json.dumps(last)}))"


def error_filter(ctx: TaskContext, errors: Any, pointer: str) -> list[str]:
    """jq conditions over the error payload (``.cause`` is the problem) for ``errors.with``."""
    spec = errors.get("with") if isinstance(errors, dict) else None
    if spec is None:
        return []
    if not isinstance(spec, dict):
        ctx.error("SW-E113", "errors.with is a mapping of error properties (type, status, instance, title, detail)", pointer)
        return []
    conditions = []
    for key, value in spec.items():
        field = "detail" if key == "details" else str(key)
        if field == "type" and isinstance(value, str) and not is_expression(value):
            conditions.append(_type_condition(value))
        else:
            conditions.append(f"(.cause.{field} == {_jq_value(value)})")
    return conditions


def _scoped(condition: Any, name: str, ctx: TaskContext, pointer: str) -> str:
    """A ``when`` / ``exceptWhen`` over the error: ``.`` and ``$<as>`` are the error."""
    program = strip_expression(condition) if isinstance(condition, str) else json.dumps(condition)
    ctx.expression("${" + f".cause as ${name} | .cause | ({program})" + "}", pointer)
    return f"(.cause as ${name} | .cause | ({program}))"


def retry_rule(
    ctx: TaskContext, policy: Any, pointer: str, conditions: list[str], excepts: list[str], name: str
) -> tuple[ir.RetryRule, float | None] | None:
    """The retry rule of a policy, and its ``limit.attempt.duration`` in seconds (the caller
    bounds every attempt by it)."""
    if isinstance(policy, str) and not is_expression(policy):
        found = ctx.use("retries", policy, pointer)
        if found is None:
            return None
        policy, pointer = found
    if not isinstance(policy, dict):
        ctx.error("SW-E113", "retry is a retry policy mapping or the name of a use.retries entry", pointer)
        return None
    conditions, excepts = list(conditions), list(excepts)
    if "when" in policy:
        conditions.append(_scoped(policy["when"], name, ctx, pointer + "/when"))
    if "exceptWhen" in policy:
        excepts.append(_scoped(policy["exceptWhen"], name, ctx, pointer + "/exceptWhen"))
    delay = _seconds(ctx, policy.get("delay"), pointer + "/delay", 0.0) or 0.0
    backoff = policy.get("backoff") or {"constant": {}}
    kind = next(iter(backoff), "constant") if isinstance(backoff, dict) and len(backoff) == 1 else None
    if kind not in ("constant", "linear", "exponential"):
        ctx.error("SW-E113", "backoff is exactly one of constant: {}, linear: {} or exponential: {}", pointer + "/backoff")
        return None
    # constant: delay; linear: delay × n; exponential: delay × 2^n (n = the retry, from 1), as
    # the Java reference implementation does. The IR's formula is
    # interval × rate^(n-1) + increment × (n-1).
    interval, rate, increment = {
        "constant": (delay, 1.0, 0.0), "linear": (delay, 1.0, delay), "exponential": (2 * delay, 2.0, 0.0),
    }[kind]  # fmt: skip
    limit = mapping(policy.get("limit"))
    attempt = mapping(limit.get("attempt"))
    count = attempt.get("count")
    attempt_seconds = _seconds(ctx, attempt.get("duration"), pointer + "/limit/attempt/duration", None)
    jitter = mapping(policy.get("jitter"))
    rule = ir.RetryRule(
        match=_match(conditions, excepts),
        max_retries=int(count) if isinstance(count, int) and not isinstance(count, bool) else UNLIMITED_RETRIES,
        interval_seconds=interval, backoff_rate=rate, increment_seconds=increment,
        max_duration_seconds=_seconds(ctx, limit.get("duration"), pointer + "/limit/duration", None),
        jitter_min_seconds=_seconds(ctx, jitter.get("from"), pointer + "/jitter/from", 0.0) or 0.0,
        jitter_max_seconds=_seconds(ctx, jitter.get("to"), pointer + "/jitter/to", 0.0) or 0.0,
    )  # fmt: skip
    return rule, attempt_seconds


def _seconds(ctx: TaskContext, value: Any, pointer: str, default: float | None) -> float | None:
    if value is None:
        return default
    seconds = ctx.duration(value, pointer)
    if seconds is None:
        return default
    if seconds.lang != "literal":
        ctx.error("SW-E111", "a retry policy's durations must be fixed, not expressions", pointer)
        return default
    return float(seconds.value)


def _match(conditions: list[str], excepts: list[str]) -> ir.ErrorMatch:
    when = ir.Expr("jq", " and ".join(conditions)) if conditions else None
    except_when = ir.Expr("jq", " or ".join(excepts)) if excepts else None
    return ir.ErrorMatch(names=("*",), when=when, except_when=except_when)


def compile_try(ctx: TaskContext, task: Mapping[str, Any]) -> ir.Node | None:
    body = ctx.block(task["try"], ctx.pointer + "/try")
    catch = task.get("catch")
    if catch is None:
        return ir.TryNode(id=ctx.id, body=body)
    pointer = ctx.pointer + "/catch"
    if not isinstance(catch, dict):
        ctx.error("SW-E113", "catch is a mapping: errors, as, when, exceptWhen, retry, do", pointer)
        return None
    name = str(catch.get("as") or "error")
    conditions = error_filter(ctx, catch.get("errors"), pointer + "/errors/with")
    if "when" in catch:
        conditions.append(_scoped(catch["when"], name, ctx, pointer + "/when"))
    excepts = [_scoped(catch["exceptWhen"], name, ctx, pointer + "/exceptWhen")] if "exceptWhen" in catch else []
    retries: tuple[ir.RetryRule, ...] = ()
    if "retry" in catch:
        found = retry_rule(ctx, catch["retry"], pointer + "/retry", conditions, excepts, name)
        if found is not None:
            retries = (found[0],)
            if found[1] is not None:
                body = _bounded(ctx, body, found[1])
    handler = ctx.block(catch["do"], pointer + "/do") if "do" in catch else None
    rule = ir.CatchRule(
        match=_match(conditions, excepts),
        result=ir.Expr("jq", ".cause"),  # the problem details object
        merge=ir.Merge("discard"),  # the handler (and the task's output) start from the task's input
        assign={name: ir.Expr("jq", ".")},
        handler=handler,
    )
    io, out = mapping(task.get("input")), mapping(task.get("output"))
    if "from" not in io and "as" not in out:
        return ir.TryNode(id=ctx.id, body=body, retry=retries, catch=(rule,))
    # The catch works inside the task's transformations: its `do` (and the task's output when
    # an error is caught) starts from the transformed input (after input.from), and output.as
    # applies to what it gives. The interpreter's catch starts from the raw input of the node
    # holding it and skips that node's output expression, so the rules go on an inner node.
    inner = ir.TryNode(id=ctx.node_id("caught"), label=ctx.name, source=ctx.source, body=body, retry=retries, catch=(rule,))
    return ir.TryNode(id=ctx.id, body=ir.Block(start=inner.id, nodes={inner.id: inner}))


def _bounded(ctx: TaskContext, body: ir.Block, seconds: float) -> ir.Block:
    """``body`` raced against a timer of ``seconds``: ``limit.attempt.duration`` bounds each
    attempt (the retry rule sits outside, so it sees the timeout error of the attempt)."""
    timed = ir.TryNode(id=ctx.node_id("attempt"), label=ctx.name, source=ctx.source, body=body,
                       timeout_seconds=ir.Expr.literal(seconds))  # fmt: skip
    return ir.Block(start=timed.id, nodes={timed.id: timed})


# -- call: http -------------------------------------------------------------------------------------

_TEMPLATE_VAR = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


def uri_template(uri: str) -> str:
    """jq building ``uri`` with RFC 6570 simple expansion of top-level input properties."""
    parts: list[str] = []
    position = 0
    for match in _TEMPLATE_VAR.finditer(uri):
        if match.start() > position:
            parts.append(json.dumps(uri[position : match.start()]))
        name = json.dumps(match.group(1))
        parts.append(f'((if type == "object" then .[{name}] else null end) | if . == null then "" else tostring | @uri end)')
        position = match.end()
    if position < len(uri):
        parts.append(json.dumps(uri[position:]))
    return " + ".join(parts) if parts else '""'


_OUTPUTS = {
    "content": ".body",
    "response": "{request: .request, statusCode: .status, headers: .headers, content: .body}",
    "raw": ".body",
}


def compile_call_http(ctx: TaskContext, task: Mapping[str, Any]) -> ir.Node | None:
    pointer = ctx.pointer + "/with"
    spec = task.get("with")
    if not isinstance(spec, dict) or "endpoint" not in spec or "method" not in spec:
        ctx.error("SW-E113", "call: http needs with.method and with.endpoint", pointer)
        return None
    endpoint = spec["endpoint"]
    auth: Any = None
    if isinstance(endpoint, dict):
        auth = endpoint.get("authentication")
        endpoint = endpoint.get("uri")
    if not isinstance(endpoint, str):
        ctx.error("SW-E113", "with.endpoint is a URI (template), an expression or {uri, authentication}", pointer + "/endpoint")
        return None
    if is_expression(endpoint):
        url: Any = embed(ctx.expression(endpoint, pointer + "/endpoint"))
    elif _TEMPLATE_VAR.search(endpoint):
        url = embed(ir.Expr("jq", uri_template(endpoint)))
    else:
        url = endpoint
    output = spec.get("output", "content")
    if output not in _OUTPUTS:
        ctx.error("SW-E113", f"with.output is content, response or raw, not {output!r}", pointer + "/output")
        return None
    method = spec["method"]
    request: dict[str, Any] = {
        "method": method.upper() if isinstance(method, str) and not is_expression(method) else method,
        "url": url,
        "errors": "problem",  # failures as Problem Details (communication, with the status)
        "raise_for_status": True,  # a 4xx/5xx answer is an error, as the spec says
        "follow_redirects": bool(spec.get("redirect", False)),
        "echo_request": output == "response",
    }
    if output == "raw":
        request["expect"] = "raw"
    for key in ("headers", "query", "body"):
        if key in spec:
            request[key] = spec[key]
    policy: ir.Expr | None = None
    if auth is not None:
        policy = _authentication(ctx, auth, pointer + "/endpoint/authentication")
        if policy is None:
            return None
        request["auth"] = policy.value if policy.lang == "literal" else embed(policy)
    from . import authz

    if authz.expose(ctx, task):  # output.as / export.as use $authorization: the result carries it
        request["expose_authorization"] = True
    authz.use_in_definition(ctx, task, policy, pointer + "/endpoint/authentication")
    args = ctx.template(request, pointer)
    return ir.TaskNode(id=ctx.id, activity="http", args=args, result=ir.Expr("jq", _OUTPUTS[output]))


def _authentication(ctx: TaskContext, policy: Any, pointer: str) -> ir.Expr | None:
    """The http activity's ``auth``, compiled by the authentication module (``use``
    references, secret-based policies); None after reporting a problem."""
    from .calls import compile_authentication

    before = len(ctx.compiler.diagnostics)
    compiled = compile_authentication(ctx, policy, pointer)
    if any(d.is_error for d in ctx.compiler.diagnostics[before:]):
        return None
    return compiled


# -- call: function, run: workflow ----------------------------------------------------------------


def compile_call_function(ctx: TaskContext, task: Mapping[str, Any]) -> ir.Node | None:
    """A ``use.functions`` entry (a task definition, run with ``with`` as its input), a
    ``name:version@catalog`` or URI function (see ``catalogs.py``), or else a registered Python activity."""
    name = task["call"]
    pointer = ctx.pointer + "/call"
    if not isinstance(name, str) or not name:
        ctx.error("SW-E113", "call names a function: http, grpc, openapi, asyncapi, a use.functions entry or an activity", pointer)
        return None
    functions = (ctx.document.get("use") or {}).get("functions") or {}
    if isinstance(functions, dict) and name in functions:
        return _call_defined(ctx, task, name, functions[name])
    if "@" in name or ":" in name or "/" in name:
        from .catalogs import compile_external_function  # name:version@catalog or a function.yaml URI

        return compile_external_function(ctx, task, name)
    # A plain name: the user's own activity (registered with the worker), called with `with`.
    args = ctx.template(task.get("with"), ctx.pointer + "/with") if "with" in task else None
    return ir.TaskNode(id=ctx.id, activity=name, args=args)


def _call_defined(ctx: TaskContext, task: Mapping[str, Any], name: str, definition: Any) -> ir.Node | None:
    from .compile import TaskContext as Context
    from .compile import _Entry

    pointer = f"/use/functions/{name.replace('~', '~0').replace('/', '~1')}"
    if not isinstance(definition, dict):
        ctx.error("SW-E113", f"use.functions.{name} must be a task definition", pointer)
        return None
    fn_id = ctx.node_id("fn")
    entry = _Entry(name, 0, definition, pointer, fn_id, fn_id)
    inner = Context(ctx.compiler, entry, [entry], None, fn_id + "#end", ir.Block(start=None),
                    node_id=fn_id, id_prefix=fn_id + "|")  # fmt: skip
    nodes = inner.compile()
    if nodes is None:
        return None
    return function_call(ctx, task, nodes)


def function_call(ctx: TaskContext, task: Mapping[str, Any], nodes: list[ir.Node]) -> ir.TryNode:
    """The call of a compiled function (a ``use.functions`` or catalog entry): its nodes as a
    sub-block, preceded by the call's ``with`` (the function's input) when it has one."""
    block = ir.Block(start=nodes[0].id, nodes={node.id: node for node in nodes})
    if "with" in task:
        with_id = ctx.node_id("with")
        block.nodes = {with_id: ir.SetNode(id=with_id, label=ctx.name, source=ctx.source, next=block.start,
                                           value=ctx.template(task["with"], ctx.pointer + "/with")), **block.nodes}  # fmt: skip
        block.start = with_id
    return ir.TryNode(id=ctx.id, body=block)


def compile_run_workflow(ctx: TaskContext, task: Mapping[str, Any]) -> ir.Node | None:
    from .subflows import compile_child

    return compile_child(ctx, task)


for _kind, _compiler in {
    "do": compile_do, "set": compile_set, "wait": compile_wait, "raise": compile_raise, "switch": compile_switch,
    "for": compile_for, "fork": compile_fork, "try": compile_try, "call:http": compile_call_http,
    "call:function": compile_call_function, "run:workflow": compile_run_workflow,
}.items():  # fmt: skip
    register_task_compiler(_kind, _compiler)  # type: ignore[arg-type]  # receives the concrete TaskContext
