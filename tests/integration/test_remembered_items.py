"""Two writers remembering what they recorded, on one event store: every change lands once,
in item order, as a single writer reading the store each time records it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from domain.changes import SourceChange
from domain.intake import ChangeIntake
from domain.kinds import TableKind
from domain.remembered_items import RememberingLedger
from infrastructure.adapters.eventstore.store import EventSourcedItemLedger, EventStore
from infrastructure.settings import PostgresStore, SQLiteStore
from tests.integration.test_event_store import USER
from tests.integration.test_projection_rows import change


@pytest.fixture
def stores(event_store_target: SQLiteStore | PostgresStore) -> Iterator[list[EventStore]]:
    opened = [EventStore(event_store_target) for _ in range(2)]  # two processes' worth
    yield opened
    for store in opened:
        store.close()


def user(number: int, at: int, plan: str) -> SourceChange:
    item = {**USER, "userId": f"u-{number}", "plan": plan}
    return change(TableKind.USERS, (f"u-{number}",), item, at)


def history(store: EventStore) -> list[tuple[str, int, str]]:
    """Every stored event as (aggregate, version, topic), in aggregate and version order."""
    rows = store.recorder.select_notifications(start=1, limit=10_000)
    return sorted((str(n.originator_id), n.originator_version, n.topic) for n in rows)


PLANS = ("free", "pro", "team")


def batches() -> list[list[SourceChange]]:
    """Ten batches over five users, each user changed in most of them, at rising positions."""
    return [
        [user(n, 10 * b + n, PLANS[(b + n) % 3]) for n in range(5) if (b + n) % 4]
        for b in range(10)
    ]


def test_writers_taking_turns_on_the_same_items_record_what_one_writer_would(
    stores: list[EventStore], tmp_path: Any
) -> None:
    here, elsewhere = (ChangeIntake(RememberingLedger(EventSourcedItemLedger(s))) for s in stores)
    attempts = []
    for number, batch in enumerate(batches()):
        writer = here if number % 3 else elsewhere
        attempts.append(writer.record(batch).attempts)
    # Each writer's memory went stale whenever the other wrote: those batches were
    # refused once and recorded against the store.
    assert max(attempts) == 2
    alone = EventStore(SQLiteStore(tmp_path / "alone.db"))
    try:
        single = ChangeIntake(EventSourcedItemLedger(alone))
        for batch in batches():
            single.record(batch)
        assert history(stores[0]) == history(alone)
        keys = [f"users\x1fu-{n}" for n in range(5)]
        assert EventSourcedItemLedger(stores[1]).positions(keys) == (
            EventSourcedItemLedger(alone).positions(keys)
        )
    finally:
        alone.close()


def test_a_writer_replaying_old_records_after_another_wrote_newer_ones_adds_nothing(
    stores: list[EventStore],
) -> None:
    here, elsewhere = (ChangeIntake(RememberingLedger(EventSourcedItemLedger(s))) for s in stores)
    here.record([user(1, 1, "free")])
    elsewhere.record([user(1, 5, "team")])
    report = here.record([user(1, 3, "pro")])  # remembered at 1, newer than 3 in the store
    assert (report.attempts, report.events_recorded, len(report.duplicates)) == (2, 0, 1)
    topics = [topic.rsplit(".", 1)[-1] for _, _, topic in history(stores[0])]
    assert topics == ["Registered", "PlanChanged"]
