"""The domain events: their topics, their fields, and the state each one produces.

Stored events name their class by topic (``module:Qualname``) and hold their fields, so
neither may change; every aggregate read back from its stored events must equal the one
that recorded them.
"""

from __future__ import annotations

import dataclasses
import json
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID

import orjson
import pytest
from eventsourcing.domain import get_topic, resolve_topic
from eventsourcing.persistence import StoredEvent

from domain.aggregate import SourceAggregate
from domain.analytics import WebTraffic
from domain.changes import ChangeType, SourceChange, StreamPosition
from domain.images import Image
from domain.kinds import ImportedKind, SourceKind, TableKind
from domain.likes import Like
from domain.mappers import MAPPERS
from domain.payments import Payment
from domain.users import User
from infrastructure.adapters.eventstore.store import SourceEventLog

AGGREGATES = (User, Image, Like, Payment, WebTraffic)
SCHEMA_V1 = Path(__file__).parents[1] / "fixtures" / "events" / "schema_v1"

# topic -> the event's own fields, beyond originator_id, originator_version and timestamp
EVENTS: dict[str, tuple[str, ...]] = {
    "domain.users:User.Registered": (
        "originator_topic", "user_id", "email", "name", "plan", "country", "created_at",
        "marketing_opt_in", "tags", "bio",
    ),
    "domain.users:User.Restored": (
        "user_id", "email", "name", "plan", "country", "created_at", "marketing_opt_in",
        "tags", "bio",
    ),
    "domain.users:User.EmailChanged": ("email",),
    "domain.users:User.Renamed": ("name",),
    "domain.users:User.PlanChanged": ("plan", "previous_plan"),
    "domain.users:User.CountryChanged": ("country",),
    "domain.users:User.SignupDateCorrected": ("created_at",),
    "domain.users:User.MarketingConsentChanged": ("marketing_opt_in",),
    "domain.users:User.TagsChanged": ("tags",),
    "domain.users:User.BioChanged": ("bio",),
    "domain.users:User.Deleted": ("expired",),
    "domain.images:Image.Uploaded": (
        "originator_topic", "image_id", "owner_id", "title", "description", "tags",
        "image_url", "created_at", "status", "size_bytes",
    ),
    "domain.images:Image.Restored": (
        "image_id", "owner_id", "title", "description", "tags", "image_url", "created_at",
        "status", "size_bytes",
    ),
    "domain.images:Image.OwnerChanged": ("owner_id", "previous_owner_id"),
    "domain.images:Image.Retitled": ("title",),
    "domain.images:Image.DescriptionChanged": ("description",),
    "domain.images:Image.TagsChanged": ("tags",),
    "domain.images:Image.FileMoved": ("image_url",),
    "domain.images:Image.UploadDateCorrected": ("created_at",),
    "domain.images:Image.StatusChanged": ("status",),
    "domain.images:Image.Resized": ("size_bytes",),
    "domain.images:Image.Deleted": ("expired",),
    "domain.likes:Like.Liked": ("originator_topic", "image_id", "user_id", "created_at"),
    "domain.likes:Like.LikedAgain": ("image_id", "user_id", "created_at"),
    "domain.likes:Like.Unliked": ("expired",),
    "domain.payments:Payment.Recorded": (
        "originator_topic", "user_id", "payment_id", "amount_cents", "paid_at", "status",
    ),
    "domain.payments:Payment.Restored": (
        "user_id", "payment_id", "amount_cents", "paid_at", "status",
    ),
    "domain.payments:Payment.AmountCorrected": ("amount_cents",),
    "domain.payments:Payment.PaymentDateCorrected": ("paid_at",),
    "domain.payments:Payment.Refunded": (),
    "domain.payments:Payment.Reinstated": (),
    "domain.payments:Payment.Deleted": ("expired",),
    "domain.analytics:WebTraffic.Counted": (
        "originator_topic", "user_id", "visited_on", "source", "medium", "sessions",
        "pageviews",
    ),
    "domain.analytics:WebTraffic.Corrected": ("medium", "sessions", "pageviews"),
}  # fmt: skip
COMMON = ("originator_id", "originator_version", "timestamp")

USER = {
    "userId": "u-1",
    "email": "ada@example.com",
    "name": "Ada",
    "plan": "free",
    "country": "GB",
    "createdAt": "2024-01-02T03:04:05Z",
    "marketingOptIn": True,
}
IMAGE = {
    "imageId": "i-1",
    "userId": "u-1",
    "title": "Dawn",
    "imageUrl": "https://img.example.com/i-1.jpg",
    "createdAt": "2024-02-01T00:00:00Z",
    "status": "active",
    "sizeBytes": Decimal(2048),
}
LIKE = {"imageId": "i-1", "userId": "u-1", "createdAt": "2024-03-01T00:00:00Z"}
PAYMENT = {
    "userId": "u-1",
    "paymentId": "p-1",
    "amountCents": Decimal(1999),
    "paidAt": "2024-01-01T00:00:00Z",
    "status": "paid",
}
TRAFFIC = {
    "userId": "u-1",
    "date": "2024-01-01",
    "source": "google",
    "medium": "cpc",
    "sessions": Decimal(3),
    "pageviews": Decimal(9),
}

# Each kind's item, then each revision of it in turn (every attribute a change records).
HISTORIES: dict[SourceKind, list[dict[str, Any]]] = {
    TableKind.USERS: [
        USER,
        {"email": "ada@example.org"},
        {"name": "Ada L."},
        {"plan": "pro"},
        {"country": "FR"},
        {"createdAt": "2024-01-03T00:00:00Z"},
        {"marketingOptIn": False},
        {"tags": {"vip", "beta"}},
        {"bio": "Analyst"},
        {"email": "ada@example.net", "plan": "team", "bio": None},
    ],
    TableKind.IMAGES: [
        IMAGE,
        {"userId": "u-2"},
        {"title": "Dusk"},
        {"description": "Hills"},
        {"tags": {"sky"}},
        {"imageUrl": "https://img.example.com/i-1b.jpg"},
        {"createdAt": "2024-02-02T00:00:00Z"},
        {"status": "hidden"},
        {"sizeBytes": Decimal(4096)},
    ],
    TableKind.LIKES: [LIKE, {"createdAt": "2024-03-02T00:00:00Z"}],
    TableKind.PAYMENTS: [
        PAYMENT,
        {"amountCents": Decimal(2999)},
        {"paidAt": "2024-01-02T00:00:00Z"},
        {"status": "refunded"},
        {"status": "paid"},
    ],
    ImportedKind.ANALYTICS: [TRAFFIC, {"sessions": Decimal(4)}, {"medium": None}],
}


def concrete_event_classes() -> list[type[Any]]:
    classes = []
    for aggregate in AGGREGATES:
        for name, value in vars(aggregate).items():
            is_event = isinstance(value, type) and issubclass(value, aggregate.Event)
            if is_event and name not in ("Event", "Created"):
                classes.append(value)
    return classes


def play(kind: SourceKind, removals: bool, known_id: bool = False) -> SourceAggregate:
    """Fold a kind's whole history: create, each revision, then delete, restore, expire;
    with ``known_id`` the mapper is given the item's aggregate id, as the intake gives it."""
    mapper = MAPPERS[kind]
    first, *revisions = HISTORIES[kind]
    key = tuple(str(first[name]) for name in kind.key_attributes)
    items = [first]
    for revision in revisions:
        items.append({**items[-1], **revision})
    script: list[tuple[dict[str, Any] | None, bool]] = [(item, False) for item in items]
    if removals:
        script += [(None, False), (first, False), (None, True), (items[-1], False)]
    aggregate = None
    for position, (item, expired) in enumerate(script, start=1):
        change_type = ChangeType.REMOVE if item is None else ChangeType.MODIFY
        change = SourceChange(
            kind, key, change_type, item, StreamPosition.of(position), "r", expired=expired
        )
        aggregate_id = mapper.aggregate_id(key) if known_id else None
        aggregate = mapper.apply(change, aggregate, aggregate_id)
    assert aggregate is not None
    return aggregate


def state(aggregate: SourceAggregate) -> dict[str, Any]:
    return {k: v for k, v in vars(aggregate).items() if k != "_pending_events"}


@pytest.fixture(scope="module")
def log() -> SourceEventLog:
    return SourceEventLog(env={"PERSISTENCE_MODULE": "eventsourcing.popo"})


def test_every_event_keeps_its_topic_and_its_fields() -> None:
    classes = concrete_event_classes()
    assert {get_topic(cls): cls for cls in classes}.keys() == EVENTS.keys()
    for cls in classes:
        assert resolve_topic(get_topic(cls)) is cls
        fields = tuple(f.name for f in dataclasses.fields(cls))
        assert fields == COMMON + EVENTS[get_topic(cls)], cls


def test_likes_are_at_version_2_and_the_rest_at_version_1() -> None:
    for cls in concrete_event_classes():
        expected = 2 if cls in (Like.Liked, Like.LikedAgain) else 1
        assert getattr(cls, "class_version", 1) == expected, cls


def test_the_aggregates_event_bases_add_no_field_and_no_generated_method() -> None:
    """They reuse their base's dataclass methods: none is generated for them at import."""
    bases: list[type[Any]] = [SourceAggregate.Event, SourceAggregate.Created]
    bases += [getattr(a, name) for a in AGGREGATES for name in ("Event", "Created")]
    for base in bases:
        created = issubclass(base, SourceAggregate.Created)
        expected = COMMON + (("originator_topic",) if created else ())
        assert tuple(f.name for f in dataclasses.fields(base)) == expected, base
        assert "__init__" not in vars(base), base
    assert issubclass(User.Registered, User.Created)
    assert not issubclass(User.Restored, SourceAggregate.Created)


@pytest.mark.parametrize("kind", list(HISTORIES))
def test_the_first_event_creates_the_aggregate_from_the_item(kind: SourceKind) -> None:
    aggregate = play(kind, removals=False)
    first = aggregate.collect_events()[0]
    mapper = MAPPERS[kind]
    key = tuple(str(HISTORIES[kind][0][name]) for name in kind.key_attributes)
    assert isinstance(first, mapper.aggregate_class.Created)
    assert isinstance(first, SourceAggregate.Created)
    assert first.originator_id == aggregate.id == mapper.aggregate_id(key)
    assert first.originator_version == 1
    assert first.originator_topic == get_topic(mapper.aggregate_class)


def test_each_revision_records_one_event_of_its_own() -> None:
    user = play(TableKind.USERS, removals=True)
    assert [type(e).__name__ for e in user.collect_events()] == [
        "Registered", "EmailChanged", "Renamed", "PlanChanged", "CountryChanged",
        "SignupDateCorrected", "MarketingConsentChanged", "TagsChanged", "BioChanged",
        "EmailChanged", "PlanChanged", "BioChanged", "Deleted", "Restored", "Deleted",
        "Restored",
    ]  # fmt: skip
    image = play(TableKind.IMAGES, removals=True)
    assert [type(e).__name__ for e in image.collect_events()] == [
        "Uploaded", "OwnerChanged", "Retitled", "DescriptionChanged", "TagsChanged",
        "FileMoved", "UploadDateCorrected", "StatusChanged", "Resized", "Deleted",
        "Restored", "Deleted", "Restored",
    ]  # fmt: skip


def test_commands_set_the_state_their_events_say() -> None:
    user = play(TableKind.USERS, removals=False)
    assert isinstance(user, User)
    assert (user.email, user.name, user.plan, user.country) == (
        "ada@example.net", "Ada L.", "team", "FR"
    )  # fmt: skip
    assert (user.created_at, user.marketing_opt_in, user.tags, user.bio, user.deleted) == (
        "2024-01-03T00:00:00Z", False, ["beta", "vip"], None, False
    )  # fmt: skip
    plan_changes = [e for e in user.collect_events() if isinstance(e, User.PlanChanged)]
    assert [(e.plan, e.previous_plan) for e in plan_changes] == [("pro", "free"), ("team", "pro")]
    user.delete(expired=True)
    assert user.deleted


@pytest.mark.parametrize(
    ("kind", "removals"),
    [(kind, removals) for kind in TableKind for removals in (False, True)]
    + [(ImportedKind.ANALYTICS, False)],  # imported rows are never removed
)
def test_an_aggregate_read_back_from_its_stored_events_is_the_same(
    kind: SourceKind, removals: bool, log: SourceEventLog
) -> None:
    aggregate = play(kind, removals)
    replayed = None
    for event in aggregate.collect_events():
        stored = log.mapper.to_stored_event(event)
        read = log.mapper.to_domain_event(stored)
        assert type(read) is type(event)
        assert vars(read) == vars(event)
        replayed = read.mutate(replayed)
    assert replayed is not None
    assert state(replayed) == state(aggregate)


def test_every_event_an_earlier_release_stored_still_folds(log: SourceEventLog) -> None:
    """The committed history of an earlier schema (likes at version 1, with ``liked_at``)."""
    fixture = json.loads((SCHEMA_V1 / "stored_events.json").read_text())
    histories: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for stored in fixture["events"]:
        histories[UUID(stored["originator_id"])].append(stored)
    likes_seen = 0
    for aggregate_id, history in histories.items():
        aggregate = None
        for stored in sorted(history, key=lambda e: e["originator_version"]):
            event = log.mapper.to_domain_event(
                StoredEvent(
                    aggregate_id,
                    stored["originator_version"],
                    stored["topic"],
                    orjson.dumps(stored["state"]),
                )
            )
            assert not hasattr(event, "liked_at")
            assert isinstance(event, SourceAggregate.Event)
            aggregate = event.mutate(aggregate)
        assert isinstance(aggregate, SourceAggregate)
        assert (aggregate.id, aggregate.version) == (aggregate_id, len(history))
        if isinstance(aggregate, Like):
            last = max(history, key=lambda e: e["originator_version"])
            dated = [e for e in history if "liked_at" in e["state"]]
            assert aggregate.created_at == dated[-1]["state"]["liked_at"]
            assert aggregate.deleted == last["topic"].endswith("Unliked")
            likes_seen += 1
    assert likes_seen > 10
