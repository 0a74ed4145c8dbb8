"""Fold one slice of aggregates into a generation's state tables, bucket by bucket.

Each aggregate's events are folded from its first to its last (up to the slice's target
position) with the projection's own folds, and its final row is saved once. A bucket's
rows and the slice's progress commit together, so a fold that dies resumes with the
first bucket it had not committed, and no row is ever half-folded.

Three buckets are in flight at once: the next one is read, this one folded, the previous
one saved, each on a thread of its own. Reading and saving spend most of their time in
the database driver, which lets go of the interpreter meanwhile, so the fold's Python work
runs beside them; memory stays at three buckets whatever the size of the event store.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from infrastructure.eventstore.generations import SliceProgress
from infrastructure.eventstore.store import EventStore
from infrastructure.rebuilding.scan import AggregateScan, EventDecoder, StoredRow
from infrastructure.rebuilding.slices import Partition, bucket_range
from infrastructure.rebuilding.tables import GenerationTables
from projections.folds import fold_event
from projections.state import Row, StateTable

FoldProgress = Callable[[int], None]  # events folded so far by this run


class SliceFold:
    """Folds the buckets of one slice that are not folded yet.

    >>> SliceFold(store, tables, progress_of_slice).run()   # events folded
    120482
    """

    def __init__(
        self,
        store: EventStore,
        tables: GenerationTables,
        slice_: SliceProgress,
        progress: FoldProgress | None = None,
    ) -> None:
        self._scan = AggregateScan(store)
        self._decoder = EventDecoder(store)
        self._tables = tables
        self._slice = slice_
        self._partition = Partition(slice_.slice, slice_.slices)
        self._progress = progress or (lambda events: None)

    def run(self) -> int:
        first, end = self._slice.buckets_folded, self._slice.buckets
        if first >= end:
            return 0
        folded = 0
        with ThreadPoolExecutor(1) as reader, ThreadPoolExecutor(1) as writer:
            reading = reader.submit(self._read, first)
            saving: Future[None] | None = None
            for bucket in range(first, end):
                stored = reading.result()
                if bucket + 1 < end:
                    reading = reader.submit(self._read, bucket + 1)
                rows = self._fold(stored)
                if saving is not None:
                    saving.result()
                    self._progress(folded)
                saving = writer.submit(
                    self._tables.save_bucket, rows, self._slice.slice, bucket + 1, len(stored)
                )
                folded += len(stored)
            if saving is not None:
                saving.result()
                self._progress(folded)
        return folded

    def _read(self, bucket: int) -> list[StoredRow]:
        ids = bucket_range(self._partition, self._slice.buckets, bucket)
        return list(self._scan.events(ids, self._slice.target))

    def _fold(self, stored: list[StoredRow]) -> dict[StateTable, dict[str, Row | None]]:
        rows: dict[StateTable, dict[str, Row | None]] = defaultdict(dict)
        decode = self._decoder.decode
        current: str | None = None
        table: StateTable | None = None
        row: Any = None
        for aggregate, version, topic, state in stored:
            if aggregate != current:
                if row is not None and table is not None:
                    rows[table][current] = row  # type: ignore[index]
                current, table, row = aggregate, None, None
            event, event_table = decode(aggregate, version, topic, state)
            if event_table is None:
                continue
            table = event_table
            row = fold_event(event_table, row, event)
        if row is not None and table is not None and current is not None:
            rows[table][current] = row
        return rows
