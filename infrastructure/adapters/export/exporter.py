"""``streamfold export``: the event log and the current documents as Parquet, incrementally.

Layout under the destination (what the Athena tables and ``streamfold sql`` read)::

    events/event_date=2024-05-01/part-<first position>-<last position>.parquet
    users/bucket=00/data.parquet ... users/bucket=15/data.parquet
    images/bucket=00/data.parquet ... images/bucket=15/data.parquet
    _streamfold_export.json        which export owns the destination

Events are appended: each run writes the events recorded since the checkpoint, in ranges
of ``chunk_events`` positions, one file per range and recording date. A range is marked
pending in the checkpoint before its files are written, and the checkpoint moves past it
only after every file is published; a run killed in between redoes that same range, under
the same file names, so no event is exported twice or lost.

Documents are rewritten per bucket: the documents whose version grew since the last run
replace their old rows (a deleted document loses its row), and every other row of the
bucket is kept. A new projection generation (after a rebuild) rewrites every bucket.

Every file is written aside and published in one step (see ``destination``): a reader sees
a partition's old files or its new ones, never half a file.

>>> report = ParquetExport(event_store, open_destination("s3://bucket/streamfold")).run()
>>> report.events, report.documents
(48523, {'users': 1870, 'images': 5541})
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from infrastructure.adapters.eventstore.export_checkpoints import (
    ExportCheckpoint,
    ExportCheckpoints,
)
from infrastructure.adapters.eventstore.store import EventStore
from infrastructure.adapters.export.destination import MARKER, ExportDestination
from infrastructure.adapters.export.documents import ID_COLUMNS, DocumentOutbox, bucket_of
from infrastructure.adapters.export.events import EventLog
from infrastructure.adapters.export.schema import BUCKETS, DOCUMENTS, EVENT_DATE, EVENTS, TABLES
from projections.documents import DocumentKind

Progress = Callable[[int, int], None]  # (events exported so far, events to export)
_COMPRESSION = "snappy"  # what Athena, Spark and DuckDB all read fastest


@dataclass
class ExportReport:
    destination: str
    events: int = 0
    event_files: int = 0
    position: int = 0
    documents: dict[str, int] = field(default_factory=dict)  # kind -> rows rewritten
    deleted_documents: int = 0
    document_files: int = 0
    restarted: bool = False  # everything was exported again (new, wiped or --full)
    seconds: float = 0.0

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds else 0.0


def event_file(day: date, after: int, until: int) -> str:
    """The file of the events of one recording day in the range ``(after, until]``."""
    return (
        f"{EVENTS.name}/{EVENT_DATE}={day.isoformat()}/part-{after + 1:020d}-{until:020d}.parquet"
    )


class ParquetExport:
    def __init__(
        self,
        store: EventStore,
        destination: ExportDestination,
        chunk_events: int = 500_000,
        progress: Progress | None = None,
    ) -> None:
        self._store = store
        self._destination = destination
        self._chunk = chunk_events
        self._progress = progress or (lambda done, total: None)
        self._checkpoints = ExportCheckpoints(store)

    def run(self, full: bool = False) -> ExportReport:
        """Export what is new since the last run (everything with ``full``)."""
        started = time.perf_counter()
        name = self._destination.describe()
        report = ExportReport(name)
        with self._checkpoints.lease(name) as checkpoint:
            self._destination.clean_staging()
            checkpoint = self._claim(checkpoint, full, report)
            self._export_events(checkpoint, report)
            self._export_documents(checkpoint, report)
        report.seconds = time.perf_counter() - started
        return report

    def _claim(
        self, checkpoint: ExportCheckpoint, full: bool, report: ExportReport
    ) -> ExportCheckpoint:
        """Start over unless the destination holds this checkpoint's own files."""
        text = self._destination.read_text(MARKER)
        marker = json.loads(text) if text else {}
        if not full and marker.get("export_id") == checkpoint.export_id:
            return checkpoint
        for table in TABLES:
            self._destination.remove_tree(table.name)
        export_id = uuid.uuid4().hex
        self._checkpoints.restart(checkpoint.destination, export_id)
        self._destination.write_text(
            MARKER,
            json.dumps({"export_id": export_id, "event_store": self._store.describe()}) + "\n",
        )
        report.restarted = True
        restarted = self._checkpoints.get(checkpoint.destination)
        assert restarted is not None
        return restarted

    def _export_events(self, checkpoint: ExportCheckpoint, report: ExportReport) -> None:
        log = EventLog(self._store)
        position = checkpoint.events_position
        head = self._store.head()
        total = head - position
        pending = checkpoint.events_pending_until
        while position < head or pending:
            until = pending or min(position + self._chunk, head)
            self._checkpoints.mark_pending(checkpoint.destination, until)
            self._write_events(log, position, until, report)
            self._checkpoints.advance_events(checkpoint.destination, until)
            self._checkpoints.renew(checkpoint.destination)
            head = max(head, until)
            position, pending = until, None
            self._progress(min(report.events, total), total)
        report.position = position

    def _write_events(self, log: EventLog, after: int, until: int, report: ExportReport) -> None:
        with ExitStack() as stack:
            writers: dict[date, tuple[pq.ParquetWriter, Path]] = {}
            for page in log.pages(after, until):
                days = pc.cast(page.column("recorded_at"), pa.date32())
                for day in pc.unique(days).to_pylist():
                    if day not in writers:
                        staged = stack.enter_context(self._destination.staging())
                        writer = pq.ParquetWriter(staged, EVENTS.schema, compression=_COMPRESSION)
                        writers[day] = (writer, staged)
                    writers[day][0].write_table(page.filter(pc.equal(days, day)))
                report.events += page.num_rows
            for day, (writer, staged) in sorted(writers.items()):
                writer.close()
                self._destination.publish(staged, event_file(day, after, until))
                report.event_files += 1

    def _export_documents(self, checkpoint: ExportCheckpoint, report: ExportReport) -> None:
        outbox = DocumentOutbox(self._store)
        generation = outbox.live_generation()
        until = outbox.head(generation)
        rewrite = checkpoint.generation != generation
        after = 0 if rewrite else checkpoint.documents_version
        if not rewrite and until <= after:
            return
        for kind in DocumentKind:
            self._write_documents(outbox, kind, generation, (after, until), rewrite, report)
        self._checkpoints.advance_documents(checkpoint.destination, generation, until)

    def _write_documents(
        self,
        outbox: DocumentOutbox,
        kind: DocumentKind,
        generation: int,
        versions: tuple[int, int],
        rewrite: bool,
        report: ExportReport,
    ) -> None:
        layout = DOCUMENTS[kind]
        changed: dict[int, set[str]] = {bucket: set() for bucket in range(BUCKETS)}
        with ExitStack() as stack:
            writers: dict[int, tuple[pq.ParquetWriter, Path]] = {}

            def writer(bucket: int) -> pq.ParquetWriter:
                if bucket not in writers:
                    staged = stack.enter_context(self._destination.staging())
                    writers[bucket] = (
                        pq.ParquetWriter(staged, layout.schema, compression=_COMPRESSION),
                        staged,
                    )
                return writers[bucket][0]

            written = 0
            for page in outbox.pages(kind, generation, *versions):
                buckets = pa.array(page.buckets, pa.int32())
                for bucket in pc.unique(buckets).to_pylist():
                    writer(bucket).write_table(page.table.filter(pc.equal(buckets, bucket)))
                for doc_id in page.changed:
                    changed[bucket_of(doc_id)].add(doc_id)
                written += page.table.num_rows
                report.deleted_documents += page.deleted
                self._checkpoints.renew(self._destination.describe())
            targets = range(BUCKETS) if rewrite else [b for b in range(BUCKETS) if changed[b]]
            for bucket in targets:
                name = f"{layout.name}/{layout.partition}={bucket:02d}/data.parquet"
                if not rewrite:
                    self._keep_unchanged(name, kind, changed[bucket], writer(bucket))
                else:
                    writer(bucket)  # an empty file replaces what a bucket held before
                staged_writer, staged = writers[bucket]
                staged_writer.close()
                self._destination.publish(staged, name)
                report.document_files += 1
        report.documents[kind.value] = written

    def _keep_unchanged(
        self, name: str, kind: DocumentKind, changed: set[str], writer: pq.ParquetWriter
    ) -> None:
        with self._destination.fetched(name) as previous:
            if previous is None:
                return
            old = pq.read_table(previous, schema=DOCUMENTS[kind].schema)
        ids = old.column(ID_COLUMNS[kind])
        kept = old.filter(pc.invert(pc.is_in(ids, value_set=pa.array(list(changed)))))
        if kept.num_rows:
            writer.write_table(kept)
