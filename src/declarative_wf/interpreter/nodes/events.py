"""The ``listen`` node: consume CloudEvents from the engine's event bus.

How it maps onto durable primitives (docs/events.md):

1. the ``dwf.events.subscribe`` activity registers a subscription in the bus: the instance, an
   external-event name unique to this run of the node, the filters (jq filter expressions go
   as text, evaluated by the bus on each event) and the correlation values expected (computed
   here, on the node's input, so they are part of the history);
2. the node waits on that external event; the bus raises it once per matching event, carrying
   ``{"event", "seq", "group", "filter", "correlation"}``;
3. events are accumulated until the strategy is satisfied (``one`` / ``all`` / ``any`` with
   ``until``), each optionally run through the ``foreach`` block;
4. the ``dwf.events.unsubscribe`` activity ends the subscription (also when the node fails).

The bus delivers at least once, so events are de-duplicated by CloudEvent ``source`` + ``id``.
Everything the node decides depends only on its history, so replays are exact.
"""

from __future__ import annotations

import json
from collections.abc import Generator
from datetime import datetime, timedelta
from typing import Any

from declarative_wf.ir.model import EventStrategy, Expr, ListenNode

from ..blocks import NodeGen, run_block, run_guarded, runner
from ..commands import CallActivity, Now, Race, Sleep, WaitEvent, WorkflowError
from ..runtime import RunContext, Step
from .tasks import activity_envelope, timeout_error

SUBSCRIBE = "dwf.events.subscribe"
UNSUBSCRIBE = "dwf.events.unsubscribe"
_SEQ_KEY = "dwf.listen.seq"


def _next_seq(rt: RunContext) -> int:
    """A per-execution counter: the n-th listen of this execution (same on every replay)."""
    seq = int(rt.format_state.get(_SEQ_KEY, 0)) + 1
    rt.format_state[_SEQ_KEY] = seq
    return seq


def _attribute_test(rt: RunContext, node: ListenNode, expr: Expr, data: Any, variables: dict[str, Any]) -> dict[str, Any]:
    if expr.lang == "jq":
        return {"jq": expr.value}
    if expr.lang == "literal":
        value = expr.value
    else:  # a template or another language: fixed when the node starts
        value = rt.eval(expr, data, variables, node)
    return {"regex": value} if isinstance(value, str) else {"equals": value}


def _filters(rt: RunContext, node: ListenNode, strategy: EventStrategy, data: Any, variables: dict[str, Any]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for item in strategy.filters:
        correlate: dict[str, Any] = {}
        for key, correlation in item.correlate.items():
            if correlation.extract.lang != "jq":
                raise WorkflowError("Runtime", f"correlation {key!r}: 'from' must be a jq expression", kinds=frozenset({"runtime"}))
            entry: dict[str, Any] = {"from": correlation.extract.value}
            if correlation.expect is not None:
                entry["expect"] = rt.eval(correlation.expect, data, variables, node)
            correlate[key] = entry
        attributes = {name: _attribute_test(rt, node, expr, data, variables) for name, expr in item.attributes.items()}
        out.append({"with": attributes, "correlate": correlate})
    return out


def subscription_spec(rt: RunContext, node: ListenNode, data: Any, variables: dict[str, Any]) -> dict[str, Any]:
    """The bus subscription of this node. ``until`` comes first, so that an event both
    groups accept counts toward stopping (events consumed by ``until`` are not output)."""
    groups: dict[str, Any] = {}
    if node.until_events is not None:
        groups["until"] = _filters(rt, node, node.until_events, data, variables)
    groups["main"] = _filters(rt, node, node.to, data, variables)
    return {"groups": groups, "input": data}


def read_event(event: dict[str, Any], how: str) -> Any:
    if how == "envelope":
        return event
    if how == "raw":
        if "data_base64" in event:
            return event["data_base64"]
        data = event.get("data")
        return data if isinstance(data, str) or data is None else json.dumps(data, separators=(",", ":"))
    return event.get("data")


class _Strategy:
    """Bookkeeping of one consumption strategy."""

    def __init__(self, strategy: EventStrategy) -> None:
        self.strategy = strategy
        self.slots: set[int] = set()
        self.count = 0

    def accept(self, filter_index: int | None) -> bool:
        """Records an event; False when it adds nothing (``all``: that filter already had one)."""
        if self.strategy.mode == "all" and filter_index is not None:
            if filter_index in self.slots:
                return False
            self.slots.add(filter_index)
        self.count += 1
        return True

    @property
    def satisfied(self) -> bool:
        if self.strategy.mode == "all":
            return len(self.slots) >= len(self.strategy.filters)
        return self.count >= 1


def _consume(
    rt: RunContext, node: ListenNode, name: str, data: Any, variables: dict[str, Any], step: Step, fixed: dict[str, Any]
) -> Generator[Any, Any, list[Any]]:
    """Consumes events until the strategy is satisfied; ``fixed`` receives the correlation
    values the accepted events resolved."""
    deadline: datetime | None = None
    if node.timeout_seconds is not None:
        seconds = float(rt.eval(node.timeout_seconds, data, variables, node, step))
        now: datetime = yield Now()
        deadline = now + timedelta(seconds=seconds)
    seen: set[tuple[str, str]] = set()
    main, stop = _Strategy(node.to), _Strategy(node.until_events) if node.until_events else None
    consumed: list[Any] = []
    outputs: list[Any] = []
    while True:
        rt.count_step()
        if deadline is None:
            delivery = yield WaitEvent(name)
        else:
            index, delivery = yield Race((WaitEvent(name), Sleep(deadline)))
            if index == 1:
                raise timeout_error(node, float((deadline - now).total_seconds()))
        if isinstance(delivery, str):
            try:
                delivery = json.loads(delivery)
            except ValueError:
                continue  # not from the bus
        if not isinstance(delivery, dict) or not isinstance(delivery.get("event"), dict):
            continue  # not from the bus (someone raised the event by hand): ignored
        event = delivery["event"]
        identity = (str(event.get("source")), str(event.get("id")))
        if identity in seen:
            continue  # a re-delivery (the bus is at-least-once)
        correlation = delivery.get("correlation") or {}
        if any(key in fixed and fixed[key] != value for key, value in correlation.items()):
            continue  # correlated with another value than the first accepted event
        group = delivery.get("group")
        if group == "until" and stop is not None:
            seen.add(identity)
            fixed.update(correlation)
            stop.accept(delivery.get("filter"))
            if stop.satisfied:
                return outputs
            continue
        if not main.accept(delivery.get("filter")):
            continue
        seen.add(identity)
        fixed.update(correlation)
        value = read_event(event, node.read)
        consumed.append(value)
        outputs.append((yield from _each(rt, node, value, len(consumed) - 1, variables)))
        if node.to.mode != "any":
            if main.satisfied:
                return outputs
            continue
        if node.until is not None:
            if rt.eval(node.until, consumed, variables, node, step) is True:
                return outputs
        elif stop is None:
            return outputs


def _each(rt: RunContext, node: ListenNode, value: Any, index: int, variables: dict[str, Any]) -> Generator[Any, Any, Any]:
    if node.foreach is None:
        return value
    scope = {**variables, node.item_var: value, node.index_var: index}
    result, inner = yield from run_block(rt, node.foreach, value, scope)
    return rt.eval_optional(node.item_output, result, inner, node, result)


def _notify(rt: RunContext, kind: str, node: ListenNode, **extra: Any) -> None:
    """Reports a lifecycle event through the format profile, for formats that have them
    (Serverless Workflow: ``workflow.correlation-started`` / ``-completed``, docs/events.md).
    The profile marks events seen while replaying, so each is published once."""
    notify = getattr(rt.profile, "notify", None)
    if notify is not None:
        notify(rt, kind, node, **extra)


@runner("listen")
def run_listen(rt: RunContext, node: ListenNode, data: Any, variables: dict[str, Any]) -> NodeGen:
    def attempt(effective: Any, number: int, step: Step) -> Generator[Any, Any, Any]:
        seq = _next_seq(rt)
        suffix = f"{node.id}/{rt.generation}/{seq}"
        sub_id, name = f"{rt.instance_id}/{suffix}", f"dwf.listen/{suffix}"
        spec = subscription_spec(rt, node, effective, variables)
        rt.count_step()
        yield CallActivity(SUBSCRIBE, activity_envelope({"id": sub_id, "event_name": name, "spec": spec}, number, rt, node))
        _notify(rt, "workflow.correlation-started", node)
        fixed: dict[str, Any] = {}
        try:
            outputs = yield from _consume(rt, node, name, effective, variables, step, fixed)
        except WorkflowError:
            rt.count_step()
            yield CallActivity(UNSUBSCRIBE, activity_envelope({"id": sub_id}, number, rt, node))
            raise
        _notify(rt, "workflow.correlation-completed", node, correlation=fixed)
        rt.count_step()
        yield CallActivity(UNSUBSCRIBE, activity_envelope({"id": sub_id}, number, rt, node))
        return outputs

    return (yield from run_guarded(rt, node, data, variables, attempt))
