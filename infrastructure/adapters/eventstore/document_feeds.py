"""The history's port onto the event store: the feed index and the events it names."""

from __future__ import annotations

from collections.abc import Collection

from infrastructure.adapters.eventstore.dialects import dialect_for
from infrastructure.adapters.eventstore.store import EventStore
from projections.documents import DocumentKind
from projections.feeds import own_aggregate
from projections.history.service import DocumentFeeds
from projections.ports import PositionedEvent

_CHUNK = 5_000  # aggregate ids per query, well within either database's parameter limits


class SqlDocumentFeeds(DocumentFeeds):
    """Reads ``streamfold_document_feeds`` and the events of the aggregates it lists.

    >>> SqlDocumentFeeds(store).feeding_aggregates(DocumentKind.USERS, "u-1")[:1]
    ['0c4f...']
    """

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._dialect = dialect_for(store)

    def feeding_aggregates(self, kind: DocumentKind, doc_id: str) -> list[str]:
        with self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql(
                    "SELECT aggregate_id FROM streamfold_document_feeds"
                    " WHERE kind = ? AND doc_id = ?"
                ),
                (kind.value, doc_id),
            )
            fed = {row["aggregate_id"] for row in cursor.fetchall()}
        return sorted(fed | {own_aggregate(kind, doc_id)})

    def events_of(self, aggregate_ids: Collection[str]) -> list[PositionedEvent]:
        ids = sorted(aggregate_ids)
        mapper = self._store.event_log.mapper
        notifications = []
        with self._store.reachable():
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                notifications += self._store.recorder.select_notifications_of(chunk)
        notifications.sort(key=lambda n: n.id)
        return [PositionedEvent(n.id, mapper.to_domain_event(n)) for n in notifications]
