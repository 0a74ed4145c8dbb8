"""The tables of a generation being built, as the rebuild's fold and rendering use them.

The generation's tables are created without their secondary indexes: the fold inserts
every state row once, in key order, and one sort per index afterwards costs a fraction of
keeping each index up to date row by row. The indexes come before the rendering, which
queries them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import orjson

from infrastructure.adapters.eventstore.dialects import Cursor, ImmediateBatch, dialect_for
from infrastructure.adapters.eventstore.generations import GenerationRegistry, for_generation
from infrastructure.adapters.eventstore.projection_store import (
    PROJECTION_NAME,
    SqlProjectionSession,
)
from infrastructure.adapters.eventstore.schema import PROJECTION_TABLES, UNRENDERED_TABLES
from infrastructure.adapters.eventstore.store import EventStore
from projections.documents import DocumentChange, DocumentKind, fingerprint
from projections.state import Row, StateTable

# Aggregate ids from the first (inclusive) to the second (exclusive; None: to the end).
AggregateIds = tuple[str, str | None]

# The state table and the column holding the document id, for each kind of document.
_DOCUMENT_SOURCES = {
    DocumentKind.USERS: ("streamfold_user_state", "user_id"),
    DocumentKind.IMAGES: ("streamfold_image_state", "image_id"),
}


def _is_index(statement: str) -> bool:
    return statement.lstrip().upper().startswith("CREATE INDEX")


class GenerationTables:
    """State rows, rendered documents and tracking of one generation, for its rebuild.

    >>> tables = GenerationTables(store, registry, generation=2)
    >>> tables.create()                      # tables only; create_indexes() once folded
    """

    def __init__(self, store: EventStore, registry: GenerationRegistry, generation: int) -> None:
        self._store = store
        self._dialect = dialect_for(store)
        self._registry = registry
        self.generation = generation

    @contextmanager
    def _transaction(self, *, write: bool = True) -> Iterator[Cursor]:
        # Reads take a reader's connection: on SQLite they then never queue behind a writer.
        datastore: Any = self._store.recorder.datastore
        with self._store.reachable(), datastore.transaction(commit=write) as cursor:
            yield cursor

    def _statements(self, indexes: bool) -> list[str]:
        return [
            for_generation(statement, self.generation)
            for statement in (*PROJECTION_TABLES, *UNRENDERED_TABLES)
            if _is_index(statement) == indexes
        ]

    def create(self) -> None:
        self._create(self._statements(indexes=False))

    def create_indexes(self) -> None:
        self._create(self._statements(indexes=True))

    def _create(self, statements: list[str]) -> None:
        with self._transaction() as cursor:
            # Taking a lock first serializes the workers (on SQLite, by writing first: a
            # transaction that read the schema could not write once another one had).
            self._dialect.lock_projection(cursor, "rebuild")
            self._dialect.create_tables(cursor, statements)

    def save_bucket(
        self,
        rows: Mapping[StateTable, dict[str, Row | None]],
        index: int,
        buckets_folded: int,
        events: int,
        tombstones: Sequence[DocumentChange] = (),
    ) -> None:
        """A folded bucket's rows, its documents' tombstones (pending in the outbox, for the
        catch-up to write) and the slice's progress, in one transaction."""
        with self._transaction() as cursor:
            session = SqlProjectionSession(
                self._store, self._dialect, ImmediateBatch(self._dialect, cursor), self.generation
            )
            for table, table_rows in rows.items():
                session.save_rows(table, table_rows)
            session.save_documents(tombstones)  # pending: the catch-up writes them
            self._registry.record_fold(cursor, self.generation, index, buckets_folded, events)

    @contextmanager
    def reading(self) -> Iterator[SqlProjectionSession]:
        """A session to render documents from (it reads, it writes nothing)."""
        with self._transaction(write=False) as cursor:
            yield SqlProjectionSession(
                self._store, self._dialect, ImmediateBatch(self._dialect, cursor), self.generation
            )

    def document_ids(
        self, kind: DocumentKind, ids: AggregateIds, after: str, limit: int
    ) -> list[tuple[str, str]]:
        """``(aggregate id, document id)`` of the kind's items in ``ids``, after ``after``."""
        table, column = _DOCUMENT_SOURCES[kind]
        low, high = ids
        statement = (
            f"SELECT aggregate_id, {column} AS doc_id FROM {table}"
            " WHERE aggregate_id >= ? AND aggregate_id > ?"
            + (" AND aggregate_id < ?" if high is not None else "")
            + " ORDER BY aggregate_id LIMIT ?"
        )
        params: list[object] = [low, after]
        if high is not None:
            params.append(high)
        params.append(limit)
        with self._transaction(write=False) as cursor:
            cursor.execute(self._dialect.sql(for_generation(statement, self.generation)), params)
            return [(r["aggregate_id"], r["doc_id"]) for r in cursor.fetchall()]

    def document_count(self, kind: DocumentKind, ids: AggregateIds) -> int:
        """How many documents of the kind the items in ``ids`` make (for progress)."""
        table, _ = _DOCUMENT_SOURCES[kind]
        low, high = ids
        statement = f"SELECT COUNT(*) AS n FROM {table} WHERE aggregate_id >= ?" + (
            " AND aggregate_id < ?" if high is not None else ""
        )
        params = [low] if high is None else [low, high]
        with self._transaction(write=False) as cursor:
            cursor.execute(self._dialect.sql(for_generation(statement, self.generation)), params)
            return int(cursor.fetchone()["n"])

    def save_written(self, changes: Sequence[DocumentChange]) -> None:
        """Rendered documents the indices hold already: stored in the outbox as synced."""
        if not changes:
            return
        statement = (
            "INSERT INTO streamfold_documents"
            " (kind, doc_id, version, body, fingerprint, synced_version)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (kind, doc_id) DO UPDATE SET"
            " version = excluded.version, body = excluded.body,"
            " fingerprint = excluded.fingerprint, synced_version = excluded.synced_version"
        )
        records = [
            (
                c.kind.value,
                c.doc_id,
                c.version,
                None if c.body is None else orjson.dumps(c.body).decode(),
                fingerprint(c.body),
                c.version,
            )
            for c in sorted(changes, key=lambda c: (c.kind.value, c.doc_id))
        ]
        statement = self._dialect.sql(for_generation(statement, self.generation))
        with self._transaction() as cursor:
            cursor.executemany(statement, records)

    def start_tracking(self, position: int) -> None:
        """From here on the generation is projected event by event, from ``position`` on."""
        with self._transaction() as cursor:
            cursor.execute(
                self._dialect.sql(
                    for_generation(
                        "INSERT INTO streamfold_tracking (projection, position) VALUES (?, ?)"
                        " ON CONFLICT (projection) DO NOTHING",
                        self.generation,
                    )
                ),
                (PROJECTION_NAME, position),
            )
