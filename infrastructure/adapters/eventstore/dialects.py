"""The few places where SQLite and PostgreSQL SQL differ."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import orjson

from infrastructure.adapters.eventstore.sqlite_factory import PROJECTION_MARKER, PROJECTION_SCHEMA
from infrastructure.adapters.eventstore.store import EventStore

# Tables of the event store's side, which stay in its file when the projection has its own
# (`sqlite_factory`): what the intake and the poller write. The library creates the events
# and the item positions itself.
_EVENT_STORE_TABLES = frozenset(
    {"streamfold_dead_letters", "streamfold_shard_checkpoints", "streamfold_export_checkpoints"}
)
_CREATE = re.compile(
    r"\s*CREATE\s+(?P<kind>TABLE|INDEX|UNIQUE\s+INDEX)\s+IF\s+NOT\s+EXISTS\s+"
    r"(?P<name>\w+)(?P<rest>.*)",
    re.IGNORECASE | re.DOTALL,
)
_INDEXED_TABLE = re.compile(r"\s+ON\s+(\w+)", re.IGNORECASE)

# Tables SQLite creates ``WITHOUT ROWID`` (`for_sqlite`), in every generation: short rows
# found only by their whole primary key, where a rowid table would keep the key twice. A
# store created before keeps its table as it was; both read and write alike.
SQLITE_WITHOUT_ROWID = frozenset({"document_feeds", "unrendered"})
_WITHOUT_ROWID = re.compile(
    rf"CREATE TABLE IF NOT EXISTS streamfold_(g\d+_)?({'|'.join(sorted(SQLITE_WITHOUT_ROWID))}) \("
)


def for_sqlite(statement: str) -> str:
    """``statement`` as SQLite creates it: a table of `SQLITE_WITHOUT_ROWID` without rowid."""
    return f"{statement} WITHOUT ROWID" if _WITHOUT_ROWID.match(statement) else statement


class Cursor(Protocol):
    def execute(self, sql: Any, params: Any = ...) -> Any: ...
    def executemany(self, sql: Any, params: Any) -> Any: ...
    def fetchall(self) -> Any: ...
    def fetchone(self) -> Any: ...


Statement = tuple[str, Sequence[Any]]  # finished SQL and its parameters


class Batch(Protocol):
    """The statements of one transaction; on PostgreSQL a write may wait (see below)."""

    def write(self, statement: str, params: Sequence[Any] = ...) -> None: ...
    def write_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def read(self, statements: Sequence[Statement], one_message: bool = False) -> list[list[Any]]:
        """The rows of each of these independent reads.

        ``one_message``: large reads with large parameters, sent as one message if the
        transaction can (see `postgres_pipeline.in_one_message`).
        """
        ...


class ImmediateBatch:
    """Every statement runs when it is given, in the transaction of ``cursor``."""

    def __init__(self, dialect: Dialect, cursor: Cursor) -> None:
        self._dialect = dialect
        self.cursor = cursor

    def write(self, statement: str, params: Sequence[Any] = ()) -> None:
        self.cursor.execute(statement, params)

    def write_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        self.cursor.executemany(statement, rows)

    def read(self, statements: Sequence[Statement], one_message: bool = False) -> list[list[Any]]:
        return self._dialect.read_together(self.cursor, statements)


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

    @contextmanager
    def locked_transaction(
        self, name: str, reads: Sequence[Statement]
    ) -> Iterator[tuple[Batch, list[list[Any]]]]:
        """A committing transaction holding the projection's lock ``name``.

        Yields the transaction's `Batch` and the rows of each of ``reads``, read once the
        lock is held. SQLite runs every statement when it is given.
        """
        with self.transaction() as cursor:
            self.lock_projection(cursor, name)
            batch = ImmediateBatch(self, cursor)
            yield batch, batch.read(reads)

    def commit_together(self, statements: Sequence[Statement]) -> None:
        """Run ``statements`` as one transaction (on PostgreSQL, in one round trip)."""
        with self.transaction() as cursor:
            self.begin_writing(cursor)
            for statement, params in statements:
                cursor.execute(statement, params)

    def lock_projection(self, cursor: Cursor, name: str = "documents") -> None:
        statement, params = self.lock_statement(name)
        cursor.execute(statement, params)

    def lock_statement(self, name: str = "documents") -> Statement:
        """The statement taking the projection's lock of that name until the commit."""
        raise NotImplementedError

    def upsert(
        self,
        batch: Batch,
        sql: Callable[[str], str],
        into: str,
        columns: Sequence[tuple[str, str]],
        then: str,
        rows: Sequence[tuple[Any, ...]],
    ) -> None:
        """Insert ``rows`` of (name, SQL type) ``columns``; ``then`` is the ON CONFLICT clause.

        ``sql`` finishes the statement (generation, placeholders). Rows arrive in lock
        order and are written in it.
        """
        names = ", ".join(name for name, _ in columns)
        marks = ", ".join("?" * len(columns))
        batch.write_many(sql(f"INSERT INTO {into} ({names}) VALUES ({marks}) {then}"), rows)

    def read_together(
        self, cursor: Cursor, statements: Sequence[tuple[str, Sequence[Any]]]
    ) -> list[list[Any]]:
        """The rows of each of these independent reads, in the transaction of ``cursor``."""
        results = []
        for statement, params in statements:
            cursor.execute(statement, params)
            results.append(list(cursor.fetchall()))
        return results

    def begin_writing(self, cursor: Cursor, *, event_store_side: bool = False) -> None:
        """Make a transaction that reads before it writes safe against concurrent writers.

        ``event_store_side``: it writes the event store's tables, not the projection's.
        """

    def create_tables(self, cursor: Cursor, statements: list[str]) -> None:
        for statement in statements:
            cursor.execute(statement)

    def column_names(self, cursor: Cursor, table: str) -> set[str]:
        raise NotImplementedError


class SQLiteDialect(Dialect):
    def _translate(self, statement: str) -> str:
        return statement.replace("{any}", "IN (SELECT value FROM json_each(?))")

    def values(self, items: Collection[Any]) -> Any:
        # json_each reads the same values from either encoding; orjson refuses what is
        # not UTF-8 (a lone surrogate), which the standard encoder escapes.
        try:
            return orjson.dumps(list(items)).decode()
        except orjson.JSONEncodeError:
            return json.dumps(list(items))

    def lock_statement(self, name: str = "documents") -> Statement:
        # Writing first makes SQLite take the write lock now, waiting for other writers,
        # instead of failing later when a read snapshot would have to be upgraded.
        return (
            "INSERT INTO streamfold_projection_locks (name, taken) VALUES (?, 1) "
            "ON CONFLICT (name) DO UPDATE SET taken = taken + 1",
            (name,),
        )

    @property
    def _projection_attached(self) -> bool:
        """Whether the projection's tables live in their own file (`sqlite_factory`)."""
        return bool(getattr(self._datastore.pool, "projection_attached", False))

    def begin_writing(self, cursor: Cursor, *, event_store_side: bool = False) -> None:
        # A WAL read snapshot cannot be upgraded once another connection has committed:
        # SQLite fails at once ("database is locked") instead of waiting. A statement that
        # writes (and deletes nothing) as the transaction's first takes the write lock up
        # front, waiting for it within the busy timeout. Every caller writes the
        # projection's tables, whose file always has its marker table, unless it says it
        # writes the event store's side, whose file always has the events table. (A store
        # keeping both in one file has one lock.) A transaction writing both files takes
        # the projection's first, as the projection lock does (`lock_statement`).
        if self._projection_attached and not event_store_side:
            cursor.execute(f"DELETE FROM {PROJECTION_SCHEMA}.{PROJECTION_MARKER} WHERE 0")
        else:
            events: str = self.store.recorder.events_table_name
            cursor.execute(f"DELETE FROM {events} WHERE 0")

    def create_tables(self, cursor: Cursor, statements: list[str]) -> None:
        statements = [for_sqlite(statement) for statement in statements]
        if self._projection_attached:
            placed = [in_projection_file(statement) for statement in statements]
            moved = [new is not old for new, old in zip(placed, statements, strict=True)]
        else:
            placed, moved = statements, [False] * len(statements)
        # Asked first, in a read of its own: a process opening a store whose tables exist
        # (a command's second process) takes no write lock, which a command's batches may
        # be holding until their group commits (`sqlite_factory.TunedSQLiteDatastore`).
        # Asked in this transaction, a read snapshot would precede its write.
        with self._datastore.transaction(commit=False) as reading:
            if _all_exist(reading, statements, moved):
                return
        # ``CREATE TABLE IF NOT EXISTS`` of a table that exists only reads the schema, and
        # the next one that creates must then upgrade that read: two processes creating
        # tables at once failed that way.
        if self._projection_attached:
            if any(moved):
                self.begin_writing(cursor)
            if not all(moved):
                self.begin_writing(cursor, event_store_side=True)
            statements = placed
        else:
            self.begin_writing(cursor)
        super().create_tables(cursor, statements)

    def column_names(self, cursor: Cursor, table: str) -> set[str]:
        cursor.execute("SELECT name FROM pragma_table_info(?)", (table,))
        return {row["name"] for row in cursor.fetchall()}


def _all_exist(cursor: Cursor, statements: list[str], in_projection: list[bool]) -> bool:
    """Whether every table and index the statements create exists in its file."""
    wanted: dict[str, set[str]] = {}
    for statement, moved in zip(statements, in_projection, strict=True):
        match = _CREATE.match(statement)
        if match is None:
            return False
        wanted.setdefault(PROJECTION_SCHEMA if moved else "main", set()).add(match.group("name"))
    for schema, names in wanted.items():
        marks = ", ".join("?" * len(names))
        found = f"SELECT name FROM {schema}.sqlite_master WHERE name IN ({marks})"
        cursor.execute(found, tuple(names))
        if len(cursor.fetchall()) != len(names):
            return False
    return True


def dialect_for(store: EventStore) -> Dialect:
    if not store.is_postgres:
        return SQLiteDialect(store)
    # Imported here: psycopg (about 0.07 s to import) is loaded on PostgreSQL only.
    from infrastructure.adapters.eventstore.postgres_dialect import PostgresDialect

    return PostgresDialect(store)


def in_projection_file(statement: str) -> str:
    """``statement`` creating its table or index in the projection's file, if it is one of
    the projection's (every table the project creates but those of the event store's side).
    """
    match = _CREATE.match(statement)
    if match is None:
        raise ValueError(f"not a CREATE ... IF NOT EXISTS statement: {statement[:60]!r}")
    kind, name, rest = match.group("kind", "name", "rest")
    table = name
    if not kind.upper().startswith("TABLE"):
        indexed = _INDEXED_TABLE.match(rest)
        if indexed is None:
            raise ValueError(f"an index on no table: {statement[:60]!r}")
        table = indexed.group(1)
    if table in _EVENT_STORE_TABLES:
        return statement
    return f"CREATE {' '.join(kind.upper().split())} IF NOT EXISTS {PROJECTION_SCHEMA}.{name}{rest}"
