"""The migration lease in the event-store database: one holder per kind, until it expires."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from freezegun import freeze_time

from infrastructure.adapters.eventstore.migration_leases import (
    LeaseLost,
    MigrationLeases,
    MigrationRunning,
)
from infrastructure.adapters.eventstore.store import EventStore
from infrastructure.settings import PostgresStore, SQLiteStore
from projections.documents import DocumentKind
from tests.conftest import event_store_url

USERS, IMAGES = DocumentKind.USERS, DocumentKind.IMAGES
ELSEWHERE = "worker-on-another-host:4242:0badcafe"
START = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(event_store_target: SQLiteStore | PostgresStore) -> Iterator[EventStore]:
    opened = EventStore(event_store_target)
    yield opened
    opened.close()


def test_a_held_lease_refuses_a_second_migration_of_that_kind_only(store: EventStore) -> None:
    leases = MigrationLeases(store)
    with freeze_time(START):
        leases.acquire([USERS], ELSEWHERE, seconds=300)
        with pytest.raises(MigrationRunning) as refused:
            leases.acquire([USERS, IMAGES], "me:1:1", seconds=300)
        assert str(refused.value) == (
            f"a migration of users is already running ({ELSEWHERE}, since 2025-03-01 "
            "12:00:00 UTC, lease until 2025-03-01 12:05:00 UTC); wait for it to finish: a "
            "job that died releases its lease when the lease expires"
        )
        leases.acquire([IMAGES], "me:1:1", seconds=300)  # all or none: images was free
        assert [(r.kind, r.holder) for r in leases.held()] == [
            ("images", "me:1:1"), ("users", ELSEWHERE),
        ]  # fmt: skip


def test_an_expired_lease_is_taken_over_and_its_old_holder_must_stop(store: EventStore) -> None:
    leases = MigrationLeases(store)
    with freeze_time(START) as clock:
        leases.acquire([USERS], ELSEWHERE, seconds=300)
        clock.tick(timedelta(seconds=299))
        with pytest.raises(MigrationRunning):
            leases.acquire([USERS], "me:1:1", seconds=300)
        leases.renew([USERS], ELSEWHERE, seconds=300)  # it is alive and says so
        clock.tick(timedelta(seconds=299))
        with pytest.raises(MigrationRunning):
            leases.acquire([USERS], "me:1:1", seconds=300)
        clock.tick(timedelta(seconds=2))  # no renewal for 301 s: the job is dead

        leases.acquire([USERS], "me:1:1", seconds=300)

        with pytest.raises(LeaseLost, match="taken over by me:1:1"):
            leases.renew([USERS], ELSEWHERE, seconds=300)
        leases.release([USERS], ELSEWHERE)  # a late release of the old holder changes nothing
        assert [(r.kind, r.holder) for r in leases.held()] == [("users", "me:1:1")]


def test_a_released_lease_frees_the_kind_at_once(store: EventStore) -> None:
    leases = MigrationLeases(store)
    with leases.holding([USERS, IMAGES], seconds=300) as lease:
        lease.renew()
        assert {r.kind for r in leases.held()} == {"users", "images"}
    assert leases.held() == []
    leases.acquire([USERS], "me:1:1", seconds=300)


def test_the_lease_of_a_killed_job_on_this_host_does_not_wait_for_expiry(
    event_store_target: SQLiteStore | PostgresStore,
) -> None:
    # A job holding the lease is killed: a lease of 10 minutes would block everybody,
    # yet on the same host a holder whose process is gone counts as expired at once.
    url = event_store_url(event_store_target)
    script = textwrap.dedent(f"""
        import sys, time
        from infrastructure.adapters.eventstore.store import EventStore
        from infrastructure.adapters.eventstore.migration_leases import MigrationLeases, new_holder
        from infrastructure.settings import parse_event_store
        from pathlib import Path
        from projections.documents import DocumentKind
        store = EventStore(parse_event_store({url!r}, Path(".")))
        MigrationLeases(store).acquire([DocumentKind.USERS], new_holder(), seconds=600)
        print("held", flush=True)
        time.sleep(600)
    """)
    job = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert job.stdout is not None and job.stdout.readline().strip() == "held"
    store = EventStore(event_store_target)
    try:
        leases = MigrationLeases(store)
        with pytest.raises(MigrationRunning):
            leases.acquire([USERS], "me:1:1", seconds=300)
        job.kill()
        job.wait()

        leases.acquire([USERS], "me:1:1", seconds=300)
    finally:
        job.kill()
        store.close()
