"""The stored events of a range of the global order, as plain rows, for the export."""

from __future__ import annotations

from typing import Any

from psycopg.rows import tuple_row
from psycopg.sql import SQL, Identifier

from infrastructure.adapters.eventstore.postgres_recorder import PostgresSourceRecorder
from infrastructure.adapters.eventstore.store import EventStore


def stored_event_rows(store: EventStore, after: int, until: int) -> list[Any]:
    """(position, aggregate id as hex, version, topic, state) of a range of the log.

    Read straight from the library's events table: the recorder's own reader builds a
    UUID and an object per event, which costs more than everything else the export does.
    """
    recorder = store.recorder
    if isinstance(recorder, PostgresSourceRecorder):
        statement = SQL(
            "SELECT notification_id, replace(originator_id::text, '-', ''),"
            " originator_version, topic, state FROM {schema}.{table}"
            " WHERE notification_id > %s AND notification_id <= %s"
            " ORDER BY notification_id"
        ).format(
            schema=Identifier(recorder.datastore.schema),
            table=Identifier(recorder.events_table_name),
        )
        with (
            recorder.datastore.get_connection() as connection,
            connection.cursor(row_factory=tuple_row) as cursor,
        ):
            cursor.execute(statement, (after, until))
            return cursor.fetchall()
    with recorder.datastore.transaction(commit=False) as cursor:
        plain = cursor.sqlite_cursor
        plain.row_factory = None  # tuples: the library's named rows cost more to build
        plain.execute(
            "SELECT rowid, originator_id, originator_version, topic, state"
            f" FROM {recorder.events_table_name} WHERE rowid > ? AND rowid <= ?"
            " ORDER BY rowid",
            (after, until),
        )
        return plain.fetchall()
