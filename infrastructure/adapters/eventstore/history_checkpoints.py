"""Checkpoints of document-history replays, in the event-store database.

A checkpoint is a focused replay's state after a document's first N feeding events
(`projections.history.service.Checkpoint`). It follows from the events alone, which never
change, so it is built on a read (or by `streamfold history --backfill`) and kept; a
rebuild of the projection leaves the table as it is, and dropping it only costs the next
reads their replay.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from operator import attrgetter
from typing import Any

import orjson

from infrastructure.adapters.eventstore.dialects import dialect_for
from infrastructure.adapters.eventstore.state_tables import STATE_TABLES
from infrastructure.adapters.eventstore.store import EventStore
from projections.documents import DocumentKind
from projections.history.memory import ReplayState
from projections.history.service import Checkpoint
from projections.state import StateTable

HISTORY_CHECKPOINT_TABLES = [
    "CREATE TABLE IF NOT EXISTS streamfold_history_checkpoints ("
    " kind TEXT NOT NULL, doc_id TEXT NOT NULL, events BIGINT NOT NULL,"
    " position BIGINT NOT NULL, earliest TEXT NOT NULL, latest TEXT NOT NULL,"
    " state TEXT NOT NULL, PRIMARY KEY (kind, doc_id, events))",
]


class SqlCheckpoints:
    def __init__(self, store: EventStore) -> None:
        self._dialect = dialect_for(store)
        self._ready = False

    def _prepare(self) -> None:
        if not self._ready:
            with self._dialect.transaction() as cursor:
                self._dialect.create_tables(cursor, HISTORY_CHECKPOINT_TABLES)
            self._ready = True

    def listed(self, kind: DocumentKind, doc_id: str) -> list[Checkpoint]:
        self._prepare()
        with self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql(
                    "SELECT events, position, earliest, latest FROM streamfold_history_checkpoints"
                    " WHERE kind = ? AND doc_id = ? ORDER BY events"
                ),
                (kind.value, doc_id),
            )
            return [
                Checkpoint(
                    int(r["events"]),
                    int(r["position"]),
                    datetime.fromisoformat(r["earliest"]),
                    datetime.fromisoformat(r["latest"]),
                )
                for r in cursor.fetchall()
            ]

    def state(self, kind: DocumentKind, doc_id: str, events: int) -> ReplayState:
        self._prepare()
        with self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql(
                    "SELECT state FROM streamfold_history_checkpoints"
                    " WHERE kind = ? AND doc_id = ? AND events = ?"
                ),
                (kind.value, doc_id, events),
            )
            (record,) = cursor.fetchall()
        return decode_state(record["state"])

    def save(
        self, kind: DocumentKind, doc_id: str, checkpoints: Sequence[tuple[Checkpoint, ReplayState]]
    ) -> None:
        if not checkpoints:
            return
        self._prepare()
        rows = [
            (kind.value, doc_id, c.events, c.position, c.earliest.isoformat(),
             c.latest.isoformat(), encode_state(state))
            for c, state in checkpoints
        ]  # fmt: skip
        with self._dialect.transaction() as cursor:
            cursor.executemany(
                self._dialect.sql(
                    "INSERT INTO streamfold_history_checkpoints"
                    " (kind, doc_id, events, position, earliest, latest, state)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING"
                ),
                rows,
            )

    def drop(self, kind: DocumentKind, doc_id: str, from_events: int) -> None:
        self._prepare()
        with self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql(
                    "DELETE FROM streamfold_history_checkpoints"
                    " WHERE kind = ? AND doc_id = ? AND events >= ?"
                ),
                (kind.value, doc_id, from_events),
            )


def encode_state(state: ReplayState) -> str:
    """Each row as its fields' values in declaration order, after its aggregate id."""
    rows: dict[str, list[Any]] = {}
    for table, table_rows in state.rows.items():
        fields = _fields(table)
        rows[table.value] = [[key, *fields(row)] for key, row in table_rows.items()]
    document = {"rows": rows, "body": state.body, "fingerprint": state.fingerprint}
    return orjson.dumps(document).decode()


def decode_state(text: str) -> ReplayState:
    document = orjson.loads(text)
    rows: dict[StateTable, dict[str, Any]] = {}
    for name, records in document["rows"].items():
        table = StateTable(name)
        make = STATE_TABLES[table].row_class
        rows[table] = {r[0]: make(*r[1:]) for r in records}
    return ReplayState(rows, document["body"], document["fingerprint"])


@cache
def _fields(table: StateTable) -> Callable[[Any], tuple[Any, ...]]:
    names = [f.name for f in dataclasses.fields(STATE_TABLES[table].row_class)]
    getter = attrgetter(*names)
    return (lambda row: (getter(row),)) if len(names) == 1 else getter
