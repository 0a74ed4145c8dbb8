"""A command's batches commit together on SQLite: one transaction per group, a savepoint per
batch, the events file alone locked (docs/adr/0034-a-commands-batches-commit-together.md)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from devtools.demo import CrmWorkload, lambda_events
from domain.changes import SourceChange
from domain.errors import ConcurrentChange
from domain.intake import ChangeIntake, Pending, PositionMove
from domain.kinds import TableKind
from infrastructure.adapters.eventstore.store import (
    EventSourcedItemLedger,
    EventStore,
    EventStoreUnavailable,
)
from infrastructure.composition import Streamfold
from infrastructure.services.grouping import SettleGroups
from infrastructure.settings import EmbeddedSearch, Settings, SQLiteStore
from tests.integration.test_event_store import USER
from tests.integration.test_projection_rows import change


@pytest.fixture
def store(sqlite_store: SQLiteStore) -> Iterator[EventStore]:
    event_store = EventStore(sqlite_store)
    yield event_store
    event_store.close()


def user(number: int, at: int) -> SourceChange:
    item = {**USER, "userId": f"u-{number}"}
    return change(TableKind.USERS, (f"u-{number}",), item, at)


def head_seen_elsewhere(target: SQLiteStore) -> int:
    other = EventStore(target)
    try:
        return other.head()
    finally:
        other.close()


def test_held_batches_are_seen_elsewhere_once_committed_together(
    store: EventStore, sqlite_store: SQLiteStore
) -> None:
    intake = ChangeIntake(EventSourcedItemLedger(store))
    store.hold_commits()
    intake.record([user(1, 1)])
    intake.record([user(2, 1)])
    assert store.head() == 2  # this thread reads its own writes
    assert head_seen_elsewhere(sqlite_store) == 0
    store.commit_held()
    assert head_seen_elsewhere(sqlite_store) == 2
    store.commit_held()  # nothing held: nothing happens
    intake.record([user(3, 1)])  # not held: committed at once
    assert head_seen_elsewhere(sqlite_store) == 3


class StaleLedger(EventSourcedItemLedger):
    """Writes as a writer that read the items before anyone recorded them."""

    def record(self, aggregates: Sequence[Pending], moves: Sequence[PositionMove]) -> None:
        super().record(aggregates, [PositionMove(m.item_key, None, m.position) for m in moves])


def test_a_refused_batch_is_rolled_back_alone(store: EventStore, sqlite_store: SQLiteStore) -> None:
    intake = ChangeIntake(EventSourcedItemLedger(store))
    store.hold_commits()
    intake.record([user(1, 1)])
    with pytest.raises(ConcurrentChange):
        # u-2's event and position are written before u-1's position is refused.
        ChangeIntake(StaleLedger(store), max_attempts=1).record([user(2, 1), user(1, 2)])
    intake.record([user(3, 1)])
    store.commit_held()
    other = EventStore(sqlite_store)
    try:
        keys = [f"users\x1fu-{n}" for n in (1, 2, 3)]
        assert set(EventSourcedItemLedger(other).positions(keys)) == {keys[0], keys[2]}
        assert other.head() == 2
    finally:
        other.close()


def settings_in(tmp_path: Path) -> Settings:
    return Settings(
        SQLiteStore(tmp_path / "events.db"), EmbeddedSearch(tmp_path / "index"), {}, "streamfold"
    )


def test_a_second_process_opens_and_folds_while_a_group_is_held(tmp_path: Path) -> None:
    workload = CrmWorkload(seed=4, users=5)
    first, second, *_ = lambda_events(workload.records, batch_size=30)
    with Streamfold.from_settings(settings_in(tmp_path), settler=None) as app:
        assert not app.ingestion.handle(first).failed  # settled: the projection exists
        app.pipeline.hold_commits()
        assert not app.ingestion.handle(second, SettleGroups(app.pipeline)).failed
        opened: list[float] = []

        def second_process() -> None:
            started = time.monotonic()
            # Its tables exist: opening takes no write lock; the projection's file is not
            # the one the group holds, so a fold there proceeds too.
            with Streamfold.from_settings(settings_in(tmp_path), settler=None) as other:
                other.projector.catch_up()
            opened.append(time.monotonic() - started)

        thread = threading.Thread(target=second_process)
        thread.start()
        thread.join(timeout=20)
        app.pipeline.commit_held()
        thread.join()
        assert opened and opened[0] < 10, "the second process waited for the held group"


def test_a_group_commits_when_settled_and_when_its_block_fails(tmp_path: Path) -> None:
    workload = CrmWorkload(seed=5, users=5)
    batches = lambda_events(workload.records, batch_size=20)
    target = SQLiteStore(tmp_path / "events.db")
    with Streamfold.from_settings(settings_in(tmp_path), settler=None) as app:
        groups = SettleGroups(app.pipeline)
        assert not app.ingestion.handle(batches[0], groups).failed
        assert head_seen_elsewhere(target) == 0
        groups.settle()
        recorded = head_seen_elsewhere(target)
        assert recorded == app.event_store.head() > 0
        with pytest.raises(RuntimeError), SettleGroups(app.pipeline) as failing:
            assert not app.ingestion.handle(batches[1], failing).failed
            raise RuntimeError("the command stops")
        assert head_seen_elsewhere(target) == app.event_store.head() > recorded


def test_a_transaction_sqlite_ended_is_reported_not_lost_silently(store: EventStore) -> None:
    intake = ChangeIntake(EventSourcedItemLedger(store))
    store.hold_commits()
    intake.record([user(1, 1)])
    # As SQLite does on some errors (a full disk, an I/O error): the whole transaction ends.
    datastore = store.event_log.factory.datastore  # type: ignore[attr-defined]
    datastore._held.group.connection._sqlite_conn.execute("ROLLBACK")
    with pytest.raises(EventStoreUnavailable, match="rolled back"):
        store.commit_held()
    assert store.head() == 0
    intake.record([user(2, 1)])  # the store works on
    assert store.head() == 1
