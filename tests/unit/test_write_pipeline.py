"""The write pipeline over fakes of its ports: what fails for good is kept, never dropped."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from freezegun import freeze_time

from domain.changes import ChangeType, SourceChange, StreamPosition
from domain.intake import ChangeIntake
from domain.kinds import TableKind
from infrastructure.adapters.eventstore.dead_letters import NewDeadLetter
from infrastructure.services.write_pipeline import IncomingChange, WritePipeline
from projections.documents import DocumentChange, DocumentKind
from projections.ports import DeadLetters, DocumentFailure, WriteOutcome
from projections.projector import DocumentProjector
from projections.sync import SearchSync
from tests.unit.fakes import FakeLedger, FakeProjectionStore, FakeSourceTables
from tests.unit.test_bad_input_properties import RecordingIndex
from tests.unit.test_change_intake_across_streams import USER, on_kinesis


class RefusingIndex(RecordingIndex):
    """Refuses for good every document whose id starts with ``bad``."""

    def write(self, changes: Sequence[DocumentChange], into: Any = None) -> WriteOutcome:
        refused = [c for c in changes if c.doc_id.startswith("bad")]
        outcome = super().write([c for c in changes if c not in refused], into)
        outcome.failed += [DocumentFailure(c, "mapper_parsing_exception") for c in refused]
        return outcome


class KeptLetters(DeadLetters):
    """Collects letters, and what the projection still had pending when each came."""

    def __init__(self, store: FakeProjectionStore) -> None:
        self.letters: list[NewDeadLetter] = []
        self.pending_when_kept: list[set[str]] = []
        self._store = store

    def put(self, letters: Sequence[NewDeadLetter]) -> None:
        self.letters += letters

    def put_documents(self, failures: Sequence[DocumentFailure]) -> None:
        self.pending_when_kept.append({c.doc_id for c in self._store.pending_documents(100)})
        self.put([NewDeadLetter.for_document(failure) for failure in failures])


def wired() -> tuple[WritePipeline, RefusingIndex, KeptLetters, FakeProjectionStore]:
    ledger = FakeLedger()
    store = FakeProjectionStore()
    store.events = ledger.log  # the projection reads what the intake records
    index = RefusingIndex()
    letters = KeptLetters(store)
    sync = SearchSync(store, index, letters)
    pipeline = WritePipeline(ChangeIntake(ledger), DocumentProjector(store), sync, letters)
    return pipeline, index, letters, store


def user(user_id: str, position: int, plan: str = "free") -> SourceChange:
    item = {
        "userId": user_id, "email": f"{user_id}@mail.example", "name": user_id, "plan": plan,
        "country": "DE", "createdAt": "2024-03-01T10:00:00Z", "marketingOptIn": False,
    }  # fmt: skip
    return SourceChange(
        TableKind.USERS, (user_id,), ChangeType.INSERT, item, StreamPosition.of(position),
        f"record-{position}",
    )  # fmt: skip


def letter(raw: str, reason: str) -> NewDeadLetter:
    return NewDeadLetter("test", "users", reason, {"record": raw}, f"test:{raw}")


def incoming(change: SourceChange | None, raw: str, error: str | None = None) -> IncomingChange:
    return IncomingChange(change, error, partial(letter, raw))


def test_a_refused_document_is_kept_as_a_dead_letter_before_it_is_marked_synced() -> None:
    pipeline, index, letters, store = wired()

    report = pipeline.apply([incoming(user("u-1", 1), "a"), incoming(user("bad-1", 2), "b")])

    assert index.get(DocumentKind.USERS, "u-1") is not None
    assert [(x.source, x.raw["id"]) for x in letters.letters] == [("document", "bad-1")]
    assert letters.pending_when_kept == [{"u-1", "bad-1"}]  # kept, then marked synced
    assert store.pending_documents(100) == []
    assert (report.documents_written, report.dead_lettered) == (1, 1)


def test_each_rejected_change_is_dead_lettered_as_its_own_record() -> None:
    pipeline, _, letters, _ = wired()
    rejected = user("u-2", 5, plan="platinum")
    same_again = user("u-2", 5, plan="platinum")  # an equal change, delivered twice
    records = [
        incoming(rejected, "first"),
        incoming(None, "unparsable", error="unknown table"),
        incoming(user("u-3", 6), "good"),
        incoming(same_again, "second"),
    ]

    report = pipeline.apply(records)

    kept = {x.raw["record"]: x.reason for x in letters.letters}
    assert set(kept) == {"first", "unparsable", "second"}
    assert kept["unparsable"] == "unknown table" and "plan" in kept["first"]
    assert (report.records, report.events_recorded, report.dead_lettered) == (4, 1, 3)


def test_batches_recorded_apart_are_settled_once() -> None:
    pipeline, index, _, _ = wired()
    report = pipeline.apply([])

    pipeline.record([incoming(user("u-1", 1), "a")], report)
    pipeline.record([incoming(user("u-2", 1), "b")], report)
    assert index.documents == {}  # recorded, not yet projected nor written
    pipeline.settle(report)

    assert {doc_id for _, doc_id in index.documents} == {"u-1", "u-2"}
    assert report.documents_written == 2


def test_a_change_settled_by_reading_its_table_is_counted_in_the_report() -> None:
    ledger, tables, store = FakeLedger(), FakeSourceTables(), FakeProjectionStore()
    store.events = ledger.log
    letters = KeptLetters(store)
    sync = SearchSync(store, RefusingIndex(), letters)
    pipeline = WritePipeline(ChangeIntake(ledger, tables), DocumentProjector(store), sync, letters)
    tables.items[("prod-users", ("u-1",))] = {**USER, "plan": "team"}
    letter = partial(NewDeadLetter, "kinesis", "prod-users", raw={})

    first = pipeline.apply([IncomingChange(on_kinesis(5, "a", plan="pro"), None, letter)])
    second = pipeline.apply([IncomingChange(on_kinesis(5, "b", plan="team"), None, letter)])

    assert (first.settled_by_read, second.settled_by_read) == (0, 1)


class NoLetters(DeadLetters):
    def put(self, letters: Sequence[NewDeadLetter]) -> None:
        assert not letters

    def put_documents(self, failures: Sequence[DocumentFailure]) -> None:
        assert not failures


def test_documents_a_batch_rendered_itself_are_synced_without_reading_the_outbox() -> None:
    ledger, store, index = FakeLedger(), FakeProjectionStore(), RecordingIndex()
    store.events = ledger.log
    projector = DocumentProjector(store)
    sync = SearchSync(store, index, NoLetters())
    pipeline = WritePipeline(ChangeIntake(ledger), projector, sync, NoLetters())

    report = pipeline.apply([incoming(user("u-1", 1), "a"), incoming(user("u-2", 2), "b")])

    assert {doc_id for _, doc_id in index.documents} == {"u-1", "u-2"}
    assert store.pending_reads == 0
    assert store.pending_documents(100) == []
    assert report.documents_written == 2


def test_a_batch_delivered_again_writes_what_a_stopped_writer_left_pending() -> None:
    ledger, store, index = FakeLedger(), FakeProjectionStore(), RecordingIndex()
    store.events = ledger.log
    projector = DocumentProjector(store)
    pipeline = WritePipeline(
        ChangeIntake(ledger), projector, SearchSync(store, index, NoLetters()), NoLetters()
    )
    batch = [incoming(user("u-1", 1), "a"), incoming(user("u-2", 2), "b")]
    # The first delivery stops between the projection's commit and the search sync.
    pipeline.record(batch, pipeline.apply([]))
    projector.catch_up()
    assert index.documents == {} and len(store.pending_documents(100)) == 2

    again = pipeline.apply(batch)

    assert again.duplicates == 2 and again.events_recorded == 0
    assert {doc_id for _, doc_id in index.documents} == {"u-1", "u-2"}
    assert store.pending_documents(100) == []


def test_a_batch_whose_events_another_writer_folded_writes_what_that_writer_rendered() -> None:
    ledger, store, index = FakeLedger(), FakeProjectionStore(), RecordingIndex()
    store.events = ledger.log
    pipeline = WritePipeline(
        ChangeIntake(ledger),
        DocumentProjector(store),
        SearchSync(store, index, NoLetters()),
        NoLetters(),
    )
    report = pipeline.apply([])
    pipeline.record([incoming(user("u-1", 1), "a")], report)
    # Another writer's catch-up folds this batch's event and has not synced yet.
    DocumentProjector(store).catch_up(until=len(ledger.log))

    pipeline.settle(report)

    assert {doc_id for _, doc_id in index.documents} == {"u-1"}
    assert store.pending_documents(100) == []


def test_a_batch_reports_the_lag_of_its_oldest_change() -> None:
    pipeline, _, _, _ = wired()
    made = datetime(2026, 1, 1, tzinfo=UTC)
    micros = (made - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(microseconds=1)
    older = replace(user("u-1", 1), occurred_micros=micros)
    newer = replace(user("u-2", 2), occurred_micros=micros + 30_000_000)
    assert older.occurred_at == made
    with freeze_time(made + timedelta(seconds=90)):
        report = pipeline.apply([incoming(newer, "r2"), incoming(older, "r1")])
        unknown = pipeline.apply([incoming(user("u-3", 3), "r3")])
    assert report.lag_seconds == 90.0
    assert unknown.lag_seconds is None  # no change said when it was made
