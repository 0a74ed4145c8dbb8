"""Replays from checkpoints read only what a page needs and answer as a full replay does."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from devtools.demo import lambda_events
from devtools.demo.tables import SimulatedTables
from infrastructure.adapters.eventstore.document_feeds import SqlDocumentFeeds
from infrastructure.composition import Streamfold
from infrastructure.settings import EmbeddedSearch, PostgresStore, Settings, SQLiteStore
from projections.documents import DocumentKind
from projections.history.memory import ReplayState
from projections.history.replay import recorded_at
from projections.history.service import DocumentHistory
from projections.ports import PositionedEvent

USERS = DocumentKind.USERS
HOT = "u-hot"
EVERY = 40
LIMIT = 10


class CountingFeeds(SqlDocumentFeeds):
    """Counts the events decoded, the one cost that grows with a document's past."""

    decoded = 0
    restored = 0

    def events_at(self, positions: Sequence[int]) -> list[PositionedEvent]:
        events = super().events_at(positions)
        self.decoded += len(events)
        return events

    def checkpoint_state(self, kind: DocumentKind, doc_id: str, events: int) -> ReplayState:
        self.restored += 1
        return super().checkpoint_state(kind, doc_id, events)


@pytest.fixture
def app(tmp_path: Path, event_store_target: SQLiteStore | PostgresStore) -> Iterator[Streamfold]:
    settings = Settings(event_store_target, EmbeddedSearch(tmp_path / "index"), {}, "t")
    with Streamfold.from_settings(settings) as streamfold:
        yield streamfold


def _deliver(app: Streamfold, tables: SimulatedTables) -> None:
    for event in lambda_events(tables.take_records(), 50):
        assert not app.ingestion.handle(json.loads(json.dumps(event))).failed


def _user(tables: SimulatedTables, user_id: str, name: str) -> None:
    tables.put("users", {"userId": user_id, "email": f"{user_id}@x.example", "name": name,
                         "plan": "pro", "country": "GB", "createdAt": "2024-01-01T00:00:00Z",
                         "marketingOptIn": True})  # fmt: skip


def _image(tables: SimulatedTables, image_id: str, owner: str) -> None:
    tables.put("images", {"imageId": image_id, "userId": owner, "title": image_id,
                          "imageUrl": f"https://cdn.example/{image_id}.jpg",
                          "createdAt": "2024-02-01T00:00:00Z", "status": "active",
                          "sizeBytes": 10})  # fmt: skip


def _like(tables: SimulatedTables, image_id: str, user_id: str) -> None:
    tables.put("likes", {"imageId": image_id, "userId": user_id,
                         "createdAt": "2024-03-01T00:00:00Z"})  # fmt: skip


def _everything(history: DocumentHistory) -> list[dict[str, object]]:
    entries: list[dict[str, object]] = []
    before = None
    while True:
        page = history.changes(USERS, HOT, limit=LIMIT, before=before).as_json()
        entries += page["entries"]
        if (before := page["next_cursor"]) is None:
            return entries


def test_pages_and_as_of_decode_a_segment_and_agree_with_a_full_replay(app: Streamfold) -> None:
    tables = SimulatedTables(region="eu-west-1", seed=1)
    _user(tables, HOT, "Hot")
    _user(tables, "u-other", "Other")
    for n in range(4):
        _image(tables, f"i-{n}", HOT)
    _image(tables, "i-away", "u-other")
    for n in range(150):
        _like(tables, f"i-{n % 4}", f"u-fan-{n}")
        _like(tables, "i-away", f"u-fan-{n}")  # on another user's image, for now
    _deliver(app, tables)
    feeds = CountingFeeds(app.event_store)
    history = DocumentHistory(feeds, checkpoint_every=EVERY)
    full = DocumentHistory(SqlDocumentFeeds(app.event_store), checkpoint_every=10**9)
    positions = feeds.feeding_positions(USERS, HOT)
    assert len(positions) == 1 + 4 + 150

    first = history.changes(USERS, HOT, limit=LIMIT)  # builds the checkpoints
    assert [c.events for c in feeds.checkpoints(USERS, HOT)] == [40, 80, 120]
    feeds.decoded = 0
    assert history.changes(USERS, HOT, limit=LIMIT) == first
    assert feeds.decoded <= EVERY + LIMIT + 1  # one segment, not the 155 events
    feeds.decoded = 0
    older = history.changes(USERS, HOT, limit=LIMIT, before=first.next_cursor)
    assert feeds.decoded <= EVERY + LIMIT + 1
    assert older == full.changes(USERS, HOT, limit=LIMIT, before=first.next_cursor)
    moments = [recorded_at(e) for e in feeds.events_at(positions[::7])]
    for moment in moments:
        feeds.decoded = 0
        assert history.as_of(USERS, HOT, moment) == full.as_of(USERS, HOT, moment)
        assert feeds.decoded <= 2 * EVERY  # a segment after the base, and the tail
    assert _everything(history) == _everything(full)

    # The image moves to the hot user: its likes, recorded long before, join its feeds.
    _image(tables, "i-away", HOT)
    _like(tables, "i-0", "u-late")
    _deliver(app, tables)
    before_move = feeds.checkpoints(USERS, HOT)
    assert history.changes(USERS, HOT, limit=LIMIT) == full.changes(USERS, HOT, limit=LIMIT)
    rebuilt = feeds.checkpoints(USERS, HOT)
    assert rebuilt[0].events == EVERY and rebuilt[0] != before_move[0]  # dropped and rebuilt
    grown = feeds.feeding_positions(USERS, HOT)
    assert len(grown) == 1 + 4 + 150 + 2 + 150 + 1  # the moved image, its likes, u-late's
    assert rebuilt[-1].events == len(grown) // EVERY * EVERY
    for moment in [*moments, datetime.now(UTC)]:
        assert history.as_of(USERS, HOT, moment) == full.as_of(USERS, HOT, moment)
    for field in ("likes_received", "image_count"):
        assert history.explain(USERS, HOT, field) == full.explain(USERS, HOT, field)
    assert _everything(history) == _everything(full)


def test_a_checkpoint_read_again_is_restored_from_memory(app: Streamfold) -> None:
    tables = SimulatedTables(region="eu-west-1", seed=2)
    _user(tables, HOT, "Hot")
    _image(tables, "i-0", HOT)
    for n in range(100):
        _like(tables, "i-0", f"u-fan-{n}")
    _deliver(app, tables)
    feeds = CountingFeeds(app.event_store)
    kept = DocumentHistory(feeds, checkpoint_every=EVERY)
    first = kept.changes(USERS, HOT, limit=LIMIT)
    feeds.restored = 0
    for _ in range(3):
        assert kept.changes(USERS, HOT, limit=LIMIT) == first
    assert feeds.restored == 0  # restored by the first read, kept since

    none_kept = DocumentHistory(feeds, checkpoint_every=EVERY, keep_restored=0)
    for _ in range(3):
        assert none_kept.changes(USERS, HOT, limit=LIMIT) == first
    assert feeds.restored == 3
