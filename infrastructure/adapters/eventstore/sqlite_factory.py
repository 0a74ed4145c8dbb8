"""The library's SQLite factory, with connections tuned for the embedded event store.

The projection's tables live in a file of their own beside the event store's
(``events.db`` and ``events.projection.db``), attached to every connection as the schema
``projection``: SQLite has one write lock per file, so a projection transaction (which
holds its file's lock from its first statement to its commit, see `dialects`) no longer
stops the intake of another process from recording events meanwhile. SQL names the
tables without a schema; SQLite finds each in the file that holds it. A store whose
projection tables were created in the event store's file keeps them there and attaches
nothing. See docs/adr/0028-the-projection-in-its-own-sqlite-file.md.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from eventsourcing.persistence import ConnectionUnavailableError, OperationalError
from eventsourcing.sqlite import (
    SQLiteConnection,
    SQLiteConnectionPool,
    SQLiteCursor,
    SQLiteDatastore,
    SQLiteFactory,
    SQLiteTransaction,
)

from infrastructure.adapters.eventstore.wal_checkpoints import (
    BACKSTOP_MARKS,
    WalCheckpointer,
    log_bytes,
)

# Pages of write-ahead log that pile up before they are copied into the database file and
# synced (SQLite's default: 1,000 pages, 4 MB, which a rebuild's bucket or page of
# documents fills in a few commits; its commits took 27 ms each on average). At 10,000
# pages (40 MB) a two-worker rebuild of a million events ran 15 % faster (four runs each,
# alternated). Pages written again before a checkpoint are copied once; readers find the
# recent pages in the log as before. The copy runs in a thread of its own
# (`wal_checkpoints`), not in the commit that passes the mark.
WAL_AUTOCHECKPOINT_PAGES = 10_000

# Each connection's page cache, at most (SQLite's default: 2 MB). A command's group of
# batches, committed together (`TunedSQLiteDatastore.hold_commits`), changes most pages of
# the events' index and of the items' positions: with 2 MB they spilled into the log batch
# by batch, with 64 MB each is written once, at the commit. A connection's cache grows only
# with the pages it reads or changes.
CACHE_KIB = 65_536

PROJECTION_SCHEMA = "projection"
# A table of the projection's file that always exists: a statement writing to it (and
# changing nothing) takes that file's write lock (`SQLiteDialect.begin_writing`).
PROJECTION_MARKER = "streamfold_projection_file"
# A table only a store keeping its projection in the event store's file has.
_OLD_LAYOUT_TABLE = "streamfold_tracking"


def projection_file(events_file: str) -> Path:
    """The projection's file beside ``events_file``: events.db -> events.projection.db."""
    path = Path(events_file)
    return path.with_name(f"{path.stem}.projection{path.suffix}")


class TunedConnectionPool(SQLiteConnectionPool):
    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.projection_attached: bool | None = None  # decided by the first connection
        # The logs' checkpoints, beside the commits (none for an in-memory database).
        self.checkpointer: WalCheckpointer | None = None

    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        sqlite = connection._sqlite_conn
        # In WAL mode NORMAL still survives any application crash; only a power loss can
        # undo the last commits. It saves an fsync per transaction.
        sqlite.execute("PRAGMA synchronous=NORMAL")
        # SQLite's own checkpoint, run by the commit that passes it, only as a backstop.
        sqlite.execute(f"PRAGMA wal_autocheckpoint={BACKSTOP_MARKS * WAL_AUTOCHECKPOINT_PAGES}")
        sqlite.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        if self.projection_attached is None:
            self.projection_attached = not self.is_sqlite_memory_mode and not _has_table(
                sqlite, _OLD_LAYOUT_TABLE
            )
            if not self.is_sqlite_memory_mode:
                self._start_checkpoints(sqlite)
        if self.projection_attached:
            self._attach_projection(sqlite)
        if self.checkpointer is not None:
            # A log that starts again from its beginning is cut back to the mark: a larger
            # file then holds more than the mark of new frames (`wal_checkpoints`).
            mark = self.checkpointer.mark_bytes
            for schema in ("main", PROJECTION_SCHEMA) if self.projection_attached else ("main",):
                sqlite.execute(f"PRAGMA {schema}.journal_size_limit={mark}")
        return connection

    def _start_checkpoints(self, sqlite: sqlite3.Connection) -> None:
        (page_size,) = sqlite.execute("PRAGMA page_size").fetchone()
        files = {"main": self.db_name}
        if self.projection_attached:
            files[PROJECTION_SCHEMA] = str(projection_file(self.db_name))
        self.checkpointer = WalCheckpointer(
            files, log_bytes(WAL_AUTOCHECKPOINT_PAGES, int(page_size))
        )

    def after_commit(self) -> None:
        """A commit ended: the checkpointer copies a log it left past the mark."""
        if self.checkpointer is not None:
            self.checkpointer.after_commit()

    def close(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.close()
        super().close()

    def get_connection(
        self, timeout: float | None = None, *, is_writer: bool | None = None
    ) -> SQLiteConnection:
        """The library's, except that a request for the writing connection waits for it
        before it joins the queue for connections, not at its head.

        The library's queue (its "fairness") is held by the request at its head while that
        request waits for the writing connection to be returned. A thread that holds the
        writing connection and asks for a reading one (a projection's locked transaction
        reading the events it folds) would then wait behind it: neither could move until
        the writer's wait timed out (``pool_timeout``) and failed its batch. Waiting for the
        writer's turn outside the queue leaves the queue to requests that can be answered.
        """
        if is_writer is not True or self._mutually_exclusive_read_write or self.closed:
            return super().get_connection(timeout, is_writer=is_writer)  # (closed: raises)
        timeout = self.pool_timeout if timeout is None else timeout
        started = time.time()  # as the library counts its timeouts
        if not self._writer_lock.acquire(timeout=timeout):
            raise ConnectionUnavailableError("Timed out waiting for return of writer")
        try:
            if not self._get_semaphore.acquire(timeout=self._time_remaining(timeout, started)):
                raise ConnectionUnavailableError("Timed out waiting for connection pool semaphore")
            try:
                connection = self._get_connection(timeout=self._time_remaining(timeout, started))
            finally:
                self._get_semaphore.release()
        except BaseException:
            self._writer_lock.release()
            raise
        # What the library counts and `put_connection` undoes: the writer returned.
        self._num_writers += 1
        connection.is_writer = True
        return connection

    def _attach_projection(self, sqlite: sqlite3.Connection) -> None:
        schema = PROJECTION_SCHEMA
        sqlite.execute(f"ATTACH DATABASE ? AS {schema}", (str(projection_file(self.db_name)),))
        sqlite.execute(f"PRAGMA {schema}.journal_mode=WAL")
        sqlite.execute(f"PRAGMA {schema}.synchronous=NORMAL")
        # Created once; asked first, since creating takes the file's write lock, which a
        # projection transaction of another process may be holding.
        if not _has_table(sqlite, PROJECTION_MARKER, schema):
            sqlite.execute(
                f"CREATE TABLE IF NOT EXISTS {schema}.{PROJECTION_MARKER} (id INTEGER PRIMARY KEY)"
            )


def connect_store(events_file: str | Path) -> sqlite3.Connection:
    """A plain connection to an embedded event store, its projection's file attached if it
    has one (for tools that read or copy rows directly)."""
    connection = sqlite3.connect(events_file)
    attached = projection_file(str(events_file))
    if attached.exists() and not _has_table(connection, _OLD_LAYOUT_TABLE):
        connection.execute(f"ATTACH DATABASE ? AS {PROJECTION_SCHEMA}", (str(attached),))
    return connection


def _has_table(sqlite: sqlite3.Connection, name: str, schema: str = "main") -> bool:
    found = sqlite.execute(
        f"SELECT 1 FROM {schema}.sqlite_master WHERE type = 'table' AND name = ?", (name,)
    )
    return found.fetchone() is not None


class TunedSQLiteDatastore(SQLiteDatastore):
    """The library's datastore with tuned connections, whose threads can hold their commits.

    A thread that holds its commits (`hold_commits`) keeps one writing connection in one
    transaction until `commit_held`: each of its transactions meanwhile (the intake's
    writes, dead letters, a `poll`'s checkpoints, their reads) is a savepoint of it, kept
    or rolled back on its own. A command's group of batches so commits once: every commit
    copies each page it changed into the write-ahead log, and a batch of a thousand events
    changes most pages of the events' index and of the items' positions (random keys), so
    one commit per group writes each of them once instead of once per batch. The write
    lock is held from the group's first batch to its commit: other writers of the file
    wait for it (within the lock timeout). See docs/adr/0034-a-commands-batches-commit-together.md.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        default = self.pool
        self.pool = self._tuned = TunedConnectionPool(
            db_name=default.db_name, lock_timeout=default.lock_timeout
        )
        default.close()
        self._held = threading.local()

    @contextmanager
    def transaction(self, *, commit: bool) -> Iterator[SQLiteCursor]:
        held: _Held | None = getattr(self._held, "group", None)
        if held is None:
            with super().transaction(commit=commit) as cursor:
                yield cursor
            if commit:
                self._tuned.after_commit()
            return
        with _SavepointTransaction(held, commit=commit) as cursor, cursor:
            yield cursor

    @property
    def holding(self) -> bool:
        """Whether this thread holds its commits."""
        return getattr(self._held, "group", None) is not None

    def hold_commits(self, table: str) -> None:
        """This thread's transactions join one from now on, until `commit_held`.

        The transaction takes the write lock of ``table``'s file at once, waiting for it
        within the lock timeout: one that read first could not take it later once another
        writer had committed. (``BEGIN IMMEDIATE`` would lock every attached file, the
        projection's too, which the command's second process writes meanwhile.)
        """
        if self.holding:
            return
        connection = self.pool.get_connection(is_writer=True)
        try:
            sqlite = connection._sqlite_conn
            sqlite.execute("BEGIN")
            sqlite.execute(f"DELETE FROM {table} WHERE 0")  # writes nothing, takes the lock
        except sqlite3.Error as error:
            if connection._sqlite_conn.in_transaction:
                connection._sqlite_conn.execute("ROLLBACK")
            self.pool.put_connection(connection)
            raise OperationalError(error) from error
        self._held.group = _Held(connection)

    def commit_held(self) -> None:
        """Commit what this thread recorded since `hold_commits` (nothing if it holds none).

        Raises `OperationalError` if SQLite rolled the transaction back meanwhile (a full
        disk, say): what was recorded since the hold is then not in the store.
        """
        held: _Held | None = getattr(self._held, "group", None)
        if held is None:
            return
        self._held.group = None
        sqlite = held.connection._sqlite_conn
        try:
            if held.lost is not None or not sqlite.in_transaction:
                raise OperationalError(
                    "the batches recorded since the last commit were rolled back: "
                    f"{held.lost or 'SQLite ended the transaction'}"
                )
            sqlite.execute("COMMIT")
        except sqlite3.Error as error:
            if sqlite.in_transaction:
                sqlite.execute("ROLLBACK")
            raise OperationalError(error) from error
        finally:
            self.pool.put_connection(held.connection)
        self._tuned.after_commit()


class _Held:
    """A thread's writing connection, in the transaction its commits join."""

    def __init__(self, connection: SQLiteConnection) -> None:
        self.connection = connection
        self.lost: sqlite3.Error | None = None  # what rolled the transaction back, if anything


class _SavepointTransaction(SQLiteTransaction):
    """One transaction of a thread holding its commits: a savepoint of the held one (the
    library's transaction, with its errors mapped the same way)."""

    def __init__(self, held: _Held, *, commit: bool) -> None:
        super().__init__(held.connection, commit=commit)
        self.connection: Any = _Savepoint(held)

    def __enter__(self) -> SQLiteCursor:
        cursor = self.connection.cursor()
        cursor.execute(f"SAVEPOINT {_SAVEPOINT}")
        return cursor


_SAVEPOINT = "streamfold_batch"


class _Savepoint:
    """The held connection as `SQLiteTransaction` uses it: commit and roll back a savepoint."""

    def __init__(self, held: _Held) -> None:
        self._held = held
        self._sqlite = held.connection._sqlite_conn

    def cursor(self) -> SQLiteCursor:
        return self._held.connection.cursor()

    def commit(self) -> None:
        self._sqlite.execute(f"RELEASE {_SAVEPOINT}")

    def rollback(self) -> None:
        if not self._sqlite.in_transaction:
            # SQLite rolled the whole transaction back (SQLITE_FULL, SQLITE_IOERR, ...):
            # the batches before this one are gone too, which `commit_held` reports.
            self._held.lost = self._held.lost or sqlite3.OperationalError(
                "SQLite rolled the transaction back"
            )
            return
        self._sqlite.execute(f"ROLLBACK TO {_SAVEPOINT}")
        self._sqlite.execute(f"RELEASE {_SAVEPOINT}")


class TunedSQLiteFactory(SQLiteFactory):
    def __init__(self, env: Any) -> None:
        super().__init__(env)
        default = self.datastore
        self.datastore = TunedSQLiteDatastore(
            db_name=default.pool.db_name,
            lock_timeout=default.pool.lock_timeout,
            single_row_tracking=default.single_row_tracking,
            originator_id_type=default.originator_id_type,
        )
        default.close()
