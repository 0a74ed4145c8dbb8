"""A process remembers the items it recorded, and never decides what the store would not."""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

import pytest

from domain.aggregate import SourceAggregate
from domain.changes import ChangeType, SourceChange, StreamPosition
from domain.intake import ChangeIntake
from domain.kinds import TableKind
from domain.mappers import MAPPERS
from domain.positions import ItemPosition
from domain.remembered_items import RememberingLedger
from domain.users import User
from tests.unit.fakes import FakeLedger


class CountingLedger(FakeLedger):
    """The fake event store, counting what it is asked to read."""

    def __init__(self) -> None:
        super().__init__()
        self.keys_asked: list[str] = []
        self.ids_asked: list[UUID] = []

    def positions(self, item_keys: Collection[str]) -> dict[str, ItemPosition]:
        self.keys_asked += item_keys
        return super().positions(item_keys)

    def load(self, ids: Collection[UUID]) -> dict[UUID, SourceAggregate]:
        self.ids_asked += ids
        return super().load(ids)


def user(user_id: str, position: int, plan: str = "free", **attributes: Any) -> SourceChange:
    item = None
    if not attributes.pop("removed", False):
        item = {
            "userId": user_id,
            "email": f"{user_id}@example.com",
            "name": user_id.upper(),
            "plan": plan,
            "country": "GB",
            "createdAt": "2024-01-02T03:04:05Z",
            "marketingOptIn": True,
            **attributes,
        }
    change_type = ChangeType.MODIFY if item is not None else ChangeType.REMOVE
    return SourceChange(
        TableKind.USERS,
        (user_id,),
        change_type,
        item,
        StreamPosition.of(position),
        f"{user_id}-{position}",
    )


def plan_of(store: FakeLedger, user_id: str) -> str:
    [aggregate] = store.load([User.create_id(user_id)]).values()
    assert isinstance(aggregate, User)
    return str(aggregate.plan)


def test_items_recorded_here_are_not_read_back_for_the_next_batch() -> None:
    store = CountingLedger()
    intake = ChangeIntake(RememberingLedger(store))
    intake.record([user("u-1", 1), user("u-2", 1)])
    store.keys_asked.clear()
    store.ids_asked.clear()
    report = intake.record([user("u-1", 2, plan="pro"), user("u-2", 1), user("u-3", 1)])
    # Only the item never recorded here is read; u-2's duplicate is told from memory.
    assert store.keys_asked == ["users\x1fu-3"]
    assert store.ids_asked == [User.create_id("u-3")]
    assert report.events_recorded == 2 and len(report.duplicates) == 1
    assert plan_of(store, "u-1") == "pro"


def test_a_change_another_writer_recorded_first_is_refused_then_read_from_the_store() -> None:
    store = CountingLedger()
    here = ChangeIntake(RememberingLedger(store))
    elsewhere = ChangeIntake(store)  # another process on the same event store
    here.record([user("u-1", 1)])
    elsewhere.record([user("u-1", 3, plan="team")])
    # Remembered, u-1 is at 1 on version 1: the write of position 2 is refused, and the
    # retry reads position 3 from the store, behind which position 2 is stale.
    report = here.record([user("u-1", 2, plan="pro")])
    assert report.attempts == 2
    assert report.events_recorded == 0 and len(report.duplicates) == 1
    assert plan_of(store, "u-1") == "team"
    # The store's state is remembered again from then on.
    store.keys_asked.clear()
    assert here.record([user("u-1", 4, plan="pro")]).events_recorded == 1
    assert store.keys_asked == []
    assert plan_of(store, "u-1") == "pro"


def test_an_event_version_another_writer_took_is_refused_and_the_change_applied_again() -> None:
    store = FakeLedger()
    here = ChangeIntake(RememberingLedger(store))
    elsewhere = ChangeIntake(store)
    here.record([user("u-1", 1)])
    elsewhere.record([user("u-1", 5, plan="team")])  # version 2
    report = here.record([user("u-1", 7, plan="pro", name="ADA")])
    assert report.attempts == 2 and report.events_recorded == 2
    versions = [e.originator_version for e in store.events[User.create_id("u-1")]]
    assert versions == [1, 2, 3, 4]
    assert plan_of(store, "u-1") == "pro"


def test_a_duplicate_by_the_remembered_position_is_one_by_the_store_too() -> None:
    store = FakeLedger()
    here = ChangeIntake(RememberingLedger(store))
    elsewhere = ChangeIntake(store)
    here.record([user("u-1", 2)])
    elsewhere.record([user("u-1", 4, plan="team")])  # positions only move forward
    report = here.record([user("u-1", 1, plan="pro")])
    assert report.attempts == 1 and len(report.duplicates) == 1
    assert plan_of(store, "u-1") == "team"


def test_an_aggregate_changed_by_an_attempt_that_failed_is_read_again() -> None:
    store = CountingLedger()
    ledger = RememberingLedger(store)
    intake = ChangeIntake(ledger)
    intake.record([user("u-1", 1)])
    # The attempt loads the remembered u-1 and changes it in place, then fails before its
    # write: what is remembered of u-1 is no longer what the store holds.
    ledger.positions(["users\x1fu-1"])
    [aggregate] = ledger.load([User.create_id("u-1")]).values()
    MAPPERS[TableKind.USERS].apply(user("u-1", 2, plan="team"), aggregate)
    assert aggregate.pending_events
    store.ids_asked.clear()
    report = intake.record([user("u-1", 3, plan="pro")])
    assert store.ids_asked == [User.create_id("u-1")]
    assert report.events_recorded == 1
    assert [type(e).__name__ for e in store.events[User.create_id("u-1")]][-1] == "PlanChanged"
    assert plan_of(store, "u-1") == "pro"


def test_a_refused_write_forgets_everything_remembered() -> None:
    store = CountingLedger()
    intake = ChangeIntake(RememberingLedger(store))
    intake.record([user("u-1", 1), user("u-2", 1)])
    store.conflicts_to_raise = 1
    intake.record([user("u-1", 2, plan="pro")])
    store.keys_asked.clear()
    intake.record([user("u-2", 2, plan="pro")])
    assert store.keys_asked == ["users\x1fu-2"]


def test_memory_keeps_at_most_its_capacity_first_written_first_forgotten() -> None:
    store = CountingLedger()
    intake = ChangeIntake(RememberingLedger(store, capacity=4))
    for number in range(6):
        intake.record([user(f"u-{number}", 1)])
    store.keys_asked.clear()
    intake.record([user(f"u-{number}", 2, plan="pro") for number in range(6)])
    # At the fifth item the first went, with a quarter of the memory besides.
    assert sorted(store.keys_asked) == ["users\x1fu-0", "users\x1fu-1"]
    with pytest.raises(ValueError, match="at least one item"):
        RememberingLedger(store, capacity=0)


def test_each_thread_remembers_its_own_items() -> None:
    store = CountingLedger()
    intake = ChangeIntake(RememberingLedger(store))
    intake.record([user("u-1", 1)])
    asked: list[list[str]] = []

    def other_thread() -> None:
        store.keys_asked.clear()
        intake.record([user("u-1", 2, plan="pro")])
        asked.append(list(store.keys_asked))

    thread = threading.Thread(target=other_thread)
    thread.start()
    thread.join()
    assert asked == [["users\x1fu-1"]]
    assert plan_of(store, "u-1") == "pro"


def test_the_events_recorded_are_those_recorded_without_memory() -> None:
    changes: Sequence[SourceChange] = [
        user("u-1", 1),
        user("u-1", 2, plan="pro"),
        user("u-1", 3, removed=True),
        user("u-1", 4, plan="team"),
        user("u-1", 5, plan="team", name="Grace"),
        user("u-1", 4, plan="free"),
    ]
    remembering, plain = FakeLedger(), FakeLedger()
    for ledger in (RememberingLedger(remembering), plain):
        intake = ChangeIntake(ledger)
        for change in changes:
            intake.record([change])
    assert [vars(e) | {"timestamp": None} for e in remembering.log] == [
        vars(e) | {"timestamp": None} for e in plain.log
    ]
    assert remembering.item_positions == plain.item_positions
