"""What a projection batch writes: feed rows keyed by the kinds' values, state rows that
read back as folded, on both event-store backends."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing

import pytest

from domain.changes import ChangeType, SourceChange, StreamPosition
from domain.intake import ChangeIntake
from domain.kinds import TableKind
from infrastructure.adapters.eventstore.dialects import dialect_for
from infrastructure.adapters.eventstore.projection_store import SqlProjectionStore
from infrastructure.adapters.eventstore.sqlite_factory import projection_file
from infrastructure.adapters.eventstore.store import EventSourcedItemLedger, EventStore
from infrastructure.settings import PostgresStore, SQLiteStore
from projections.documents import DocumentKind
from projections.feeds import owner_aggregate
from projections.projector import DocumentProjector
from projections.state import ImageRow, LikeRow, StateTable, UserRow
from tests.integration.test_event_store import USER

IMAGE = {
    "imageId": "i-1",
    "userId": "u-1",
    "title": "Fox",
    "imageUrl": "https://cdn.example/i-1.jpg",
    "createdAt": "2024-03-02T10:00:00+02:00",
    "status": "active",
    "sizeBytes": 1000,
    "tags": {"fox"},
}
LIKE: dict[str, object] = {"imageId": "i-1", "userId": "u-1", "createdAt": "2024-03-03T10:00:00Z"}


@pytest.fixture
def store(event_store_target: SQLiteStore | PostgresStore) -> Iterator[EventStore]:
    event_store = EventStore(event_store_target)
    yield event_store
    event_store.close()


def change(
    table: TableKind, key: tuple[str, ...], item: dict[str, object], at: int
) -> SourceChange:
    return SourceChange(table, key, ChangeType.MODIFY, item, StreamPosition.of(at), f"r{at}")


def test_a_batchs_feed_and_state_rows(store: EventStore) -> None:
    ChangeIntake(EventSourcedItemLedger(store)).record(
        [
            change(TableKind.USERS, ("u-1",), USER, 1),
            change(TableKind.IMAGES, ("i-1",), IMAGE, 2),
            change(TableKind.LIKES, ("i-1", "u-1"), LIKE, 3),
        ]
    )
    projections = SqlProjectionStore(store)
    DocumentProjector(projections).catch_up()
    dialect = dialect_for(store)
    with dialect.transaction() as cursor:
        cursor.execute("SELECT kind, doc_id, aggregate_id FROM streamfold_document_feeds")
        feeds = {(r["kind"], r["doc_id"], r["aggregate_id"]) for r in cursor.fetchall()}
    assert all(type(kind) is str for kind, _, _ in feeds)
    assert ("images", "i-1", owner_aggregate("u-1")) in feeds
    assert {kind for kind, _, _ in feeds} == {"users", "images"}
    keys = {table: _keys(store, table) for table in ("images", "users", "likes")}
    with projections.session() as session:
        [(image_key, image)] = session.load_rows(StateTable.IMAGES, keys["images"]).items()
        [user] = session.load_rows(StateTable.USERS, keys["users"]).values()
        [like] = session.load_rows(StateTable.LIKES, keys["likes"]).values()
        documents = DocumentProjector.bodies(session, DocumentKind.IMAGES, ["i-1"])
    assert isinstance(image, ImageRow) and isinstance(user, UserRow) and isinstance(like, LikeRow)
    assert (image.image_id, image.owner_id, image.tags, image.size_bytes) == (
        "i-1",
        "u-1",
        ["fox"],
        1000,
    )
    assert image.uploaded_instant == "2024-03-02T08:00:00.000000Z"
    assert (user.user_id, user.tags, user.marketing_opt_in) == ("u-1", ["a", "b"], True)
    assert (like.image_id, like.user_id) == ("i-1", "u-1")
    body = documents["i-1"]
    assert body is not None and body["like_count"] == 1 and body["owner"]["name"] == "Ada"
    assert image_key == keys["images"][0]


@pytest.mark.parametrize("created", ["now", "before"])
def test_sqlite_keeps_the_feeds_without_a_rowid_and_reads_a_table_made_with_one(
    sqlite_store: SQLiteStore, created: str
) -> None:
    if created == "before":  # the table as stores created before kept it
        with closing(sqlite3.connect(projection_file(str(sqlite_store.path)))) as connection:
            connection.execute(
                "CREATE TABLE streamfold_document_feeds (kind TEXT NOT NULL, doc_id TEXT NOT NULL,"
                " aggregate_id TEXT NOT NULL, PRIMARY KEY (kind, doc_id, aggregate_id))"
            )
    store = EventStore(sqlite_store)
    try:
        ChangeIntake(EventSourcedItemLedger(store)).record(
            [
                change(TableKind.USERS, ("u-1",), USER, 1),
                change(TableKind.IMAGES, ("i-1",), IMAGE, 2),
                change(TableKind.LIKES, ("i-1", "u-1"), LIKE, 3),
            ]
        )
        DocumentProjector(SqlProjectionStore(store)).catch_up()
        with dialect_for(store).transaction() as cursor:
            cursor.execute(
                "SELECT sql FROM projection.sqlite_master WHERE name = 'streamfold_document_feeds'"
            )
            ddl = cursor.fetchone()["sql"]
            cursor.execute("SELECT kind, doc_id FROM streamfold_document_feeds")
            feeds = {(r["kind"], r["doc_id"]) for r in cursor.fetchall()}
    finally:
        store.close()
    assert ddl.endswith("WITHOUT ROWID") is (created == "now")
    assert feeds == {("users", "u-1"), ("images", "i-1")}


def _keys(store: EventStore, table: str) -> list[str]:
    dialect = dialect_for(store)
    with dialect.transaction() as cursor:
        cursor.execute(f"SELECT aggregate_id FROM streamfold_{table[:-1]}_state")
        return [r["aggregate_id"] for r in cursor.fetchall()]


# What psycopg's text arrays must quote and escape, and its binary arrays (ADR 0031) carry
# as they are: quotes, backslashes, braces, commas, the word NULL, blanks, line breaks.
AWKWARD = 'Ada "the" \\Countess\\ {of}, NULL\n\t Lovelace — 漢字 😀'


def test_awkward_text_reads_back_as_written(store: EventStore) -> None:
    user = {**USER, "name": AWKWARD, "bio": "NULL", "tags": {'"', "\\", "{}", ",", "NULL"}}
    ChangeIntake(EventSourcedItemLedger(store)).record(
        [
            change(TableKind.USERS, ("u-1",), user, 1),
            change(TableKind.IMAGES, ("i-1",), {**IMAGE, "title": AWKWARD}, 2),
        ]
    )
    projections = SqlProjectionStore(store)
    DocumentProjector(projections).catch_up()
    [user_document] = projections.documents_page(DocumentKind.USERS, "", 10)
    [image_document] = projections.documents_page(DocumentKind.IMAGES, "", 10)
    assert user_document.body is not None and image_document.body is not None
    assert user_document.body["name"] == AWKWARD and user_document.body["bio"] == "NULL"
    assert sorted(user_document.body["tags"]) == sorted({'"', "\\", "{}", ",", "NULL"})
    assert image_document.body["title"] == AWKWARD
    assert image_document.body["owner"]["name"] == AWKWARD
    keys = _keys(store, "users")
    with projections.session() as session:
        [row] = session.load_rows(StateTable.USERS, keys).values()
    assert isinstance(row, UserRow) and row.name == AWKWARD and row.bio == "NULL"
