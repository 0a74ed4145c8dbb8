"""Importing a web-analytics file: rows -> source changes -> domain events -> documents.

Every row goes through the same intake as a table's stream record: the analytics source
mapper folds it into the aggregate of its (user, day, source), the item's position guards
against replays, and the projection folds the events into the user document's
``analytics``. So importing a file twice records nothing new; a later file with other
figures for the same row records one correction; a row for a user who does not exist yet
is kept, and counts in that user's document once the user appears.

A row's position is the file's version (its modification time, or the S3 event's time) in
microseconds, followed by eight digits of the row's line: a newer file wins over an older
one, later lines of one file over earlier ones, and importing an older file again after a
newer one changes nothing.

Bad rows go to the dead-letter store, named by file and line; the other rows go on.
The rows are recorded through the write pipeline one batch at a time and settled a group
at a time (`infrastructure.services.grouping`); on return every row is searchable.

>>> report = AnalyticsImport(pipeline, ColumnMapping()).run("traffic.csv", stream, version)
>>> report.rows, report.events_recorded, report.dead_lettered
(1200, 1187, 3)
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import islice
from typing import IO

from domain.changes import ChangeType, SourceChange, StreamPosition
from domain.kinds import ImportedKind
from infrastructure.adapters.eventstore.dead_letters import NewDeadLetter
from infrastructure.services.analytics.columns import ColumnMapping
from infrastructure.services.analytics.reader import AnalyticsRow, read_rows
from infrastructure.services.grouping import SettleGroups
from infrastructure.services.write_pipeline import IncomingChange, PipelineReport, WritePipeline

SOURCE = "analytics-file"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LINE_DIGITS = 8  # lines per file a position can tell apart: 10**8


@dataclass
class ImportReport:
    file: str
    rows: int = 0
    events_recorded: int = 0
    already_imported: int = 0  # rows at or behind what the store holds for their key
    dead_lettered: int = 0
    documents_written: int = 0


class AnalyticsImport:
    def __init__(
        self, pipeline: WritePipeline, columns: ColumnMapping, batch_size: int = 2000
    ) -> None:
        self._pipeline = pipeline
        self._columns = columns
        self._batch_size = batch_size

    def run(
        self,
        name: str,
        stream: IO[bytes],
        version: datetime,
        file_format: str | None = None,
    ) -> ImportReport:
        """Import one file; ``version`` orders it against other files (newest wins)."""
        report = ImportReport(name)
        base = _microseconds(version) * 10**_LINE_DIGITS
        rows = read_rows(stream, name, self._columns, file_format)
        applied = PipelineReport()
        groups = SettleGroups(self._pipeline)  # settled a group at a time, and at the end
        while batch := list(islice(rows, self._batch_size)):
            groups.record([_incoming(name, base, row) for row in batch], applied)
        groups.settle(applied)
        report.rows = applied.records
        report.events_recorded = applied.events_recorded
        report.already_imported = applied.duplicates
        report.dead_lettered = applied.dead_lettered
        report.documents_written = applied.documents_written
        return report


def _incoming(name: str, base: int, row: AnalyticsRow) -> IncomingChange:
    change = None if row.item is None else _change(name, base, row)
    return IncomingChange(change, row.error, partial(letter, name, row))


def _change(name: str, base: int, row: AnalyticsRow) -> SourceChange:
    assert row.item is not None
    if row.line >= 10**_LINE_DIGITS:
        raise ValueError(f"{name}: more than {10**_LINE_DIGITS - 1} lines")
    key = (row.item["userId"], row.item["date"], row.item["source"])
    return SourceChange(
        kind=ImportedKind.ANALYTICS,
        key=key,
        change_type=ChangeType.MODIFY,
        item=row.item,
        position=StreamPosition.of(base + row.line),
        record_id=f"{name}:{row.line}",
    )


def letter(name: str, row: AnalyticsRow, reason: str) -> NewDeadLetter:
    """A dead letter for one row: file and line in the reason and the raw record."""
    content = json.dumps(row.raw, sort_keys=True, default=str).encode()
    digest = hashlib.sha256(content).hexdigest()[:16]
    return NewDeadLetter(
        source=SOURCE,
        table_name=ImportedKind.ANALYTICS.value,
        reason=f"{name} line {row.line}: {reason}",
        raw={"file": name, "line": row.line, "row": row.raw},
        letter_id=f"{SOURCE}:{name}:{row.line}:{digest}",
    )


def file_letter(name: str, reason: str) -> NewDeadLetter:
    """A dead letter for a file that could not be read at all."""
    return NewDeadLetter(
        source=SOURCE,
        table_name=ImportedKind.ANALYTICS.value,
        reason=f"{name}: {reason}",
        raw={"file": name},
        letter_id=f"{SOURCE}:{name}:{hashlib.sha256(reason.encode()).hexdigest()[:16]}",
    )


def _microseconds(moment: datetime) -> int:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)
