"""Where a handler process's time goes: the two locks, the three stages, its own CPU.

The benchmark runs each handler process inside `timing_handler` (or only
`timing_projection_lock`): they wrap methods of the product's classes for the life of the
block, so the product carries no timer.

- The projection lock: ``PostgresDialect.open_locked`` (the first round trip of a
  projection session: BEGIN, ``pg_advisory_xact_lock`` and the reads made once it is
  held) is timed around the call: each acquisition costs one round trip even
  uncontended; ``acquisitions`` says how many there were, so that floor can be told apart
  from waiting. The lock is held from that answer to the end of its transaction (the
  `PipelinedTransaction`'s commit or rollback): ``hold_seconds``.
- The events table's insert lock: the recorder sends eventsourcing's ``LOCK TABLE ... IN
  EXCLUSIVE MODE`` in one pipeline with the rest of the insert's transaction, so no
  client-side timer around a call can see the wait. `timing_event_inserts` queues ``SELECT
  clock_timestamp()`` just before and just after the lock statements in the same pipeline
  (no round trip added):
  the server's clock says how long the lock took. The server runs on this machine, so
  its clock is the client's: the lock is held from the second timestamp until the
  commit's answer reaches the client (answers are not delayed by the latency proxy).
- The stages of a batch (``WritePipeline.record``: parse and record; ``catch_up``: fold
  under the projection lock; ``SearchSync.flush`` or ``flush_rendered``: write the
  documents): wall seconds and the process's CPU seconds in each, and optionally the
  CPU of the PostgreSQL backends of the database (exact only when one handler runs: the
  backends are shared).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from infrastructure.adapters.eventstore import postgres_recorder
from infrastructure.adapters.eventstore.postgres_dialect import PostgresDialect
from infrastructure.adapters.eventstore.postgres_pipeline import PipelinedTransaction
from infrastructure.adapters.eventstore.postgres_recorder import PostgresSourceRecorder
from infrastructure.services.write_pipeline import WritePipeline
from projections.projector import DocumentProjector
from projections.sync import SearchSync


@dataclass
class LockWait:
    seconds: float = 0.0  # acquiring: waiting plus the statement's round trip
    acquisitions: int = 0
    hold_seconds: float = 0.0  # from acquired to the commit's answer
    events_folded: int = 0  # by this process's catch-ups (with `timing_handler`)
    empty_catch_ups: int = 0  # catch-ups that folded nothing: another session had


@dataclass
class InsertLock:
    wait_seconds: float = 0.0  # server clock: LOCK TABLE issued to granted
    hold_seconds: float = 0.0  # granted to the commit's answer
    inserts: int = 0
    call_seconds: float = 0.0  # the whole recorder call, its round trips included


@dataclass
class Stage:
    wall: float = 0.0
    cpu: float = 0.0  # this process
    server_cpu: float = 0.0  # the database's backends, when sampled
    calls: int = 0


@dataclass
class HandlerTimings:
    projection: LockWait = field(default_factory=LockWait)
    insert: InsertLock = field(default_factory=InsertLock)
    stages: dict[str, Stage] = field(default_factory=dict)
    documents_written: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "projection_lock": vars(self.projection),
            "insert_lock": vars(self.insert),
            "stages": {name: vars(stage) for name, stage in self.stages.items()},
            "documents_written": self.documents_written,
        }


@contextmanager
def timing_projection_lock(totals: LockWait | None = None) -> Iterator[LockWait]:
    """Time every projection lock this process takes in the block; yields running totals."""
    totals = totals if totals is not None else LockWait()
    acquire = PostgresDialect.open_locked
    commit, rollback = PipelinedTransaction.commit, PipelinedTransaction.rollback
    held_since: dict[int, float] = {}  # the locked transactions open, by id

    def timed(self: PostgresDialect, connection: Any, name: str, reads: Any) -> Any:
        started = time.perf_counter()
        try:
            transaction, rows = acquire(self, connection, name, reads)
        finally:
            now = time.perf_counter()
            totals.seconds += now - started
            totals.acquisitions += 1
        held_since[id(transaction)] = now
        return transaction, rows

    def ended(method: Callable[[PipelinedTransaction], None]) -> Callable[..., None]:
        def timed_end(self: PipelinedTransaction) -> None:
            try:
                method(self)
            finally:
                since = held_since.pop(id(self), None)
                if since is not None:  # its commit or rollback released the lock
                    totals.hold_seconds += time.perf_counter() - since

        return timed_end

    PostgresDialect.open_locked = timed  # type: ignore[method-assign]
    PipelinedTransaction.commit = ended(commit)  # type: ignore[method-assign]
    PipelinedTransaction.rollback = ended(rollback)  # type: ignore[method-assign]
    try:
        yield totals
    finally:
        PostgresDialect.open_locked = acquire  # type: ignore[method-assign]
        PipelinedTransaction.commit = commit  # type: ignore[method-assign]
        PipelinedTransaction.rollback = rollback  # type: ignore[method-assign]


_CLOCK = "SELECT clock_timestamp() AS streamfold_lock_clock"


@contextmanager
def timing_event_inserts(totals: InsertLock | None = None) -> Iterator[InsertLock]:
    """Time the events table's lock of every insert in the block, on the server's clock."""
    totals = totals if totals is not None else InsertLock()
    events_insert = PostgresSourceRecorder._events_insert
    insert_events = PostgresSourceRecorder.insert_events
    send = postgres_recorder.pipelined

    def clocked_events_insert(self: PostgresSourceRecorder, stored_events: Any) -> Any:
        statements = events_insert(self, stored_events)
        if not statements:
            return statements
        locks = len(self.lock_table_statements)
        # The server's clock just before and just after the lock, in the same pipeline.
        return [(_CLOCK, None), *statements[:locks], (_CLOCK, None), *statements[locks:]]

    def clocked_send(connection: Any, statements: Any) -> list[list[Any]]:
        results = send(connection, statements)
        clocks = [
            rows[0]["streamfold_lock_clock"]
            for (statement, _), rows in zip(statements, results, strict=True)
            if statement == _CLOCK
        ]
        if len(clocks) == 2:
            issued, granted = clocks
            totals.wait_seconds += (granted - issued).total_seconds()
            totals.hold_seconds += time.time() - granted.timestamp()
            totals.inserts += 1
        return results

    def timed_insert_events(self: PostgresSourceRecorder, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return insert_events(self, *args, **kwargs)
        finally:
            totals.call_seconds += time.perf_counter() - started

    PostgresSourceRecorder._events_insert = clocked_events_insert  # type: ignore[method-assign]
    PostgresSourceRecorder.insert_events = timed_insert_events  # type: ignore[method-assign]
    postgres_recorder.pipelined = clocked_send
    try:
        yield totals
    finally:
        PostgresSourceRecorder._events_insert = events_insert  # type: ignore[method-assign]
        PostgresSourceRecorder.insert_events = insert_events  # type: ignore[method-assign]
        postgres_recorder.pipelined = send


@contextmanager
def timing_handler(server_cpu: Callable[[], float] | None = None) -> Iterator[HandlerTimings]:
    """Both locks and the stages of every batch handled in the block.

    ``server_cpu`` gives the CPU seconds of the database's backends so far; sampled at
    each stage's start and end when given.
    """
    timings = HandlerTimings()
    wrapped = [
        (WritePipeline, "record", "record"),
        (DocumentProjector, "catch_up", "fold"),
        (SearchSync, "flush", "flush"),  # what is pending in the outbox
        (SearchSync, "flush_rendered", "flush"),  # what this process just rendered
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in wrapped]

    def staged(method: Callable[..., Any], stage: Stage) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            wall, cpu = time.perf_counter(), time.process_time()
            server = server_cpu() if server_cpu else 0.0
            try:
                result = method(*args, **kwargs)
            finally:
                stage.wall += time.perf_counter() - wall
                stage.cpu += time.process_time() - cpu
                stage.server_cpu += (server_cpu() - server) if server_cpu else 0.0
                stage.calls += 1
            if method is originals[1][2]:
                timings.projection.events_folded += result.events
                timings.projection.empty_catch_ups += result.events == 0
            elif method is originals[2][2] or method is originals[3][2]:
                timings.documents_written += result.written
            return result

        return timed

    with ExitStack() as stack:
        stack.enter_context(timing_projection_lock(timings.projection))
        stack.enter_context(timing_event_inserts(timings.insert))
        for (owner, name, method), (_, _, stage_name) in zip(originals, wrapped, strict=True):
            stage = timings.stages.setdefault(stage_name, Stage())
            setattr(owner, name, staged(method, stage))
            stack.callback(setattr, owner, name, method)
        yield timings
