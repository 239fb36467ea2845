"""One compiler per step kind: a DSL step (already checked against the schema) → IR node(s).

Every function is defensive about shapes: the schema has reported what is wrong, and the
compiler still runs so that the other problems of the file are found in the same pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from declarative_wf.diagnostics import quote, suggest
from declarative_wf.ir import (
    Block,
    ChildNode,
    ChoiceCase,
    ChoiceNode,
    EventNode,
    Expr,
    FailNode,
    ForEachNode,
    LoopNode,
    ParallelNode,
    SetNode,
    SucceedNode,
    TaskNode,
    TryNode,
    WaitNode,
)  # fmt: skip
from declarative_wf.loading import pointer_join

from .durations import parse_timestamp
from .options import dynamic_duration, result_options, timeout_option
from .where import Where

if TYPE_CHECKING:
    from .compile import DocumentCompiler

Compiler = Callable[["DocumentCompiler", dict[str, Any], str, Where, "str | None", Block, dict[str, Any]], None]
_COMPILERS: dict[str, Compiler] = {}

#: The request keys of the built-in ``http`` activity (activities/http.py; a test keeps the two
#: in step). Checked here so that a misspelt key fails validation instead of a run.
HTTP_KEYS = ("method", "url", "headers", "query", "body", "form", "timeout", "follow_redirects", "expect", "raise_for_status", "auth")
_HTTP_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # a method is an RFC 9110 token


def kind(name: str) -> Callable[[Compiler], Compiler]:
    def register(fn: Compiler) -> Compiler:
        _COMPILERS[name] = fn
        return fn

    return register


def compile_step(
    c: DocumentCompiler, step_kind: str, raw: dict[str, Any], pointer: str, where: Where,
    follow: str | None, block: Block, user_id: str | None,
) -> None:  # fmt: skip
    base = {"id": c.node_id(pointer), "next": follow, "label": user_id or _label(step_kind, raw), "source": c.source(pointer)}
    _COMPILERS[step_kind](c, raw, pointer, where, follow, block, base)


def _label(step_kind: str, raw: dict[str, Any]) -> str:
    value = raw.get(step_kind)
    if step_kind in ("call", "workflow", "wait_for", "goto") and isinstance(value, str):
        return f"{step_kind} {value}"
    if step_kind == "wait" and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return f"wait {value}"
    if step_kind == "fail":
        error = value.get("error") if isinstance(value, dict) else value
        if isinstance(error, str) and "${" not in error:
            return f"fail {error}"
    return step_kind


def _at(pointer: str, *parts: str | int) -> str:
    for part in parts:
        pointer = pointer_join(pointer, part)
    return pointer


# -- calling things -----------------------------------------------------------------------------


@kind("call")
def _call(c: DocumentCompiler, raw: dict[str, Any], pointer: str, where: Where, follow: str | None, block: Block, base: dict[str, Any]) -> None:
    activity = _str(raw, "call")
    args = c.exprs.template(raw["with"], _at(pointer, "with"), where.extra) if "with" in raw else None
    is_async = raw.get("async") is True
    if "async" in raw and activity != "http":
        c.report.error("DSL-E050", "'async' is only for 'call: http' (it polls a 202 Accepted response)", _at(pointer, "async"), key=True)
    if activity == "http" and "with" in raw:
        _check_http(c, raw["with"], _at(pointer, "with"))
    node = TaskNode(**base, activity=activity, args=args, poll_async=is_async and activity == "http")
    result_options(c, node, raw, pointer, where)
    timeout_option(c, node, raw, pointer, where)
    c.add(block, node)


def _check_http(c: DocumentCompiler, spec: Any, pointer: str) -> None:
    """The shape of the built-in HTTP call, where it is written out literally."""
    if isinstance(spec, str):
        return  # one expression: its value is checked when it runs
    if not isinstance(spec, dict):
        c.report.error("DSL-E051", "'call: http' takes 'with: {method, url, headers, query, body}'", pointer)
        return
    for key in spec:
        if key not in HTTP_KEYS:
            hint = suggest(key, HTTP_KEYS)
            message = f"unknown key {quote(key)} in an http call" + (f" ({hint})" if hint else "")
            c.report.error("DSL-E051", message, pointer_join(pointer, key), key=True, hint="allowed: " + ", ".join(HTTP_KEYS))
    if "url" not in spec:
        c.report.error("DSL-E051", "an http call needs 'url'", pointer)
    method = spec.get("method")
    if isinstance(method, str) and "${" not in method and not _HTTP_TOKEN.match(method):
        c.report.error("DSL-E051", f"{quote(method)} is not an HTTP method (GET, POST, PUT, PATCH, DELETE, ...)", pointer_join(pointer, "method"))
    elif method is not None and not isinstance(method, str):
        c.report.error("DSL-E051", "'method' must be a string such as GET or POST", pointer_join(pointer, "method"))
    for key in ("headers", "query", "form", "auth"):
        value = spec.get(key)
        if value is not None and not isinstance(value, (dict, str)):
            c.report.error("DSL-E051", f"{quote(key)} must be a mapping of names to values", pointer_join(pointer, key))


@kind("workflow")
def _workflow(c: DocumentCompiler, raw: dict[str, Any], pointer: str, where: Where, follow: str | None, block: Block, base: dict[str, Any]) -> None:
    reference = raw.get("workflow")
    args = c.exprs.template(raw["with"], _at(pointer, "with"), where.extra) if "with" in raw else None
    node = ChildNode(**base, args=args)
    at = _at(pointer, "workflow")
    if isinstance(reference, str) and reference and not c.report.has_schema_error(at):
        child = c.child(reference, at, base["id"])
        if child.problem == "cycle":
            c.report.error("DSL-E042", f"child workflows refer to each other in a cycle: {child.detail}", at, hint="a workflow cannot embed itself, directly or through others")
        elif child.problem == "unreadable":
            c.report.error("DSL-E040", f"child workflow {quote(reference)} cannot be read: {child.detail}", at, hint="the path is relative to this file")
        elif child.problem == "limit":
            c.report.error("DSL-E041", f"more than {child.detail} child workflows are embedded in this compilation", at)
        elif child.workflow is None:
            c.report.error("DSL-E041", f"child workflow {quote(reference)} is invalid (its problems are listed with {child.detail})", at)
        else:
            # The whole child: it runs as its own definition (input schema, input.from,
            # output, timeout), pinned in the parent's graph.
            node.workflow = child.workflow.name
            node.definition = child.workflow
    result_options(c, node, raw, pointer, where)
    timeout_option(c, node, raw, pointer, where)
    c.add(block, node)


@kind("wait_for")
def _wait_for(c: DocumentCompiler, raw: dict[str, Any], pointer: str, where: Where, follow: str | None, block: Block, base: dict[str, Any]) -> None:
    event = _str(raw, "wait_for")
    node = EventNode(**base, event=event)
    if "where" in raw:
        # The interpreter evaluates it on the current data with the event as variable ``event``.
        node.correlate = c.exprs.condition(raw["where"], _at(pointer, "where"), "'where'", where.extra | {"event"})
    result_options(c, node, raw, pointer, where)
    timeout_option(c, node, raw, pointer, where)
    c.add(block, node)


# -- data ---------------------------------------------------------------------------------------


@kind("set")
def _set(c: DocumentCompiler, raw: dict[str, Any], pointer: str, where: Where, follow: str | None, block: Block, base: dict[str, Any]) -> None:
    node = SetNode(**base, value=c.exprs.template(raw.get("set"), _at(pointer, "set"), where.extra))
    name = c.variable(raw.get("save"), _at(pointer, "save")) if "save" in raw else None
    if name is not None:
        node.assign = {name: Expr("jmespath", "result")}
    c.add(block, node)


@kind("succeed")
def _succeed(c: DocumentCompiler, raw: dict[str, Any], pointer: str, where: Where, follow: str | None, block: Block, base: dict[str, Any]) -> None:
    value = raw.get("succeed")
    output = None if value is None else c.exprs.template(value, _at(pointer, "succeed"), where.extra)
    c.add(block, SucceedNode(**{**base, "next": None}, output=output, scope="workflow"))


@kind("fail")
def _fail(c: DocumentCompiler, raw: dict[str, Any], pointer: str, where: Where, follow: str | None, block: Block, base: dict[str, Any]) -> None:
    spec = raw.get("fail")
    at = _at(pointer, "fail")
    node = FailNode(**{**base, "next": None})
    if isinstance(spec, str):
        node.error = c.exprs.template(spec, at, where.extra)
    elif isinstance(spec, dict):
        if isinstance(spec.get("error"), str):
            node.error = c.exprs.template(spec["error"], _at(at, "error"), where.extra)
        if isinstance(spec.get("message"), str):
            node.message = c.exprs.template(spec["message"], _at(at, "message"), where.extra)
    c.add(block, node)


# -- control flow ---------------------------------------------------------------------------------


@kind("goto")
def _goto(c: DocumentCompiler, raw: dict[str, Any], pointer: str, where: Where, follow: str | None, block: Block, base: dict[str, Any]) -> None:
    # A choice without cases is a pure jump: it goes to ``next`` and leaves the data alone.
    node = ChoiceNode(**base)
    c.jump(raw.get("goto"), _at(pointer, "goto"), where, lambda target: setattr(node, "next", target))
    c.add(block, node)


@kind("switch")
def _switch(c: DocumentCompiler, raw: dict[str, Any], pointer: str, where: Where, follow: str | None, block: Block, base: dict[str, Any]) -> None:
    """Cases with inline ``steps`` are compiled into the switch's own block (they are part of
    the list the switch is in), so they may jump anywhere in that list and fall through to
    the step after the switch."""
    node = ChoiceNode(**base)
    c.add(block, node)
    cases = _list(raw, "switch")
    conditions: list[Expr | None] = []
    targets: list[str | None] = []
    seen_else = False
    for index, case in enumerate(cases):
        at = _at(pointer, "switch", index)
        if not isinstance(case, dict):
            continue
        if seen_else:
            c.report.error("DSL-E034", "'else' must be the last case: this case can never be chosen", at)
        if "if" in case:
            conditions.append(c.exprs.condition(case["if"], _at(at, "if"), "'if'", where.extra))
            targets.append(follow)
            slot = len(targets) - 1
            if "goto" in case:
                c.jump(case["goto"], _at(at, "goto"), where, _setter(targets, slot))
            elif "steps" in case:
                targets[slot] = c.steps_into(block, case["steps"], _at(at, "steps"), where, follow)
        elif "else" in case:
            if seen_else:
                continue
            seen_else = True
            otherwise = case["else"]
            if isinstance(otherwise, str):
                c.jump(otherwise, _at(at, "else"), where, lambda target: setattr(node, "next", target))
            elif isinstance(otherwise, list):
                node.next = c.steps_into(block, otherwise, _at(at, "else"), where, follow)

    def finish() -> None:
        node.cases = tuple(ChoiceCase(cond, target) for cond, target in zip(conditions, targets) if cond is not None)

    c.finalizers.append(finish)


@kind("parallel")
def _parallel(c: DocumentCompiler, raw: dict[str, Any], pointer: str, where: Where, follow: str | None, block: Block, base: dict[str, Any]) -> None:
    branches: list[Block] = []
    items = _list(raw, "parallel")
    for index, item in enumerate(items):
        at = _at(pointer, "parallel", index)
        if not isinstance(item, dict):
            continue
        if any(k in item for k in _COMPILERS):
            branches.append(c.single(item, at, Where(at, None, where.extra)))
        elif "steps" in item:
            branches.append(c.block(item["steps"], _at(at, "steps"), Where(_at(at, "steps"), None, where.extra)))
    node = ParallelNode(**base, branches=tuple(branches), mode="any" if raw.get("first") is True else "all")
    result_options(c, node, raw, pointer, where)
    c.add(block, node)


@kind("for_each")
def _for_each(c: DocumentCompiler, raw: dict[str, Any], pointer: str, where: Where, follow: str | None, block: Block, base: dict[str, Any]) -> None:
    item_var = c.variable(raw.get("as", "item"), _at(pointer, "as")) or "item"
    index_var = c.variable(raw.get("index", "index"), _at(pointer, "index")) or "index"
    items_raw = raw.get("for_each")
    at = _at(pointer, "for_each")
    if isinstance(items_raw, str):
        items = c.exprs.condition(items_raw, at, "'for_each'", where.extra) or Expr.literal([])
    else:
        items = c.exprs.template(items_raw if isinstance(items_raw, list) else [], at, where.extra)
    inner = Where(_at(pointer, "steps"), None, where.extra | {item_var, index_var})
    body = c.block(raw.get("steps"), _at(pointer, "steps"), inner)
    node = ForEachNode(**base, items=items, body=body, item_var=item_var, index_var=index_var)
    if _is_int(raw.get("concurrency")):
        node.max_concurrency = raw["concurrency"]
    tolerate = raw.get("tolerate")
    if isinstance(tolerate, dict):
        if _is_int(tolerate.get("failures")):
            node.tolerated_failure_count = tolerate["failures"]
        if _is_number(tolerate.get("percent")):
            node.tolerated_failure_percent = float(tolerate["percent"])
    result_options(c, node, raw, pointer, where)
    c.add(block, node)


@kind("repeat")
def _repeat(c: DocumentCompiler, raw: dict[str, Any], pointer: str, where: Where, follow: str | None, block: Block, base: dict[str, Any]) -> None:
    spec = _dict(raw, "repeat")
    at = _at(pointer, "repeat")
    body = c.block(spec.get("steps"), _at(at, "steps"), Where(_at(at, "steps"), None, where.extra))
    node = LoopNode(**base, body=body)
    if "every" in spec:
        node.every_seconds = dynamic_duration(c, spec["every"], _at(at, "every"), where)
    if "until" in spec:
        node.until = c.exprs.condition(spec["until"], _at(at, "until"), "'until'", where.extra)
    if "timeout" in spec:
        seconds = c.duration(spec["timeout"], _at(at, "timeout"))
        node.timeout_seconds = None if seconds is None else Expr.literal(seconds)
    if _is_int(spec.get("max_rounds")):
        node.max_rounds = spec["max_rounds"]
    result_options(c, node, raw, pointer, where)  # output, save, retry, catch, compensate
    c.add(block, node)


@kind("try")
def _try(c: DocumentCompiler, raw: dict[str, Any], pointer: str, where: Where, follow: str | None, block: Block, base: dict[str, Any]) -> None:
    at = _at(pointer, "try")
    body = c.block(raw.get("try"), at, Where(at, None, where.extra))
    node = TryNode(**base, body=body)
    result_options(c, node, raw, pointer, where)
    c.add(block, node)


@kind("wait")
def _wait(c: DocumentCompiler, raw: dict[str, Any], pointer: str, where: Where, follow: str | None, block: Block, base: dict[str, Any]) -> None:
    value = raw.get("wait")
    at = _at(pointer, "wait")
    node = WaitNode(**base)
    if isinstance(value, dict):
        until = value.get("until")
        until_at = _at(at, "until")
        if isinstance(until, str) and not c.report.has_schema_error(until_at):
            if "${" in until.replace("$${", ""):
                node.until = c.exprs.condition(until, until_at, "'until'", where.extra)
            else:
                try:
                    parse_timestamp(until)
                    node.until = Expr.literal(until)
                except ValueError as error:
                    c.report.error("DSL-E021", str(error), until_at)
    else:
        node.seconds = dynamic_duration(c, value, at, where)
    c.add(block, node)


def _setter(targets: list[str | None], slot: int) -> Callable[[str | None], None]:
    def apply(target: str | None) -> None:
        targets[slot] = target

    return apply


def _str(raw: dict[str, Any], key: str) -> str:
    value = raw.get(key)
    return value if isinstance(value, str) else ""


def _list(raw: dict[str, Any], key: str) -> list[Any]:
    value = raw.get(key)
    return value if isinstance(value, list) else []


def _dict(raw: dict[str, Any], key: str) -> dict[str, Any]:
    value = raw.get(key)
    return value if isinstance(value, dict) else {}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
