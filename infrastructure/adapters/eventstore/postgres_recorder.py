"""PostgreSQL recorder that also moves per-item stream positions in the events' transaction."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import IntegrityError, Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from domain.intake import PositionMove
from domain.positions import ItemPosition
from infrastructure.adapters.eventstore.item_positions import decoded, encoded


class PostgresSourceRecorder(PostgresApplicationRecorder):
    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {schema}.streamfold_item_positions ("
                "item_key text PRIMARY KEY, position text NOT NULL)"
            ).format(schema=Identifier(self.datastore.schema))
        )

    def _insert_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        moves: Sequence[PositionMove] = kwargs.get("position_moves", ())
        if moves:
            self._move_positions(curs, sorted(moves, key=lambda m: m.item_key))
        super()._insert_events(curs, stored_events, **kwargs)

    def _move_positions(self, curs: Cursor[DictRow], moves: list[PositionMove]) -> None:
        table = SQL("{schema}.streamfold_item_positions").format(
            schema=Identifier(self.datastore.schema)
        )
        keys = [m.item_key for m in moves]
        # Lock the rows in key order first: concurrent batches touching the same items
        # then queue behind each other instead of deadlocking.
        curs.execute(
            SQL(
                "SELECT item_key, position FROM {table} WHERE item_key = ANY(%s) "
                "ORDER BY item_key FOR UPDATE"
            ).format(table=table),
            (keys,),
        )
        current = {row["item_key"]: row["position"] for row in curs.fetchall()}
        for move in moves:
            expected = None if move.expected is None else encoded(move.expected)
            if current.get(move.item_key) != expected:
                raise IntegrityError(f"stream position of {move.item_key!r} moved concurrently")
        updates = [m for m in moves if m.expected is not None]
        if updates:
            curs.execute(
                SQL(
                    "UPDATE {table} AS p SET position = m.position "
                    "FROM unnest(%s::text[], %s::text[]) AS m(item_key, position) "
                    "WHERE p.item_key = m.item_key"
                ).format(table=table),
                ([m.item_key for m in updates], [encoded(m.position) for m in updates]),
            )
        inserts = [m for m in moves if m.expected is None]
        if inserts:
            # A concurrent first writer of the same item makes DO NOTHING skip the row:
            # fewer rows back means someone else was first.
            curs.execute(
                SQL(
                    "INSERT INTO {table} (item_key, position) "
                    "SELECT * FROM unnest(%s::text[], %s::text[]) "
                    "ON CONFLICT (item_key) DO NOTHING RETURNING item_key"
                ).format(table=table),
                ([m.item_key for m in inserts], [encoded(m.position) for m in inserts]),
            )
            if len(curs.fetchall()) != len(inserts):
                raise IntegrityError("a stream position was recorded concurrently")

    def select_positions(self, item_keys: Collection[str]) -> dict[str, ItemPosition]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT item_key, position FROM {schema}.streamfold_item_positions "
                    "WHERE item_key = ANY(%s)"
                ).format(schema=Identifier(self.datastore.schema)),
                (list(item_keys),),
            )
            return {row["item_key"]: decoded(row["position"]) for row in curs.fetchall()}

    def select_events_of(self, originator_ids: Collection[UUID]) -> list[StoredEvent]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT originator_id, originator_version, topic, state "
                    "FROM {schema}.{table} WHERE originator_id = ANY(%s) "
                    "ORDER BY originator_id, originator_version"
                ).format(
                    schema=Identifier(self.datastore.schema),
                    table=Identifier(self.events_table_name),
                ),
                (list(originator_ids),),
            )
            return [
                StoredEvent(
                    row["originator_id"], row["originator_version"], row["topic"], row["state"]
                )
                for row in curs.fetchall()
            ]

    def select_notifications_of(self, originator_ids: Collection[str]) -> list[Notification]:
        """Every event of these aggregates (ids in hex) with its position, in global order."""
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL(
                    "SELECT notification_id, originator_id, originator_version, topic, state "
                    "FROM {schema}.{table} WHERE originator_id = ANY(%s::uuid[]) "
                    "ORDER BY notification_id"
                ).format(
                    schema=Identifier(self.datastore.schema),
                    table=Identifier(self.events_table_name),
                ),
                (list(originator_ids),),
            )
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=row["state"],
                )
                for row in curs.fetchall()
            ]
