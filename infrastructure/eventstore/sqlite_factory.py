"""The library's SQLite factory, with connections tuned for the embedded event store."""

from __future__ import annotations

from typing import Any

from eventsourcing.sqlite import SQLiteConnection, SQLiteConnectionPool, SQLiteFactory


class _TunedConnectionPool(SQLiteConnectionPool):
    def _create_connection(self) -> SQLiteConnection:
        connection = super()._create_connection()
        # In WAL mode NORMAL still survives any application crash; only a power loss can
        # undo the last commits. It saves an fsync per transaction.
        connection._sqlite_conn.execute("PRAGMA synchronous=NORMAL")
        return connection


class TunedSQLiteFactory(SQLiteFactory):
    def __init__(self, env: Any) -> None:
        super().__init__(env)
        old = self.datastore.pool
        self.datastore.pool = _TunedConnectionPool(
            db_name=old.db_name, lock_timeout=old.lock_timeout
        )
        old.close()
