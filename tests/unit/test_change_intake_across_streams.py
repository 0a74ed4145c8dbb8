"""Changes whose order the stream cannot tell are settled by reading the item's table."""

from __future__ import annotations

from typing import Any

from domain.changes import ChangeType, SourceChange
from domain.intake import ChangeIntake
from domain.kinds import TableKind
from domain.positions import CreationTime, StreamOrigin, StreamPosition, Transport
from domain.users import User
from tests.unit.fakes import FakeLedger, FakeSourceTables

USER = {
    "userId": "u-1",
    "email": "ada@example.com",
    "name": "Ada",
    "plan": "free",
    "country": "GB",
    "createdAt": "2024-01-02T03:04:05Z",
    "marketingOptIn": True,
}
T0 = 1_700_000_000_000_000
OLD_STREAM = StreamOrigin(Transport.DYNAMODB_STREAMS, "prod-users", "2024-01-01T00:00:00.000")
NEW_STREAM = StreamOrigin(Transport.DYNAMODB_STREAMS, "prod-users", "2024-03-01T00:00:00.000")
KINESIS = StreamOrigin(Transport.KINESIS, "prod-users", "arn:aws:kinesis:us-east-1:1:stream/c")


def change(
    origin: StreamOrigin, order: int, record: str, micros: int, width: int, **attributes: Any
) -> SourceChange:
    item = None if attributes.get("removed") else {**USER, **attributes}
    change_type = ChangeType.REMOVE if item is None else ChangeType.MODIFY
    position = StreamPosition(order, origin, record, CreationTime(T0 + micros, width))
    return SourceChange(TableKind.USERS, ("u-1",), change_type, item, position, record)


def on_kinesis(millis: int, record: str, **attributes: Any) -> SourceChange:
    micros = millis * 1_000
    return change(KINESIS, T0 + micros, record, micros, 1_000, **attributes)


def user(ledger: FakeLedger) -> User | None:
    found = ledger.load([User.create_id("u-1")]).values()
    return next((u for u in found if isinstance(u, User)), None)


def test_a_re_created_stream_applies_though_its_sequence_numbers_are_lower() -> None:
    ledger, tables = FakeLedger(), FakeSourceTables()
    intake = ChangeIntake(ledger, tables)
    intake.record([change(OLD_STREAM, 760 * 10**21, "a", 0, 1_000_000, plan="free")])

    report = intake.record([change(NEW_STREAM, 7 * 10**20, "b", 60_000_000, 1_000_000, plan="pro")])
    late_old = intake.record([change(OLD_STREAM, 761 * 10**21, "c", 1_000_000, 1_000_000)])

    assert report.events_recorded == 1 and not report.duplicates
    assert len(late_old.duplicates) == 1
    assert (current := user(ledger)) is not None and current.plan == "pro"
    assert tables.reads == []


def test_a_second_change_in_the_same_millisecond_is_read_from_the_table() -> None:
    ledger, tables = FakeLedger(), FakeSourceTables()
    intake = ChangeIntake(ledger, tables)
    tables.items[("prod-users", ("u-1",))] = {**USER, "plan": "team"}
    intake.record([on_kinesis(5, "a", plan="pro")])

    report = intake.record([on_kinesis(5, "b", plan="team")])

    assert report.settled and report.events_recorded == 1
    assert (current := user(ledger)) is not None and current.plan == "team"
    assert tables.reads == [("prod-users", ("u-1",))]


def test_the_same_kinesis_record_again_is_still_a_duplicate_without_a_read() -> None:
    ledger, tables = FakeLedger(), FakeSourceTables()
    intake = ChangeIntake(ledger, tables)
    intake.record([on_kinesis(5, "a", plan="pro")])

    report = intake.record([on_kinesis(5, "a", plan="pro")])

    assert len(report.duplicates) == 1 and report.events_recorded == 0
    assert tables.reads == []


def test_an_item_the_table_no_longer_holds_is_removed() -> None:
    ledger, tables = FakeLedger(), FakeSourceTables()
    intake = ChangeIntake(ledger, tables)
    intake.record([change(OLD_STREAM, 10, "a", 0, 1_000_000)])

    # Within the stream's second: its order against the Kinesis change is unknown.
    report = intake.record([on_kinesis(400, "k", plan="pro")])

    assert report.settled
    assert (current := user(ledger)) is not None and current.deleted


def test_a_settled_change_never_lets_an_older_one_undo_it() -> None:
    ledger, tables = FakeLedger(), FakeSourceTables()
    intake = ChangeIntake(ledger, tables)
    tables.items[("prod-users", ("u-1",))] = {**USER, "plan": "team"}
    intake.record([change(OLD_STREAM, 10, "a", 0, 1_000_000, plan="free")])
    intake.record([on_kinesis(500, "k", plan="team")])  # settled by a read

    older_on_kinesis = intake.record([on_kinesis(200, "j", plan="pro")])

    assert len(older_on_kinesis.duplicates) == 1
    assert (current := user(ledger)) is not None and current.plan == "team"


def test_a_table_that_cannot_be_read_makes_the_change_a_dead_letter_with_the_reason() -> None:
    ledger, tables = FakeLedger(), FakeSourceTables()
    intake = ChangeIntake(ledger, tables)
    tables.unreadable["prod-users"] = "AccessDeniedException: not authorized"
    intake.record([on_kinesis(5, "a", plan="pro")])

    report = intake.record([on_kinesis(5, "b", plan="team")])

    [(refused, reason)] = report.rejected
    assert refused.record_id == "b" and "AccessDeniedException" in reason
    assert (current := user(ledger)) is not None and current.plan == "pro"


def test_without_a_reader_an_undecidable_change_is_a_dead_letter_not_a_skip() -> None:
    ledger = FakeLedger()
    intake = ChangeIntake(ledger)
    intake.record([on_kinesis(5, "a", plan="pro")])

    report = intake.record([on_kinesis(5, "b", plan="team")])

    [(_, reason)] = report.rejected
    assert "cannot be told" in reason and not report.duplicates


def test_a_retry_after_a_concurrent_writer_reads_the_item_again() -> None:
    ledger, tables = FakeLedger(), FakeSourceTables()
    intake = ChangeIntake(ledger, tables)
    tables.items[("prod-users", ("u-1",))] = {**USER, "plan": "team"}
    intake.record([on_kinesis(5, "a", plan="pro")])
    ledger.conflicts_to_raise = 1

    report = intake.record([on_kinesis(5, "b", plan="team")])

    assert report.attempts == 2
    assert tables.reads == [("prod-users", ("u-1",))] * 2
