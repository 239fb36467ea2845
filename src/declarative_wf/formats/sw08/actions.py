"""Actions in 0.8: function calls, subflows and ``eventRef`` actions, with their data filters,
conditions, sleeps, retries and timeouts.

* a function of ``type: expression`` → a ``set`` node (its jq operation);
* ``type: rest`` (the default) → the built-in ``sw_openapi`` activity: the operation is
  ``<OpenAPI document URI>#<operationId>``, the arguments are its parameters;
* ``type: custom`` (and ``rpc``, ``graphql``, ``odata``, ``asyncapi``, with a warning) → the
  Python activity registered under the function's name, called with the arguments;
* ``subFlowRef`` → a ``child`` node running the 0.8 definition with that ``id`` found next to
  this file;
* ``eventRef`` → ``dwf.events.emit`` of the trigger event, then a wait for the result event.

The last node of an action merges its (filtered) result into the state data
(``actionDataFilter``: ``fromStateData``, ``results``, ``toStateData``, ``useResults``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from declarative_wf.diagnostics import quote
from declarative_wf.ir import (
    ChildNode,
    ChoiceCase,
    ChoiceNode,
    ErrorMatch,
    EventNode,
    Expr,
    Merge,
    ParallelNode,
    RetryRule,
    SetNode,
    TaskNode,
    WaitNode,
)
from declarative_wf.loading import pointer_join

from .base import SKIP, Chain, block_of, sequence, to_json
from .definitions import files_allowed
from .events import EventsMixin

__all__ = ["AUTO_RETRY", "OPENAPI_ACTIVITY", "ActionsMixin"]

#: The built-in activity that calls an OpenAPI operation (``rest`` functions).
OPENAPI_ACTIVITY = "sw_openapi"
#: Retry strategy used with ``autoRetries: true`` when an action names none (the spec's advice,
#: with a cap so a broken action cannot retry forever).
AUTO_RETRY = RetryRule(
    max_retries=10, interval_seconds=1.0, backoff_rate=2.0, max_delay_seconds=60.0
)
_OTHER_FUNCTIONS = ("rpc", "graphql", "odata", "asyncapi")
_HAS_ADDED_JITTER = "jitter_max_seconds" in {f.name for f in fields(RetryRule)}


class ActionsMixin(EventsMixin):
    def action_timeout(self, holder: Mapping[str, Any]) -> float | None:
        """``actionExecTimeout`` of a state (or branch), else of the workflow."""
        value = (holder.get("timeouts") or {}).get("actionExecTimeout")
        workflow = self.document.data.get("timeouts")
        if value is None and isinstance(workflow, dict):
            value = workflow.get("actionExecTimeout")
        return self.seconds(value) if value else None

    def actions(
        self,
        actions: list[dict[str, Any]],
        pointer: str,
        mode: str | None,
        timeout: float | None,
    ) -> Chain:
        if mode != "parallel" or len(actions) < 2:
            return sequence(
                [
                    self.action(action, pointer_join(pointer, index), timeout)
                    for index, action in enumerate(actions)
                ]
            )
        # Parallel: every action sees the same state data and returns its filtered result; the
        # parallel node merges the results in declaration order.
        branches, paths = [], []
        for index, action in enumerate(actions):
            branches.append(
                block_of(
                    sequence(
                        [
                            self.action(
                                action, pointer_join(pointer, index), timeout, raw=True
                            )
                        ]
                    )
                )
            )
            filters = action.get("actionDataFilter") or {}
            paths.append(
                False
                if filters.get("useResults") is False
                else filters.get("toStateData")
            )
        return [ParallelNode(id=f"{pointer}#parallel", branches=tuple(branches), merge=Merge("discard"),
                             output=self.expr.merge_each(paths), source=self.source(pointer))]  # fmt: skip

    def action(
        self,
        action: dict[str, Any],
        pointer: str,
        timeout: float | None,
        raw: bool = False,
    ) -> Chain:
        """The nodes of one action. ``raw``: its result replaces the data instead of merging
        into it (a parallel action; the parallel node merges)."""
        filters = action.get("actionDataFilter") or {}
        chain: Chain = []
        sleep = action.get("sleep") or {}
        if "before" in sleep:
            chain.append(
                WaitNode(
                    id=f"{pointer}/sleep/before",
                    seconds=Expr.literal(self.seconds(sleep["before"])),
                )
            )
        main, result = self.invoke(action, pointer, timeout)
        chain.extend(main)
        if result is not None:
            if isinstance(result, SetNode):
                result.input = self.jq(filters.get("fromStateData"))
                if filters.get("results") and result.value is not None:
                    result.value = Expr(
                        "jq",
                        f"({result.value.value}) | ({self.expr.program(filters['results'])})",
                    )
            elif isinstance(
                result, EventNode
            ):  # its result already unwraps the CloudEvent
                if filters.get("results") and result.result is not None:
                    result.result = Expr(
                        "jq",
                        f"({result.result.value}) | ({self.expr.program(filters['results'])})",
                    )
            else:
                result.input = self.jq(filters.get("fromStateData"))
                result.result = self.jq(filters.get("results"))
            if raw:
                result.merge, result.output = Merge("replace"), None
            elif filters.get("useResults") is False:
                result.merge, result.output = Merge("discard"), None
            else:
                result.merge, result.output = (
                    Merge("discard"),
                    self.expr.merge_expr(filters.get("toStateData")),
                )
        if "after" in sleep:
            chain.append(
                WaitNode(
                    id=f"{pointer}/sleep/after",
                    seconds=Expr.literal(self.seconds(sleep["after"])),
                )
            )
        if "condition" in action:
            # The skip target (what follows this action) is filled in by sequence().
            condition = Expr(
                "jq", f"({self.expr.program(action['condition'])}) != true"
            )
            chain.insert(0, ChoiceNode(id=f"{pointer}/condition", source=self.source(pointer_join(pointer, "condition")),
                                       next=chain[0].id, cases=(ChoiceCase(condition, SKIP),)))  # fmt: skip
        return chain

    def invoke(
        self, action: dict[str, Any], pointer: str, timeout: float | None
    ) -> tuple[Chain, Any]:
        """The nodes that do the action, and the one whose result is the action's (None: none)."""
        label = action.get("name")
        limit = Expr.literal(timeout) if timeout else None
        if "subFlowRef" in action:
            ref = action["subFlowRef"]
            spec = {"workflowId": ref} if isinstance(ref, str) else ref
            where = pointer_join(pointer, "subFlowRef")
            if spec.get("invoke") == "async":
                self.warn(
                    "invoke: async subflows run synchronously (the parent waits)", where
                )
            child = ChildNode(id=where, label=label or spec["workflowId"], source=self.source(where), workflow=spec["workflowId"],
                              graph=self.subflow(spec["workflowId"], where), timeout_seconds=limit, retry=self.retries(action))  # fmt: skip
            return [child], child
        if "eventRef" in action:
            return self.event_action(action, pointer, limit)
        ref = action["functionRef"]
        spec = {"refName": ref} if isinstance(ref, str) else ref
        where = pointer_join(pointer, "functionRef")
        name = spec["refName"]
        if self.undefined("functions", name):
            named_at = where if isinstance(ref, str) else pointer_join(where, "refName")
            return [
                self.fail_undefined("function", name, named_at, f"{where}#undefined")
            ], None
        function = (self.defs.functions or {}).get(name, {})
        kind = function.get("type", "rest")
        if kind == "expression":
            node = SetNode(
                id=where,
                label=label or name,
                source=self.source(where),
                value=self.expr.jq(function["operation"]),
            )
            return [node], node
        if spec.get("invoke") == "async":
            self.warn(
                "invoke: async functions run synchronously (the state waits for the result)",
                where,
            )
        if function and kind == "rest":
            task = self.rest_call(
                function, spec, where, label or name, limit, self.retries(action)
            )
            return [task], task
        if function and kind in _OTHER_FUNCTIONS:
            self.warn(
                f"function {quote(name)} ({kind} {quote(str(function.get('operation', '')))}) runs the Python activity "
                f"named {quote(name)}: this runtime has no built-in {kind} client", where,
                hint=f"register an activity named {name!r} (@activity(name={name!r})) that makes the call",
            )  # fmt: skip
        args = self.expr.template(spec["arguments"]) if "arguments" in spec else None
        task = TaskNode(id=where, label=label or name, source=self.source(where), activity=name, args=args,
                        timeout_seconds=limit, retry=self.retries(action))  # fmt: skip
        return [task], task

    def event_action(
        self, action: dict[str, Any], pointer: str, limit: Expr | None
    ) -> tuple[Chain, Any]:
        """Publish the trigger event, then wait for the result event (subscribed first, so a
        quick answer is not missed). ``invoke: async`` only publishes."""
        ref = action["eventRef"]
        where = pointer_join(pointer, "eventRef")
        for key in ("triggerEventRef", "resultEventRef"):
            if self.undefined("events", ref[key]):
                return [
                    self.fail_undefined("event", ref[key], pointer_join(where, key))
                ], None
        emit = self.emit(
            ref["triggerEventRef"], ref.get("data"), ref.get("contextAttributes"), where
        )
        emit.retry = self.retries(action)
        emit.input = self.jq(
            (action.get("actionDataFilter") or {}).get("fromStateData")
        )
        if ref.get("invoke") == "async":
            return [emit], None
        timeout = ref.get("resultEventTimeout")
        wait = self.wait_event(
            ref["resultEventRef"], None, f"{where}/resultEventRef", timeout
        )
        if not timeout and limit is not None:
            wait.timeout_seconds = limit
        subscribe, _, unsubscribe = self.subscribed(wait)
        return [subscribe, emit, wait, unsubscribe], wait

    def rest_call(self, function: Mapping[str, Any], ref: Mapping[str, Any], pointer: str, label: str,
                  limit: Expr | None, retry: tuple[RetryRule, ...]) -> TaskNode:  # fmt: skip
        """A ``rest`` function is an OpenAPI operation (``<document URI>#<operationId>``): the
        built-in ``sw_openapi`` activity reads the document and makes the HTTP call; the
        arguments are the operation's parameters (and ``body``), the result its response body."""
        document, _, operation_id = str(function["operation"]).partition("#")
        if not document or not operation_id:
            self.report.error(
                "SW08-E040", f"function {quote(function['name'])}: a rest operation is '<OpenAPI document URI>#<operationId>', "
                f"got {quote(str(function['operation']))}", self.defs.pointers.get(("functions", function["name"])) or pointer,
                hint="for a Python function use type: custom",
            )  # fmt: skip
        call: dict[str, Any] = {
            "document": document,
            "operationId": operation_id,
            "output": "content",
        }
        if files_allowed():  # relative documents are next to the definition
            call["base"] = str(Path(self.document.file).resolve().parent)
        call["parameters"] = ref.get("arguments", {})
        if function.get("authRef") is not None:
            authentication = self.authentication(function, pointer)
            if authentication is not None:
                call["authentication"] = authentication
        return TaskNode(id=pointer, label=label, source=self.source(pointer), activity=OPENAPI_ACTIVITY,
                        args=self.expr.template(call), timeout_seconds=limit, retry=retry)  # fmt: skip

    def authentication(
        self, function: Mapping[str, Any], pointer: str
    ) -> dict[str, Any] | None:
        """The ``auth`` definition an ``authRef`` names, in the shape of the HTTP activities
        (``{basic: {...}}``, ``{bearer: {...}}``, ``{oauth2: {...}}``); a ``properties`` string
        names a secret holding the properties (``DWF_SECRET_<NAME>``, docs/sw-calls.md)."""
        ref = function["authRef"]
        name = ref if isinstance(ref, str) else ref.get("resource")
        definitions = self.document.data.get("auth")  # validation checked inline refs
        found = (
            next(
                (
                    a
                    for a in definitions
                    if isinstance(a, dict) and a.get("name") == name
                ),
                None,
            )
            if isinstance(definitions, list)
            else None
        )
        if found is None:
            self.report.error(
                "SW08-E025", f"authRef {quote(str(name))} of function {quote(function['name'])} is not a defined auth",
                self.defs.pointers.get(("functions", function["name"])) or pointer, hint="add it to 'auth' (inline)",
            )  # fmt: skip
            return None
        scheme, given = found.get("scheme", "basic"), found.get("properties")
        if isinstance(given, str):
            return {scheme: {"use": given}}
        properties: dict[str, Any] = given if isinstance(given, dict) else {}
        if scheme != "oauth2":
            return {scheme: properties}
        grants = {"clientCredentials": "client_credentials", "password": "password",
                  "tokenExchange": "urn:ietf:params:oauth:grant-type:token-exchange"}  # fmt: skip
        oauth: dict[str, Any] = {
            "authority": properties.get("authority"),
            "grant": grants.get(
                str(properties.get("grantType")), properties.get("grantType")
            ),
        }
        if properties.get("clientId"):
            oauth["client"] = {
                "id": properties["clientId"],
                **(
                    {"secret": properties["clientSecret"]}
                    if properties.get("clientSecret")
                    else {}
                ),
            }
        for key in ("scopes", "audiences", "username", "password"):
            if key in properties:
                oauth[key] = properties[key]
        return {"oauth2": oauth}

    # -- retries ----------------------------------------------------------------------------------

    def retries(self, action: Mapping[str, Any]) -> tuple[RetryRule, ...]:
        """The action's retry rule: its ``retryRef`` strategy (on ``retryableErrors``, or every
        error); with ``autoRetries``, every error but ``nonRetryableErrors`` (default strategy
        :data:`AUTO_RETRY` when it names none)."""
        auto = self.document.data.get("autoRetries") is True
        name = action.get("retryRef")
        strategy = (self.defs.retries or {}).get(name) if name else None
        if strategy is None and not auto:
            return ()
        rule = AUTO_RETRY if strategy is None else self.retry_rule(strategy)
        retryable = action.get("retryableErrors")
        match = (
            self.error_match(list(retryable))
            if retryable and not auto
            else ErrorMatch()
        )
        if action.get("nonRetryableErrors"):
            excluded = list(self.error_match(list(action["nonRetryableErrors"])).names)
            match = ErrorMatch(
                names=match.names,
                except_when=Expr(
                    "jq", f".type as $t | any({to_json(excluded)}[]; . == $t)"
                ),
            )
        return (
            RetryRule(
                **{
                    **{f.name: getattr(rule, f.name) for f in fields(RetryRule)},
                    "match": match,
                }
            ),
        )

    def retry_rule(self, strategy: Mapping[str, Any]) -> RetryRule:
        """``maxAttempts`` counts every attempt (1: no retry; the spec's DoNotRetryStrategy);
        the delay before retry n is ``delay × multiplier^(n-1) + increment × (n-1)``, at most
        ``maxDelay``, ± ``jitter`` (seconds, or a fraction of ``delay``)."""
        attempts = strategy.get("maxAttempts")
        max_retries = max(0, int(attempts) - 1) if attempts is not None else 2
        delay = self.seconds(strategy.get("delay")) if "delay" in strategy else 1.0
        extra: dict[str, Any] = {}
        jitter = strategy.get("jitter")
        if jitter is not None and _HAS_ADDED_JITTER:
            spread = (
                self.seconds(jitter)
                if isinstance(jitter, str)
                else float(jitter) * delay
            )
            extra = {"jitter_min_seconds": -spread, "jitter_max_seconds": spread}
        return RetryRule(
            max_retries=max_retries, interval_seconds=delay,
            backoff_rate=float(strategy.get("multiplier", 1.0)),
            increment_seconds=self.seconds(strategy.get("increment")) if "increment" in strategy else 0.0,
            max_delay_seconds=self.seconds(strategy["maxDelay"]) if "maxDelay" in strategy else None, **extra,
        )  # fmt: skip

    def error_match(self, names: list[str]) -> ErrorMatch:
        """An error definition matches by its name or its ``code`` (the technical error type: an
        activity's exception class name, ``Timeout``, an HTTP status such as ``404``)."""
        matched: list[str] = []
        for name in names:
            matched.append(name)
            code = (self.defs.errors or {}).get(name, {}).get("code")
            if code:
                matched.append(str(code))
        return ErrorMatch(names=tuple(dict.fromkeys(matched)))
