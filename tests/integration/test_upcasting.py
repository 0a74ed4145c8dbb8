"""Events stored by an earlier schema are upcast on read: a rebuild over old history works.

The fixture ``tests/fixtures/events/schema_v1`` holds the events an earlier release stored
for a demo workload (``Like.Liked`` and ``Like.LikedAgain`` still at version 1, with
``liked_at``), the per-item stream positions it kept, and the Lambda events it ingested.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.persistence import StoredEvent

from domain.changes import ChangeType, SourceChange, StreamPosition
from domain.intake import PositionMove
from domain.kinds import TableKind
from domain.likes import Like
from infrastructure.adapters.eventstore.item_positions import decoded
from infrastructure.composition import Streamfold
from infrastructure.settings import EmbeddedSearch, PostgresStore, Settings, SQLiteStore
from projections.documents import DocumentKind
from tests.e2e.documents import assert_same_documents, searchable_documents

FIXTURE = Path(__file__).parents[1] / "fixtures" / "events" / "schema_v1"


def earlier_store() -> dict[str, Any]:
    fixture: dict[str, Any] = json.loads((FIXTURE / "stored_events.json").read_text())
    return fixture


def lambda_events() -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads((FIXTURE / "lambda_events.json").read_text())
    return events


def open_app(event_store: SQLiteStore | PostgresStore, directory: Path) -> Streamfold:
    return Streamfold.from_settings(
        Settings(event_store, EmbeddedSearch(directory / "index"), {}, "streamfold")
    )


def restore_earlier_history(app: Streamfold) -> None:
    """Put the fixture's stored events and positions back, byte for byte as stored."""
    fixture = earlier_store()
    stored = [
        StoredEvent(
            UUID(e["originator_id"]), e["originator_version"], e["topic"], orjson.dumps(e["state"])
        )
        for e in fixture["events"]
    ]
    moves = [
        PositionMove(key, None, decoded(position)) for key, position in fixture["positions"].items()
    ]
    app.event_store.recorder.insert_events(stored, position_moves=moves)


@pytest.fixture
def earlier(
    event_store_target: SQLiteStore | PostgresStore, tmp_path: Path
) -> Iterator[Streamfold]:
    """An installation whose whole history was stored by the earlier schema."""
    with open_app(event_store_target, tmp_path / "earlier") as app:
        restore_earlier_history(app)
        yield app


@pytest.fixture
def today(tmp_path: Path) -> Iterator[Streamfold]:
    """The same Lambda events, ingested by today's code."""
    with open_app(SQLiteStore(tmp_path / "today.db"), tmp_path / "today") as app:
        for event in lambda_events():
            assert app.ingestion.handle(event).failed == []
        yield app


def stored_likes() -> list[dict[str, Any]]:
    return [e for e in earlier_store()["events"] if e["topic"].startswith("domain.likes:")]


def test_the_fixture_holds_likes_stored_at_version_1() -> None:
    likes = [e for e in stored_likes() if e["topic"].endswith(("Like.Liked", "Like.LikedAgain"))]
    assert {e["topic"] for e in likes} == {
        "domain.likes:Like.Liked",
        "domain.likes:Like.LikedAgain",
    }
    assert all("liked_at" in e["state"] and "class_version" not in e["state"] for e in likes)
    assert Like.Liked.class_version == Like.LikedAgain.class_version == 2


def test_old_events_read_as_the_events_todays_code_records(
    earlier: Streamfold, today: Streamfold
) -> None:
    def read(app: Streamfold) -> list[Any]:
        mapper = app.event_store.event_log.mapper
        notifications = app.event_store.recorder.select_notifications(start=1, limit=10_000)
        return [mapper.to_domain_event(n) for n in notifications]

    def content(event: Any) -> dict[str, Any]:
        return {k: v for k, v in vars(event).items() if k != "timestamp"}

    old, new = read(earlier), read(today)
    assert len(old) == len(new) > 100
    assert [(type(e), content(e)) for e in old] == [(type(e), content(e)) for e in new]
    likes = [e for e in old if isinstance(e, Like.Liked | Like.LikedAgain)]
    assert likes and all(e.created_at and not hasattr(e, "liked_at") for e in likes)


def test_events_read_back_to_fold_are_the_librarys_own_upcast_included(
    earlier: Streamfold,
) -> None:
    store = earlier.event_store
    mapper = store.event_log.mapper
    library = [
        (n.id, mapper.to_domain_event(n))
        for n in store.recorder.select_notifications(start=1, limit=10_000)
    ]
    paged: list[Any] = []
    while page := store.events_after(paged[-1].position if paged else 0, 7):
        paged += page

    assert len(paged) == len(library) > 100
    assert [(p.position, type(p.event), vars(p.event)) for p in paged] == [
        (position, type(event), vars(event)) for position, event in library
    ]
    likes = [p.event for p in paged if isinstance(p.event, Like.Liked | Like.LikedAgain)]
    assert likes and all(e.created_at and not hasattr(e, "liked_at") for e in likes)


def test_a_rebuild_over_the_earlier_schema_gives_todays_documents(
    earlier: Streamfold, today: Streamfold
) -> None:
    report = earlier.rebuild(batch_size=50).run(list(DocumentKind))

    assert report.events == earlier.event_store.head()
    documents = searchable_documents(earlier)
    assert sum(doc["like_count"] for doc in documents["images"].values()) > 50
    assert_same_documents(documents, searchable_documents(today))


def test_todays_intake_changes_aggregates_stored_by_the_earlier_schema(
    earlier: Streamfold, today: Streamfold
) -> None:
    earlier.projector.catch_up()  # the live projection reads the old events, upcast
    earlier.sync.flush()
    assert_same_documents(searchable_documents(earlier), searchable_documents(today))
    # A like recorded at version 1 is withdrawn and given again: the intake loads its
    # aggregate from the old events, which replays Liked with today's fields.
    liked = next(e["state"] for e in stored_likes() if e["topic"].endswith("Like.Liked"))
    key = (liked["image_id"], liked["user_id"])
    item = {"imageId": key[0], "userId": key[1], "createdAt": "2025-02-01T10:00:00Z"}
    far = 10**30
    for app in (earlier, today):
        changes = [
            SourceChange(TableKind.LIKES, key, ChangeType.REMOVE, None,
                         StreamPosition.of(far), "unlike"),
            SourceChange(TableKind.LIKES, key, ChangeType.INSERT, item,
                         StreamPosition.of(far + 1), "like again"),
        ]  # fmt: skip
        assert app.intake.record(changes).events_recorded == 2
        app.projector.catch_up()
        app.sync.flush()
    again: Like = earlier.event_store.event_log.repository.get(Like.create_id(*key))
    assert (again.created_at, again.deleted) == ("2025-02-01T10:00:00Z", False)
    assert_same_documents(searchable_documents(earlier), searchable_documents(today))
