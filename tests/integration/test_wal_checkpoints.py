"""Checkpoints of the embedded store's write-ahead logs run beside the commits (real SQLite
files, a real thread): a commit past the mark wakes the checkpointer and returns; the
thread copies the log into the database file; a log that starts again is cut back to the
mark, so that the next commits wake nothing until it is past it again."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure.adapters.eventstore.sqlite_factory import (
    PROJECTION_SCHEMA,
    WAL_AUTOCHECKPOINT_PAGES,
    TunedConnectionPool,
    TunedSQLiteDatastore,
    projection_file,
)
from infrastructure.adapters.eventstore.wal_checkpoints import (
    BACKSTOP_MARKS,
    WalCheckpointer,
    log_bytes,
)

WAITS = 30.0  # far longer than a checkpoint of a few pages takes
PAGE = 4096
MARK_PAGES = 16
MARK = log_bytes(MARK_PAGES, PAGE)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(tmp_path / "events.db", isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA wal_autocheckpoint=0")  # only the checkpointer copies
    connection.execute(f"PRAGMA journal_size_limit={MARK}")
    connection.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, body BLOB)")
    yield connection
    connection.close()


@pytest.fixture
def checkpointer(tmp_path: Path) -> Iterator[WalCheckpointer]:
    file = str(tmp_path / "events.db")
    checkpointer = WalCheckpointer({"main": file}, MARK)
    yield checkpointer
    checkpointer.close()


def _commit_pages(connection: sqlite3.Connection, pages: int) -> None:
    connection.execute("BEGIN")
    connection.executemany(
        "INSERT INTO rows (body) VALUES (?)", [(os.urandom(PAGE // 2),) for _ in range(2 * pages)]
    )
    connection.execute("COMMIT")


def test_a_log_past_the_mark_is_copied_by_the_thread(
    database: sqlite3.Connection, checkpointer: WalCheckpointer, tmp_path: Path
) -> None:
    file = tmp_path / "events.db"
    _commit_pages(database, MARK_PAGES // 4)
    checkpointer.after_commit()
    assert not checkpointer.started  # below the mark: no thread, nothing copied

    before = file.stat().st_size
    _commit_pages(database, 2 * MARK_PAGES)
    assert Path(f"{file}-wal").stat().st_size > MARK
    checkpointer.after_commit()

    assert checkpointer.wait_for(1, WAITS)
    # The pages the commits left in the log are in the database file now.
    assert file.stat().st_size > before + MARK_PAGES * PAGE


def test_a_log_that_starts_again_is_cut_back_to_the_mark(
    database: sqlite3.Connection, checkpointer: WalCheckpointer, tmp_path: Path
) -> None:
    _commit_pages(database, 3 * MARK_PAGES)
    checkpointer.after_commit()
    assert checkpointer.wait_for(1, WAITS)

    # Everything was copied and nobody reads the old frames: the next commit starts the
    # log again from its beginning and cuts the file back to the mark.
    _commit_pages(database, 1)
    assert (tmp_path / "events.db-wal").stat().st_size <= MARK
    checkpointer.after_commit()
    assert checkpointer.checkpoints == 1


def test_closing_stops_the_thread(
    database: sqlite3.Connection, checkpointer: WalCheckpointer
) -> None:
    _commit_pages(database, 2 * MARK_PAGES)
    checkpointer.after_commit()
    assert checkpointer.wait_for(1, WAITS)

    checkpointer.close()

    assert checkpointer._thread is not None and not checkpointer._thread.is_alive()
    checkpointer.after_commit()  # closed: wakes nothing, starts nothing
    assert checkpointer.checkpoints == 1


def test_the_stores_connections_leave_checkpoints_to_the_thread(tmp_path: Path) -> None:
    datastore = TunedSQLiteDatastore(db_name=str(tmp_path / "events.db"))
    try:
        with datastore.transaction(commit=True) as cursor:
            cursor.execute("CREATE TABLE IF NOT EXISTS rows (id INTEGER PRIMARY KEY)")
        pool = datastore.pool
        assert isinstance(pool, TunedConnectionPool)
        assert pool.checkpointer is not None
        connection = pool.get_connection(is_writer=False)
        try:
            sqlite = connection._sqlite_conn
            (backstop,) = sqlite.execute("PRAGMA wal_autocheckpoint").fetchone()
            (limit,) = sqlite.execute("PRAGMA main.journal_size_limit").fetchone()
            (projection_limit,) = sqlite.execute(
                f"PRAGMA {PROJECTION_SCHEMA}.journal_size_limit"
            ).fetchone()
        finally:
            pool.put_connection(connection)
        assert backstop == BACKSTOP_MARKS * WAL_AUTOCHECKPOINT_PAGES
        assert limit == projection_limit == log_bytes(WAL_AUTOCHECKPOINT_PAGES, PAGE)
        assert projection_file(str(tmp_path / "events.db")).exists()
    finally:
        datastore.close()
    assert pool.checkpointer is not None and not pool.checkpointer.started


def test_an_in_memory_store_has_no_checkpointer() -> None:
    datastore = TunedSQLiteDatastore(db_name=":memory:")
    try:
        with datastore.transaction(commit=True) as cursor:
            cursor.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY)")
        assert isinstance(datastore.pool, TunedConnectionPool)
        assert datastore.pool.checkpointer is None
    finally:
        datastore.close()


@pytest.mark.parametrize("held", [False, True], ids=["a transaction", "held commits"])
def test_a_stores_commit_past_the_mark_wakes_the_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, held: bool
) -> None:
    monkeypatch.setattr(
        "infrastructure.adapters.eventstore.sqlite_factory.WAL_AUTOCHECKPOINT_PAGES", MARK_PAGES
    )
    datastore = TunedSQLiteDatastore(db_name=str(tmp_path / "events.db"))
    try:
        with datastore.transaction(commit=True) as cursor:
            cursor.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, body BLOB)")
        pool = datastore.pool
        assert isinstance(pool, TunedConnectionPool) and pool.checkpointer is not None
        assert not pool.checkpointer.started
        if held:
            datastore.hold_commits("rows")
        # Fewer pages than SQLite's own backstop would copy, more than the mark.
        for _ in range(2):
            with datastore.transaction(commit=True) as cursor:
                for _ in range(MARK_PAGES):
                    cursor.execute("INSERT INTO rows (body) VALUES (?)", (os.urandom(PAGE),))
        if held:
            assert not pool.checkpointer.started  # nothing committed yet
            datastore.commit_held()

        assert pool.checkpointer.wait_for(1, WAITS)
    finally:
        datastore.close()
