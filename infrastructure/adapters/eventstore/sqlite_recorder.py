"""SQLite recorder that also moves per-item stream positions in the events' transaction."""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import IntegrityError, Notification, StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteCursor

from domain.intake import PositionMove
from domain.positions import ItemPosition
from infrastructure.adapters.eventstore.item_positions import decoded, encoded, encodings

_LARGEST_ROWID = 2**63 - 1

ITEM_POSITIONS_DDL = (
    "CREATE TABLE IF NOT EXISTS streamfold_item_positions ("
    "item_key TEXT PRIMARY KEY, position TEXT NOT NULL) WITHOUT ROWID"
)


def _json_list(texts: Collection[str]) -> str:
    """A JSON array of the texts, for ``json_each``."""
    try:
        return orjson.dumps(list(texts)).decode()
    except orjson.JSONEncodeError:  # text orjson refuses (a lone surrogate): escaped
        return json.dumps(list(texts))


class SQLiteSourceRecorder(SQLiteApplicationRecorder):
    def construct_create_table_statements(self) -> list[str]:
        return [*super().construct_create_table_statements(), ITEM_POSITIONS_DDL]

    def insert_event_rows(
        self, rows: list[tuple[str, int, str, bytes]], **kwargs: Any
    ) -> Sequence[int] | None:
        """`insert_events` of the rows that hold the stored events (`EventCodec.rows`)."""
        with self.datastore.transaction(commit=True) as c:
            return self._insert_rows(c, rows, **kwargs)

    def _insert_events(
        self, c: SQLiteCursor, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> Sequence[int] | None:
        rows = [
            (
                s.originator_id.hex if isinstance(s.originator_id, UUID) else s.originator_id,
                s.originator_version,
                s.topic,
                s.state,
            )
            for s in stored_events
        ]
        return self._insert_rows(c, rows, **kwargs)

    def _insert_rows(
        self, c: SQLiteCursor, rows: list[tuple[Any, ...]], **kwargs: Any
    ) -> Sequence[int] | None:
        moves: Sequence[PositionMove] = kwargs.get("position_moves", ())
        # Two statements for the whole batch rather than one per item: the rows changed
        # must be exactly the moves, or one of the items moved concurrently.
        new = sorted(
            (move.item_key, encoded(move.position)) for move in moves if move.expected is None
        )
        # The row must still hold the position read, in either of its texts (a row
        # written before the compact form holds the JSON one).
        moved = sorted(
            (encoded(move.position), move.item_key, *encodings(move.expected))
            for move in moves
            if move.expected is not None
        )
        if new:
            c.executemany(
                "INSERT INTO streamfold_item_positions VALUES (?, ?) "
                "ON CONFLICT (item_key) DO NOTHING",
                new,
            )
            if c.sqlite_cursor.rowcount != len(new):
                raise IntegrityError("a stream position of a new item was recorded concurrently")
        if moved:
            c.executemany(
                "UPDATE streamfold_item_positions SET position = ? "
                "WHERE item_key = ? AND position IN (?, ?)",
                moved,
            )
            if c.sqlite_cursor.rowcount != len(moved):
                raise IntegrityError("a stream position of an item moved concurrently")
        # The library's insert (`SQLiteApplicationRecorder._insert_events`): its statement
        # and its rows, all bound in one call. SQLite gives a row without a rowid one more
        # than the largest in the table, so the batch's rows take the ids after the
        # largest one in turn, as they would one statement at a time.
        cursor = c.sqlite_cursor
        if not rows:
            return []
        cursor.execute(self.select_max_notification_id_statement)
        largest = cursor.fetchone()[0] or 0
        if largest > _LARGEST_ROWID - len(rows):
            # Near the largest rowid SQLite picks them at random: one row at a time.
            return self._insert_one_by_one(cursor, rows)
        cursor.executemany(self.insert_events_statement, rows)
        if cursor.execute("SELECT last_insert_rowid()").fetchone()[0] != largest + len(rows):
            raise AssertionError("the events' rows did not take the ids after the largest")
        return list(range(largest + 1, largest + len(rows) + 1))

    def _insert_one_by_one(self, cursor: Any, rows: list[tuple[Any, ...]]) -> list[int]:
        execute = cursor.execute
        statement = self.insert_events_statement
        returning: list[int] = []
        for row in rows:
            execute(statement, row)
            returning.append(cursor.lastrowid)
        return returning

    def _plain_rows(self, statement: str, params: Sequence[Any]) -> list[Any]:
        """The rows of one read, as tuples: the library's named rows cost more to build."""
        with self.datastore.transaction(commit=False) as c:
            plain = c.sqlite_cursor
            plain.row_factory = None
            plain.execute(statement, params)
            return plain.fetchall()

    def select_positions(self, item_keys: Collection[str]) -> dict[str, ItemPosition]:
        rows = self._plain_rows(
            "SELECT item_key, position FROM streamfold_item_positions "
            "WHERE item_key IN (SELECT value FROM json_each(?))",
            (_json_list(item_keys),),
        )
        return {key: decoded(text) for key, text in rows}

    def select_events_of(self, originator_ids: Collection[UUID]) -> list[StoredEvent]:
        return [
            StoredEvent(UUID(row[0]), row[1], row[2], row[3])
            for row in self.select_event_rows_of([i.hex for i in originator_ids])
        ]

    def select_event_rows_of(self, originator_ids: Collection[str]) -> list[Any]:
        """(id as hex, version, topic, state) of these aggregates' events (ids in hex), in
        order of aggregate and version."""
        return self._plain_rows(
            f"SELECT originator_id, originator_version, topic, state "
            f"FROM {self.events_table_name} "
            "WHERE originator_id IN (SELECT value FROM json_each(?)) "
            "ORDER BY originator_id, originator_version",
            (_json_list(originator_ids),),
        )

    def select_event_rows_after(self, position: int, limit: int) -> list[Any]:
        """(position, id as hex, version, topic, state) of at most ``limit`` events after
        ``position``, in global order."""
        return self._plain_rows(
            f"SELECT rowid, originator_id, originator_version, topic, state "
            f"FROM {self.events_table_name} WHERE rowid > ? ORDER BY rowid LIMIT ?",
            (position, limit),
        )

    def select_notifications_of(self, originator_ids: Collection[str]) -> list[Notification]:
        """Every event of these aggregates (ids in hex) with its position, in global order."""
        with self.datastore.transaction(commit=False) as c:
            c.execute(
                f"SELECT rowid, originator_id, originator_version, topic, state "
                f"FROM {self.events_table_name} "
                "WHERE originator_id IN (SELECT value FROM json_each(?)) ORDER BY rowid",
                (json.dumps(list(originator_ids)),),
            )
            return [
                Notification(
                    id=row[0],
                    originator_id=UUID(row[1]),
                    originator_version=row[2],
                    topic=row[3],
                    state=row[4],
                )
                for row in c.fetchall()
            ]
