"""The embedded store's connection pool: a thread holding the writing connection can
always get a reading one, even while another thread waits for the writer (real SQLite
files, real threads)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from eventsourcing.persistence import ConnectionUnavailableError

from infrastructure.adapters.eventstore.sqlite_factory import TunedConnectionPool

# How long the waiting writer waits: far longer than the reader may take to be answered.
WRITER_WAITS = 30.0
READER_WAITS = 2.0


@pytest.fixture
def pool(tmp_path: Path) -> Iterator[TunedConnectionPool]:
    pool = TunedConnectionPool(db_name=str(tmp_path / "events.db"), pool_timeout=WRITER_WAITS)
    yield pool
    pool.close()


def test_the_writers_thread_gets_a_reader_while_another_thread_waits_for_the_writer(
    pool: TunedConnectionPool,
) -> None:
    # A projection's locked transaction holds the writer and reads its events through a
    # second connection; a live batch's transaction waits for the writer meanwhile.
    writer = pool.get_connection(is_writer=True)
    waiting = threading.Event()
    taken: list[object] = []

    def wait_for_the_writer() -> None:
        waiting.set()
        connection = pool.get_connection(is_writer=True)
        taken.append(connection)
        pool.put_connection(connection)

    other = threading.Thread(target=wait_for_the_writer)
    other.start()
    waiting.wait()
    # Let the other thread reach its wait (if it has not, the reader comes even sooner).
    other.join(timeout=0.2)

    reader = pool.get_connection(timeout=READER_WAITS, is_writer=False)
    pool.put_connection(reader)
    assert taken == []  # still waiting for the writer
    pool.put_connection(writer)
    other.join(timeout=WRITER_WAITS)

    assert not other.is_alive() and len(taken) == 1


def test_a_second_writer_still_waits_for_the_first_and_times_out(
    pool: TunedConnectionPool,
) -> None:
    writer = pool.get_connection(is_writer=True)
    failures: list[Exception] = []

    def ask_for_the_writer() -> None:
        try:
            pool.put_connection(pool.get_connection(timeout=0.1, is_writer=True))
        except ConnectionUnavailableError as error:
            failures.append(error)

    other = threading.Thread(target=ask_for_the_writer)
    other.start()
    other.join()

    assert [str(error) for error in failures] == ["Timed out waiting for return of writer"]
    pool.put_connection(writer)
    # The timed-out request took nothing: the writer is free once the first is returned.
    again = pool.get_connection(timeout=READER_WAITS, is_writer=True)
    pool.put_connection(again)
