"""In-memory fakes of the ports, for unit tests of the services that use them."""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from uuid import UUID

from domain.aggregate import SourceAggregate
from domain.errors import ConcurrentChange, ItemUnreadable
from domain.intake import ItemLedger, Pending, PositionMove
from domain.kinds import TableKind
from domain.positions import ItemPosition
from domain.source_items import SourceItemReader
from projections.documents import DocumentChange, DocumentKind, fingerprint
from projections.ports import PositionedEvent, ProjectionSession, ProjectionStore
from projections.state import (
    ImageRow,
    Row,
    StateTable,
    UserRow,
    UserStats,
)


class FakeLedger(ItemLedger):
    """Keeps events per aggregate and positions per item; can fake a concurrent writer."""

    def __init__(self) -> None:
        self.events: dict[UUID, list[Any]] = {}
        self.log: list[Any] = []
        self.item_positions: dict[str, ItemPosition] = {}
        self.conflicts_to_raise = 0

    def positions(self, item_keys: Collection[str]) -> dict[str, ItemPosition]:
        return {k: self.item_positions[k] for k in item_keys if k in self.item_positions}

    def load(self, ids: Collection[UUID]) -> dict[UUID, SourceAggregate]:
        loaded = {}
        for aggregate_id in ids:
            if aggregate_id in self.events:
                aggregate = None
                for event in self.events[aggregate_id]:
                    aggregate = event.mutate(aggregate)
                loaded[aggregate_id] = aggregate
        return loaded  # type: ignore[return-value]

    def record(self, aggregates: Sequence[Pending], moves: Sequence[PositionMove]) -> None:
        if self.conflicts_to_raise:
            self.conflicts_to_raise -= 1
            raise ConcurrentChange("another writer was first")
        for move in moves:
            if self.item_positions.get(move.item_key) != move.expected:
                raise ConcurrentChange(move.item_key)
        events: list[Any] = []
        for aggregate in aggregates:
            if isinstance(aggregate, SourceAggregate):
                events += aggregate.collect_events()
            else:
                events.append(aggregate)  # a new item's creation event alone
        # As the stores' unique (aggregate, version): each event follows the last one.
        versions = {
            event.originator_id: len(self.events.get(event.originator_id, [])) for event in events
        }
        for event in events:
            versions[event.originator_id] += 1
            if event.originator_version != versions[event.originator_id]:
                raise ConcurrentChange(
                    f"version {event.originator_version} of {event.originator_id}"
                )
        for event in events:
            self.events.setdefault(event.originator_id, []).append(event)
            self.log.append(event)
        for move in moves:
            self.item_positions[move.item_key] = move.position


class FakeSourceTables(SourceItemReader):
    """Source tables held in memory: ``items[(table, key)]``; a table in ``unreadable``
    refuses every read with its reason."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, tuple[str, ...]], dict[str, Any]] = {}
        self.unreadable: dict[str, str] = {}
        self.reads: list[tuple[str, tuple[str, ...]]] = []

    def read(self, kind: TableKind, key: tuple[str, ...], table: str) -> dict[str, Any] | None:
        self.reads.append((table, key))
        if table in self.unreadable:
            raise ItemUnreadable(self.unreadable[table])
        item = self.items.get((table, key))
        return None if item is None else dict(item)


class FakeProjectionStore(ProjectionStore):
    """The projection's state as dicts; the views computed in plain Python."""

    def __init__(self, events: Sequence[Any] = ()) -> None:
        self.events: list[Any] = list(events)
        self.rows: dict[StateTable, dict[str, Row]] = {t: {} for t in StateTable}
        self.documents: dict[tuple[DocumentKind, str], DocumentChange] = {}
        self.synced: dict[tuple[DocumentKind, str], int] = {}
        self.tracking = 0
        self.unrendered: set[tuple[DocumentKind, str]] = set()  # left by folds to render
        self.pending_reads = 0
        self._told = 0  # events told of by `recorded`

    def recorded(self) -> tuple[int, int] | None:
        told, self._told = self._told, len(self.events)
        return None if told == len(self.events) else (told + 1, len(self.events))

    @contextmanager
    def session(self) -> Iterator[ProjectionSession]:
        snapshot = copy.deepcopy((self.rows, self.documents, self.tracking, self.unrendered))
        try:
            yield FakeProjectionSession(self)
        except BaseException:
            self.rows, self.documents, self.tracking, self.unrendered = snapshot
            raise

    def head(self) -> int:
        return len(self.events)

    def pending_documents(self, limit: int) -> list[DocumentChange]:
        self.pending_reads += 1
        pending = [d for key, d in self.documents.items() if d.version > self.synced.get(key, 0)]
        return sorted(pending, key=lambda d: d.version)[:limit]

    def mark_synced(self, changes: Sequence[DocumentChange], generation: int | None = None) -> None:
        for change in changes:
            key = (change.kind, change.doc_id)
            self.synced[key] = max(self.synced.get(key, 0), change.version)


class FakeProjectionSession(ProjectionSession):
    def __init__(self, store: FakeProjectionStore) -> None:
        self.store = store

    def position(self) -> int:
        return self.store.tracking

    def events_after(self, position: int, limit: int) -> list[PositionedEvent]:
        chosen = self.store.events[position : position + limit]
        return [PositionedEvent(position + i + 1, e) for i, e in enumerate(chosen)]

    def load_rows(self, table: StateTable, keys: Collection[str]) -> dict[str, Row]:
        return {k: self.store.rows[table][k] for k in keys if k in self.store.rows[table]}

    def save_rows(self, table: StateTable, rows: dict[str, Row | None]) -> None:
        for key, row in rows.items():
            if row is None:
                self.store.rows[table].pop(key, None)
            else:
                self.store.rows[table][key] = row

    def _all(self, table: StateTable) -> list[Any]:
        return list(self.store.rows[table].values())

    def images_owned_by(self, user_ids: Collection[str]) -> set[str]:
        return {i.image_id for i in self._all(StateTable.IMAGES) if i.owner_id in user_ids}

    def owners_of(self, image_ids: Collection[str]) -> dict[str, str]:
        return {
            i.image_id: i.owner_id for i in self._all(StateTable.IMAGES) if i.image_id in image_ids
        }

    def _user(self, user_id: str) -> UserRow | None:
        return next((u for u in self._all(StateTable.USERS) if u.user_id == user_id), None)

    def user_views(self, user_ids: Collection[str]) -> dict[str, tuple[UserRow | None, UserStats]]:
        images, likes = self._all(StateTable.IMAGES), self._all(StateTable.LIKES)
        payments = self._all(StateTable.PAYMENTS)
        views = {}
        for user_id in user_ids:
            owned = [i for i in images if i.owner_id == user_id]
            owned_ids = {i.image_id for i in owned}
            views[user_id] = (
                self._user(user_id),
                UserStats.of(
                    owned,
                    likes_received=sum(1 for like in likes if like.image_id in owned_ids),
                    likes_given=sum(1 for like in likes if like.user_id == user_id),
                    payments=[p for p in payments if p.user_id == user_id],
                    traffic=[r for r in self._all(StateTable.ANALYTICS) if r.user_id == user_id],
                ),
            )
        return views

    def image_views(
        self, image_ids: Collection[str]
    ) -> dict[str, tuple[ImageRow | None, int, UserRow | None]]:
        images = {i.image_id: i for i in self._all(StateTable.IMAGES)}
        likes = self._all(StateTable.LIKES)
        views: dict[str, tuple[ImageRow | None, int, UserRow | None]] = {}
        for image_id in image_ids:
            row = images.get(image_id)
            count = sum(1 for like in likes if like.image_id == image_id)
            views[image_id] = (row, count, self._user(row.owner_id) if row else None)
        return views

    def fingerprints(self, kind: DocumentKind, doc_ids: Collection[str]) -> dict[str, str]:
        return {
            doc_id: fingerprint(self.store.documents[(kind, doc_id)].body)
            for doc_id in doc_ids
            if (kind, doc_id) in self.store.documents
        }

    def save_documents(self, changes: Sequence[DocumentChange]) -> None:
        for change in changes:
            self.store.documents[(change.kind, change.doc_id)] = change

    def advance(self, position: int) -> None:
        self.store.tracking = position

    def unrendered(self) -> tuple[set[str], set[str]]:
        left = self.store.unrendered
        return (
            {doc_id for kind, doc_id in left if kind is DocumentKind.USERS},
            {doc_id for kind, doc_id in left if kind is DocumentKind.IMAGES},
        )

    def mark_unrendered(self, users: Collection[str], images: Collection[str], since: int) -> None:
        self.store.unrendered |= {(DocumentKind.USERS, u) for u in users}
        self.store.unrendered |= {(DocumentKind.IMAGES, i) for i in images}

    def clear_unrendered(self, kinds: Collection[DocumentKind] | None = None) -> None:
        cleared = set(DocumentKind) if kinds is None else set(kinds)
        self.store.unrendered = {(k, d) for k, d in self.store.unrendered if k not in cleared}
