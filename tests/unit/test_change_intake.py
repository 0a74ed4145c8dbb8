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
