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

>>> resync_documents(app, DocumentKind.USERS, ["u-1", "u-2"]).rewritten
2
>>> reconcile_items(app, boto3.client("dynamodb"), TableKind.USERS, [("u-1",)]).differed
['users/u-1']
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from boto3.dynamodb.types import TypeDeserializer

from domain.aggregate import SourceAggregate
from domain.changes import ChangeType, SourceChange, StreamPosition
from domain.errors import ConcurrentChange, InvalidItem
from domain.intake import PositionMove
from domain.kinds import TableKind
from domain.mappers import MAPPERS
from domain.positions import ItemPosition
from infrastructure.composition import Streamfold
from infrastructure.eventstore.dialects import Cursor, Dialect, dialect_for
from infrastructure.eventstore.generations import for_generation
from infrastructure.eventstore.store import EventSourcedItemLedger
from projections.documents import VERSION_STEP, DocumentChange, DocumentKind
from projections.ports import ProjectionSession, TransientFailure
from projections.projector import DocumentProjector
from projections.sync import SyncReport

IMPORT_POSITION = StreamPosition.of(0)
_PAGE = 2000
_ATTEMPTS = 8
Heartbeat = Callable[[], None]


@dataclass
class RewriteReport:
    rewritten: int = 0
    written: int = 0  # accepted by the search backend (with the documents pending anyway)
    stale: int = 0
    too_often: list[str] = field(default_factory=list)  # 999 rewrites since the last event
    unknown: list[str] = field(default_factory=list)  # ids the event store has never seen


@dataclass
class ReconcileReport:
    items_read: int = 0
    events_recorded: int = 0
    differed: list[str] = field(default_factory=list)  # kind/key of items that differed
    rejected: list[str] = field(default_factory=list)  # items breaking the domain's rules


# -- rewriting documents ------------------------------------------------------------------


def resync_documents(
    app: Streamfold,
    kind: DocumentKind,
    doc_ids: Iterable[str],
    *,
    check_index: bool = True,
    heartbeat: Heartbeat | None = None,
) -> RewriteReport:
    """Rewrite the named documents from the projection's state with fresh versions.

    ``check_index`` also reads each document's indexed version, so that the rewrite beats
    one written by `verify --repair`; an in-place migration of a whole kind skips it.
    """
    report = RewriteReport()
    ids = sorted(set(doc_ids))
    for start in range(0, len(ids), _PAGE):
        _rewrite_page(app, kind, ids[start : start + _PAGE], check_index, report)
        if heartbeat:
            heartbeat()
    outcome = flush(app)
    report.written, report.stale = outcome.written, outcome.stale
    return report


def flush(app: Streamfold, attempts: int = 10) -> SyncReport:
    """Write the pending documents, again after a transient failure (flushing is idempotent).

    On SQLite a live handler committing at the same moment can make a flush fail at once
    instead of waiting ("database is locked"); the next attempt goes through.
    """
    for attempt in range(1, attempts + 1):
        try:
            return app.sync.flush()
        except TransientFailure:
            if attempt == attempts:
                raise
            time.sleep(0.05 * attempt)
    raise AssertionError("unreachable")


def resync_kind(app: Streamfold, kind: DocumentKind, heartbeat: Heartbeat | None = None) -> int:
    """Rewrite every live document of a kind, a page at a time (an in-place migration)."""
    rewritten, after = 0, ""
    while page := _document_ids(app, kind, after):
        rewritten += resync_documents(app, kind, page, check_index=False).rewritten
        after = page[-1]
        if heartbeat:
            heartbeat()
    return rewritten


def _rewrite_page(
    app: Streamfold, kind: DocumentKind, ids: list[str], check_index: bool, report: RewriteReport
) -> None:
    indexed = _indexed_versions(app, kind, ids) if check_index else {}
    store = app.projection_store
    with store.locked_live() as cursor:
        generation = store.registry.live_number(cursor)
        session = store.session_on(cursor, generation)
        position = catch_up(DocumentProjector(store), session)
        floor = position * VERSION_STEP
        rendered = _rendered_versions(dialect_for(app.event_store), cursor, generation, kind, ids)
        changes = []
        for doc_id, body in DocumentProjector.bodies(session, kind, ids).items():
            if body is None and doc_id not in rendered:
                report.unknown.append(
                    doc_id
                )  # never existed: nothing to write, not even a tombstone
                continue
            version = max(floor, rendered.get(doc_id, 0), indexed.get(doc_id, 0)) + 1
            if version >= floor + VERSION_STEP:
                report.too_often.append(f"{kind.value}/{doc_id}")
                continue
            changes.append(DocumentChange(kind, doc_id, version, body))
        session.save_documents(changes)
    report.rewritten += len(changes)


def catch_up(
    projector: DocumentProjector, session: ProjectionSession, batch_size: int = 2000
) -> int:
    """Fold every recorded event into the session's generation; returns its position."""
    position = session.position()
    while events := session.events_after(position, batch_size):
        projector.project(session, events)
        position = events[-1].position
        session.advance(position)
    return position


def _indexed_versions(app: Streamfold, kind: DocumentKind, ids: Sequence[str]) -> dict[str, int]:
    found = (app.index.get(kind, doc_id) for doc_id in ids)
    return {document.doc_id: document.version for document in found if document is not None}


def _rendered_versions(
    dialect: Dialect, cursor: Cursor, generation: int, kind: DocumentKind, ids: Sequence[str]
) -> dict[str, int]:
    cursor.execute(
        dialect.sql(
            for_generation(
                "SELECT doc_id, version FROM streamfold_documents WHERE kind = ? AND doc_id {any}",
                generation,
            )
        ),
        (kind.value, dialect.values(ids)),
    )
    return {row["doc_id"]: int(row["version"]) for row in cursor.fetchall()}


# -- which documents ----------------------------------------------------------------------


def _live_query(app: Streamfold, statement: str, params: Sequence[Any] = ()) -> list[Any]:
    dialect = dialect_for(app.event_store)
    with dialect.transaction() as cursor:
        generation = app.projection_store.registry.live_number(cursor)
        cursor.execute(dialect.sql(for_generation(statement, generation)), params)
        return list(cursor.fetchall())


def _document_ids(app: Streamfold, kind: DocumentKind, after: str) -> list[str]:
    rows = _live_query(
        app,
        "SELECT doc_id FROM streamfold_documents WHERE kind = ? AND doc_id > ?"
        " AND body IS NOT NULL ORDER BY doc_id LIMIT ?",
        (kind.value, after, _PAGE),
    )
    return [row["doc_id"] for row in rows]


def images_of_owner(app: Streamfold, owner_id: str) -> list[str]:
    """The images the projection's state says ``owner_id`` owns."""
    rows = _live_query(
        app, "SELECT image_id FROM streamfold_image_state WHERE owner_id = ?", (owner_id,)
    )
    return sorted(row["image_id"] for row in rows)


def documents_of_table(app: Streamfold, table: TableKind) -> dict[DocumentKind, set[str]]:
    """The documents whose content comes from a table's items, as the state has them."""
    users: set[str] = set()
    images: set[str] = set()
    if table is TableKind.USERS:
        users = _column(app, "user_id", "streamfold_user_state")
        images = _column(app, "image_id", "streamfold_image_state")  # the owner blocks
    elif table is TableKind.IMAGES:
        images = _column(app, "image_id", "streamfold_image_state")
        users = _column(app, "owner_id", "streamfold_image_state")
    elif table is TableKind.LIKES:
        rows = _live_query(
            app,
            "SELECT l.image_id, l.user_id, i.owner_id FROM streamfold_like_state l"
            " LEFT JOIN streamfold_image_state i ON i.image_id = l.image_id",
        )
        images = {r["image_id"] for r in rows}
        users = {r["user_id"] for r in rows} | {r["owner_id"] for r in rows if r["owner_id"]}
    else:
        users = _column(app, "user_id", "streamfold_payment_state")
    return {DocumentKind.USERS: users, DocumentKind.IMAGES: images}


def _column(app: Streamfold, column: str, table: str) -> set[str]:
    return {row[column] for row in _live_query(app, f"SELECT DISTINCT {column} FROM {table}")}


def _state_keys(app: Streamfold, table: TableKind) -> set[tuple[str, ...]]:
    """The keys of the items of a table the projection's state holds."""
    columns = {
        TableKind.USERS: ("streamfold_user_state", ("user_id",)),
        TableKind.IMAGES: ("streamfold_image_state", ("image_id",)),
        TableKind.LIKES: ("streamfold_like_state", ("image_id", "user_id")),
        TableKind.PAYMENTS: ("streamfold_payment_state", ("user_id", "payment_id")),
    }
    name, keys = columns[table]
    rows = _live_query(app, f"SELECT {', '.join(keys)} FROM {name}")
    return {tuple(row[key] for key in keys) for row in rows}


# -- reading the tables again -------------------------------------------------------------


def table_name(app: Streamfold, kind: TableKind) -> str:
    names = {table_kind: table for table, table_kind in app.settings.tables.items()}
    return names.get(kind, kind.value)


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


def reconcile_items(
    app: Streamfold,
    kind: TableKind,
    items: dict[tuple[str, ...], dict[str, Any] | None],
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
    ledger = EventSourcedItemLedger(app.event_store)
    for start in range(0, len(changes), _PAGE):
        _reconcile_batch(ledger, changes[start : start + _PAGE], report)
    app.projector.catch_up()
    flush(app)
    return report


def _reconcile_batch(
    ledger: EventSourcedItemLedger, changes: list[SourceChange], report: ReconcileReport
) -> None:
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
        report.rejected += rejected
        return


def _apply(
    changes: Sequence[SourceChange], aggregates: dict[UUID, SourceAggregate]
) -> tuple[list[SourceAggregate], list[str], list[str]]:
    touched: list[SourceAggregate] = []
    differed: list[str] = []
    rejected: list[str] = []
    for change in changes:
        mapper = MAPPERS[change.kind]
        name = f"{change.kind.value}/{'/'.join(change.key)}"
        try:
            aggregate = mapper.apply(change, aggregates.get(mapper.aggregate_id(change.key)))
        except InvalidItem as invalid:
            rejected.append(f"{name}: {invalid.reason}")
            continue
        if aggregate is not None and aggregate.pending_events:
            touched.append(aggregate)
            differed.append(name)
    return touched, differed, rejected


def reconcile_table(
    app: Streamfold,
    client: Any,
    kind: TableKind,
    keys: Collection[tuple[str, ...]] | None = None,
    owner_id: str | None = None,
) -> ReconcileReport:
    """Read items again and record what differs: the named keys, one owner's images, or all.

    For a whole table (or an owner's images) the items the state holds but the table no
    longer does are included, so that a missed delete is recorded too.
    """
    table = table_name(app, kind)
    if keys is not None:
        return reconcile_items(app, kind, read_items(client, table, kind, keys))
    found: dict[tuple[str, ...], dict[str, Any] | None] = dict(
        scan_items(client, table, kind, owner_id)
    )
    known = (
        {(image,) for image in images_of_owner(app, owner_id)}
        if owner_id is not None
        else _state_keys(app, kind)
    )
    found.update(read_items(client, table, kind, known - set(found)))
    return reconcile_items(app, kind, found)
