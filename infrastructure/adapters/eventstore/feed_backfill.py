"""The feed-index backfill's store: events, feed rows and its progress, in the event store."""

from __future__ import annotations

from collections.abc import Collection

from infrastructure.adapters.eventstore.dialects import ImmediateBatch, dialect_for
from infrastructure.adapters.eventstore.schema import DOCUMENT_FEED_TABLES
from infrastructure.adapters.eventstore.store import EventStore
from projections.documents import DocumentKind
from projections.history.backfill import BackfillProgress, BackfillStore, Feed
from projections.ports import PositionedEvent

BACKFILL_TABLES = [
    *DOCUMENT_FEED_TABLES,
    "CREATE TABLE IF NOT EXISTS streamfold_history_backfill ("
    " name TEXT PRIMARY KEY, position BIGINT NOT NULL, target BIGINT NOT NULL)",
]
_NAME = "document_feeds"


class SqlBackfillStore(BackfillStore):
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._dialect = dialect_for(store)
        with self._dialect.transaction() as cursor:
            self._dialect.create_tables(cursor, BACKFILL_TABLES)

    def head(self) -> int:
        return self._store.head()

    def progress(self) -> BackfillProgress | None:
        with self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql(
                    "SELECT position, target FROM streamfold_history_backfill WHERE name = ?"
                ),
                (_NAME,),
            )
            row = cursor.fetchone()
        return None if row is None else BackfillProgress(int(row["position"]), int(row["target"]))

    def events_after(self, position: int, limit: int) -> list[PositionedEvent]:
        with self._store.reachable():
            return self._store.events_after(position, limit)

    def save(self, feeds: Collection[Feed], progress: BackfillProgress) -> None:
        # Sorted: the live projection inserts its rows in the same order, so the two never
        # wait for each other in a cycle.
        rows = sorted((kind.value, doc_id, aggregate) for kind, doc_id, aggregate in feeds)
        with self._dialect.transaction() as cursor:
            self._dialect.begin_writing(cursor)
            if rows:
                self._dialect.upsert(
                    ImmediateBatch(self._dialect, cursor),
                    self._dialect.sql,
                    "streamfold_document_feeds",
                    [("kind", "TEXT"), ("doc_id", "TEXT"), ("aggregate_id", "TEXT")],
                    "ON CONFLICT DO NOTHING",
                    rows,
                )
            cursor.execute(
                self._dialect.sql(
                    "INSERT INTO streamfold_history_backfill (name, position, target)"
                    " VALUES (?, ?, ?) ON CONFLICT (name) DO UPDATE"
                    " SET position = excluded.position, target = excluded.target"
                ),
                (_NAME, progress.position, progress.target),
            )

    def busy_documents(self, aggregates: int) -> list[tuple[DocumentKind, str]]:
        """The documents fed by at least this many aggregates besides their own item."""
        with self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql(
                    "SELECT kind, doc_id FROM streamfold_document_feeds GROUP BY kind, doc_id"
                    " HAVING COUNT(*) >= ? ORDER BY kind, doc_id"
                ),
                (aggregates,),
            )
            return [(DocumentKind(row["kind"]), row["doc_id"]) for row in cursor.fetchall()]
