"""The history's port onto the event store: the feed index, the events it names, and the
replays' checkpoints (`history_checkpoints`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification

from infrastructure.adapters.eventstore.dialects import dialect_for
from infrastructure.adapters.eventstore.history_checkpoints import SqlCheckpoints
from infrastructure.adapters.eventstore.store import EventStore
from projections.documents import DocumentKind
from projections.feeds import own_aggregate
from projections.history.memory import ReplayState
from projections.history.service import Checkpoint, DocumentFeeds
from projections.ports import PositionedEvent

_CHUNK = 5_000  # positions per query, well within either database's parameter limits


class SqlDocumentFeeds(DocumentFeeds):
    """Reads ``streamfold_document_feeds`` and the events of the aggregates it lists.

    Positions are read alone (an index lookup per aggregate, nothing decoded); only the
    events a replay folds are read whole and decoded.

    >>> SqlDocumentFeeds(store).feeding_positions(DocumentKind.USERS, "u-1")[:3]
    [12, 57, 58]
    """

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._dialect = dialect_for(store)
        self._checkpoints = SqlCheckpoints(store)
        recorder: Any = store.recorder
        if store.is_postgres:
            table = f'"{recorder.datastore.schema}"."{recorder.events_table_name}"'
            self._position, self._aggregate = "notification_id", "aggregate_id::uuid"
            self._own = "?::uuid"
        else:
            table = recorder.events_table_name
            self._position, self._aggregate, self._own = "rowid", "aggregate_id", "?"
        self._events = table

    def feeding_positions(self, kind: DocumentKind, doc_id: str) -> list[int]:
        statement = (
            f"SELECT {self._position} AS position FROM {self._events} WHERE originator_id IN ("
            f" SELECT {self._aggregate} FROM streamfold_document_feeds"
            f" WHERE kind = ? AND doc_id = ? UNION SELECT {self._own})"
            f" ORDER BY {self._position}"
        )
        with self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql(statement), (kind.value, doc_id, own_aggregate(kind, doc_id))
            )
            return [int(row["position"]) for row in cursor.fetchall()]

    def events_at(self, positions: Sequence[int]) -> list[PositionedEvent]:
        statement = self._dialect.sql(
            f"SELECT {self._position} AS position, originator_id, originator_version, topic,"
            f" state FROM {self._events} WHERE {self._position} {{any}}"
        )
        mapper = self._store.event_log.mapper
        rows: list[Any] = []
        with self._dialect.transaction() as cursor:
            for start in range(0, len(positions), _CHUNK):
                chunk = positions[start : start + _CHUNK]
                cursor.execute(statement, (self._dialect.values(chunk),))
                rows += cursor.fetchall()
        rows.sort(key=lambda row: row["position"])
        return [PositionedEvent(int(row["position"]), mapper.to_domain_event(_notification(row)))
                for row in rows]  # fmt: skip

    def checkpoints(self, kind: DocumentKind, doc_id: str) -> list[Checkpoint]:
        return self._checkpoints.listed(kind, doc_id)

    def checkpoint_state(self, kind: DocumentKind, doc_id: str, events: int) -> ReplayState:
        return self._checkpoints.state(kind, doc_id, events)

    def save_checkpoints(
        self, kind: DocumentKind, doc_id: str, checkpoints: Sequence[tuple[Checkpoint, ReplayState]]
    ) -> None:
        self._checkpoints.save(kind, doc_id, checkpoints)

    def drop_checkpoints(self, kind: DocumentKind, doc_id: str, from_events: int) -> None:
        self._checkpoints.drop(kind, doc_id, from_events)


def _notification(row: Any) -> Notification:
    originator = row["originator_id"]
    state = row["state"]
    return Notification(
        id=int(row["position"]),
        originator_id=originator if isinstance(originator, UUID) else UUID(originator),
        originator_version=row["originator_version"],
        topic=row["topic"],
        state=bytes(state) if isinstance(state, memoryview) else state,
    )
