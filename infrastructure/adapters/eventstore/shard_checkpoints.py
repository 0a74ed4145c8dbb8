"""Where ``streamfold poll`` has got to in each shard, kept in the event-store database."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from infrastructure.adapters.eventstore.dialects import dialect_for
from infrastructure.adapters.eventstore.store import EventStore

CHECKPOINT_TABLES = [
    "CREATE TABLE IF NOT EXISTS streamfold_shard_checkpoints ("
    " stream_arn TEXT NOT NULL, shard_id TEXT NOT NULL, sequence_number TEXT,"
    " finished BOOLEAN NOT NULL, updated_at TEXT NOT NULL,"
    " PRIMARY KEY (stream_arn, shard_id))",
]


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """The last record of a shard whose effects are searchable; ``finished`` once closed."""

    stream_arn: str
    shard_id: str
    sequence_number: str | None
    finished: bool
    updated_at: datetime


class ShardCheckpoints:
    """Checkpoints per (stream, shard); a checkpoint is saved only after its batch succeeded.

    >>> checkpoints = ShardCheckpoints(app.event_store)
    >>> checkpoints.save(stream_arn, "shardId-0001", "4200000000000000000001")
    >>> checkpoints.of_stream(stream_arn)["shardId-0001"].sequence_number
    '4200000000000000000001'
    """

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._dialect = dialect_for(store)
        with self._dialect.transaction() as cursor:
            self._dialect.create_tables(cursor, CHECKPOINT_TABLES)

    def save(
        self, stream_arn: str, shard_id: str, sequence_number: str | None, *, finished: bool = False
    ) -> None:
        """Record progress; a None sequence number keeps the one already saved."""
        with self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql(
                    "INSERT INTO streamfold_shard_checkpoints"
                    " (stream_arn, shard_id, sequence_number, finished, updated_at)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT (stream_arn, shard_id) DO UPDATE SET"
                    " sequence_number = COALESCE(excluded.sequence_number,"
                    " streamfold_shard_checkpoints.sequence_number),"
                    " finished = excluded.finished, updated_at = excluded.updated_at"
                ),
                (stream_arn, shard_id, sequence_number, finished, datetime.now(UTC).isoformat()),
            )

    def of_stream(self, stream_arn: str) -> dict[str, Checkpoint]:
        """The checkpoints of one stream by shard id."""
        return {c.shard_id: c for c in self._select("WHERE stream_arn = ?", (stream_arn,))}

    def all(self) -> list[Checkpoint]:
        """Every checkpoint, oldest stream and shard first."""
        return self._select("", ())

    def forget_finished(self, stream_arn: str, listed_shard_ids: Collection[str]) -> None:
        """Drop finished shards the stream no longer lists (trimmed after its retention)."""
        with self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql(
                    "DELETE FROM streamfold_shard_checkpoints WHERE stream_arn = ? AND finished"
                    " AND NOT (shard_id {any})"
                ),
                (stream_arn, self._dialect.values(listed_shard_ids)),
            )

    def _select(self, where: str, params: tuple[Any, ...]) -> list[Checkpoint]:
        with self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql(
                    "SELECT stream_arn, shard_id, sequence_number, finished, updated_at"
                    f" FROM streamfold_shard_checkpoints {where} ORDER BY stream_arn, shard_id"
                ),
                params,
            )
            return [_checkpoint(record) for record in cursor.fetchall()]


def _checkpoint(record: Any) -> Checkpoint:
    return Checkpoint(
        stream_arn=record["stream_arn"],
        shard_id=record["shard_id"],
        sequence_number=record["sequence_number"],
        finished=bool(record["finished"]),
        updated_at=datetime.fromisoformat(record["updated_at"]),
    )
