"""The least any design could pay for the pipeline's whole job, with its fixed choices.

Whatever a pipeline does in between, it must at least decode the stream records (JSON
and DynamoDB JSON, timed as the faster of the floor's decoding and the same done as
streamfold does it, with orjson and its own deserializer), store the domain events
through `eventsourcing`'s SQLite recorder, and index the final documents into tantivy.
Timed here, each part as cheaply as it can be done: the events the pipeline recorded,
already serialized (their topic and state bytes), inserted by the library's own recorder
in transactions of 10,000 (on the embedded store's tuned connections); and the final
live documents, already encoded, added to fresh indexes with the kinds' real schemas and
one commit per kind, no deletes, no tombstones. Nothing else: no parsing beyond
decoding, no deciding, no projection state, no version checks. A pipeline cannot be
faster than the sum, so the ratio to it tells how much of the pipeline's time a better
design could still save.

>>> bound = measure_lower_bound(payloads, events_db, writes, scratch)
>>> bound.seconds
3.1
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent
from eventsourcing.sqlite import SQLiteApplicationRecorder, SQLiteDatastore

from devtools.benchmarks.index_share import Write, replay_in_tantivy
from infrastructure.adapters.embedded.schema import DELETED
from infrastructure.adapters.eventstore.sqlite_factory import TunedConnectionPool
from projections.documents import DocumentKind

EVENTS_PER_TRANSACTION = 10_000


@dataclass(frozen=True)
class LowerBound:
    decode_seconds: float
    store_seconds: float
    index_seconds: float
    events: int
    documents: int

    @property
    def seconds(self) -> float:
        return self.decode_seconds + self.store_seconds + self.index_seconds


def measure_lower_bound(
    decode_seconds: float,
    events_db: Path,
    events_table: str,
    writes: Sequence[Write],
    scratch: Path,
) -> LowerBound:
    """The lower bound of a run whose events are in ``events_db`` and writes in ``writes``.

    ``decode_seconds`` is the floor measured in the same run.
    """
    return lower_bound_of(
        decode_seconds, events_db, events_table, _final_documents(writes), scratch
    )


def lower_bound_of(
    decode_seconds: float, events_db: Path, events_table: str, final: Write, scratch: Path
) -> LowerBound:
    """The lower bound of a job whose events are in ``events_db`` and whose final live
    documents, encoded, are ``final`` (a commit per kind)."""
    scratch.mkdir(parents=True, exist_ok=True)
    events = _stored_events(events_db, events_table)
    store = _store_seconds(events, scratch / "events.db")
    index = replay_in_tantivy([final], scratch / "final", minimal=False)
    documents = sum(len(documents) for documents in final.values())
    return LowerBound(decode_seconds, store, index, len(events), documents)


def _stored_events(path: Path, table: str) -> list[StoredEvent]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {table} ORDER BY rowid"
        ).fetchall()
    return [StoredEvent(UUID(row[0]), row[1], row[2], row[3]) for row in rows]


def _store_seconds(events: list[StoredEvent], path: Path) -> float:
    datastore = SQLiteDatastore(str(path), lock_timeout=60)
    old = datastore.pool
    datastore.pool = TunedConnectionPool(db_name=old.db_name, lock_timeout=old.lock_timeout)
    old.close()
    recorder = SQLiteApplicationRecorder(datastore)
    recorder.create_table()
    try:
        started = time.perf_counter()
        for start in range(0, len(events), EVENTS_PER_TRANSACTION):
            recorder.insert_events(events[start : start + EVENTS_PER_TRANSACTION])
        return time.perf_counter() - started
    finally:
        datastore.close()


def _final_documents(writes: Sequence[Write]) -> Write:
    """The last write of every document, live ones only, one commit per kind."""
    latest: dict[DocumentKind, dict[str, str]] = {kind: {} for kind in DocumentKind}
    for write in writes:
        for kind, documents in write.items():
            latest[kind].update(documents)
    return {
        kind: [(doc_id, json) for doc_id, json in documents.items() if not _tombstone(json)]
        for kind, documents in latest.items()
    }


def _tombstone(json: str) -> bool:
    return bool(orjson.loads(json).get(DELETED))
