"""The documents the source tables call for, computed from a parallel scan of the tables.

``streamfold verify --source dynamodb`` compares the live index with these. Each scanned
item goes the pipeline's own way to a state row (validated by the domain's item model,
turned into its aggregate's creation event, folded), and the documents are rendered by
the projection's own render functions from counts taken over every row, as the reference
domain defines them. Only the fields the tables determine are compared
(``TABLE_FIELDS``); a field fed by another source (imported web analytics) is not.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from domain.errors import InvalidItem
from domain.items import parse_item
from domain.kinds import TableKind
from domain.mappers import MAPPERS
from infrastructure.bootstrap import scan_segments
from projections.declarations import top_level_fields
from projections.documents import DOCUMENT_MODELS, DocumentKind
from projections.folds import fold_event, state_table_of
from projections.render import render_image_document, render_user_document
from projections.state import (
    ImageRow,
    LikeRow,
    PaymentRow,
    UserRow,
    UserStats,
    sortable_instant,
)

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
    rows: dict[TableKind, list[Any]] = defaultdict(list)
    scanned: dict[str, int] = {}
    unreadable: list[str] = []
    for kind, table in tables.items():
        count = 0
        for page in scan_segments(client, table, segments):
            for raw in page:
                count += 1
                item = {name: deserializer.deserialize(value) for name, value in raw.items()}
                try:
                    rows[kind].append(_row(kind, item))
                except InvalidItem as error:
                    key = tuple(str(item.get(name, "")) for name in kind.key_attributes)
                    unreadable.append(f"{kind.value} {key}: {error}")
        scanned[kind.value] = count
    return TableDocuments(documents_of(rows), scanned, unreadable)


def _row(kind: TableKind, item: Mapping[str, Any]) -> Any:
    # The pipeline's path for an item first seen: its creation event, folded from nothing.
    aggregate = MAPPERS[kind].aggregate_class.from_item(parse_item(kind, item))
    event = aggregate.collect_events()[0]
    table = state_table_of(event)
    assert table is not None  # every table kind folds into a state table
    return fold_event(table, None, event)


def documents_of(rows: Mapping[TableKind, Iterable[Any]]) -> Documents:
    """Every user and image document the rows of the four tables call for."""
    users: dict[str, UserRow] = {r.user_id: r for r in rows.get(TableKind.USERS, ())}
    images: dict[str, ImageRow] = {r.image_id: r for r in rows.get(TableKind.IMAGES, ())}
    likes: list[LikeRow] = list(rows.get(TableKind.LIKES, ()))
    payments: list[PaymentRow] = list(rows.get(TableKind.PAYMENTS, ()))
    like_count = Counter(like.image_id for like in likes)
    likes_given = Counter(like.user_id for like in likes)
    own: defaultdict[str, list[ImageRow]] = defaultdict(list)
    for image in images.values():
        own[image.owner_id].append(image)
    paid: defaultdict[str, list[int]] = defaultdict(list)
    for payment in payments:
        if payment.status == "paid":
            paid[payment.user_id].append(payment.amount_cents)
    user_documents = {}
    for user_id, user in users.items():
        latest = max(own[user_id], key=_upload_order, default=None)
        stats = UserStats(
            image_count=len(own[user_id]),
            likes_received=sum(like_count[image.image_id] for image in own[user_id]),
            likes_given=likes_given[user_id],
            last_upload_at=None if latest is None else latest.created_at,
            lifetime_value_cents=sum(paid[user_id]),
            payment_count=len(paid[user_id]),
        )
        user_documents[user_id] = render_user_document(user, stats) or {}
    image_documents = {
        image_id: render_image_document(image, like_count[image_id], users.get(image.owner_id))
        or {}
        for image_id, image in images.items()
    }
    return {DocumentKind.USERS: user_documents, DocumentKind.IMAGES: image_documents}


def _upload_order(image: ImageRow) -> tuple[str, str]:
    # The latest instant; on a tie, the greatest text (as the projection's query picks it).
    return sortable_instant(image.created_at), image.created_at
