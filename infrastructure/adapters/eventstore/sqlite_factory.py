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
from pathlib import Path
from typing import Any

from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool, SQLiteFactory

# Pages of write-ahead log a commit lets pile up before it copies them into the database
# file and syncs it (SQLite's default: 1,000 pages, 4 MB, which a rebuild's bucket or page
# of documents fills in a few commits; its commits took 27 ms each on average). At 10,000
# pages (40 MB) a two-worker rebuild of a million events ran 15 % faster (four runs each,
# alternated). Pages written again before a checkpoint are copied once; readers find the
# recent pages in the log as before.
WAL_AUTOCHECKPOINT_PAGES = 10_000

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

    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        sqlite = connection._sqlite_conn
        # In WAL mode NORMAL still survives any application crash; only a power loss can
        # undo the last commits. It saves an fsync per transaction.
        sqlite.execute("PRAGMA synchronous=NORMAL")
        sqlite.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
        if self.projection_attached is None:
            self.projection_attached = not self.is_sqlite_memory_mode and not _has_table(
                sqlite, _OLD_LAYOUT_TABLE
            )
        if self.projection_attached:
            self._attach_projection(sqlite)
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


class TunedSQLiteFactory(SQLiteFactory):
    def __init__(self, env: Any) -> None:
        super().__init__(env)
        old = self.datastore.pool
        self.datastore.pool = TunedConnectionPool(
            db_name=old.db_name, lock_timeout=old.lock_timeout
        )
        old.close()
