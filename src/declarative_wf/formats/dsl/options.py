"""Options shared by the steps that produce a result: ``output``, ``save``, ``retry``,
``catch``, ``compensate`` and ``timeout``."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from declarative_wf.ir import (
    Block,
    CatchRule,
    CompensateNode,
    ErrorMatch,
    Expr,
    FailNode,
    Merge,
    ResultNode,
    RetryRule,
)  # fmt: skip
from declarative_wf.loading import pointer_join

from .durations import DurationError, parse_duration
from .where import Where

if TYPE_CHECKING:
    from .compile import DocumentCompiler

#: What a retry rule without ``on`` retries: failures of the step itself, not bugs in the
#: definition (expression errors) or errors raised on purpose by ``fail``.
DEFAULT_RETRY_ON = ("@task", "@timeout")
DEFAULT_ATTEMPTS = 3
DEFAULT_DELAY = 1.0
DEFAULT_BACKOFF = 2.0


def result_options(c: DocumentCompiler, node: ResultNode, raw: dict[str, Any], pointer: str, where: Where) -> None:
    if "output" in raw:
        node.result = c.exprs.template(raw["output"], pointer_join(pointer, "output"), where.extra)
    if "save" in raw:
        name = c.variable(raw["save"], pointer_join(pointer, "save"))
        if name is not None:
            node.assign = {name: Expr("jmespath", "result")}
    if "retry" in raw:
        node.retry = retry_rules(c, raw["retry"], pointer_join(pointer, "retry"))
    if "catch" in raw:
        node.catch = catch_rules(c, node, raw["catch"], pointer_join(pointer, "catch"), where)
    if "compensate" in raw:
        node.compensation = compensation(c, raw["compensate"], pointer_join(pointer, "compensate"), where)


def timeout_option(c: DocumentCompiler, node: ResultNode, raw: dict[str, Any], pointer: str, where: Where) -> None:
    if "timeout" in raw:
        node.timeout_seconds = dynamic_duration(c, raw["timeout"], pointer_join(pointer, "timeout"), where)


def dynamic_duration(c: DocumentCompiler, value: Any, pointer: str, where: Where) -> Expr | None:
    """A literal duration (in seconds), or one expression that gives seconds."""
    if c.report.has_schema_error(pointer):
        return None
    if isinstance(value, str) and "${" in value.replace("$${", ""):
        return c.exprs.condition(value, pointer, "a duration", where.extra)
    try:
        return Expr.literal(parse_duration(value))
    except DurationError as error:
        c.report.error("DSL-E020", str(error), pointer)
        return None


def _items(raw: Any, pointer: str) -> list[tuple[dict[str, Any], str]]:
    """A rule or a list of rules, with their pointers."""
    if isinstance(raw, dict):
        return [(raw, pointer)]
    if isinstance(raw, list):
        return [(item, pointer_join(pointer, i)) for i, item in enumerate(raw) if isinstance(item, dict)]
    return []


def error_names(raw: Any, default: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(raw, str) and raw:
        return (raw,)
    if isinstance(raw, list):
        names = tuple(item for item in raw if isinstance(item, str) and item)
        return names or default
    return default


def retry_rules(c: DocumentCompiler, raw: Any, pointer: str) -> tuple[RetryRule, ...]:
    rules = []
    for spec, at in _items(raw, pointer):
        attempts = spec.get("attempts", DEFAULT_ATTEMPTS)
        backoff = spec.get("backoff", DEFAULT_BACKOFF)
        delay = c.duration(spec.get("delay"), pointer_join(at, "delay"))
        rules.append(
            RetryRule(
                match=ErrorMatch(names=error_names(spec.get("on"), DEFAULT_RETRY_ON)),
                # The IR counts retries after the first attempt; the DSL counts attempts.
                max_retries=max(0, attempts - 1) if _is_int(attempts) else DEFAULT_ATTEMPTS - 1,
                interval_seconds=DEFAULT_DELAY if delay is None else delay,
                backoff_rate=float(backoff) if _is_number(backoff) else DEFAULT_BACKOFF,
                max_delay_seconds=c.duration(spec.get("max_delay"), pointer_join(at, "max_delay")),
                max_duration_seconds=c.duration(spec.get("max_duration"), pointer_join(at, "max_duration")),
                jitter="full" if spec.get("jitter") is True else "none",
            )
        )
    return tuple(rules)


def catch_rules(c: DocumentCompiler, node: ResultNode, raw: Any, pointer: str, where: Where) -> tuple[CatchRule, ...]:
    rules: list[CatchRule] = []
    for spec, at in _items(raw, pointer):
        name = c.variable(spec.get("as", "error"), pointer_join(at, "as")) or "error"
        steps_at = pointer_join(at, "steps")
        handler = Block(start=None)
        c.blocks[steps_at] = handler
        then = spec.get("then", "continue")
        then_at = pointer_join(at, "then")
        fail_id = c.node_id(then_at) if then == "fail" else None
        entry = c.steps_into(handler, spec.get("steps"), steps_at, Where(steps_at, None, where.extra), fail_id)
        if spec.get("compensate") is True:
            c.uses_compensation = True
            compensate_id = c.node_id(pointer_join(at, "compensate"))
            handler.nodes = {compensate_id: CompensateNode(id=compensate_id, next=entry, label="compensate", source=c.source(pointer_join(at, "compensate"))), **handler.nodes}
            entry = compensate_id
        if fail_id is not None:
            # Raise the caught error again, once the handler (and compensation) has run.
            handler.nodes[fail_id] = FailNode(
                id=fail_id, label="fail", source=c.source(then_at),
                error=Expr("jmespath", f"{name}.type"), message=Expr("jmespath", f"{name}.message"),
            )  # fmt: skip
        handler.start = entry
        rule = CatchRule(
            match=ErrorMatch(names=error_names(spec.get("on"), ("*",))),
            # The handler starts with the data the failed step received; the error is a variable.
            merge=Merge("discard"),
            assign={name: Expr("jmespath", "result")},
            handler=handler if handler.nodes else None,
        )
        rules.append(rule)
        _then(c, node, rules, len(rules) - 1, then, then_at, where)
    return tuple(rules)


def _then(c: DocumentCompiler, node: ResultNode, rules: list[CatchRule], index: int, then: Any, at: str, where: Where) -> None:
    rule = rules[index]
    if not isinstance(then, str) or then in ("continue", "fail"):
        return
    if then == "end":
        rules[index] = replace(rule, then="end") if where.end is None else replace(rule, then="jump", next=where.end)
        return
    # A step id, resolved with the other jumps (in the list of the failed step); by then the
    # rules are the node's tuple, so it is rebuilt with the target.
    rules[index] = replace(rule, then="jump", next=None)

    def apply(target: str | None) -> None:
        node.catch = tuple(replace(r, next=target) if i == index else r for i, r in enumerate(node.catch))

    c.jump(then, at, where, apply)


def compensation(c: DocumentCompiler, raw: Any, pointer: str, where: Where) -> Block | None:
    c.uses_compensation = True
    inner = Where(pointer, None, where.extra | {"compensating"})
    if isinstance(raw, dict):
        return c.single(raw, pointer, inner)
    if isinstance(raw, list):
        return c.block(raw, pointer, inner)
    return None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
