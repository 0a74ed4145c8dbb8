"""The documents the source tables call for, computed from a parallel scan of the tables.

``streamfold verify --source dynamodb`` compares the live index with these. Each scanned
item goes the pipeline's own way to a state row (validated by the domain's item model,
turned into its aggregate's creation event, folded), the rows go into a scratch
projection store, and the documents are rendered from that store's own views: the counts
of a user document have one implementation, the projection's. Only the fields the tables
determine are compared (``TABLE_FIELDS``); a field fed by another source (imported web
analytics) is not.
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from domain.errors import InvalidItem
from domain.items import parse_item
from domain.kinds import TableKind
from domain.mappers import MAPPERS
from infrastructure.adapters.eventstore.projection_store import SqlProjectionStore
from infrastructure.adapters.eventstore.store import EventStore
from infrastructure.services.bootstrap import scan_segments
from infrastructure.settings import SQLiteStore
from projections.declarations import top_level_fields
from projections.documents import DOCUMENT_MODELS, DocumentKind
from projections.folds import fold_event, state_table_of
from projections.ports import ProjectionSession
from projections.render import render_image_document, render_user_document
from projections.state import ImageRow, Row, StateTable, UserRow

_PAGE = 1_000  # ids per query of the scratch store

TABLE_FIELDS: dict[DocumentKind, tuple[str, ...]] = {
    kind: tuple(f.name for f in top_level_fields(model) if f.indexed.from_tables)
    for kind, model in DOCUMENT_MODELS.items()
}

Documents = dict[DocumentKind, dict[str, dict[str, Any]]]


@dataclass
class TableDocuments:
    documents: Documents
    items: dict[str, int] = field(default_factory=dict)  # items scanned per table kind
    unreadable: list[str] = field(default_factory=list)  # "kind key: reason" of rejected items


def table_fields(kind: DocumentKind, body: Mapping[str, Any]) -> dict[str, Any]:
    """The part of a document that the source tables determine."""
    return {name: body.get(name) for name in TABLE_FIELDS[kind]}


def scan_documents(
    client: Any, tables: Mapping[TableKind, str], segments: int = 4
) -> TableDocuments:
    """Scan each table with ``segments`` parallel segments and compute every document.

    >>> found = scan_documents(boto3.client("dynamodb"), {TableKind.USERS: "prod-users"})
    >>> found.items, len(found.documents[DocumentKind.USERS])
    ({'users': 1200}, 1200)
    """
    deserializer = TypeDeserializer()
    rows: dict[TableKind, dict[str, Row]] = defaultdict(dict)
    scanned: dict[str, int] = {}
    unreadable: list[str] = []
    for kind, table in tables.items():
        count = 0
        for page in scan_segments(client, table, segments):
            for raw in page:
                count += 1
                item = {name: deserializer.deserialize(value) for name, value in raw.items()}
                try:
                    rows[kind].update([_row(kind, item)])
                except InvalidItem as error:
                    key = tuple(str(item.get(name, "")) for name in kind.key_attributes)
                    unreadable.append(f"{kind.value} {key}: {error}")
        scanned[kind.value] = count
    return TableDocuments(documents_of(rows), scanned, unreadable)


def _row(kind: TableKind, item: Mapping[str, Any]) -> tuple[str, Row]:
    # The pipeline's path for an item first seen: its creation event, folded from nothing.
    aggregate = MAPPERS[kind].aggregate_class.from_item(parse_item(kind, item))
    event = aggregate.collect_events()[0]
    table = state_table_of(event)
    assert table is not None  # every table kind folds into a state table
    return str(aggregate.id), fold_event(table, None, event)


def documents_of(rows: Mapping[TableKind, Mapping[str, Row]]) -> Documents:
    """Every user and image document the rows of the four tables call for.

    The rows go into a scratch projection store and the documents come out of its own
    views, so what a user document counts (images, likes, payments) is computed by the one
    implementation the projection uses (`SqlProjectionSession.user_views`).
    """
    with tempfile.TemporaryDirectory(prefix="streamfold-tables-") as directory:
        store = EventStore(SQLiteStore(Path(directory) / "tables.db"))
        try:
            with SqlProjectionStore(store).session() as session:
                for kind, table_rows in rows.items():
                    session.save_rows(StateTable(kind.value), dict(table_rows))
                return _rendered(session, rows)
        finally:
            store.close()


def _rendered(session: ProjectionSession, rows: Mapping[TableKind, Mapping[str, Row]]) -> Documents:
    users = [r.user_id for r in rows.get(TableKind.USERS, {}).values() if isinstance(r, UserRow)]
    images = [
        r.image_id for r in rows.get(TableKind.IMAGES, {}).values() if isinstance(r, ImageRow)
    ]
    documents: Documents = {DocumentKind.USERS: {}, DocumentKind.IMAGES: {}}
    for page in _pages(users):
        for user_id, (user, stats) in session.user_views(page).items():
            documents[DocumentKind.USERS][user_id] = render_user_document(user, stats) or {}
    for page in _pages(images):
        for image_id, view in session.image_views(page).items():
            documents[DocumentKind.IMAGES][image_id] = render_image_document(*view) or {}
    return documents


def _pages(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), _PAGE):
        yield ids[start : start + _PAGE]
