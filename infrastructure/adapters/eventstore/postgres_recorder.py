"""PostgreSQL recorder that also moves per-item stream positions in the events' transaction."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Composable, Composed, Identifier

from domain.intake import PositionMove
from domain.positions import ItemPosition
from infrastructure.adapters.eventstore.item_positions import decoded, encoded, encodings
from infrastructure.adapters.eventstore.postgres_pipeline import Statement, opened, pipelined

_ASSERT_FUNCTION = "streamfold_assert"


class PostgresSourceRecorder(PostgresApplicationRecorder):
    """eventsourcing's recorder, its events table and its insert, sent in one round trip.

    The insert's transaction (BEGIN, the position moves, ``LOCK TABLE``, the events'
    ``INSERT ... RETURNING``, ``NOTIFY``, COMMIT) goes out as one pipeline, so nothing
    in it can wait for a result: the database itself refuses a position that moved since
    the intake read it (``streamfold_assert`` raises an integrity violation inside the
    transaction), which surfaces as eventsourcing's `IntegrityError` like a duplicate
    event version does. The table lock is eventsourcing's: notification ids are given in
    commit order, without gaps a reader could pass over.
    """

    def __init__(self, datastore: Any, *, events_table_name: str = "stored_events") -> None:
        super().__init__(datastore, events_table_name=events_table_name)
        schema = Identifier(self.datastore.schema)
        self._positions = SQL("{schema}.streamfold_item_positions").format(schema=schema)
        self._assert = SQL("{schema}.{name}").format(
            schema=schema, name=Identifier(_ASSERT_FUNCTION)
        )
        # The ids are given in insertion order (the table lock leaves the sequence to
        # this insert alone), so sorted they are in the order of the events.
        self._insert_returning_ids = SQL(
            "WITH inserted AS ({insert}) "
            "SELECT array_agg(notification_id ORDER BY notification_id) AS ids FROM inserted"
        ).format(insert=_in_binary(self.insert_events_statement))
        self.sql_create_statements.append(
            SQL(
                "CREATE TABLE IF NOT EXISTS {table} ("
                "item_key text PRIMARY KEY, position text NOT NULL)"
            ).format(table=self._positions)
        )
        # Raises an integrity violation unless ``ok``: a check that a pipelined
        # transaction makes without reading its result.
        self.sql_create_statements.append(
            SQL(
                "CREATE OR REPLACE FUNCTION {function}(ok boolean, message text) "
                "RETURNS boolean LANGUAGE plpgsql AS $body$ BEGIN "
                "IF ok IS NOT TRUE THEN RAISE EXCEPTION USING "
                "ERRCODE = 'integrity_constraint_violation', MESSAGE = message; END IF; "
                "RETURN true; END $body$"
            ).format(function=self._assert)
        )

    def insert_events(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        moves: Sequence[PositionMove] = kwargs.get("position_moves", ())
        statements = [
            *self._position_moves(sorted(moves, key=lambda m: m.item_key)),
            *self._events_insert(stored_events),
            ("COMMIT", None),
        ]
        transaction = [("BEGIN", None), *statements]
        # Run again on a fresh connection only if the first one was found broken: a
        # transaction that committed before the answer was lost is then refused by the
        # positions it moved, and the intake decides again.
        with opened(self.datastore, lambda connection: pipelined(connection, transaction)) as (
            _,
            results,
        ):
            if not stored_events:
                return []
            (inserted,) = results[-2]  # before COMMIT
            ids: list[int] = inserted["ids"]
            return ids

    def _events_insert(self, stored_events: Sequence[StoredEvent]) -> list[Statement]:
        if not stored_events:
            return []
        pg_stored_events = [
            self.construct_pg_stored_event(e.originator_id, e.originator_version, e.topic, e.state)
            for e in stored_events
        ]
        # The library's order: lock, NOTIFY (sent at the commit), insert. The ids come
        # back as one row: rows answered while the rest of the pipeline is still on its
        # way would make the server speak before the client is done.
        return [
            *((statement, None) for statement in self.lock_table_statements),
            (SQL("NOTIFY {0}").format(Identifier(self.channel_name)), None),
            (self._insert_returning_ids, (pg_stored_events,)),
        ]

    def _position_moves(self, moves: list[PositionMove]) -> list[Statement]:
        statements: list[Statement] = []
        updates = [m for m in moves if m.expected is not None]
        if updates:
            keys = [m.item_key for m in updates]
            # Lock the rows in key order first: concurrent batches touching the same items
            # then queue behind each other instead of deadlocking.
            statements.append(
                (
                    SQL(
                        "SELECT count(*) FROM (SELECT 1 FROM {table} WHERE item_key = ANY(%s) "
                        "ORDER BY item_key FOR UPDATE) AS locked"
                    ).format(table=self._positions),
                    (keys,),
                )
            )
            # A row whose position is no longer the one read is not updated: fewer rows.
            # It may hold the position read in either of its texts (a row written before
            # the compact form holds the JSON one).
            expected = [encodings(m.expected) for m in updates if m.expected is not None]
            statements.append(
                (
                    SQL(
                        "WITH moved AS (UPDATE {table} AS p SET position = m.position "
                        "FROM unnest(%b::text[], %b::text[], %b::text[], %b::text[]) "
                        "AS m(item_key, expected, written_before, position) "
                        "WHERE p.item_key = m.item_key "
                        "AND p.position IN (m.expected, m.written_before) "
                        "RETURNING 1) "
                        "SELECT {check}((SELECT count(*) FROM moved) = %s, %s)"
                    ).format(table=self._positions, check=self._assert),
                    (
                        keys,
                        [texts[0] for texts in expected],
                        [texts[1] for texts in expected],
                        [encoded(m.position) for m in updates],
                        len(updates),
                        "a stream position moved concurrently",
                    ),
                )
            )
        inserts = [m for m in moves if m.expected is None]
        if inserts:
            # A concurrent first writer of the same item makes DO NOTHING skip the row:
            # fewer rows means someone else was first.
            statements.append(
                (
                    SQL(
                        "WITH added AS (INSERT INTO {table} (item_key, position) "
                        "SELECT * FROM unnest(%b::text[], %b::text[]) "
                        "ON CONFLICT (item_key) DO NOTHING RETURNING 1) "
                        "SELECT {check}((SELECT count(*) FROM added) = %s, %s)"
                    ).format(table=self._positions, check=self._assert),
                    (
                        [m.item_key for m in inserts],
                        [encoded(m.position) for m in inserts],
                        len(inserts),
                        "a stream position was recorded concurrently",
                    ),
                )
            )
        return statements

    def select_positions_and_events(
        self, item_keys: Sequence[str], originator_ids: Sequence[UUID], chunk: int
    ) -> tuple[dict[str, ItemPosition], list[StoredEvent]]:
        """The items' recorded positions and their aggregates' events, in one round trip."""
        statements: list[Statement] = []
        for start in range(0, len(item_keys), chunk):
            statements.append(
                (
                    SQL("SELECT item_key, position FROM {table} WHERE item_key = ANY(%s)").format(
                        table=self._positions
                    ),
                    (list(item_keys[start : start + chunk]),),
                )
            )
        position_reads = len(statements)
        for start in range(0, len(originator_ids), chunk):
            statements.append(
                (self._events_of_statement(), (list(originator_ids[start : start + chunk]),))
            )
        if not statements:
            return {}, []
        with opened(self.datastore, lambda connection: pipelined(connection, statements)) as (
            _,
            results,
        ):
            positions = {
                row["item_key"]: decoded(row["position"])
                for rows in results[:position_reads]
                for row in rows
            }
            events = [
                StoredEvent(
                    row["originator_id"], row["originator_version"], row["topic"], row["state"]
                )
                for rows in results[position_reads:]
                for row in rows
            ]
            return positions, events

    def _events_of_statement(self) -> Any:
        return SQL(
            "SELECT originator_id, originator_version, topic, state "
            "FROM {schema}.{table} WHERE originator_id = ANY(%s) "
            "ORDER BY originator_id, originator_version"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
        )

    def select_positions(self, item_keys: Collection[str]) -> dict[str, ItemPosition]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(
                SQL("SELECT item_key, position FROM {table} WHERE item_key = ANY(%s)").format(
                    table=self._positions
                ),
                (list(item_keys),),
            )
            return {row["item_key"]: decoded(row["position"]) for row in curs.fetchall()}

    def select_events_of(self, originator_ids: Collection[UUID]) -> list[StoredEvent]:
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(self._events_of_statement(), (list(originator_ids),))
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


def _in_binary(statement: Composable) -> Composable:
    """``statement`` with its cast parameters (``%s::type[]``) sent in binary.

    The library's insert sends its array of stored events in text: psycopg then writes each
    event as a quoted record and escapes every quote in it with a regular expression. The
    binary form of the same array needs no escaping.
    """
    if isinstance(statement, Composed):
        return Composed([_in_binary(part) for part in statement])
    if isinstance(statement, SQL):
        return SQL(statement.as_string().replace("%s::", "%b::"))
    return statement
