"""Source mappers: each change of a source item yields exactly the events it implies."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from domain.changes import ChangeType, SourceChange, StreamPosition
from domain.errors import InvalidItem
from domain.images import Image
from domain.kinds import ImportedKind, TableKind
from domain.likes import Like
from domain.mappers import MAPPERS
from domain.payments import Payment
from domain.users import User

USER = {
    "userId": "u-1",
    "email": "ada@example.com",
    "name": "Ada Lovelace",
    "plan": "free",
    "country": "GB",
    "createdAt": "2024-01-02T03:04:05Z",
    "marketingOptIn": True,
}
IMAGE = {
    "imageId": "i-1",
    "userId": "u-1",
    "title": "Mountains at dawn",
    "imageUrl": "https://img.example.com/i-1.jpg",
    "createdAt": "2024-02-01T00:00:00Z",
    "status": "active",
    "sizeBytes": Decimal(2048),
}


def change(
    kind: TableKind, key: tuple[str, ...], item: dict[str, Any] | None, **kw: Any
) -> SourceChange:
    change_type = ChangeType.REMOVE if item is None else ChangeType.MODIFY
    return SourceChange(kind, key, change_type, item, StreamPosition.of(1), "r", **kw)


def events_of(aggregate: Any) -> list[Any]:
    return list(aggregate.collect_events()) if aggregate is not None else []


def test_a_new_user_is_registered_with_every_attribute() -> None:
    user = MAPPERS[TableKind.USERS].apply(change(TableKind.USERS, ("u-1",), USER), None)
    [registered] = events_of(user)
    assert isinstance(registered, User.Registered)
    assert registered.user_id == "u-1"
    assert registered.plan == "free"
    assert registered.tags is None and registered.bio is None


def test_a_plan_change_records_the_plan_and_the_previous_plan_only() -> None:
    mapper = MAPPERS[TableKind.USERS]
    user = mapper.apply(change(TableKind.USERS, ("u-1",), USER), None)
    events_of(user)
    mapper.apply(change(TableKind.USERS, ("u-1",), {**USER, "plan": "pro"}), user)
    [changed] = events_of(user)
    assert isinstance(changed, User.PlanChanged)
    assert (changed.plan, changed.previous_plan) == ("pro", "free")


def test_a_modify_of_attributes_nobody_indexes_yields_no_event() -> None:
    mapper = MAPPERS[TableKind.USERS]
    user = mapper.apply(change(TableKind.USERS, ("u-1",), USER), None)
    events_of(user)
    mapper.apply(change(TableKind.USERS, ("u-1",), {**USER, "lastLoginAt": "today"}), user)
    assert events_of(user) == []


def test_several_changed_attributes_yield_one_event_each() -> None:
    mapper = MAPPERS[TableKind.USERS]
    user = mapper.apply(change(TableKind.USERS, ("u-1",), USER), None)
    events_of(user)
    new = {**USER, "name": "Ada King", "tags": {"vip", "beta"}, "marketingOptIn": False}
    mapper.apply(change(TableKind.USERS, ("u-1",), new), user)
    kinds = {type(e) for e in events_of(user)}
    assert kinds == {User.Renamed, User.TagsChanged, User.MarketingConsentChanged}
    assert isinstance(user, User) and user.tags == ["beta", "vip"]


def test_a_new_owner_is_recorded_as_an_owner_change() -> None:
    mapper = MAPPERS[TableKind.IMAGES]
    image = mapper.apply(change(TableKind.IMAGES, ("i-1",), IMAGE), None)
    events_of(image)
    mapper.apply(change(TableKind.IMAGES, ("i-1",), {**IMAGE, "userId": "u-2"}), image)
    [moved] = events_of(image)
    assert isinstance(moved, Image.OwnerChanged)
    assert (moved.previous_owner_id, moved.owner_id) == ("u-1", "u-2")


def test_a_ttl_expiry_deletes_like_any_remove_and_says_so() -> None:
    mapper = MAPPERS[TableKind.USERS]
    user = mapper.apply(change(TableKind.USERS, ("u-1",), USER), None)
    events_of(user)
    mapper.apply(change(TableKind.USERS, ("u-1",), None, expired=True), user)
    [deleted] = events_of(user)
    assert isinstance(deleted, User.Deleted) and deleted.expired is True


def test_removing_an_item_never_seen_yields_nothing() -> None:
    assert MAPPERS[TableKind.USERS].apply(change(TableKind.USERS, ("u-9",), None), None) is None


def test_an_item_put_back_after_a_delete_is_restored_with_its_new_state() -> None:
    mapper = MAPPERS[TableKind.USERS]
    user = mapper.apply(change(TableKind.USERS, ("u-1",), USER), None)
    mapper.apply(change(TableKind.USERS, ("u-1",), None), user)
    events_of(user)
    mapper.apply(change(TableKind.USERS, ("u-1",), {**USER, "plan": "team"}), user)
    [restored] = events_of(user)
    assert isinstance(restored, User.Restored) and restored.plan == "team"


def test_an_invalid_item_is_refused_with_a_reason_naming_each_attribute() -> None:
    bad = {**IMAGE, "sizeBytes": "2048", "status": "archived"}
    with pytest.raises(InvalidItem) as refused:
        MAPPERS[TableKind.IMAGES].apply(change(TableKind.IMAGES, ("i-1",), bad), None)
    assert "sizeBytes" in refused.value.reason and "status" in refused.value.reason


def test_an_item_whose_key_differs_from_the_records_keys_is_refused() -> None:
    with pytest.raises(InvalidItem, match="key"):
        MAPPERS[TableKind.USERS].apply(change(TableKind.USERS, ("u-2",), USER), None)


def test_a_likes_own_timestamp_is_indexed_nowhere_so_changing_it_records_nothing() -> None:
    mapper = MAPPERS[TableKind.LIKES]
    like_item = {"imageId": "i-1", "userId": "u-2", "createdAt": "2024-01-01T00:00:00Z"}
    like = mapper.apply(change(TableKind.LIKES, ("i-1", "u-2"), like_item), None)
    assert [type(e) for e in events_of(like)] == [Like.Liked]
    later = {**like_item, "createdAt": "2024-06-01T00:00:00Z"}
    mapper.apply(change(TableKind.LIKES, ("i-1", "u-2"), later), like)
    assert events_of(like) == []


def test_a_refund_and_its_reversal_are_recorded_as_such() -> None:
    mapper = MAPPERS[TableKind.PAYMENTS]
    item = {
        "userId": "u-1",
        "paymentId": "p-1",
        "amountCents": Decimal(1999),
        "paidAt": "2024-01-01T00:00:00Z",
        "status": "paid",
    }
    payment = mapper.apply(change(TableKind.PAYMENTS, ("u-1", "p-1"), item), None)
    mapper.apply(
        change(TableKind.PAYMENTS, ("u-1", "p-1"), {**item, "status": "refunded"}), payment
    )
    mapper.apply(change(TableKind.PAYMENTS, ("u-1", "p-1"), item), payment)
    assert [type(e) for e in events_of(payment)] == [
        Payment.Recorded,
        Payment.Refunded,
        Payment.Reinstated,
    ]


def test_aggregate_ids_are_derived_from_kind_and_key() -> None:
    users = MAPPERS[TableKind.USERS]
    assert users.aggregate_id(("u-1",)) == users.aggregate_id(("u-1",))
    assert users.aggregate_id(("u-1",)) != MAPPERS[TableKind.IMAGES].aggregate_id(("u-1",))


# One valid item of each kind, with its key.
SAMPLES: dict[Any, tuple[tuple[str, ...], dict[str, Any]]] = {
    TableKind.USERS: (("u-1",), USER),
    TableKind.IMAGES: (("i-1",), {**IMAGE, "tags": {"sea", "dawn"}}),
    TableKind.LIKES: (
        ("i-1", "u-2"),
        {"imageId": "i-1", "userId": "u-2", "createdAt": "2024-03-01"},
    ),
    TableKind.PAYMENTS: (
        ("u-1", "p-1"),
        {
            "userId": "u-1",
            "paymentId": "p-1",
            "amountCents": Decimal(1999),
            "paidAt": "2024-03-02T00:00:00Z",
            "status": "paid",
        },
    ),
    ImportedKind.ANALYTICS: (
        ("u-1", "2024-03-03", "newsletter"),
        {
            "userId": "u-1",
            "date": "2024-03-03",
            "source": "newsletter",
            "sessions": Decimal(3),
            "pageviews": Decimal(7),
        },
    ),
}


def comparable(aggregate: Any) -> dict[str, Any]:
    """An aggregate's state, its clock readings and pending events left out."""
    ignored = ("_created_on", "_modified_on", "_pending_events")
    return {k: v for k, v in vars(aggregate).items() if k not in ignored}


@pytest.mark.parametrize("kind", list(MAPPERS))
@pytest.mark.parametrize("id_given", [True, False])
def test_a_creation_event_builds_the_aggregate_that_from_item_builds(
    kind: Any, id_given: bool
) -> None:
    assert set(SAMPLES) == set(MAPPERS)
    mapper = MAPPERS[kind]
    key, attributes = SAMPLES[kind]
    expected_id = mapper.aggregate_id(key)
    created = mapper.creation(change(kind, key, attributes), expected_id if id_given else None)
    assert created.originator_id == expected_id and created.originator_version == 1
    assert isinstance(created, mapper.aggregate_class.Created)
    built = mapper.aggregate_class.created_by(created)
    applied = mapper.apply(change(kind, key, attributes), None, expected_id)
    assert applied is not None
    assert comparable(built) == comparable(applied)
    assert built.collect_events() == [created]
    [applied_event] = applied.collect_events()
    assert type(applied_event) is type(created)
    assert {**vars(applied_event), "timestamp": None} == {**vars(created), "timestamp": None}


def test_a_creation_refuses_an_invalid_item_and_a_remove() -> None:
    with pytest.raises(InvalidItem, match="plan"):
        MAPPERS[TableKind.USERS].creation(change(TableKind.USERS, ("u-1",), {**USER, "plan": "x"}))
    with pytest.raises(ValueError, match="creates nothing"):
        MAPPERS[TableKind.USERS].creation(change(TableKind.USERS, ("u-1",), None))
