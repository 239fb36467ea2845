"""The engine's core: client operations, dispatch of work items to workers, and completions.

Runs on a single asyncio event loop, so its in-memory index (which instances have visible
events, which timers are due, which activities wait) needs no locks. The index is derived
from the store: it is rebuilt from SQLite at start-up and kept in step after every commit
through the :class:`~.turns.Effects` each transaction returns.

A work item handed to a worker is *leased*: the lease carries a fencing token (the work item's
completion token) and belongs to the work-item stream it was sent on. A completion is accepted
only with the current token. When a stream closes, every lease on it is released at once, so a
worker that dies or disconnects has its work redelivered immediately. Leases are held in memory
only: the engine process owns the database exclusively, so when the process ends its leases end
with it, and a restarted engine starts with all unfinished work free to dispatch.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import secrets
from collections import deque
from collections.abc import Callable, Iterable

from . import events as ev
from . import turns
from .events import FailedPrecondition, NotFound, PayloadTooLarge, StaleCompletion
from .leases import ActivityLease, OrchestrationLease, WorkStream
from .options import EngineOptions
from .protocol import TERMINAL_STATUSES, Status, now_micros, pb, status_name
from .store import InstanceFilter, InstanceRow, Store
from .turns import Effects, StartRequest, Turn, UnitOfWork

log = logging.getLogger("declarative_wf.engine")

# Inbox kinds that may be dispatched to a suspended instance (everything else waits).
_WAKES_SUSPENDED = frozenset({"executionSuspended", "executionResumed"})


class Backend:
    def __init__(self, store: Store, options: EngineOptions) -> None:
        self.store = store
        self.options = options
        # Instances with visible inbox events, as insertion-ordered sets: free ones wait in
        # _ready; ones a worker is executing wait in _deferred until their lease ends.
        self._ready: dict[str, None] = {}
        self._deferred: set[str] = set()
        self._terminations: set[str] = set()  # leased instances with a termination request
        self._pump_scheduled = False
        self._timers: list[tuple[int, int, str]] = []  # heap of (visible_at, seq, instance_id)
        self._timer_seq = itertools.count()
        self._timer_handle: asyncio.TimerHandle | None = None
        self._activities: deque[int] = deque()
        self._coalescing: set[str] = set()  # instances waiting out EngineOptions.coalesce_seconds
        self._orchestration_leases: dict[str, OrchestrationLease] = {}
        self._activity_leases: dict[int, ActivityLease] = {}
        self._leases: dict[str, OrchestrationLease | ActivityLease] = {}
        self._streams: dict[int, WorkStream] = {}
        self._stream_ids = itertools.count(1)
        self._token_prefix = secrets.token_hex(4)
        self._token_counter = itertools.count(1)
        self._waiters: dict[str, asyncio.Event] = {}
        self._pumping = False
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Rebuilds the dispatch index from the store; all work starts unleased."""
        self._loop = loop
        now = now_micros()
        for instance_id, visible_at in self.store.all_inbox_heads():
            self._index_inbox(instance_id, visible_at, now)
        self._activities.extend(self.store.all_activity_ids())
        self._arm_timer()
        log.info(
            "engine index rebuilt: %d instance(s) ready, %d timer(s), %d activit(y/ies) queued",
            len(self._ready),
            len(self._timers),
            len(self._activities),
        )

    def stop(self) -> None:
        if self._timer_handle is not None:
            self._timer_handle.cancel()
        for waiter in self._waiters.values():
            waiter.set()

    # -- client operations -----------------------------------------------------------------

    def start_instance(self, request: StartRequest) -> str:
        self._check_payload("workflow input", request.input)
        self._commit(lambda uow: turns.start_instance(uow, request))
        return request.instance_id

    def get_instance(self, instance_id: str) -> InstanceRow | None:
        return self.store.get_instance(instance_id)

    def require_instance(self, instance_id: str) -> InstanceRow:
        instance = self.store.get_instance(instance_id)
        if instance is None:
            raise NotFound(f"no workflow instance with ID '{instance_id}'")
        return instance

    def raise_event(self, instance_id: str, name: str, data: str | None) -> None:
        self._check_payload(f"data of event '{name}'", data)
        instance = self._require_live(instance_id, f"raise event '{name}' on")
        self._commit(lambda uow: uow.send(instance.instance_id, ev.event_raised(uow.now, name, data)))

    def terminate(self, instance_id: str, output: str | None, recursive: bool) -> None:
        self._check_payload("termination output", output)
        instance = self.require_instance(instance_id)
        if instance.status in TERMINAL_STATUSES:
            return  # terminating a finished instance is a no-op, as in Dapr
        self._commit(
            lambda uow: uow.send(instance_id, ev.execution_terminated(uow.now, output, recursive))
        )

    def suspend(self, instance_id: str, reason: str | None) -> None:
        instance = self._require_live(instance_id, "suspend")
        if instance.status == Status.SUSPENDED:
            return

        def change(uow: UnitOfWork) -> None:
            instance.status = Status.SUSPENDED
            uow.changed(instance)
            uow.send(instance_id, ev.execution_suspended(uow.now, reason))

        self._commit(change)

    def resume(self, instance_id: str, reason: str | None) -> None:
        instance = self._require_live(instance_id, "resume")
        if instance.status != Status.SUSPENDED:
            return

        def change(uow: UnitOfWork) -> None:
            instance.status = Status.RUNNING if instance.started_at is not None else Status.PENDING
            uow.changed(instance)
            uow.send(instance_id, ev.execution_resumed(uow.now, reason))

        self._commit(change)

    def purge(self, instance_id: str, recursive: bool, force: bool) -> int:
        instance = self.require_instance(instance_id)
        if instance.status not in TERMINAL_STATUSES and not force:
            raise FailedPrecondition(
                f"workflow '{instance_id}' is {status_name(instance.status)}; only COMPLETED, FAILED "
                "or TERMINATED instances can be purged (terminate it first, or purge with force)"
            )
        doomed = self._purge_closure([instance_id], recursive)
        self._delete_instances(doomed)
        return len(doomed)

    def purge_where(self, where: InstanceFilter, recursive: bool, force: bool) -> int:
        if not force:
            statuses = where.statuses & TERMINAL_STATUSES if where.statuses else TERMINAL_STATUSES
            where = InstanceFilter(
                statuses=frozenset(statuses),
                name=where.name,
                created_from=where.created_from,
                created_to=where.created_to,
            )
        roots = [row.instance_id for row in self.store.list_instances(where, None, None)]
        doomed = self._purge_closure(roots, recursive)
        self._delete_instances(doomed)
        return len(doomed)

    def _purge_closure(self, roots: Iterable[str], recursive: bool) -> list[str]:
        return self.store.with_descendants(roots) if recursive else list(dict.fromkeys(roots))

    def _delete_instances(self, instance_ids: list[str]) -> None:
        with self.store.transaction():
            for instance_id in instance_ids:
                self.store.delete_instance(instance_id)
        for instance_id in instance_ids:
            lease = self._orchestration_leases.pop(instance_id, None)
            if lease is not None:
                self._drop_lease(lease)
            self._forget_cached_history(instance_id)
            self._notify(instance_id)

    def history(self, instance_id: str) -> list[bytes]:
        self.require_instance(instance_id)
        return self.store.read_history(instance_id)

    def list_instances(
        self, where: InstanceFilter, after: tuple[int, str] | None, limit: int | None
    ) -> list[InstanceRow]:
        return self.store.list_instances(where, after, limit)

    async def wait_for(
        self, instance_id: str, done: Callable[[InstanceRow], bool], timeout: float | None
    ) -> InstanceRow:
        """Returns the instance once ``done`` holds; raises TimeoutError after ``timeout``."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            instance = self.require_instance(instance_id)
            if done(instance):
                return instance
            waiter = self._waiters.setdefault(instance_id, asyncio.Event())
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                raise TimeoutError(instance_id)
            await asyncio.wait_for(waiter.wait(), remaining)

    def _require_live(self, instance_id: str, what: str) -> InstanceRow:
        instance = self.require_instance(instance_id)
        if instance.status in TERMINAL_STATUSES:
            raise FailedPrecondition(
                f"cannot {what} workflow '{instance_id}': it is {status_name(instance.status)}"
            )
        return instance

    def _check_payload(self, what: str, payload: str | None) -> None:
        size = len(payload.encode()) if payload else 0
        limit = self.options.max_payload_bytes
        if size > limit:
            raise PayloadTooLarge(
                f"{what} is {size} bytes; the engine accepts at most {limit} bytes per payload "
                "(pass large data by reference, or raise the limit with --max-payload-bytes)"
            )

    # -- work-item streams -----------------------------------------------------------------

    def open_stream(self, capabilities: Iterable[int]) -> WorkStream:
        capabilities = set(capabilities)
        stream = WorkStream(
            id=next(self._stream_ids),
            stateful_history=pb.WORKER_CAPABILITY_STATEFUL_HISTORY in capabilities
            and self.options.stateful_history,
            health_ping=pb.WORKER_CAPABILITY_HEALTH_PING in capabilities,
        )
        self._streams[stream.id] = stream
        log.info("worker stream %d connected", stream.id)
        self._pump()
        return stream

    def close_stream(self, stream: WorkStream) -> None:
        """Releases every lease the stream holds, so its work goes to another worker now."""
        if stream.closed:
            return
        stream.closed = True
        self._streams.pop(stream.id, None)
        released = [self._leases[token] for token in list(stream.outstanding) if token in self._leases]
        for lease in released:
            self._drop_lease(lease)
            if isinstance(lease, OrchestrationLease):
                self._deferred.add(lease.turn.instance_id)  # its events are still in the inbox
                self._after_unlease(lease.turn.instance_id)
            else:
                self._activities.appendleft(lease.row_id)
        log.info("worker stream %d closed; %d work item(s) released", stream.id, len(released))
        self._pump()

    def _new_token(self) -> str:
        return f"{self._token_prefix}-{next(self._token_counter)}"

    def _drop_lease(self, lease: OrchestrationLease | ActivityLease) -> None:
        self._leases.pop(lease.token, None)
        lease.stream.outstanding.discard(lease.token)
        if isinstance(lease, OrchestrationLease):
            if self._orchestration_leases.get(lease.turn.instance_id) is lease:
                del self._orchestration_leases[lease.turn.instance_id]
        elif self._activity_leases.get(lease.row_id) is lease:
            del self._activity_leases[lease.row_id]

    def _pump(self) -> None:
        """Hands ready work to the least-busy open streams."""
        if self._pumping:
            return
        self._pumping = True
        try:
            limit = self.options.max_outstanding_per_stream
            while self._streams and (self._ready or self._activities):
                stream = min(self._streams.values(), key=lambda s: len(s.outstanding))
                if len(stream.outstanding) >= limit:
                    return
                item = self._claim_orchestration(stream) or self._claim_activity(stream)
                if item is None and not self._ready and not self._activities:
                    return
                if item is not None:
                    stream.queue.put_nowait(item)
        finally:
            self._pumping = False

    def _claim_orchestration(self, stream: WorkStream) -> pb.WorkItem | None:
        while self._ready:
            instance_id = next(iter(self._ready))
            del self._ready[instance_id]
            if instance_id in self._orchestration_leases:
                self._deferred.add(instance_id)
                continue
            item = self._dispatch_instance(instance_id, stream)
            if item is not None:
                return item
        return None

    def _dispatch_instance(self, instance_id: str, stream: WorkStream) -> pb.WorkItem | None:
        now = now_micros()
        instance = self.store.get_instance(instance_id)
        rows = self.store.visible_inbox(instance_id, now)
        if not rows:
            return None
        if instance is None or instance.status in TERMINAL_STATUSES:
            with self.store.transaction():
                self.store.delete_inbox_rows([row.id for row in rows])
            return None
        stale = [row for row in rows if row.execution_id not in (None, instance.execution_id)]
        if stale:
            with self.store.transaction():
                self.store.delete_inbox_rows([row.id for row in stale])
            rows = [row for row in rows if row not in stale]
        kinds = {row.kind for row in rows}
        if "executionTerminated" in kinds:
            self._terminate_now(instance, rows)
            return None
        if instance.history_len == 0 and "executionStarted" not in kinds:
            return None  # a delayed start: events wait for the ExecutionStarted timer
        if instance.status == Status.SUSPENDED and not kinds & _WAKES_SUSPENDED:
            return None  # kept in the inbox until the instance is resumed
        # ExecutionStarted goes first: the worker creates the workflow from it.
        rows.sort(key=lambda row: row.kind != "executionStarted")
        new_events = [ev.workflow_started(now)] + [pb.HistoryEvent.FromString(row.event) for row in rows]
        turn = Turn(instance_id, instance.execution_id, tuple(rows), tuple(new_events))
        request = pb.WorkflowRequest(
            instanceId=instance_id,
            executionId=pb.wrappers_pb2.StringValue(value=instance.execution_id),
            newEvents=new_events,
        )
        cached = stream.cached.get(instance_id) if stream.stateful_history else None
        if cached is not None and cached <= instance.history_len:
            request.cachedHistory.eventCount = cached
            past = self.store.read_history(instance_id, cached)
        else:
            past = self.store.read_history(instance_id)
        request.pastEvents.extend(pb.HistoryEvent.FromString(event) for event in past)
        if stream.stateful_history:
            stream.cached[instance_id] = instance.history_len
        lease = OrchestrationLease(self._new_token(), stream, turn, instance.history_len)
        self._orchestration_leases[instance_id] = lease
        self._leases[lease.token] = lease
        stream.outstanding.add(lease.token)
        return pb.WorkItem(workflowRequest=request, completionToken=lease.token)

    def _claim_activity(self, stream: WorkStream) -> pb.WorkItem | None:
        while self._activities:
            row_id = self._activities.popleft()
            if row_id in self._activity_leases:
                continue
            row = self.store.get_activity(row_id)
            if row is None:
                continue
            instance = self.store.get_instance(row.instance_id)
            if instance is None or instance.status in TERMINAL_STATUSES or instance.execution_id != row.execution_id:
                # Its workflow has finished or moved on: running it would be wasted work.
                with self.store.transaction():
                    self.store.delete_activity(row_id)
                continue
            lease = ActivityLease(self._new_token(), stream, row_id)
            self._activity_leases[row_id] = lease
            self._leases[lease.token] = lease
            stream.outstanding.add(lease.token)
            return pb.WorkItem(
                activityRequest=pb.ActivityRequest.FromString(row.request), completionToken=lease.token
            )
        return None

    # -- completions -----------------------------------------------------------------------

    def complete_orchestration(self, response: pb.WorkflowResponse) -> None:
        lease = self._leases.get(response.completionToken)
        if not isinstance(lease, OrchestrationLease) or lease.turn.instance_id != response.instanceId:
            raise StaleCompletion(
                f"the work item of workflow '{response.instanceId}' with token "
                f"'{response.completionToken}' is no longer leased to this worker; its result was discarded"
            )
        for what, size in turns.payload_sizes(response):
            if size > self.options.max_payload_bytes:
                raise PayloadTooLarge(
                    f"{what} of workflow '{response.instanceId}' is {size} bytes; "
                    f"the engine accepts at most {self.options.max_payload_bytes} bytes per payload"
                )
        instance = self.require_instance(response.instanceId)
        stalled = any(
            action.WhichOneof("workflowActionType") == "workflowVersionNotAvailable"
            for action in response.actions
        )
        if stalled:
            # Nothing is consumed: the events wait for a worker that has the right version.
            self._commit(lambda uow: self._stall(uow, instance))
        else:
            self._commit(
                lambda uow: turns.apply_turn(
                    uow, instance, lease.turn, response, self.options.max_history_events
                )
            )
        self._drop_lease(lease)
        ended = any(a.WhichOneof("workflowActionType") == "completeWorkflow" for a in response.actions)
        if ended:
            lease.stream.cached.pop(response.instanceId, None)
        if not stalled:
            self._after_unlease(response.instanceId)
        self._schedule_pump()

    @staticmethod
    def _stall(uow: UnitOfWork, instance: InstanceRow) -> None:
        instance.status = Status.STALLED
        uow.changed(instance)

    def complete_activity(self, response: pb.ActivityResponse) -> None:
        lease = self._leases.get(response.completionToken)
        if not isinstance(lease, ActivityLease):
            raise StaleCompletion(
                f"activity task #{response.taskId} of workflow '{response.instanceId}' with token "
                f"'{response.completionToken}' is no longer leased to this worker; its result was discarded"
            )
        if response.HasField("result") and len(response.result.value) > self.options.max_payload_bytes:
            raise PayloadTooLarge(
                f"the result of activity task #{response.taskId} of workflow '{response.instanceId}' is "
                f"{len(response.result.value)} bytes; the engine accepts at most "
                f"{self.options.max_payload_bytes} bytes per payload"
            )
        row = self.store.get_activity(lease.row_id)

        def record(uow: UnitOfWork) -> None:
            if row is None:
                return
            uow.store.delete_activity(row.id)
            instance = uow.store.get_instance(row.instance_id)
            if instance is None or instance.status in TERMINAL_STATUSES:
                return
            if instance.execution_id != row.execution_id:
                return
            scheduled = pb.ActivityRequest.FromString(row.request)
            if response.HasField("failureDetails"):
                event = ev.history_event(
                    uow.now,
                    taskFailed=pb.TaskFailedEvent(
                        taskScheduledId=row.task_id,
                        failureDetails=response.failureDetails,
                        taskExecutionId=scheduled.taskExecutionId,
                    ),
                )
            else:
                event = ev.history_event(
                    uow.now,
                    taskCompleted=pb.TaskCompletedEvent(
                        taskScheduledId=row.task_id,
                        result=response.result if response.HasField("result") else None,
                        taskExecutionId=scheduled.taskExecutionId,
                    ),
                )
            uow.send(row.instance_id, event, execution_id=row.execution_id)
            if self.options.coalesce_seconds > 0 and uow.store.has_activities(row.instance_id):
                uow.effects.coalesce.add(row.instance_id)

        self._commit(record)
        self._drop_lease(lease)
        self._schedule_pump()

    # -- applying effects ------------------------------------------------------------------

    def _commit(self, change: Callable[[UnitOfWork], object]) -> Effects:
        uow = UnitOfWork(self.store, now_micros())
        with self.store.transaction():
            change(uow)
        self._apply(uow.effects)
        return uow.effects

    def _apply(self, effects: Effects) -> None:
        now = now_micros()
        for instance_id in effects.history_reset:
            self._forget_cached_history(instance_id)
        for instance_id, visible_at, kind in effects.inbox:
            if kind == "executionTerminated" and instance_id not in self._orchestration_leases:
                # Nobody is executing it: terminate now, even with no worker connected.
                self._terminate_if_requested(instance_id)
            elif kind == "executionTerminated":
                self._terminations.add(instance_id)  # as soon as the current turn ends
            elif instance_id in effects.coalesce:
                self._coalesce(instance_id)
            else:
                self._index_inbox(instance_id, visible_at, now)
        self._activities.extend(effects.activities)
        for instance_id in effects.changed:
            self._notify(instance_id)
        self._arm_timer()
        self._schedule_pump()

    def _terminate_if_requested(self, instance_id: str) -> None:
        instance = self.store.get_instance(instance_id)
        if instance is None:
            return
        rows = self.store.visible_inbox(instance_id, now_micros())
        if any(row.kind == "executionTerminated" for row in rows):
            self._terminate_now(instance, rows)

    def _terminate_now(self, instance: InstanceRow, rows: list) -> None:
        request = next(
            pb.HistoryEvent.FromString(row.event) for row in rows if row.kind == "executionTerminated"
        ).executionTerminated
        output = request.input.value if request.HasField("input") else None
        self._commit(lambda uow: turns.terminate(uow, instance, output, request.recurse))

    def _after_unlease(self, instance_id: str) -> None:
        """An instance's lease ended: if events arrived meanwhile, it is ready again."""
        if instance_id in self._terminations:
            self._terminations.discard(instance_id)
            self._deferred.discard(instance_id)
            self._terminate_if_requested(instance_id)
            return
        if instance_id in self._deferred:
            self._deferred.discard(instance_id)
            self._ready[instance_id] = None

    def _index_inbox(self, instance_id: str, visible_at: int, now: int) -> None:
        if visible_at <= now:
            self._mark_ready(instance_id)
        else:
            heapq.heappush(self._timers, (visible_at, next(self._timer_seq), instance_id))

    def _coalesce(self, instance_id: str) -> None:
        """Ready in a moment, unless something else makes it ready sooner (see
        ``EngineOptions.coalesce_seconds``). A leased instance needs no wait: its results
        gather while its turn runs."""
        if instance_id in self._orchestration_leases or self._loop is None:
            self._mark_ready(instance_id)
            return
        if instance_id in self._ready or instance_id in self._coalescing:
            return  # already due
        self._coalescing.add(instance_id)

        def ready() -> None:
            if instance_id in self._coalescing:  # else something made it ready meanwhile
                self._mark_ready(instance_id)
                self._schedule_pump()

        self._loop.call_later(self.options.coalesce_seconds, ready)

    def _mark_ready(self, instance_id: str) -> None:
        self._coalescing.discard(instance_id)  # something else made it ready: no more waiting
        if instance_id in self._orchestration_leases:
            self._deferred.add(instance_id)
        else:
            self._ready[instance_id] = None

    def _schedule_pump(self) -> None:
        """Dispatch after the current call has answered: completions return to the worker
        sooner, and the work several completions make ready goes out in one pass."""
        if self._pump_scheduled or self._loop is None:
            return
        self._pump_scheduled = True

        def pump() -> None:
            self._pump_scheduled = False
            self._pump()

        self._loop.call_soon(pump)

    def _arm_timer(self) -> None:
        if not self._timers or self._loop is None:
            return
        due = self._timers[0][0]
        delay = max(0.0, (due - now_micros()) / 1_000_000)
        # Re-arm at least hourly: the SDK's "wait forever" timer is due in year 9999.
        delay = min(delay, 3600.0)
        if self._timer_handle is not None:
            self._timer_handle.cancel()
        self._timer_handle = self._loop.call_later(delay, self._fire_timers)

    def _fire_timers(self) -> None:
        self._timer_handle = None
        now = now_micros()
        while self._timers and self._timers[0][0] <= now:
            _, _, instance_id = heapq.heappop(self._timers)
            self._mark_ready(instance_id)
        self._arm_timer()
        self._pump()

    def _forget_cached_history(self, instance_id: str) -> None:
        for stream in self._streams.values():
            stream.cached.pop(instance_id, None)

    def _notify(self, instance_id: str) -> None:
        waiter = self._waiters.pop(instance_id, None)
        if waiter is not None:
            waiter.set()
