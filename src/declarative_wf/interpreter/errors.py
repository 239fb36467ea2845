"""Retry and catch rules: matching errors, computing backoff, handling a caught error."""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from declarative_wf.ir import ErrorMatch, ResultNode, RetryRule

from .commands import Now, Sleep, WorkflowError
from .runtime import RunContext, Variables, error_object


def matches(rt: RunContext, rule: ErrorMatch, error: WorkflowError, variables: Variables, node: ResultNode) -> bool:
    names = set(rule.names)
    named = (
        "*" in names
        or error.type in names
        or ("@task" in names and "task" in error.kinds)
        or ("@timeout" in names and "timeout" in error.kinds)
    )
    if not named:
        return False
    payload = error_object(error)
    if rule.when is not None and not rt.eval(rule.when, payload, variables, node):
        return False
    if rule.except_when is not None and rt.eval(rule.except_when, payload, variables, node):
        return False
    return True


def retry_delay(rt: RunContext, rule: RetryRule, retry_number: int, key: str) -> float:
    """Seconds before retry ``retry_number`` (1 for the first retry)."""
    delay = rule.interval_seconds * rule.backoff_rate ** (retry_number - 1)
    delay += rule.increment_seconds * (retry_number - 1)
    if rule.max_delay_seconds is not None:
        delay = min(delay, rule.max_delay_seconds)
    if rule.jitter == "full":
        delay *= rt.jitter(f"{key}#{retry_number}")
    if rule.jitter_max_seconds > rule.jitter_min_seconds or rule.jitter_min_seconds:
        # An added amount in [min, max] (Serverless Workflow's jitter), replay-stable.
        spread = max(0.0, rule.jitter_max_seconds - rule.jitter_min_seconds)
        delay += rule.jitter_min_seconds + spread * rt.jitter(f"{key}#{retry_number}+")
    return max(delay, 0.0)


@dataclass
class RetryState:
    """Where a node's retries stand. A loop that continues as new in the middle of an attempt
    carries it over (:meth:`to_json`), so its rules keep counting."""

    attempt: int = 1
    #: Retries used per rule, in rule order (each rule counts its own, as ASL retriers do).
    used: list[int] = field(default_factory=list)
    #: When the first retry was decided (``max_duration`` counts from there).
    started: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        return {"attempt": self.attempt, "used": self.used, "started": None if self.started is None else self.started.isoformat()}

    @classmethod
    def from_json(cls, data: Any) -> RetryState:
        if not isinstance(data, dict):
            return cls()
        started = data.get("started")
        return cls(int(data.get("attempt", 1)), list(data.get("used") or []), datetime.fromisoformat(started) if started else None)


def with_retries(
    rt: RunContext,
    node: ResultNode,
    variables: Variables,
    attempt: Callable[[int], Generator[Any, Any, Any]],
    state: RetryState | None = None,
) -> Generator[Any, Any, Any]:
    """Runs ``attempt(n)`` until it succeeds or no retry rule lets it try again. Each rule
    counts its own retries (as ASL retriers do); waits are durable timers. ``state`` is
    updated as retries happen (a fresh one when None)."""
    state = state or RetryState()
    used = state.used
    used.extend([0] * (len(node.retry) - len(used)))
    while True:
        try:
            return (yield from attempt(state.attempt))
        except WorkflowError as raised:
            # Without its traceback: that holds this frame, which holds the error while it
            # waits to retry (a reference cycle; see DaprHost).
            error = rt.locate(raised.with_traceback(None), node)
            index = next((i for i, rule in enumerate(node.retry) if matches(rt, rule.match, error, variables, node)), None)
            if index is None:
                raise error from None
            rule = node.retry[index]
            if used[index] >= rule.max_retries:
                raise error from None
            now = yield Now()
            if state.started is None:
                state.started = now
            used[index] += 1
            delay = retry_delay(rt, rule, used[index], f"{node.id}#{index}")
            if rule.max_duration_seconds is not None:
                elapsed = (now - state.started).total_seconds()
                if elapsed + delay > rule.max_duration_seconds:
                    raise error from None
            rt.profile.retried(rt, node, error, used[index], delay)
            if delay > 0:
                rt.count_step()
                yield Sleep(now + timedelta(seconds=delay))
            state.attempt += 1
