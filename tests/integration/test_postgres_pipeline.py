"""PostgreSQL exchanges: transactions sent as pipelines, broken connections replaced.

Round trips are counted on the wire by a loopback proxy (`devtools.latency_proxy`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from eventsourcing.persistence import OperationalError, PersistenceError
from psycopg import pq
from psycopg.rows import dict_row

from devtools.latency_proxy import LatencyProxy
from infrastructure.adapters.eventstore.postgres_pipeline import (
    PipelinedTransaction,
    in_one_message,
    opened,
    pipelined,
)
from infrastructure.adapters.eventstore.store import EventStore
from infrastructure.settings import PostgresStore


@pytest.fixture
def store(postgres_store: PostgresStore) -> Iterator[EventStore]:
    event_store = EventStore(postgres_store)
    yield event_store
    event_store.close()


@pytest.fixture
def proxied(postgres_store: PostgresStore) -> Iterator[tuple[LatencyProxy, Any]]:
    """A connection through a round-trip counter, with a table ``t``."""
    with LatencyProxy((postgres_store.host, postgres_store.port)) as proxy:
        connection = psycopg.connect(
            host="127.0.0.1",
            port=proxy.port,
            user=postgres_store.user,
            dbname=postgres_store.dbname,
            autocommit=True,
            row_factory=dict_row,
        )
        with connection:
            connection.execute("CREATE TABLE t (n int)")
            proxy.reset_counts()
            yield proxy, connection


def _datastore(store: EventStore) -> Any:
    return store.event_log.factory.datastore  # type: ignore[attr-defined]


def _rows(postgres_store: PostgresStore, statement: str) -> list[Any]:
    with psycopg.connect(
        host=postgres_store.host, user=postgres_store.user, dbname=postgres_store.dbname
    ) as connection:
        return connection.execute(statement).fetchall()


def test_a_transaction_costs_a_round_trip_per_read_and_one_for_the_commit(
    proxied: tuple[LatencyProxy, Any], postgres_store: PostgresStore
) -> None:
    proxy, connection = proxied
    transaction = PipelinedTransaction(connection)
    transaction.write("INSERT INTO t VALUES (%s)", (1,))
    transaction.write("INSERT INTO t VALUES (%s)", (2,))

    (counted,) = transaction.read([("SELECT count(*) AS n FROM t", None)])
    transaction.write("INSERT INTO t VALUES (%s)", (3,))
    assert _rows(postgres_store, "SELECT n FROM t") == []  # not committed yet
    transaction.commit()

    assert counted == [{"n": 2}]  # the waiting writes went first
    assert proxy.round_trips == 2
    assert _rows(postgres_store, "SELECT n FROM t ORDER BY n") == [(1,), (2,), (3,)]


def test_a_refused_write_rolls_the_whole_transaction_back_and_the_connection_serves_on(
    proxied: tuple[LatencyProxy, Any], postgres_store: PostgresStore
) -> None:
    _, connection = proxied
    transaction = PipelinedTransaction(connection)
    transaction.write("INSERT INTO t VALUES (%s)", (1,))
    transaction.write("SELECT 1 / 0")

    with pytest.raises(psycopg.errors.DivisionByZero):
        transaction.commit()

    assert connection.pgconn.transaction_status == pq.TransactionStatus.IDLE
    assert connection.execute("SELECT count(*) AS n FROM t").fetchone() == {"n": 0}
    assert _rows(postgres_store, "SELECT n FROM t") == []


def test_reads_sent_as_one_message_answer_each_its_rows_in_one_round_trip(
    proxied: tuple[LatencyProxy, Any],
) -> None:
    proxy, connection = proxied
    ids = [f"id-{n}" for n in range(5000)]

    rows = in_one_message(
        connection,
        [
            ("SELECT %s::int AS a", (7,)),
            ("SELECT count(*) AS n FROM unnest(%s::text[])", (ids,)),
            ("SELECT x FROM unnest(%s::text[]) AS x WHERE x = ANY(%s)", (ids, ["id-3", "no"])),
        ],
    )

    assert rows == [[{"a": 7}], [{"n": 5000}], [{"x": "id-3"}]]
    assert proxy.round_trips == 1


def test_a_pooled_connection_broken_since_its_last_use_is_replaced_at_its_first_exchange(
    store: EventStore, postgres_store: PostgresStore
) -> None:
    datastore = _datastore(store)
    with datastore.get_connection() as connection:
        connection.execute("SELECT 1")  # pooled, and used once
    with psycopg.connect(host=postgres_store.host, user=postgres_store.user, autocommit=True) as c:
        c.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
            (postgres_store.dbname,),
        )
    attempts: list[Any] = []

    def first(connection: Any) -> list[list[Any]]:
        attempts.append(connection)
        return pipelined(connection, [("SELECT 1 AS one", None)])

    with opened(datastore, first) as (_, rows):
        assert rows == [[{"one": 1}]]
    assert len(attempts) == 2
    assert attempts[0].closed and not attempts[1].closed


def test_a_failure_on_a_working_connection_is_not_run_again(store: EventStore) -> None:
    attempts: list[Any] = []

    def first(connection: Any) -> list[list[Any]]:
        attempts.append(connection)
        return pipelined(
            connection,
            [
                ("BEGIN", None),
                ("SET LOCAL statement_timeout = 1", None),
                ("SELECT pg_sleep(0.2)", None),  # canceled: an operational error
                ("COMMIT", None),
            ],
        )

    with pytest.raises(OperationalError), opened(_datastore(store), first):
        pass
    assert len(attempts) == 1
    assert attempts[0].pgconn.transaction_status == pq.TransactionStatus.IDLE


def test_a_statement_the_database_refuses_is_raised_as_it_is(store: EventStore) -> None:
    def first(connection: Any) -> list[list[Any]]:
        return pipelined(connection, [("SELECT 1 / 0", None)])

    with pytest.raises(PersistenceError), opened(_datastore(store), first):
        pass
