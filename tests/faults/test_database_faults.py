"""PostgreSQL refusing, stalling or cut in the middle of a transaction.

The event store is reached through a fault proxy. While the fault lasts, the handler
reports every record of the batch for retry, and answers before the Lambda's remaining
time runs out even when the database stops answering in the middle of a query. A batch
it reports as done is searchable. Once the fault clears, the very next delivery converges:
pooled connections broken by the fault are not handed out again.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from infrastructure import lambda_handlers
from infrastructure.settings import PostgresStore
from tests.e2e.documents import assert_same_documents
from tests.faults.pipeline import FIGURES, Crm, deliver, searchable, searchable_now
from tests.support.fault_proxy import FaultProxy

REMAINING_MS = 6_000  # Lambda answers 5 s before its timeout: 1 s left for the database


@pytest.fixture
def crm(
    lambda_home: Path,
    database_proxy: FaultProxy,
    postgres_store: PostgresStore,
    monkeypatch: pytest.MonkeyPatch,
) -> Crm:
    url = (
        f"postgresql://{postgres_store.user}:db-s3cret-pw@127.0.0.1:{database_proxy.port}"
        f"/{postgres_store.dbname}"
    )
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", url)
    monkeypatch.setenv("STREAMFOLD_SEARCH", f"embedded:///{lambda_home / 'index'}")
    crm = Crm()
    assert deliver(crm.next_batch()).succeeded  # a warm container with pooled connections
    return crm


def test_a_database_that_refuses_connections_is_reported_and_the_next_delivery_converges(
    crm: Crm, database_proxy: FaultProxy
) -> None:
    batch = crm.next_batch()
    database_proxy.refuse()  # open connections are reset too, as in a database restart

    during = deliver(batch, remaining_ms=REMAINING_MS)

    assert during.failed == during.identifiers
    assert during.seconds < REMAINING_MS / 1000
    database_proxy.heal()
    assert deliver(batch).succeeded
    assert_same_documents(searchable(), crm.expected())


def test_a_database_that_stops_answering_mid_query_is_reported_before_lambda_times_out(
    crm: Crm, database_proxy: FaultProxy
) -> None:
    batch = crm.next_batch()
    database_proxy.stall()

    during = deliver(batch, remaining_ms=REMAINING_MS)

    assert during.failed == during.identifiers
    assert 0.8 < during.seconds < REMAINING_MS / 1000 - 3  # it waited for its deadline only
    database_proxy.heal()
    assert deliver(batch).succeeded
    assert_same_documents(searchable(), crm.expected())


def test_a_cold_start_while_the_database_is_down_asks_for_every_record_again(
    crm: Crm, database_proxy: FaultProxy
) -> None:
    batch = crm.next_batch()
    lambda_handlers.reset()  # a new container
    database_proxy.refuse()

    during = deliver(batch, remaining_ms=REMAINING_MS)

    assert during.failed == during.identifiers
    database_proxy.heal()
    assert deliver(batch).succeeded
    assert_same_documents(searchable(), crm.expected())


@pytest.mark.parametrize("direction", ["request", "response"])
def test_connections_cut_anywhere_in_a_batch_never_acknowledge_what_was_not_stored(
    crm: Crm, database_proxy: FaultProxy, direction: str
) -> None:
    rng = random.Random(f"cuts-{direction}")
    for _ in range(3):
        batch = crm.next_batch()
        # Anywhere from the first query to the commit of the synced marks.
        database_proxy.cut(direction, after_bytes=rng.randint(0, 6_000), times=1)

        during = deliver(batch, remaining_ms=REMAINING_MS)

        if during.succeeded:  # the cut hit a moment the batch could survive, or none
            FIGURES["cuts_survived_within_the_batch"] += 1
            assert_same_documents(searchable_now(), crm.expected())
            continue
        assert during.failed == during.identifiers
        database_proxy.heal()
        assert deliver(batch).succeeded
        assert_same_documents(searchable_now(), crm.expected())
    assert database_proxy.faults[f"cut_{direction}"] >= 1
