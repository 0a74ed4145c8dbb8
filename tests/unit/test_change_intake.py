"""The intake records each change once, in item order, whatever the delivery order."""

from __future__ import annotations

from typing import Any

import pytest

from domain.changes import ChangeType, SourceChange, StreamPosition
from domain.errors import ConcurrentChange
from domain.intake import ChangeIntake
from domain.kinds import TableKind
from domain.users import User
from tests.unit.fakes import FakeLedger

USER = {
    "userId": "u-1",
    "email": "ada@example.com",
    "name": "Ada",
    "plan": "free",
    "country": "GB",
    "createdAt": "2024-01-02T03:04:05Z",
    "marketingOptIn": True,
}


def user_change(position: int, **attributes: Any) -> SourceChange:
    item = None if attributes.get("removed") else {**USER, **attributes}
    change_type = ChangeType.REMOVE if item is None else ChangeType.MODIFY
    return SourceChange(
        TableKind.USERS, ("u-1",), change_type, item, StreamPosition.of(position), f"r{position}"
    )


def current_plan(ledger: FakeLedger) -> str:
    [aggregate] = ledger.load([User.create_id("u-1")]).values()
    assert isinstance(aggregate, User)
    return str(aggregate.plan)


def test_a_record_delivered_twice_yields_no_second_event() -> None:
    ledger = FakeLedger()
    intake = ChangeIntake(ledger)
    intake.record([user_change(1)])
    report = intake.record([user_change(1)])
    assert report.events_recorded == 0 and len(report.duplicates) == 1
    assert len(ledger.log) == 1


def test_an_older_record_arriving_after_a_newer_one_changes_nothing() -> None:
    ledger = FakeLedger()
    intake = ChangeIntake(ledger)
    intake.record([user_change(2, plan="team")])
    report = intake.record([user_change(1, plan="pro")])
    assert report.events_recorded == 0
    assert current_plan(ledger) == "team"


def test_a_change_meaning_nothing_still_guards_its_item_against_older_records() -> None:
    # 1: free -> 2: team -> 3: free again, but 3 arrives before 2 and means nothing then.
    ledger = FakeLedger()
    intake = ChangeIntake(ledger)
    intake.record([user_change(1, plan="free")])
    intake.record([user_change(3, plan="free", lastSeen="x")])
    intake.record([user_change(2, plan="team")])
    assert current_plan(ledger) == "free"


def test_a_remove_delivered_before_the_insert_keeps_the_item_deleted() -> None:
    ledger = FakeLedger()
    intake = ChangeIntake(ledger)
    intake.record([user_change(2, removed=True)])
    report = intake.record([user_change(1)])
    assert report.events_recorded == 0 and ledger.log == []


def test_a_rejected_change_does_not_move_its_item_so_a_fixed_replay_applies() -> None:
    ledger = FakeLedger()
    intake = ChangeIntake(ledger)
    report = intake.record([user_change(1, plan="gold")])
    assert [reason for _, reason in report.rejected] == [
        "users item: plan input should be 'free', 'pro' or 'team'"
    ]
    assert ledger.item_positions == {}
    assert intake.record([user_change(1, plan="pro")]).events_recorded == 1


def test_a_concurrent_writer_makes_the_batch_start_over_from_fresh_state() -> None:
    ledger = FakeLedger()
    ledger.conflicts_to_raise = 2
    report = ChangeIntake(ledger).record([user_change(1), user_change(2, plan="pro")])
    assert report.attempts == 3
    assert current_plan(ledger) == "pro"


def test_a_writer_that_keeps_conflicting_is_reported_after_the_last_attempt() -> None:
    ledger = FakeLedger()
    ledger.conflicts_to_raise = 100
    with pytest.raises(ConcurrentChange):
        ChangeIntake(ledger, max_attempts=3).record([user_change(1)])


class HandedOver(FakeLedger):
    """Keeps what the intake handed over for each record: aggregates and creation events."""

    def __init__(self) -> None:
        super().__init__()
        self.handed: list[list[Any]] = []

    def record(self, aggregates: Any, moves: Any) -> None:
        self.handed.append(list(aggregates))
        super().record(aggregates, moves)


def other_user(user_id: str, position: int) -> SourceChange:
    item = {**USER, "userId": user_id, "email": f"{user_id}@example.com"}
    return SourceChange(
        TableKind.USERS, (user_id,), ChangeType.INSERT, item, StreamPosition.of(position), "r"
    )


def test_a_new_item_touched_once_is_handed_over_as_its_creation_event_alone() -> None:
    ledger = HandedOver()
    report = ChangeIntake(ledger).record([user_change(1)])
    [[created]] = ledger.handed
    assert isinstance(created, User.Registered)
    assert (created.originator_id, created.originator_version) == (User.create_id("u-1"), 1)
    assert report.events_recorded == 1
    # The aggregate its event creates is the one the item's change would have built.
    [aggregate] = ledger.load([User.create_id("u-1")]).values()
    assert isinstance(aggregate, User) and aggregate.email == "ada@example.com"


def test_a_new_item_changed_again_in_its_batch_is_handed_over_as_its_aggregate() -> None:
    ledger = HandedOver()
    changes = [user_change(1), other_user("u-2", 2), user_change(3, plan="pro")]
    report = ChangeIntake(ledger).record(changes)
    [handed] = ledger.handed
    # In the order the batch first touched them: u-1's aggregate, u-2's creation event.
    assert isinstance(handed[0], User) and isinstance(handed[1], User.Registered)
    registered, changed = ledger.events[User.create_id("u-1")]
    assert isinstance(registered, User.Registered) and registered.plan == "free"
    assert changed.originator_version == 2 and changed.plan == "pro"
    assert report.events_recorded == 3 and current_plan(ledger) == "pro"


def test_a_new_item_removed_in_its_batch_is_created_then_deleted() -> None:
    ledger = HandedOver()
    report = ChangeIntake(ledger).record([user_change(1), user_change(2, removed=True)])
    assert [type(e).__name__ for e in ledger.log] == ["Registered", "Deleted"]
    assert report.events_recorded == 2


def test_a_refused_change_after_a_new_items_creation_leaves_the_creation_recorded() -> None:
    ledger = HandedOver()
    report = ChangeIntake(ledger).record([user_change(1), user_change(2, plan="gold")])
    assert [type(e).__name__ for e in ledger.log] == ["Registered"]
    assert len(report.rejected) == 1 and report.events_recorded == 1
    assert ledger.item_positions["users\x1fu-1"].positions == (StreamPosition.of(1),)


def test_a_creation_retried_after_a_conflict_is_decided_again() -> None:
    ledger = HandedOver()
    ledger.conflicts_to_raise = 1
    report = ChangeIntake(ledger).record([user_change(1)])
    assert report.attempts == 2 and len(ledger.log) == 1
    first, second = ledger.handed
    assert first[0] is not second[0]  # a new event for the new attempt


class Loads(FakeLedger):
    """Counts the aggregates each load asks for."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[set[Any]] = []

    def load(self, ids: Any) -> Any:
        self.asked.append(set(ids))
        return super().load(ids)


def test_a_first_attempt_reads_the_aggregates_of_items_with_a_position_or_removed() -> None:
    ledger = Loads()
    intake = ChangeIntake(ledger)
    intake.record([user_change(1)])
    removed = SourceChange(
        TableKind.USERS, ("u-3",), ChangeType.REMOVE, None, StreamPosition.of(4), "r4"
    )
    intake.record([user_change(2, plan="pro"), other_user("u-2", 3), removed])
    assert ledger.asked[-1] == {User.create_id("u-1"), User.create_id("u-3")}


def test_an_aggregate_without_a_position_is_read_on_the_next_attempt() -> None:
    ledger = Loads()
    ChangeIntake(ledger).record([user_change(1)])
    ledger.item_positions.clear()  # as if no position had been recorded with its event
    report = ChangeIntake(ledger).record([user_change(2, plan="team")])
    assert report.attempts == 2 and report.events_recorded == 1
    assert ledger.asked[-1] == {User.create_id("u-1")}
    assert current_plan(ledger) == "team"
    assert [e.originator_version for e in ledger.events[User.create_id("u-1")]] == [1, 2]


def test_a_single_attempt_reads_every_aggregate() -> None:
    ledger = Loads()
    ChangeIntake(ledger).record([user_change(1)])
    ledger.item_positions.clear()
    report = ChangeIntake(ledger, max_attempts=1).record([user_change(2, plan="team")])
    assert report.attempts == 1 and current_plan(ledger) == "team"
