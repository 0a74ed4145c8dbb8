"""The few places where SQLite and PostgreSQL SQL differ."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from infrastructure.adapters.eventstore.store import EventStore

# A fixed key for PostgreSQL's advisory lock of the document projection.
_PROJECTION_LOCK_KEY = 0x5F_D0C5
_SCHEMA_LOCK_KEY = 0x5F_5C4E


class Cursor(Protocol):
    def execute(self, sql: Any, params: Any = ...) -> Any: ...
    def executemany(self, sql: Any, params: Any) -> Any: ...
    def fetchall(self) -> Any: ...
    def fetchone(self) -> Any: ...


class Dialect:
    """SQL written with ``?`` placeholders and ``{any}`` for "is one of these values"."""

    def __init__(self, store: EventStore) -> None:
        self.store = store
        self._datastore: Any = store.event_log.factory.datastore  # type: ignore[attr-defined]
        self._cache: dict[str, str] = {}

    def sql(self, statement: str) -> str:
        cached = self._cache.get(statement)
        if cached is None:
            cached = self._cache[statement] = self._translate(statement)
        return cached

    def _translate(self, statement: str) -> str:
        raise NotImplementedError

    def values(self, items: Collection[Any]) -> Any:
        raise NotImplementedError

    @contextmanager
    def transaction(self) -> Iterator[Cursor]:
        """A committing transaction; an unreachable database raises `EventStoreUnavailable`."""
        with self.store.reachable(), self._datastore.transaction(commit=True) as cursor:
            yield cursor

    def lock_projection(self, cursor: Cursor, name: str = "documents") -> None:
        raise NotImplementedError

    def begin_writing(self, cursor: Cursor) -> None:
        """Make a transaction that reads before it writes safe against concurrent writers."""

    def create_tables(self, cursor: Cursor, statements: list[str]) -> None:
        for statement in statements:
            cursor.execute(statement)

    def column_names(self, cursor: Cursor, table: str) -> set[str]:
        raise NotImplementedError


class SQLiteDialect(Dialect):
    def _translate(self, statement: str) -> str:
        return statement.replace("{any}", "IN (SELECT value FROM json_each(?))")

    def values(self, items: Collection[Any]) -> Any:
        return json.dumps(list(items))

    def lock_projection(self, cursor: Cursor, name: str = "documents") -> None:
        # Writing first makes SQLite take the write lock now, waiting for other writers,
        # instead of failing later when a read snapshot would have to be upgraded.
        cursor.execute(
            "INSERT INTO streamfold_projection_locks (name, taken) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET taken = taken + 1",
            (name,),
        )

    def begin_writing(self, cursor: Cursor) -> None:
        # A WAL read snapshot cannot be upgraded once another connection has committed:
        # SQLite fails at once ("database is locked") instead of waiting. A statement that
        # writes (and deletes nothing) as the transaction's first takes the write lock up
        # front, waiting for it within the busy timeout. The events table always exists.
        events: str = self.store.recorder.events_table_name
        cursor.execute(f"DELETE FROM {events} WHERE 0")

    def create_tables(self, cursor: Cursor, statements: list[str]) -> None:
        # ``CREATE TABLE IF NOT EXISTS`` of a table that exists only reads the schema, and
        # the next one that creates must then upgrade that read: two processes creating
        # tables at once failed that way.
        self.begin_writing(cursor)
        super().create_tables(cursor, statements)

    def column_names(self, cursor: Cursor, table: str) -> set[str]:
        cursor.execute("SELECT name FROM pragma_table_info(?)", (table,))
        return {row["name"] for row in cursor.fetchall()}


class PostgresDialect(Dialect):
    def _translate(self, statement: str) -> str:
        return statement.replace("{any}", "= ANY(?)").replace("?", "%s")

    def values(self, items: Collection[Any]) -> Any:
        return list(items)

    def lock_projection(self, cursor: Cursor, name: str = "documents") -> None:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))", (_PROJECTION_LOCK_KEY, name)
        )

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


def dialect_for(store: EventStore) -> Dialect:
    return PostgresDialect(store) if store.is_postgres else SQLiteDialect(store)
