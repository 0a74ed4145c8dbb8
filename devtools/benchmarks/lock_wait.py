"""How long a process waited for the projection lock, measured around its acquisition.

The benchmark runs each handler process inside `timing_projection_lock`: it wraps the
PostgreSQL dialect's ``lock_projection`` (one ``pg_advisory_xact_lock`` statement), so
the product carries no timer. Each acquisition costs one round trip even uncontended;
``acquisitions`` says how many there were, so that floor can be told apart from waiting.
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
    acquire = PostgresDialect.lock_projection

    def timed(self: PostgresDialect, cursor: Any, name: str = "documents") -> None:
        started = time.perf_counter()
        try:
            acquire(self, cursor, name)
        finally:
            totals.seconds += time.perf_counter() - started
            totals.acquisitions += 1

    PostgresDialect.lock_projection = timed  # type: ignore[method-assign]
    try:
        yield totals
    finally:
        PostgresDialect.lock_projection = acquire  # type: ignore[method-assign]
