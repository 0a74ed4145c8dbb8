"""Where a handler process's time goes: the two locks, the three stages, its own CPU.

The benchmark runs each handler process inside `timing_handler` (or only
`timing_projection_lock`): they wrap methods of the product's classes for the life of the
block, so the product carries no timer.

- The projection lock: ``PostgresDialect.lock_projection`` (one ``pg_advisory_xact_lock``
  statement) is timed around the call: each acquisition costs one round trip even
  uncontended; ``acquisitions`` says how many there were, so that floor can be told apart
  from waiting. The lock is held from the statement's answer to the end of its
  transaction (``Dialect.transaction``, whose exit commits): ``hold_seconds``.
- The events table's insert lock: eventsourcing's recorder sends ``LOCK TABLE ... IN
  EXCLUSIVE MODE`` in a pipeline with the insert, so no client-side timer around a call
  can see the wait. `timing_event_inserts` queues ``SELECT clock_timestamp()`` just
  before and just after the lock statement in the same pipeline (no round trip added):
  the server's clock says how long the lock took. The server runs on this machine, so
  its clock is the client's: the lock is held from the second timestamp until the
  commit's answer reaches the client (answers are not delayed by the latency proxy).
- The stages of a batch (``WritePipeline.record``: parse and record; ``catch_up``: fold
  under the projection lock; ``SearchSync.flush``: write the documents): wall seconds
  and the process's CPU seconds in each, and optionally the CPU of the PostgreSQL
  backends of the database (exact only when one handler runs: the backends are shared).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

from eventsourcing.postgres import PostgresApplicationRecorder

from infrastructure.adapters.eventstore.dialects import PostgresDialect
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
    acquire = PostgresDialect.lock_projection
    transaction = PostgresDialect.transaction
    held_since: list[float] = []

    def timed(self: PostgresDialect, cursor: Any, name: str = "documents") -> None:
        started = time.perf_counter()
        try:
            acquire(self, cursor, name)
        finally:
            now = time.perf_counter()
            totals.seconds += now - started
            totals.acquisitions += 1
            held_since.append(now)

    @contextmanager
    def timed_transaction(self: PostgresDialect) -> Iterator[Any]:
        try:
            with transaction(self) as cursor:
                yield cursor
        finally:
            if held_since:  # this transaction took the lock: its exit released it
                totals.hold_seconds += time.perf_counter() - held_since.pop()

    PostgresDialect.lock_projection = timed  # type: ignore[method-assign]
    PostgresDialect.transaction = timed_transaction  # type: ignore[method-assign,assignment]
    try:
        yield totals
    finally:
        PostgresDialect.lock_projection = acquire  # type: ignore[method-assign]
        PostgresDialect.transaction = transaction  # type: ignore[method-assign]


@contextmanager
def timing_event_inserts(totals: InsertLock | None = None) -> Iterator[InsertLock]:
    """Time the events table's lock of every insert in the block, on the server's clock."""
    totals = totals if totals is not None else InsertLock()
    lock_table = PostgresApplicationRecorder._lock_table
    insert_events = PostgresApplicationRecorder.insert_events
    clocks: list[tuple[Any, Any]] = []

    def timed_lock_table(self: PostgresApplicationRecorder, curs: Any) -> None:
        before = curs.connection.cursor()
        before.execute("SELECT clock_timestamp() AS t")
        lock_table(self, curs)
        after = curs.connection.cursor()
        after.execute("SELECT clock_timestamp() AS t")
        clocks.append((before, after))

    def timed_insert_events(self: PostgresApplicationRecorder, *args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        try:
            return insert_events(self, *args, **kwargs)
        finally:
            ended = time.time()
            totals.call_seconds += time.perf_counter() - started
            while clocks:
                before, after = clocks.pop()
                try:
                    issued, granted = before.fetchone()["t"], after.fetchone()["t"]
                except Exception:  # noqa: BLE001, S112 - a failed insert has no timestamps
                    continue
                finally:
                    before.close()
                    after.close()
                totals.wait_seconds += (granted - issued).total_seconds()
                totals.hold_seconds += ended - granted.timestamp()
                totals.inserts += 1

    PostgresApplicationRecorder._lock_table = timed_lock_table  # type: ignore[method-assign]
    PostgresApplicationRecorder.insert_events = timed_insert_events  # type: ignore[method-assign]
    try:
        yield totals
    finally:
        PostgresApplicationRecorder._lock_table = lock_table  # type: ignore[method-assign]
        PostgresApplicationRecorder.insert_events = insert_events  # type: ignore[method-assign]


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
        (SearchSync, "flush", "flush"),
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
            elif method is originals[2][2]:
                timings.documents_written += result.written
            return result

        return timed

    with ExitStack() as stack:
        stack.enter_context(timing_projection_lock(timings.projection))
        stack.enter_context(timing_event_inserts(timings.insert))
        for (owner, name, method), (_, _, stage_name) in zip(originals, wrapped, strict=True):
            stage = timings.stages[stage_name] = Stage()
            setattr(owner, name, staged(method, stage))
            stack.callback(setattr, owner, name, method)
        yield timings
