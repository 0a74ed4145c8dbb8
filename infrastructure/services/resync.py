"""Targeted resync: re-derive some documents and rewrite them with fresh versions.

Not every fix needs a rebuild. A resync takes the live projection's lock, folds whatever
is recorded and not folded yet, renders the named documents from the projection's state
(changed or not) and stores them with a version above both the one rendered before and
the one the index holds, yet below any later event: the version of the live position
plus one step (`VERSION_STEP` leaves room for 999 rewrites between two events). Then the
pending documents are written. Documents not named keep their versions.

With DynamoDB as the source, the items are first read again from their tables (a
consistent read) and compared with the event store; what differs is recorded as events,
derived from the aggregate's state like any change. That repairs a stream gap: records
that were never delivered, e.g. because the stream expired before it was read. The read
moves no item's stream position, so every stream record still to come applies on top;
an item the event store never saw is recorded at position 0, below any stream record,
as `bootstrap` does.

>>> resync = Resync(event_store, projection_store, index, pipeline, settings.tables)
>>> resync.documents(DocumentKind.USERS, ["u-1", "u-2"]).rewritten
2
>>> resync.reconcile_table(boto3.client("dynamodb"), TableKind.USERS, [("u-1",)]).differed
['users/u-1']
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from boto3.dynamodb.types import TypeDeserializer

from domain.aggregate import SourceAggregate
from domain.changes import ChangeType, SourceChange, StreamPosition
from domain.errors import ConcurrentChange, InvalidItem, TransientFailure
from domain.intake import PositionMove
from domain.kinds import TableKind
from domain.mappers import MAPPERS
from domain.positions import ItemPosition
from infrastructure.adapters.eventstore.dead_letters import NewDeadLetter
from infrastructure.adapters.eventstore.projection_store import SqlProjectionStore
from infrastructure.adapters.eventstore.store import EventSourcedItemLedger, EventStore
from infrastructure.services.write_pipeline import PipelineReport, WritePipeline
from infrastructure.settings import table_names
from projections.documents import VERSION_STEP, DocumentChange, DocumentKind
from projections.ports import SearchIndex
from projections.projector import DocumentProjector

IMPORT_POSITION = StreamPosition.of(0)
_PAGE = 2000
_ATTEMPTS = 8
Heartbeat = Callable[[], None]


@dataclass
class RewriteReport:
    rewritten: int = 0
    written: int = 0  # accepted by the search backend (with the documents pending anyway)
    stale_writes_rejected: int = 0
    documents_dead_lettered: int = 0  # refused by the search backend for good
    too_often: list[str] = field(default_factory=list)  # 999 rewrites since the last event
    unknown: list[str] = field(default_factory=list)  # ids the event store has never seen


@dataclass
class ReconcileReport:
    items_read: int = 0
    events_recorded: int = 0
    differed: list[str] = field(default_factory=list)  # kind/key of items that differed
    rejected: list[str] = field(default_factory=list)  # breaking the domain's rules: dead letters
    documents_dead_lettered: int = 0  # refused by the search backend for good


class Resync:
    """Rewrites documents from the projection's state, and reads items again from the tables."""

    def __init__(
        self,
        event_store: EventStore,
        projection_store: SqlProjectionStore,
        index: SearchIndex,
        pipeline: WritePipeline,
        tables: Mapping[str, TableKind],
    ) -> None:
        self._event_store = event_store
        self._projection_store = projection_store
        self._index = index
        self._pipeline = pipeline
        self._tables = tables  # table name -> kind, as configured

    # -- rewriting documents --------------------------------------------------------------

    def documents(
        self,
        kind: DocumentKind,
        doc_ids: Iterable[str],
        *,
        check_index: bool = True,
        heartbeat: Heartbeat | None = None,
    ) -> RewriteReport:
        """Rewrite the named documents from the projection's state with fresh versions.

        ``check_index`` also reads each document's indexed version, so that the rewrite
        beats one written by `verify --repair`; an in-place migration of a whole kind skips it.
        """
        report = RewriteReport()
        ids = sorted(set(doc_ids))
        for start in range(0, len(ids), _PAGE):
            self._rewrite_page(kind, ids[start : start + _PAGE], check_index, report)
            if heartbeat:
                heartbeat()
        settled = self._settle()
        report.written = settled.documents_written
        report.stale_writes_rejected = settled.stale_writes_rejected
        report.documents_dead_lettered = settled.dead_lettered
        return report

    def kind(self, kind: DocumentKind, heartbeat: Heartbeat | None = None) -> int:
        """Rewrite every live document of a kind, a page at a time (an in-place migration)."""
        rewritten, after = 0, ""
        while page := self._document_ids(kind, after):
            rewritten += self.documents(kind, page, check_index=False).rewritten
            after = page[-1]
            if heartbeat:
                heartbeat()
        return rewritten

    def _settle(self, attempts: int = 10) -> PipelineReport:
        """Settle the pipeline, again after a transient failure (settling is idempotent).

        On SQLite a live handler committing at the same moment can make a flush fail at
        once instead of waiting ("database is locked"); the next attempt goes through.
        """
        for attempt in range(1, attempts + 1):
            report = PipelineReport()
            try:
                self._pipeline.settle(report)
                return report
            except TransientFailure:
                if attempt == attempts:
                    raise
                time.sleep(0.05 * attempt)
        raise AssertionError("unreachable")

    def _rewrite_page(
        self, kind: DocumentKind, ids: list[str], check_index: bool, report: RewriteReport
    ) -> None:
        indexed = self._indexed_versions(kind, ids) if check_index else {}
        store = self._projection_store
        with store.locked_live() as cursor:
            generation = store.registry.live_number(cursor)
            session = store.session_on(cursor, generation)
            position = DocumentProjector(store).fold_all(session, _PAGE)
            floor = position * VERSION_STEP
            rendered = session.rendered_versions(kind, ids)
            changes = []
            for doc_id, body in DocumentProjector.bodies(session, kind, ids).items():
                if body is None and doc_id not in rendered:
                    # Never existed: nothing to write, not even a tombstone.
                    report.unknown.append(doc_id)
                    continue
                version = max(floor, rendered.get(doc_id, 0), indexed.get(doc_id, 0)) + 1
                if version >= floor + VERSION_STEP:
                    report.too_often.append(f"{kind.value}/{doc_id}")
                    continue
                changes.append(DocumentChange(kind, doc_id, version, body))
            session.save_documents(changes)
        report.rewritten += len(changes)

    def _indexed_versions(self, kind: DocumentKind, ids: Sequence[str]) -> dict[str, int]:
        found = (self._index.get(kind, doc_id) for doc_id in ids)
        return {document.doc_id: document.version for document in found if document is not None}

    # -- which documents ------------------------------------------------------------------

    def _document_ids(self, kind: DocumentKind, after: str) -> list[str]:
        return self._projection_store.live_document_ids(kind, after, _PAGE)

    def images_of_owner(self, owner_id: str) -> list[str]:
        """The images the projection's state says ``owner_id`` owns."""
        return self._projection_store.images_of_owner(owner_id)

    def documents_of_table(self, table: TableKind) -> dict[DocumentKind, set[str]]:
        """The documents whose content comes from a table's items, as the state has them."""
        return self._projection_store.documents_of_table(table)

    # -- reading the tables again ---------------------------------------------------------

    def table_name(self, kind: TableKind) -> str:
        return table_names(self._tables, [kind])[kind]

    def reconcile_items(
        self, kind: TableKind, items: dict[tuple[str, ...], dict[str, Any] | None]
    ) -> ReconcileReport:
        """Record, as events, how the tables' items differ from the event store's aggregates.

        ``items`` maps keys to the item the table holds now (None: the table has none).
        """
        report = ReconcileReport(items_read=sum(1 for item in items.values() if item is not None))
        changes = [
            SourceChange(
                kind,
                key,
                ChangeType.REMOVE if item is None else ChangeType.INSERT,
                item,
                IMPORT_POSITION,
                f"resync:{kind.value}:{'/'.join(key)}",
            )
            for key, item in sorted(items.items())
        ]
        ledger = EventSourcedItemLedger(self._event_store)
        for start in range(0, len(changes), _PAGE):
            refused = _reconcile_batch(ledger, changes[start : start + _PAGE], report)
            self._pipeline.keep([_letter(change, reason) for change, reason in refused])
        report.documents_dead_lettered = self._settle().dead_lettered
        return report

    def reconcile_table(
        self,
        client: Any,
        kind: TableKind,
        keys: Collection[tuple[str, ...]] | None = None,
        owner_id: str | None = None,
    ) -> ReconcileReport:
        """Read items again and record what differs: the named keys, one owner's images, or all.

        For a whole table (or an owner's images) the items the state holds but the table
        no longer does are included, so that a missed delete is recorded too.
        """
        table = self.table_name(kind)
        if keys is not None:
            return self.reconcile_items(kind, read_items(client, table, kind, keys))
        found: dict[tuple[str, ...], dict[str, Any] | None] = dict(
            scan_items(client, table, kind, owner_id)
        )
        known = (
            {(image,) for image in self.images_of_owner(owner_id)}
            if owner_id is not None
            else self._projection_store.state_keys(kind)
        )
        found.update(read_items(client, table, kind, known - set(found)))
        return self.reconcile_items(kind, found)


# -- reading the tables ----------------------------------------------------------------


def read_items(
    client: Any, table: str, kind: TableKind, keys: Iterable[tuple[str, ...]]
) -> dict[tuple[str, ...], dict[str, Any] | None]:
    """Each item by key with a consistent read; None where the table has no such item."""
    deserializer = TypeDeserializer()
    found: dict[tuple[str, ...], dict[str, Any] | None] = {}
    for key in keys:
        response = client.get_item(
            TableName=table,
            Key={name: {"S": value} for name, value in zip(kind.key_attributes, key, strict=True)},
            ConsistentRead=True,
        )
        raw = response.get("Item")
        found[key] = None if raw is None else _deserialized(deserializer, raw)
    return found


def scan_items(
    client: Any, table: str, kind: TableKind, owner_id: str | None = None
) -> dict[tuple[str, ...], dict[str, Any]]:
    """Every item of a table (or the images of one owner), with a consistent read."""
    deserializer = TypeDeserializer()
    arguments: dict[str, Any] = {"TableName": table, "ConsistentRead": True}
    if owner_id is not None:
        arguments["FilterExpression"] = "userId = :owner"
        arguments["ExpressionAttributeValues"] = {":owner": {"S": owner_id}}
    found: dict[tuple[str, ...], dict[str, Any]] = {}
    for raw in _pages(client, arguments):
        item = _deserialized(deserializer, raw)
        found[tuple(str(item.get(a, "")) for a in kind.key_attributes)] = item
    return found


def _pages(client: Any, arguments: dict[str, Any]) -> Iterator[dict[str, Any]]:
    while True:
        page = client.scan(**arguments)
        yield from page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            return
        arguments = {**arguments, "ExclusiveStartKey": page["LastEvaluatedKey"]}


def _deserialized(deserializer: TypeDeserializer, raw: dict[str, Any]) -> dict[str, Any]:
    return {name: deserializer.deserialize(value) for name, value in raw.items()}


def _reconcile_batch(
    ledger: EventSourcedItemLedger, changes: list[SourceChange], report: ReconcileReport
) -> list[tuple[SourceChange, str]]:
    """Record the batch's differences; returns the changes the domain refused, with why."""
    for attempt in range(1, _ATTEMPTS + 1):
        positions = ledger.positions({change.item_key for change in changes})
        aggregates = ledger.load({MAPPERS[c.kind].aggregate_id(c.key) for c in changes})
        touched, differed, rejected = _apply(changes, aggregates)
        # Only an item never seen gets a position: 0, below every stream record.
        moves = [
            PositionMove(change.item_key, None, ItemPosition.at(IMPORT_POSITION))
            for change in changes
            if change.item is not None and change.item_key not in positions
        ]
        events = sum(len(aggregate.pending_events) for aggregate in touched)
        try:
            ledger.record(touched, moves)
        except ConcurrentChange:
            if attempt == _ATTEMPTS:
                raise
            continue
        report.events_recorded += events
        report.differed += differed
        report.rejected += [f"{_name(change)}: {reason}" for change, reason in rejected]
        return rejected
    raise AssertionError("unreachable")


def _apply(
    changes: Sequence[SourceChange], aggregates: dict[UUID, SourceAggregate]
) -> tuple[list[SourceAggregate], list[str], list[tuple[SourceChange, str]]]:
    touched: list[SourceAggregate] = []
    differed: list[str] = []
    rejected: list[tuple[SourceChange, str]] = []
    for change in changes:
        mapper = MAPPERS[change.kind]
        try:
            aggregate = mapper.apply(change, aggregates.get(mapper.aggregate_id(change.key)))
        except InvalidItem as invalid:
            rejected.append((change, invalid.reason))
            continue
        if aggregate is not None and aggregate.pending_events:
            touched.append(aggregate)
            differed.append(_name(change))
    return touched, differed, rejected


def _name(change: SourceChange) -> str:
    return f"{change.kind.value}/{'/'.join(change.key)}"


def _letter(change: SourceChange, reason: str) -> NewDeadLetter:
    # Like bootstrap's letters: the item as the table holds it, named by the item, so a
    # second resync of the same bad item counts an attempt instead of adding a letter.
    return NewDeadLetter(
        source="resync",
        table_name=change.kind.value,
        reason=reason,
        raw={"item": dict(change.item or {})},
        letter_id=f"resync:{change.item_key}",
    )
