"""The SQL dialect of a PostgreSQL event store: pipelined transactions, arrays in binary.

Apart from `dialects` so that a process on SQLite never imports psycopg.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from infrastructure.adapters.eventstore.dialects import Batch, Cursor, Dialect, Statement
from infrastructure.adapters.eventstore.postgres_pipeline import (
    PipelinedTransaction,
    opened,
    pipelined,
)

# A fixed key for PostgreSQL's advisory lock of the document projection.
_PROJECTION_LOCK_KEY = 0x5F_D0C5
_SCHEMA_LOCK_KEY = 0x5F_5C4E


class PostgresDialect(Dialect):
    def _translate(self, statement: str) -> str:
        # A value cast where it stands (``?::jsonb[]``) is sent in binary: psycopg writes an
        # array of strings in text by escaping every quote of every element (JSON bodies and
        # states are full of them) with a regular expression, about 30 ms for 2,000 bodies,
        # where the binary form takes half a millisecond. The others stay in text, so that
        # the server infers their type from where they stand (a list of strings compared
        # with a uuid column, say).
        statement = statement.replace("{any}", "= ANY(?)").replace("?::", "%b::")
        return statement.replace("?", "%s")

    def values(self, items: Collection[Any]) -> Any:
        return list(items)

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        # Its BEGIN is the connection's first exchange: a pooled connection broken since
        # its last use is replaced there (`postgres_pipeline.opened`).
        with self.store.reachable(), opened(self._datastore, _begun) as (connection, begun):
            try:
                yield connection.cursor()
            except BaseException as error:
                begun.__exit__(type(error), error, error.__traceback__)
                raise
            begun.__exit__(None, None, None)

    @contextmanager
    def locked_transaction(
        self, name: str, reads: Sequence[Statement]
    ) -> Iterator[tuple[Batch, list[list[Any]]]]:
        # BEGIN, the lock and the reads in one round trip; every later write waits for
        # the next read or for the commit (`PipelinedTransaction`).
        with (
            self.store.reachable(),
            opened(
                self._datastore, lambda connection: self.open_locked(connection, name, reads)
            ) as (_, begun),
        ):
            transaction, rows = begun
            try:
                yield transaction, rows
            except BaseException:
                transaction.rollback()
                raise
            transaction.commit()

    def open_locked(
        self, connection: Any, name: str, reads: Sequence[Statement]
    ) -> tuple[PipelinedTransaction, list[list[Any]]]:
        """Begin a transaction taking the projection's lock ``name``; the rows of ``reads``.

        One round trip, which lasts as long as the lock is waited for.
        """
        transaction = PipelinedTransaction(connection, opening=[self.lock_statement(name)])
        return transaction, transaction.read(reads)

    def commit_together(self, statements: Sequence[Statement]) -> None:
        transaction = [("BEGIN", None), *statements, ("COMMIT", None)]
        with (
            self.store.reachable(),
            opened(self._datastore, lambda connection: pipelined(connection, transaction)),
        ):
            pass

    def upsert(
        self,
        batch: Batch,
        sql: Callable[[str], str],
        into: str,
        columns: Sequence[tuple[str, str]],
        then: str,
        rows: Sequence[tuple[Any, ...]],
    ) -> None:
        # One statement of column arrays, whatever the number of rows: a row-by-row
        # executemany of thousands of rows crosses the network in several round trips.
        # ORDER BY keeps the lock order of the rows as given.
        names = ", ".join(name for name, _ in columns)
        arrays = ", ".join(f"?::{sql_type}[]" for _, sql_type in columns)
        statement = (
            f"INSERT INTO {into} ({names}) SELECT {names} FROM unnest({arrays})"
            f" WITH ORDINALITY AS v({names}, rank) ORDER BY rank {then}"
        )
        batch.write(sql(statement), _columns_of(rows))

    def read_together(
        self, cursor: Cursor, statements: Sequence[tuple[str, Sequence[Any]]]
    ) -> list[list[Any]]:
        # Sent in one pipeline: the server answers them all in one round trip instead
        # of one each.
        return pipelined(cast(Any, cursor).connection, statements)

    def lock_statement(self, name: str = "documents") -> Statement:
        return ("SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_PROJECTION_LOCK_KEY, name))

    def create_tables(self, cursor: Cursor, statements: list[str]) -> None:
        # Concurrent CREATE TABLE IF NOT EXISTS can collide in PostgreSQL's catalog.
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK_KEY,))
        super().create_tables(cursor, statements)

    def column_names(self, cursor: Cursor, table: str) -> set[str]:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND table_name = %s",
            (table,),
        )
        return {row["column_name"] for row in cursor.fetchall()}


def _begun(connection: Any) -> Any:
    """A psycopg transaction entered on ``connection``: its BEGIN has been answered."""
    transaction = connection.transaction()
    transaction.__enter__()
    return transaction


def _columns_of(rows: Sequence[tuple[Any, ...]]) -> list[list[Any]]:
    return [list(column) for column in zip(*rows, strict=True)]
