"""How long a process waited for the projection lock, measured around its acquisition.

The benchmark runs each handler process inside `timing_projection_lock`: it wraps the
PostgreSQL dialect's ``open_locked`` (the first round trip of a projection session: BEGIN,
``pg_advisory_xact_lock`` and the reads made once it is held), so the product carries no
timer. Each acquisition costs one round trip even uncontended; ``acquisitions`` says how
many there were, so that floor can be told apart from waiting.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from infrastructure.adapters.eventstore.dialects import PostgresDialect


@dataclass
class LockWait:
    seconds: float = 0.0
    acquisitions: int = 0


@contextmanager
def timing_projection_lock() -> Iterator[LockWait]:
    """Time every projection lock this process takes in the block; yields running totals."""
    totals = LockWait()
    acquire = PostgresDialect.open_locked

    def timed(self: PostgresDialect, connection: Any, name: str, reads: Any) -> Any:
        started = time.perf_counter()
        try:
            return acquire(self, connection, name, reads)
        finally:
            totals.seconds += time.perf_counter() - started
            totals.acquisitions += 1

    PostgresDialect.open_locked = timed  # type: ignore[method-assign]
    try:
        yield totals
    finally:
        PostgresDialect.open_locked = acquire  # type: ignore[method-assign]
