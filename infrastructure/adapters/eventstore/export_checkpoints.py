"""How far each export destination got, kept in the event-store database.

One row per destination (its URL or absolute path). The events part is the global
position up to which every event is in the destination's files; before writing a range of
events the export records it as *pending*, so an export killed half-way redoes exactly
that range and rewrites exactly the same files (no event twice, none lost). The documents
part is the projection generation and the highest document version exported.

A lease keeps two exports from writing to the same destination at once. An export that
crashed does not block the next one: its lease is taken over at once on the same machine
(its process is gone), and after the lease's expiry from any other.

>>> checkpoints = ExportCheckpoints(event_store)
>>> with checkpoints.lease("s3://bucket/prefix") as checkpoint:
...     checkpoints.advance_events(checkpoint.destination, 120_000)
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from domain.errors import TransientFailure
from infrastructure.adapters.eventstore.dialects import dialect_for
from infrastructure.adapters.eventstore.store import EventStore

CHECKPOINT_TABLE = (
    "CREATE TABLE IF NOT EXISTS streamfold_export_checkpoints ("
    " destination TEXT PRIMARY KEY, export_id TEXT NOT NULL,"
    " events_position BIGINT NOT NULL DEFAULT 0, events_pending_until BIGINT,"
    " generation BIGINT, documents_version BIGINT NOT NULL DEFAULT 0,"
    " lease_owner TEXT, lease_until TEXT, updated_at TEXT NOT NULL)"
)
LEASE = timedelta(minutes=10)


class ExportBusy(TransientFailure):
    """Another export holds the destination; trying again later will work."""


@dataclass(frozen=True)
class ExportCheckpoint:
    destination: str
    export_id: str  # also written in the destination's marker: a wiped destination differs
    events_position: int = 0
    events_pending_until: int | None = None
    generation: int | None = None
    documents_version: int = 0


class ExportCheckpoints:
    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._dialect = dialect_for(store)
        with self._dialect.transaction() as cursor:
            self._dialect.create_tables(cursor, [CHECKPOINT_TABLE])

    def _execute(self, statement: str, params: tuple[Any, ...]) -> Any:
        with self._dialect.transaction() as cursor:
            cursor.execute(self._dialect.sql(statement), params)
            return cursor.fetchall() if statement.lstrip().startswith("SELECT") else None

    def get(self, destination: str) -> ExportCheckpoint | None:
        rows = self._execute(
            "SELECT * FROM streamfold_export_checkpoints WHERE destination = ?", (destination,)
        )
        if not rows:
            return None
        row = rows[0]
        return ExportCheckpoint(
            destination=row["destination"],
            export_id=row["export_id"],
            events_position=int(row["events_position"]),
            events_pending_until=_int(row["events_pending_until"]),
            generation=_int(row["generation"]),
            documents_version=int(row["documents_version"]),
        )

    @contextmanager
    def lease(self, destination: str) -> Iterator[ExportCheckpoint]:
        """Hold the destination for one export; raises ExportBusy if another one holds it."""
        owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._take(destination, owner)
        try:
            checkpoint = self.get(destination)
            assert checkpoint is not None
            yield checkpoint
        finally:
            self._execute(
                "UPDATE streamfold_export_checkpoints SET lease_owner = NULL, lease_until = NULL"
                " WHERE destination = ? AND lease_owner = ?",
                (destination, owner),
            )

    def _take(self, destination: str, owner: str) -> None:
        now = datetime.now(UTC)
        with self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql(
                    "INSERT INTO streamfold_export_checkpoints (destination, export_id,"
                    " updated_at) VALUES (?, ?, ?) ON CONFLICT (destination) DO NOTHING"
                ),
                (destination, uuid.uuid4().hex, _iso(now)),
            )
        holder = self._holder(destination)
        held = holder["lease_owner"] and holder["lease_until"] >= _iso(now)
        if held and not _died_here(holder["lease_owner"]):
            raise ExportBusy(
                f"another export to {destination} is running ({holder['lease_owner']}, "
                f"lease until {holder['lease_until']}); retry when it is done"
            )
        # Compare-and-set on the holder seen: of two exports starting at once, one wins.
        self._execute(
            "UPDATE streamfold_export_checkpoints SET lease_owner = ?, lease_until = ?"
            " WHERE destination = ? AND COALESCE(lease_owner, '') = ?",
            (owner, _iso(now + LEASE), destination, holder["lease_owner"] or ""),
        )
        if self._holder(destination)["lease_owner"] != owner:
            raise ExportBusy(f"another export to {destination} started at the same time")

    def _holder(self, destination: str) -> Any:
        rows = self._execute(
            "SELECT lease_owner, lease_until FROM streamfold_export_checkpoints"
            " WHERE destination = ?",
            (destination,),
        )
        return rows[0]

    def renew(self, destination: str) -> None:
        """Extend the lease of a long export (called between chunks)."""
        until = _iso(datetime.now(UTC) + LEASE)
        self._execute(
            "UPDATE streamfold_export_checkpoints SET lease_until = ?"
            " WHERE destination = ? AND lease_owner IS NOT NULL",
            (until, destination),
        )

    def restart(self, destination: str, export_id: str) -> None:
        """Forget how far the destination got: the next steps export everything again."""
        self._execute(
            "UPDATE streamfold_export_checkpoints SET export_id = ?, events_position = 0,"
            " events_pending_until = NULL, generation = NULL, documents_version = 0,"
            " updated_at = ? WHERE destination = ?",
            (export_id, _now(), destination),
        )

    def mark_pending(self, destination: str, until: int) -> None:
        self._execute(
            "UPDATE streamfold_export_checkpoints SET events_pending_until = ?, updated_at = ?"
            " WHERE destination = ?",
            (until, _now(), destination),
        )

    def advance_events(self, destination: str, position: int) -> None:
        self._execute(
            "UPDATE streamfold_export_checkpoints SET events_position = ?,"
            " events_pending_until = NULL, updated_at = ? WHERE destination = ?",
            (position, _now(), destination),
        )

    def advance_documents(self, destination: str, generation: int, version: int) -> None:
        self._execute(
            "UPDATE streamfold_export_checkpoints SET generation = ?, documents_version = ?,"
            " updated_at = ? WHERE destination = ?",
            (generation, version, _now(), destination),
        )


def _died_here(owner: str) -> bool:
    """Whether a lease's holder was a process of this machine that is gone (it crashed)."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _now() -> str:
    return _iso(datetime.now(UTC))


def _iso(moment: datetime) -> str:
    # One fixed width, so that the database compares lease times as text correctly.
    return moment.isoformat(timespec="microseconds")
