"""Events built by the aggregates' own construction are the library's, to the byte.

`SourceAggregate._create` and `trigger_event` build events without the dataclass's
``__init__``; each event, its stored state and the aggregate must come out exactly as the
library's own construction makes them (the stored state keeps the fields' order).
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid5

import eventsourcing.domain
import pytest

import domain.aggregate
from domain.identity import STREAMFOLD_NAMESPACE, aggregate_id, aggregate_id_of, item_key
from domain.items import ITEM_CLASSES
from domain.kinds import ImportedKind, SourceKind, TableKind
from domain.likes import Like
from infrastructure.adapters.eventstore.store import SourceEventLog
from infrastructure.adapters.eventstore.transcoder import EventCodec
from tests.unit.test_domain_events import AGGREGATES, concrete_event_classes, play

FIXED = datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)


def recorded(kind: SourceKind, log: SourceEventLog, known_id: bool) -> tuple[list[Any], ...]:
    """The events of a kind's whole history, their stored form, the aggregate's state, and
    the state of the aggregate folded again from the events read back."""
    aggregate = play(kind, removals=kind is not ImportedKind.ANALYTICS, known_id=known_id)
    events = aggregate.collect_events()
    stored = [log.mapper.to_stored_event(event) for event in events]
    replayed = None
    for read in stored:
        event: Any = log.mapper.to_domain_event(read)
        replayed = event.mutate(replayed)
    return (
        [(type(e), list(vars(e).items())) for e in events],
        stored,
        [(k, v) for k, v in vars(aggregate).items() if k != "_pending_events"],
        [(k, v) for k, v in vars(replayed).items() if k != "_pending_events"],
    )


@pytest.fixture(scope="module")
def log() -> SourceEventLog:
    return SourceEventLog(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


@pytest.mark.parametrize("known_id", [False, True], ids=["id-derived", "id-given"])
@pytest.mark.parametrize("kind", [*TableKind, ImportedKind.ANALYTICS])
def test_events_and_aggregates_are_the_librarys(
    kind: SourceKind, known_id: bool, log: SourceEventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(eventsourcing.domain, "datetime_now_with_tzinfo", lambda: FIXED)
    ours = recorded(kind, log, known_id)
    with monkeypatch.context() as library:
        library.setattr(domain.aggregate, "_own_fields", lambda _: None)
        library.setattr(domain.aggregate, "_creation_shape", lambda *_: None)
        library.setattr(domain.aggregate, "_item_reading", lambda *_: None)
        library.setattr(domain.aggregate, "_plain_init", lambda _: False)
        library.setattr(domain.aggregate, "_taking", lambda _: None)
        theirs = recorded(kind, log, known_id=False)
    assert ours == theirs
    assert len(ours[0]) > 1


def test_a_trigger_with_fields_the_event_lacks_fails_as_the_librarys() -> None:
    like = play(TableKind.LIKES, removals=False)
    with pytest.raises(TypeError, match="Can't construct event"):
        like.trigger_event(Like.Unliked, expired=True, unknown=1)
    with pytest.raises(TypeError, match="Can't construct event"):
        like.trigger_event(Like.Unliked)


def test_an_explicit_id_creates_as_the_library_does() -> None:
    chosen = aggregate_id(TableKind.LIKES, ("x", "y"))
    like = Like._create(
        Like.Liked, id=chosen, image_id="i", user_id="u", created_at="2024-01-01T00:00:00Z"
    )
    assert like.id == chosen


def test_aggregate_ids_are_uuid5_of_the_item_key() -> None:
    chooser = random.Random(5)
    keys = ["", "likes\x1fi-1\x1fu-2", "é" * 40, "users\x1f\U0001f600"]
    keys += ["".join(chr(chooser.randint(32, 0x2FFF)) for _ in range(30)) for _ in range(500)]
    for key in keys:
        expected = uuid5(STREAMFOLD_NAMESPACE, key)
        found = aggregate_id_of(key)
        assert (found, hash(found), str(found), found.version) == (
            expected, hash(expected), str(expected), expected.version
        )  # fmt: skip
        assert found.is_safe == expected.is_safe
    assert aggregate_id(TableKind.USERS, ("u-1",)) == uuid5(
        STREAMFOLD_NAMESPACE, item_key(TableKind.USERS, ("u-1",))
    )


def test_every_event_of_the_domain_takes_the_short_way() -> None:
    for aggregate_class in AGGREGATES:
        item_class = ITEM_CLASSES[aggregate_class.KIND]
        for created in vars(aggregate_class).values():
            if isinstance(created, type) and issubclass(created, aggregate_class.Created):
                creation = domain.aggregate._creation_shape(aggregate_class, created)
                assert creation, created
                if creation.order:  # the creation event of an item, not the base class
                    assert domain.aggregate._item_reading(aggregate_class, created, item_class)
        assert domain.aggregate._taking(aggregate_class), aggregate_class
    for event_class in concrete_event_classes():
        shape = domain.aggregate._own_fields(event_class)  # type: ignore[arg-type]
        assert shape is not None, event_class


@pytest.mark.parametrize("plain", [True, False], ids=["codec", "library-mapper"])
@pytest.mark.parametrize("kind", [*TableKind, ImportedKind.ANALYTICS])
def test_the_codec_stores_events_as_the_librarys_mapper(
    kind: SourceKind, plain: bool, log: SourceEventLog
) -> None:
    events = list(play(kind, removals=kind is not ImportedKind.ANALYTICS).collect_events())
    codec = EventCodec(log.mapper)
    codec._plain = codec._plain and plain
    library = [log.mapper.to_stored_event(event) for event in events]
    assert codec.stored(events) == library
    assert codec.rows(events) == [
        (UUID(str(s.originator_id)).hex, s.originator_version, s.topic, s.state) for s in library
    ]
