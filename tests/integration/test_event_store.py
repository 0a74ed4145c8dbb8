"""One contract for both event-store backends: SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing
from decimal import Decimal

import pytest

from domain.changes import ChangeType, SourceChange, StreamPosition
from domain.errors import ConcurrentChange
from domain.intake import ChangeIntake, PositionMove
from domain.items import parse_item
from domain.kinds import TableKind
from domain.positions import CreationTime, ItemPosition, StreamOrigin, Transport
from domain.users import User
from infrastructure.adapters.eventstore.dead_letters import (
    DeadLetterStore,
    LetterStatus,
    NewDeadLetter,
)
from infrastructure.adapters.eventstore.projection_store import SqlProjectionStore
from infrastructure.adapters.eventstore.store import EventSourcedItemLedger, EventStore
from infrastructure.settings import PostgresStore, SQLiteStore
from projections.documents import DocumentKind
from projections.projector import DocumentProjector

USER = {
    "userId": "u-1",
    "email": "ada@example.com",
    "name": "Ada",
    "plan": "free",
    "country": "GB",
    "createdAt": "2024-01-02T03:04:05Z",
    "marketingOptIn": True,
    "tags": {"b", "a"},
}


def at(order: int) -> ItemPosition:
    return ItemPosition.at(StreamPosition.of(order))


def user_change(position: int, **attributes: object) -> SourceChange:
    return SourceChange(
        TableKind.USERS,
        ("u-1",),
        ChangeType.MODIFY,
        {**USER, **attributes},
        StreamPosition.of(position),
        f"r{position}",
    )


@pytest.fixture
def store(event_store_target: SQLiteStore | PostgresStore) -> Iterator[EventStore]:
    event_store = EventStore(event_store_target)
    yield event_store
    event_store.close()


def test_recorded_events_rebuild_the_same_aggregate(store: EventStore) -> None:
    ledger = EventSourcedItemLedger(store)
    ChangeIntake(ledger).record([user_change(1), user_change(2, plan="pro")])
    [user] = ledger.load([User.create_id("u-1")]).values()
    assert isinstance(user, User)
    assert (user.version, user.plan, user.tags) == (2, "pro", ["a", "b"])
    assert store.head() == 2


def test_positions_are_kept_per_item_across_connections(
    store: EventStore, event_store_target: SQLiteStore | PostgresStore
) -> None:
    ChangeIntake(EventSourcedItemLedger(store)).record([user_change(7)])
    reopened = EventStore(event_store_target)
    try:
        positions = EventSourcedItemLedger(reopened).positions(["users\x1fu-1", "users\x1fu-2"])
    finally:
        reopened.close()
    assert positions == {"users\x1fu-1": ItemPosition.at(StreamPosition.of(7))}


def test_a_position_moved_by_someone_else_refuses_the_whole_write(store: EventStore) -> None:
    ledger = EventSourcedItemLedger(store)
    ChangeIntake(ledger).record([user_change(1)])
    [user] = ledger.load([User.create_id("u-1")]).values()
    user.change_plan("team")
    stale = PositionMove("users\x1fu-1", at(0), at(5))
    with pytest.raises(ConcurrentChange):
        ledger.record([user], [stale])
    assert store.head() == 1  # the event was not stored either


def test_an_aggregate_recorded_without_a_position_is_decided_from_its_events(
    store: EventStore,
) -> None:
    # No writer leaves an aggregate without its item's position; were one found, the
    # first attempt's creation conflicts with its first event and the next one loads it.
    ledger = EventSourcedItemLedger(store)
    ledger.record([User.from_item(parse_item(TableKind.USERS, USER))], [])
    report = ChangeIntake(ledger).record([user_change(3, plan="pro")])
    assert report.attempts == 2 and report.events_recorded == 1
    [user] = ledger.load([User.create_id("u-1")]).values()
    assert (user.version, user.plan) == (2, "pro")
    assert ledger.positions(["users\x1fu-1"]) == {"users\x1fu-1": at(3)}


def test_two_writers_of_the_same_aggregate_version_conflict(store: EventStore) -> None:
    ledger = EventSourcedItemLedger(store)
    ChangeIntake(ledger).record([user_change(1)])
    first = ledger.load([User.create_id("u-1")])[User.create_id("u-1")]
    second = ledger.load([User.create_id("u-1")])[User.create_id("u-1")]
    first.change_plan("pro")
    second.change_plan("team")
    ledger.record([first], [])
    with pytest.raises(ConcurrentChange):
        ledger.record([second], [])


def test_projection_state_documents_and_tracking_commit_together(store: EventStore) -> None:
    ChangeIntake(EventSourcedItemLedger(store)).record([user_change(1)])
    projections = SqlProjectionStore(store)
    report = DocumentProjector(projections).catch_up()
    assert report.position == store.head() == 1
    [pending] = projections.pending_documents(10)
    assert (pending.kind, pending.doc_id, pending.version) == (DocumentKind.USERS, "u-1", 1000)
    assert pending.body is not None and pending.body["tags"] == ["a", "b"]
    projections.mark_synced([pending])
    assert projections.pending_documents(10) == []


def test_a_failed_projection_batch_leaves_no_trace(store: EventStore) -> None:
    ChangeIntake(EventSourcedItemLedger(store)).record([user_change(1)])
    projections = SqlProjectionStore(store)
    with pytest.raises(RuntimeError), projections.session() as session:
        DocumentProjector(projections).project(session, session.events_after(0, 10))
        session.advance(1)
        raise RuntimeError("crash before commit")
    with projections.session() as session:
        assert session.position() == 0
    assert projections.pending_documents(10) == []


def test_a_dead_letter_seen_twice_is_counted_not_copied(store: EventStore) -> None:
    letters = DeadLetterStore(store)
    letter = NewDeadLetter("dynamodb-streams", "users", "plan is missing", {"eventID": "e1"}, "e1")
    letters.put([letter])
    letters.put([letter])
    [stored] = letters.list()
    assert (stored.letter_id, stored.attempts, stored.raw) == ("e1", 2, {"eventID": "e1"})
    letters.mark(["e1"], LetterStatus.DISCARDED)
    assert letters.count() == 0
    assert letters.list(status=None, table_name="users")[0].status is LetterStatus.DISCARDED


def test_numbers_arrive_as_decimals_and_are_stored_as_integers(store: EventStore) -> None:
    image = {
        "imageId": "i-1",
        "userId": "u-1",
        "title": "t",
        "imageUrl": "u",
        "createdAt": "2024-01-01T00:00:00Z",
        "status": "active",
        "sizeBytes": Decimal("12345678901"),
    }
    change = SourceChange(
        TableKind.IMAGES, ("i-1",), ChangeType.INSERT, image, StreamPosition.of(1), "r"
    )
    ChangeIntake(EventSourcedItemLedger(store)).record([change])
    projections = SqlProjectionStore(store)
    DocumentProjector(projections).catch_up()
    [doc] = projections.pending_documents(10)
    assert doc.body is not None and doc.body["size_bytes"] == 12345678901


def test_a_second_first_writer_of_an_item_is_refused(store: EventStore) -> None:
    ledger = EventSourcedItemLedger(store)
    ledger.record([], [PositionMove("likes\x1fi-1\x1fu-1", None, at(9))])
    late_first = PositionMove("likes\x1fi-1\x1fu-1", None, at(3))
    with pytest.raises(ConcurrentChange):
        ledger.record([], [late_first])
    assert ledger.positions(["likes\x1fi-1\x1fu-1"]) == {"likes\x1fi-1\x1fu-1": at(9)}


def test_a_position_kept_in_the_earlier_json_text_moves_on(store: EventStore) -> None:
    """A row written before the compact form holds the JSON text of its position: it reads
    as the same position, the next change moves it, and it is then kept compact."""
    origin = StreamOrigin(Transport.DYNAMODB_STREAMS, "users", "2024-01-01T00:00:00.000")
    first = StreamPosition(100, origin, "r100", CreationTime(17_000_000, 1_000_000))
    second = StreamPosition(200, origin, "r200", CreationTime(18_000_000, 1_000_000))
    key = "users\x1fu-1"
    earlier_text = (
        '[{"created":17000000,"order":"100","record":"r100",'
        '"stream":"2024-01-01T00:00:00.000","table":"users","transport":"dynamodb-streams",'
        '"width":1000000}]'
    )
    _write_position_text(store, key, earlier_text)
    ledger = EventSourcedItemLedger(store)
    assert ledger.positions([key]) == {key: ItemPosition.at(first)}

    ledger.record([], [PositionMove(key, ItemPosition.at(first), ItemPosition.at(second))])

    assert ledger.positions([key]) == {key: ItemPosition.at(second)}
    assert _position_text(store, key) == "d18000000 1000000 200 users 2024-01-01T00:00:00.000 r200"
    # Moved once: a writer that read the earlier position is refused.
    with pytest.raises(ConcurrentChange):
        ledger.record([], [PositionMove(key, ItemPosition.at(first), ItemPosition.at(second))])


def _write_position_text(store: EventStore, key: str, text: str) -> None:
    mark = "%s" if store.is_postgres else "?"
    with store.recorder.datastore.transaction(commit=True) as cursor:
        cursor.execute(
            f"INSERT INTO streamfold_item_positions (item_key, position) VALUES ({mark}, {mark})",
            (key, text),
        )


def _position_text(store: EventStore, key: str) -> str:
    mark = "%s" if store.is_postgres else "?"
    with store.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute(
            f"SELECT position FROM streamfold_item_positions WHERE item_key = {mark}", (key,)
        )
        row = cursor.fetchone()
    assert row is not None
    text: str = row["position"]
    return text


def _rows(target: SQLiteStore, table: str) -> dict[int, str]:
    """The events table's rows: rowid -> aggregate id (hex)."""
    with closing(sqlite3.connect(target.path)) as connection:
        found = connection.execute(f"SELECT rowid, originator_id FROM {table}").fetchall()
    return dict(found)


@pytest.mark.parametrize("largest", [0, 41, 2**63 - 3], ids=["empty", "after-41", "near-max"])
def test_sqlite_recorded_events_are_held_under_the_rows_ids(
    sqlite_store: SQLiteStore, largest: int
) -> None:
    store = EventStore(sqlite_store)
    table = store.recorder.events_table_name
    try:
        if largest:
            # A row already at ``largest``; near the largest rowid SQLite picks at random.
            with store.recorder.datastore.transaction(commit=True) as cursor:
                cursor.execute(
                    f"INSERT INTO {table} (rowid, originator_id, originator_version, topic, "
                    "state) VALUES (?, 'x', 1, 't', x'')",
                    (largest,),
                )
        changes = [
            SourceChange(
                TableKind.USERS, (f"u-{n}",), ChangeType.INSERT, {**USER, "userId": f"u-{n}"},
                StreamPosition.of(1), f"r{n}",
            )
            for n in range(5)
        ]  # fmt: skip
        ChangeIntake(EventSourcedItemLedger(store)).record(changes)
        held = store.recent.peek(0, 10)
    finally:
        store.close()
    if largest < 2**62:  # one after another, after the largest
        assert [e.position for e in held] == list(range(largest + 1, largest + 6))
    rows = _rows(sqlite_store, table)
    rows.pop(largest, None)
    # Each event under its own row's id: the row's aggregate is the event's.
    assert {e.position: e.event.originator_id.hex for e in held} == rows


def test_positions_of_keys_in_any_text_are_found(sqlite_store: SQLiteStore) -> None:
    store = EventStore(sqlite_store)
    try:
        ledger = EventSourcedItemLedger(store)
        keys = ["users\x1fé", 'users\x1f"quoted"\\', "users\x1f\U0001f600", "users\x1f\udc80"]
        moves = [PositionMove(key, None, at(n)) for n, key in enumerate(keys[:3], 1)]
        ledger.record([], moves)
        assert ledger.positions(keys) == {key: at(n) for n, key in enumerate(keys[:3], 1)}
    finally:
        store.close()
