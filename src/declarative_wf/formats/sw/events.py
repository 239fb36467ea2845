"""Task compilers for Serverless Workflow 1.x ``listen`` and ``emit`` (docs/events.md).

* ``emit`` becomes a call of the built-in activity ``dwf.events.emit`` with the event's
  properties (``emit.event.with``) as a template: the activity fills ``id``, ``time``,
  ``specversion`` and a default ``source``, publishes to the engine's event bus and returns the
  emitted CloudEvent (the task's output).
* ``listen`` becomes a :class:`~declarative_wf.ir.model.ListenNode`: its strategy
  (``one`` / ``all`` / ``any`` + ``until``), filters, correlations, ``read`` and ``foreach``.

Also :func:`compile_strategy`, shared with ``schedule.on`` (api/scheduler.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from declarative_wf import ir
from declarative_wf.ir.model import (
    EventCorrelation,
    EventFilter,
    EventStrategy,
    ListenNode,
)

from .extensions import TaskCompileContext, register_task_compiler

EMIT_ACTIVITY = "dwf.events.emit"
READ_MODES = ("data", "envelope", "raw")
CODE = "SW-E060"
WARNING = "SW-W060"


def _filter(ctx: TaskCompileContext, value: Any, pointer: str) -> EventFilter | None:
    if not isinstance(value, Mapping):
        ctx.error(CODE, "an event filter must be an object with 'with' (and optionally 'correlate')", pointer,
                  hint="write e.g. {with: {type: com.example.order.placed}}")  # fmt: skip
        return None
    properties = value.get("with")
    if not isinstance(properties, Mapping) or not properties:
        ctx.error(CODE, "an event filter needs 'with': at least one event property to match", f"{pointer}/with",
                  hint="e.g. with: {type: com.example.order.placed}")  # fmt: skip
        return None
    attributes = {str(name): ctx.template(item, f"{pointer}/with/{name}") for name, item in properties.items()}
    correlate: dict[str, EventCorrelation] = {}
    correlations = value.get("correlate") or {}
    if not isinstance(correlations, Mapping):
        ctx.error(CODE, "'correlate' must be an object: {key: {from, expect}}", f"{pointer}/correlate")
        correlations = {}
    for key, item in correlations.items():
        where = f"{pointer}/correlate/{key}"
        if not isinstance(item, Mapping) or not isinstance(item.get("from"), str):
            ctx.error(CODE, f"correlation {key!r} needs 'from': a runtime expression over the event", where,
                      hint="e.g. correlate: {orderId: {from: .data.orderId, expect: ${ .orderId }}}")  # fmt: skip
            continue
        expect = ctx.template(item["expect"], f"{where}/expect") if "expect" in item else None
        correlate[str(key)] = EventCorrelation(ctx.expression(item["from"], f"{where}/from"), expect)
    return EventFilter(attributes, correlate)


def compile_strategy(ctx: TaskCompileContext, value: Any, pointer: str, *, allow_until: bool = True) -> tuple[EventStrategy | None, Any]:
    """An ``eventConsumptionStrategy``: the strategy and its raw ``until`` (or None)."""
    if not isinstance(value, Mapping):
        ctx.error(CODE, "an event consumption strategy must be an object with one of one / all / any", pointer)
        return None, None
    modes = [mode for mode in ("one", "all", "any") if mode in value]
    if len(modes) != 1:
        ctx.error(CODE, "an event consumption strategy needs exactly one of 'one', 'all' or 'any'", pointer,
                  hint="one: a filter; all / any: a list of filters (any: [] accepts every event)")  # fmt: skip
        return None, None
    mode = modes[0]
    where = f"{pointer}/{mode}"
    if mode == "one":
        item = _filter(ctx, value["one"], where)
        filters: tuple[EventFilter, ...] = (item,) if item is not None else ()
    else:
        items = value[mode]
        if not isinstance(items, list):
            ctx.error(CODE, f"'{mode}' must be a list of event filters", where)
            return None, None
        if mode == "all" and not items:
            ctx.error(CODE, "'all' needs at least one event filter", where)
        compiled = [_filter(ctx, item, f"{where}/{index}") for index, item in enumerate(items)]
        filters = tuple(item for item in compiled if item is not None)
    until = value.get("until")
    if until is not None and not allow_until:
        ctx.error(CODE, "an 'until' strategy cannot have an 'until' of its own", f"{pointer}/until")
        until = None
    if until is not None and mode != "any":
        ctx.warning(WARNING, f"'until' only applies to 'any'; it is ignored with '{mode}'", f"{pointer}/until")
        until = None
    return EventStrategy(mode, filters), until  # type: ignore[arg-type]


def compile_listen(ctx: TaskCompileContext, task: Mapping[str, Any]) -> ir.Node | None:
    listen = task.get("listen")
    base = f"{ctx.pointer}/listen"
    if not isinstance(listen, Mapping) or "to" not in listen:
        ctx.error(CODE, "'listen' needs 'to': the events to consume", base, hint="e.g. listen: {to: {one: {with: {type: x}}}}")
        return None
    strategy, until = compile_strategy(ctx, listen["to"], f"{base}/to")
    if strategy is None:
        return None
    node = ListenNode(id=ctx.node_id("listen"), to=strategy)
    if isinstance(until, str):
        node.until = ctx.expression(until, f"{base}/to/until")
    elif until is not None:
        node.until_events, _ = compile_strategy(ctx, until, f"{base}/to/until", allow_until=False)
    read = listen.get("read", "data")
    if read not in READ_MODES:
        ctx.error(CODE, f"'read' must be one of {', '.join(READ_MODES)}, not {read!r}", f"{base}/read")
    else:
        node.read = read
    # The schema puts ``foreach`` beside ``listen``; older documents put it inside: accept both.
    foreach, where = (task["foreach"], f"{ctx.pointer}/foreach") if "foreach" in task else (listen.get("foreach"), f"{base}/foreach")
    if foreach is not None:
        if not isinstance(foreach, Mapping):
            ctx.error(CODE, "'foreach' must be an object (item, at, do, output)", where)
        else:
            node.item_var = str(foreach.get("item") or "item")
            node.index_var = str(foreach.get("at") or "index")
            if foreach.get("do") is not None:
                node.foreach = ctx.block(foreach["do"], f"{where}/do")
            output = foreach.get("output")
            if isinstance(output, Mapping) and "as" in output:
                shape = output["as"]
                node.item_output = ctx.template(shape, f"{where}/output/as") if not isinstance(shape, str) else ctx.expression(shape, f"{where}/output/as")
            if "export" in foreach:
                ctx.warning(WARNING, "'foreach.export' is not supported yet and is ignored", f"{where}/export")
    return node


def compile_emit(ctx: TaskCompileContext, task: Mapping[str, Any]) -> ir.Node | None:
    emit = task.get("emit")
    base = f"{ctx.pointer}/emit"
    event = emit.get("event") if isinstance(emit, Mapping) else None
    properties = event.get("with") if isinstance(event, Mapping) else None
    if not isinstance(properties, Mapping):
        ctx.error(CODE, "'emit' needs 'event.with': the properties of the CloudEvent to publish", base,
                  hint="e.g. emit: {event: {with: {source: https://shop.example, type: order.placed, data: ${ .order }}}}")  # fmt: skip
        return None
    if "type" not in properties:
        ctx.error(CODE, "the emitted event needs a 'type'", f"{base}/event/with")
        return None
    attributes = ctx.template(dict(properties), f"{base}/event/with")
    # The activity takes {"event": attributes}; a template keeps its expressions in place.
    args = ir.Expr(attributes.lang if attributes.lang in ("literal", "template") else "template", {"event": _as_template_value(attributes)})
    return ir.TaskNode(id=ctx.node_id("emit"), activity=EMIT_ACTIVITY, args=args)


def _as_template_value(expr: ir.Expr) -> Any:
    if expr.lang in ("literal", "template"):
        return expr.value
    return {"$expr": {"lang": expr.lang, "value": expr.value}}


register_task_compiler("listen", compile_listen)
register_task_compiler("emit", compile_emit)
