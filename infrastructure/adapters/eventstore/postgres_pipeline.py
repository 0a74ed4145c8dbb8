"""PostgreSQL statements sent together: one round trip for many statements.

A pooled connection is not checked before use (no pre-ping, which cost a round trip per
transaction). A connection broken meanwhile (a database restart, a network cut) shows
instead as the first exchange failing: `opened` then replaces it and runs that exchange
once more on a fresh connection, which is what the pre-ping would have done.

A `PipelinedTransaction` keeps its writes until the next read or the commit and sends
them in the same pipeline, so a transaction costs one round trip per read that depends on
an earlier result, plus one for the commit with every write still waiting. A write's
error then surfaces at that next exchange; the transaction still rolls back whole.

>>> with opened(datastore, lambda conn: pipelined(conn, [("SELECT 1", ())])) as (conn, rows):
...     rows
[[{'?column?': 1}]]
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, TypeVar

import psycopg
from psycopg import pq

Statement = tuple[Any, Sequence[Any] | None]  # SQL text or composed SQL, and its parameters
T = TypeVar("T")


def broken(connection: psycopg.Connection[Any]) -> bool:
    """Whether the connection was lost (the server or the network went away)."""
    return bool(connection.closed or connection.broken)


@contextmanager
def opened(
    datastore: Any, first: Callable[[psycopg.Connection[Any]], T]
) -> Iterator[tuple[Any, T]]:
    """A pooled connection on which ``first`` (its first exchange) succeeded, and its result.

    A connection found broken by ``first`` goes back to the pool, which discards it; the
    pool's idle connections are checked (they may be broken by the same outage) and
    ``first`` runs once more on another one. ``first`` must be safe to run twice: it
    either commits nothing, or the database refuses its second run (a moved position).
    Any other failure is left to the caller, as is every failure of the second attempt.
    """
    for attempt in range(2):
        with datastore.get_connection() as connection:
            try:
                result = first(connection)
            except psycopg.OperationalError:
                if attempt or not broken(connection):
                    raise
            else:
                yield connection, result
                return
        datastore.pool.check()
    raise AssertionError("unreachable")


def pipelined(
    connection: psycopg.Connection[Any], statements: Sequence[Statement]
) -> list[list[Any]]:
    """Send ``statements`` in one pipeline; the rows of each (empty for a statement without).

    A statement's error is raised once the pipeline ends; the ones after it did not run.
    """
    cursors = [connection.cursor() for _ in statements]
    try:
        with connection.pipeline():
            for cursor, (statement, params) in zip(cursors, statements, strict=True):
                cursor.execute(statement, params)
    except BaseException:
        abandon(connection)
        raise
    return [list(cursor.fetchall()) if cursor.description else [] for cursor in cursors]


def in_one_message(
    connection: psycopg.Connection[Any], statements: Sequence[Statement]
) -> list[list[Any]]:
    """Send ``statements`` as one query message; the rows of each.

    A pipeline sends statement after statement, and the server answers each one as
    soon as it has run it: when early reads answer many rows while later statements
    with large parameters are still on their way, the exchange takes more than one round
    trip. One message (the parameters bound on the client) is read whole by the server
    before it runs anything. The binding costs client time: meant for reads of ids.
    """
    cursor = psycopg.ClientCursor(connection)
    query = ";\n".join(cursor.mogrify(statement, params) for statement, params in statements)
    try:
        cursor.execute(query)
    except BaseException:
        abandon(connection)
        raise
    results = []
    while True:
        results.append(list(cursor.fetchall()) if cursor.description else [])
        if not cursor.nextset():
            break
    return results


def abandon(connection: psycopg.Connection[Any]) -> None:
    """Leave a failed exchange: roll back what the server began, or close the connection.

    A pipeline cut short (a deadline, a lost server) leaves the connection busy: closed,
    the pool replaces it instead of handing it out again. A statement the server refused
    leaves a failed transaction, rolled back here so the connection can serve again.
    """
    if connection.closed:
        return
    status = connection.pgconn.transaction_status
    busy = connection.pgconn.pipeline_status != pq.PipelineStatus.OFF
    if busy or status == pq.TransactionStatus.ACTIVE:
        connection.close()
        return
    if status in (pq.TransactionStatus.INTRANS, pq.TransactionStatus.INERROR):
        try:
            connection.rollback()
        except psycopg.Error:
            connection.close()


class PipelinedTransaction:
    """One transaction whose writes wait to go out with its next read or its commit."""

    def __init__(self, connection: psycopg.Connection[Any], opening: Sequence[Statement] = ()):
        self.connection = connection
        self._waiting: list[Statement] = [("BEGIN", None), *opening]
        self._done = False

    def write(self, statement: Any, params: Sequence[Any] | None = None) -> None:
        self._waiting.append((statement, params))

    def write_many(self, statement: Any, rows: Sequence[Sequence[Any]]) -> None:
        self._waiting.extend((statement, row) for row in rows)

    def read(self, statements: Sequence[Statement], one_message: bool = False) -> list[list[Any]]:
        """The rows of each read, sent with every write still waiting: one round trip.

        ``one_message``: the reads answer many rows and have large parameters; with no
        write waiting they are sent as one message (`in_one_message`).
        """
        if one_message and not self._waiting:
            return in_one_message(self.connection, statements)
        waiting, self._waiting = self._waiting, []
        rows = pipelined(self.connection, [*waiting, *statements])
        return rows[len(waiting) :]

    def commit(self) -> None:
        """Send what is waiting and COMMIT, in one round trip."""
        waiting, self._waiting = self._waiting, []
        pipelined(self.connection, [*waiting, ("COMMIT", None)])
        self._done = True

    def rollback(self) -> None:
        if not self._done:
            self._waiting = []
            abandon(self.connection)
            self._done = True
