"""Events in 0.8: event states, callback states, event-based switches, ``produceEvents`` and
``eventRef`` actions.

A consumed event is an ``event`` node waiting for an external event named after the event
definition's ``type`` (``org.orders.paid``). Two ways reach it:

* the engine's raise-event API (``dwf workflow raise-event``, Dapr's ``raise_workflow_event``)
  with that name — the data raised is the event's data;
* the engine's CloudEvents bus: before waiting, the instance subscribes (``dwf.events.subscribe``)
  to CloudEvents of that type (and the ``correlation`` attributes that have a value); the bus
  delivers each match as an external event of the same name. Events published before the
  subscription are not seen.

Either way the node unwraps the CloudEvent: with ``dataOnly`` (the default) the event's
``data``, else the whole event. Produced events go out through ``dwf.events.emit``.

Waiting for one of several events races one branch per event (a ``parallel`` node of mode
``any``); the winner records which one it was, and a ``choice`` node takes its path.
"""

from __future__ import annotations

from typing import Any

from declarative_wf.diagnostics import quote
from declarative_wf.ir import (
    Block,
    CatchRule,
    ChoiceCase,
    ChoiceNode,
    ErrorMatch,
    EventNode,
    Expr,
    FailNode,
    Merge,
    Node,
    ParallelNode,
    SetNode,
    TaskNode,
    WaitNode,
)
from declarative_wf.loading import pointer_join

from .base import Chain, CompilerBase, block_of, join, sequence
from .definitions import event_timeout
from .expressions import MERGE_DEF

__all__ = ["EMIT_ACTIVITY", "SUBSCRIBE_ACTIVITY", "UNSUBSCRIBE_ACTIVITY", "EventsMixin"]

#: The built-in activities of the engine's event bus (docs of the activities: activities/events.py).
EMIT_ACTIVITY = "dwf.events.emit"
SUBSCRIBE_ACTIVITY = "dwf.events.subscribe"
UNSUBSCRIBE_ACTIVITY = "dwf.events.unsubscribe"

#: An unreachable bus does not stop a wait: raised events (the raise-event API) still arrive.
_BUS_OPTIONAL = (
    CatchRule(match=ErrorMatch(names=("EventBusUnavailable",)), merge=Merge("discard")),
)
#: A bus delivery ``{"event": CloudEvent, "seq", ...}`` or raised data → the CloudEvent or the data.
_UNWRAP_DELIVERY = 'if type == "object" and has("seq") and (.event | type) == "object" then .event else . end'
_DATA_ONLY = (
    'if type == "object" and has("specversion") and has("type") then .data else . end'
)


class EventsMixin(CompilerBase):
    # -- waiting for events -----------------------------------------------------------------------

    def wait_event(
        self, event_name: str, filters: Any, pointer: str, timeout: Any
    ) -> EventNode:
        """One wait, its payload merged into the state data per ``eventDataFilter``."""
        filters = filters or {}
        event = (self.defs.events or {}).get(event_name, {})
        unwrap = (
            _UNWRAP_DELIVERY
            if event.get("dataOnly") is False
            else f"({_UNWRAP_DELIVERY}) | ({_DATA_ONLY})"
        )
        data = filters.get("data")
        node = EventNode(
            id=pointer, label=f"wait {event_name}", source=self.source(pointer), event=str(event.get("type", event_name)),
            result=Expr("jq", f"({unwrap})" + (f" | ({self.expr.program(data)})" if data else "")),
            merge=Merge("discard"), timeout_seconds=Expr.literal(self.seconds(timeout)) if timeout else None,
        )  # fmt: skip
        if filters.get("useData") is not False:
            node.output = self.expr.merge_expr(filters.get("toStateData"))
        return node

    def subscribed(self, wait: EventNode) -> Chain:
        """``wait`` between a bus subscription for its event type and the unsubscription."""
        name = next(
            (
                n
                for n, e in (self.defs.events or {}).items()
                if str(e.get("type", n)) == wait.event
            ),
            wait.event,
        )
        event = (self.defs.events or {}).get(name, {})
        tests: dict[str, Any] = {"type": {"equals": wait.event}}
        for item in event.get("correlation") or []:
            if "contextAttributeValue" in item:
                tests[item["contextAttributeName"]] = {
                    "equals": item["contextAttributeValue"]
                }
            else:
                self.warn(
                    f"event {quote(name)}: correlation on {quote(item['contextAttributeName'])} without a "
                    "contextAttributeValue is not enforced (every event of the type is delivered)", wait.id,
                )  # fmt: skip
        subscription_id = Expr("jq", f'"\\($instance_id)|{wait.id}"')
        spec = {"groups": {"main": [{"with": tests}]}}
        subscribe = TaskNode(
            id=f"{wait.id}#subscribe", label=f"subscribe {name}", source=wait.source, activity=SUBSCRIBE_ACTIVITY,
            args=Expr("template", {"id": {"$expr": {"lang": "jq", "value": subscription_id.value}},
                                   "event_name": wait.event, "spec": spec}),
            merge=Merge("discard"), catch=_BUS_OPTIONAL,
        )  # fmt: skip
        unsubscribe = TaskNode(
            id=f"{wait.id}#unsubscribe", label=f"unsubscribe {name}", source=wait.source, activity=UNSUBSCRIBE_ACTIVITY,
            args=Expr("template", {"id": {"$expr": {"lang": "jq", "value": subscription_id.value}}}), merge=Merge("discard"),
            catch=_BUS_OPTIONAL,
        )  # fmt: skip
        return [subscribe, wait, unsubscribe]

    def race(
        self,
        race_id: str,
        waits: list[tuple[EventNode, str | None]],
        timeout: Any,
        **fields: Any,
    ) -> ParallelNode:
        """A ``parallel`` node (mode any) over one branch per wait; the winner's output is
        ``{i, data}`` stored at ``.__sw_event`` (``i`` = -1 when the ``timeout`` timer wins)."""
        branches = []
        for index, (wait, data) in enumerate(waits):
            body = f"({self.expr.program(data)})" if data else "."
            assert wait.result is not None
            wait.result = Expr(
                "jq", f"{wait.result.value} | {{i: {index}, data: {body}}}"
            )
            wait.output, wait.merge = None, Merge("replace")
            branches.append(block_of(self.subscribed(wait)))
        if timeout:
            timer_id = f"{race_id}#eventTimeout"
            timer = WaitNode(
                id=timer_id,
                seconds=Expr.literal(self.seconds(timeout)),
                output=Expr.literal({"i": -1}),
            )
            branches.append(Block(timer_id, {timer_id: timer}))
        return ParallelNode(
            id=race_id,
            branches=tuple(branches),
            mode="any",
            merge=Merge("set", ("__sw_event",)),
            **fields,
        )

    # -- states -----------------------------------------------------------------------------------

    def state_callback(self, state: dict[str, Any], pointer: str) -> Chain:
        if self.undefined("events", state["eventRef"]):
            return [
                self.fail_undefined(
                    "event", state["eventRef"], pointer_join(pointer, "eventRef")
                )
            ]
        timeout = (state.get("timeouts") or {}).get("eventTimeout")
        wait = self.wait_event(
            state["eventRef"],
            state.get("eventDataFilter"),
            pointer_join(pointer, "eventRef"),
            timeout,
        )
        subscribe, wait_node, unsubscribe = self.subscribed(wait)
        # Subscribe before the action, so that an event the action causes at once is not missed.
        action = self.action(
            state["action"], pointer_join(pointer, "action"), self.action_timeout(state)
        )
        return sequence([[subscribe], action, [wait_node, unsubscribe]])

    def state_event(self, state: dict[str, Any], pointer: str) -> Chain | Block:
        on_events = state["onEvents"]
        timeout = (state.get("timeouts") or {}).get("eventTimeout")
        refs = [
            (i, j, ref)
            for i, on in enumerate(on_events)
            for j, ref in enumerate(on["eventRefs"])
        ]
        action_chains = [
            self.actions(
                on.get("actions") or [],
                join(pointer, "onEvents", i, "actions"),
                on.get("actionMode"),
                self.action_timeout(state),
            )
            for i, on in enumerate(on_events)
        ]
        for i, j, ref in refs:
            # One wait for an undefined event and the state cannot be run as written.
            if self.undefined("events", ref):
                return [
                    self.fail_undefined(
                        "event", ref, join(pointer, "onEvents", i, "eventRefs", j)
                    )
                ]
        if len(refs) == 1:
            i, j, ref = refs[0]
            wait = self.wait_event(
                ref,
                on_events[i].get("eventDataFilter"),
                join(pointer, "onEvents", i, "eventRefs", j),
                timeout,
            )
            return [*self.subscribed(wait), *action_chains[0]]
        waits = [
            (
                self.wait_event(
                    ref, None, join(pointer, "onEvents", i, "eventRefs", j), None
                ),
                (on_events[i].get("eventDataFilter") or {}).get("data"),
            )
            for i, j, ref in refs
        ]
        race_id = f"{pointer}/onEvents"
        if state.get("exclusive", True) is False:
            # Every event (in any order), then every onEvents' actions in order.
            race = self.race(race_id, waits, None, source=self.source(race_id))
            race.mode, race.merge, race.result = (
                "all",
                Merge("discard"),
                Expr("jq", "map(.data)"),
            )
            race.output = self.expr.merge_each(
                [
                    self.event_path(on_events[i].get("eventDataFilter"))
                    for i, _, _ in refs
                ]
            )
            if timeout:
                self.warn("eventTimeout of a non-exclusive event state is not enforced (it waits for every event)",
                          join(pointer, "timeouts", "eventTimeout"))  # fmt: skip
            return [race, *[node for chain in action_chains for node in chain]]
        race = self.race(race_id, waits, timeout, source=self.source(race_id))
        # The index of the winning wait → its onEvents.
        owner = [i for i, _, _ in refs]
        nodes: dict[str, Node] = {race.id: race}
        cases = []
        for i, on in enumerate(on_events):
            apply = SetNode(
                id=f"{pointer}/onEvents/{i}#data", value=Expr("jq", ".__sw_event.data"), merge=Merge("discard"),
                output=Expr("jq", MERGE_DEF + f"(.__sw_event.data) as $__selected | del(.__sw_event) | {self.event_merge(on.get('eventDataFilter'))}"),
            )  # fmt: skip
            chain = block_of([apply, *action_chains[i]])
            nodes.update(chain.nodes)
            indexes = [k for k, o in enumerate(owner) if o == i]
            cases.append(
                ChoiceCase(
                    Expr("jq", f".__sw_event.i as $i | any({indexes}[]; . == $i)"),
                    apply.id,
                )
            )
        timeout_id = f"{pointer}#timeout"
        # The timer won: an error onErrors can handle (name or code "Timeout").
        nodes[timeout_id] = FailNode(id=timeout_id, error=Expr.literal("Timeout"), status=408, source=self.source(pointer),
                                     message=Expr.literal("no event arrived within the eventTimeout"))  # fmt: skip
        choice = ChoiceNode(id=f"{pointer}#which", cases=tuple(cases), next=timeout_id)
        race.next = choice.id
        nodes[choice.id] = choice
        return Block(race.id, nodes)

    def event_path(self, filters: Any) -> str | None | bool:
        filters = filters or {}
        if filters.get("useData") is False:
            return False
        return filters.get("toStateData")

    def event_merge(self, filters: Any) -> str:
        path = self.event_path(filters)
        return (
            "."
            if path is False
            else self.expr.merge_into(path if isinstance(path, str) else None)
        )

    def switch_events(
        self,
        state: dict[str, Any],
        pointer: str,
        into: dict[str, Node],
        default_next: str | None,
    ) -> None:
        filters = state.get("stateDataFilter") or {}
        for index, condition in enumerate(state["eventConditions"]):
            if self.undefined("events", condition["eventRef"]):
                where = join(pointer, "eventConditions", index, "eventRef")
                into[pointer] = self.fail_undefined(
                    "event", condition["eventRef"], where, pointer, state["name"]
                )
                return
        waits, cases = [], []
        for index, condition in enumerate(state["eventConditions"]):
            where = join(pointer, "eventConditions", index)
            waits.append(
                (
                    self.wait_event(condition["eventRef"], None, where, None),
                    (condition.get("eventDataFilter") or {}).get("data"),
                )
            )
            target = self.flow(
                where, condition.get("transition"), condition.get("end"), into, self.ids
            )
            merge = Expr(
                "jq",
                MERGE_DEF
                + f"(.__sw_event.data) as $__selected | del(.__sw_event) | {self.event_merge(condition.get('eventDataFilter'))}",
            )
            cases.append(
                ChoiceCase(
                    Expr("jq", f".__sw_event.i == {index}"), target, output=merge
                )
            )
        timeout = event_timeout(state)
        race = self.race(pointer, waits, timeout, label=state["name"], source=self.source(pointer),
                         input=self.jq(filters.get("input")), next=f"{pointer}#which")  # fmt: skip
        choice = ChoiceNode(id=f"{pointer}#which", cases=tuple(cases), next=default_next, source=self.source(pointer),
                            default_output=Expr("jq", "del(.__sw_event)"), output=self.jq(filters.get("output")))  # fmt: skip
        into[race.id] = race
        into[choice.id] = choice

    # -- producing events -------------------------------------------------------------------------

    def produce(self, events: Any, pointer: str) -> Chain:
        chain: Chain = []
        for index, produced in enumerate(events or []):
            where = join(pointer, "produceEvents", index)
            if self.undefined("events", produced["eventRef"]):
                chain.append(
                    self.fail_undefined(
                        "event", produced["eventRef"], pointer_join(where, "eventRef")
                    )
                )
                continue
            chain.append(
                self.emit(
                    produced["eventRef"],
                    produced.get("data"),
                    produced.get("contextAttributes"),
                    where,
                )
            )
        return chain

    def emit(
        self, event_name: str, data: Any, attributes: Any, pointer: str
    ) -> TaskNode:
        """A CloudEvent of the definition's type (and source), the state data (or ``data``) as
        its data, published on the engine's bus."""
        event = (self.defs.events or {}).get(event_name, {})
        cloud_event: dict[str, Any] = {
            "type": event.get("type", event_name),
            **(attributes or {}),
        }
        if event.get("source"):
            cloud_event["source"] = event["source"]
        cloud_event["data"] = data if data is not None else "${ . }"
        return TaskNode(
            id=f"{pointer}#emit", label=f"emit {event_name}", source=self.source(pointer), activity=EMIT_ACTIVITY,
            args=self.expr.template(cloud_event), merge=Merge("discard"),
        )  # fmt: skip
