"""PostgreSQL connections that give up at the caller's deadline.

A connection that stays open while the server or the network stops answering (a stalled
proxy, a frozen failover, a half-open socket) blocks psycopg forever: neither
``connect_timeout`` nor ``lock_timeout`` covers a query already sent. A Lambda would then
run into its own timeout without answering, and ``streamfold`` could not report the batch
as failed. Every wait on these connections is bounded by the deadline in force, so the
handler answers in time with every record to retry; the timed-out connection is closed by
the pool, never reused.

>>> set_database_deadline(time.monotonic() + 3.0)
>>> ingestion.handle(event)  # a silent database fails the batch after 3 s
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import psycopg
from eventsourcing.postgres import ConnectionPool, PostgresFactory

_DEADLINE: ContextVar[float | None] = ContextVar("streamfold_database_deadline", default=None)
_LAST_MOMENT = 0.001  # a wait past the deadline still polls the socket once


def set_database_deadline(deadline: float | None) -> None:
    """Bound every later database wait of this thread by a ``time.monotonic()`` deadline."""
    _DEADLINE.set(deadline)


@contextmanager
def database_deadline(seconds: float) -> Iterator[None]:
    """Bound every database wait in the block by ``seconds`` from now; then as before."""
    token = _DEADLINE.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


class DeadlineBoundConnection(psycopg.Connection[Any]):
    """A psycopg connection whose waits for the server end at the deadline in force."""

    def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
        deadline = _DEADLINE.get()
        if deadline is not None:
            left = max(deadline - time.monotonic(), _LAST_MOMENT)
            timeout = left if timeout is None else min(timeout, left)
        return super().wait(gen, interval, timeout)


class DeadlineBoundPool(ConnectionPool[Any]):
    """The library's pool, waiting for a free connection no longer than the deadline."""

    def getconn(self, timeout: float | None = None) -> Any:
        deadline = _DEADLINE.get()
        if deadline is not None:
            left = max(deadline - time.monotonic(), _LAST_MOMENT)
            timeout = min(self.timeout if timeout is None else timeout, left)
        return super().getconn(timeout)


class DeadlineBoundPostgresFactory(PostgresFactory):
    """The library's PostgreSQL factory, with its pool and connections bound by the deadline."""

    def __init__(self, env: Any) -> None:
        super().__init__(env)
        pool = self.datastore.pool
        # The pool opens on first use, so every connection it makes is of this class. The
        # library builds the pool itself; changing its class keeps every setting it chose.
        pool.connection_class = DeadlineBoundConnection
        pool.__class__ = DeadlineBoundPool
