"""One Lambda batch, end to end: records -> events -> documents -> search backend."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from domain.errors import ConcurrentChange
from domain.intake import ChangeIntake
from domain.kinds import TableKind
from infrastructure.eventstore.dead_letters import DeadLetterStore, NewDeadLetter
from infrastructure.streams import StreamRecord, parse_lambda_event
from projections.ports import TransientFailure
from projections.projector import DocumentProjector
from projections.sync import SearchSync

logger = logging.getLogger("streamfold.ingestion")


@dataclass
class BatchOutcome:
    """What one batch did; ``failed`` lists the records Lambda must deliver again."""

    records: int = 0
    events_recorded: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    documents_written: int = 0
    stale_writes_rejected: int = 0
    failed: list[str] = field(default_factory=list)
    error: str | None = None
    lag_seconds: float | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # time spent per stage

    def batch_item_failures(self) -> dict[str, list[dict[str, str]]]:
        return {"batchItemFailures": [{"itemIdentifier": i} for i in self.failed]}


class StreamIngestion:
    """Ingests, projects and syncs one Lambda event; success means searchable.

    Bad records go to the dead-letter store and the rest of the batch goes on. A
    transient failure (database or search backend unreachable) reports every record of
    the batch as failed, so Lambda delivers them again; since every step is idempotent,
    the records that had already been applied then change nothing.

    >>> outcome = ingestion.handle({"Records": [...]})
    >>> outcome.batch_item_failures()
    {'batchItemFailures': []}
    """

    def __init__(
        self,
        intake: ChangeIntake,
        projector: DocumentProjector,
        sync: SearchSync,
        dead_letters: DeadLetterStore,
        kind_of_table: Callable[[str], TableKind | None],
    ) -> None:
        self._intake = intake
        self._projector = projector
        self._sync = sync
        self._dead_letters = dead_letters
        self._kind_of_table = kind_of_table

    def handle(self, event: Mapping[str, Any]) -> BatchOutcome:
        started = time.perf_counter()
        records = parse_lambda_event(event, self._kind_of_table)
        outcome = BatchOutcome(records=len(records))
        outcome.seconds["parse"] = time.perf_counter() - started
        try:
            self._process(records, outcome)
        except (TransientFailure, ConcurrentChange) as failure:
            self._fail(records, outcome, str(failure))
        except Exception as error:
            logger.exception("unexpected error while processing a batch")
            self._fail(records, outcome, f"unexpected error: {type(error).__name__}: {error}")
        return outcome

    def _process(self, records: Sequence[StreamRecord], outcome: BatchOutcome) -> None:
        clock = _StageClock(outcome.seconds)
        letters = [_record_letter(r, r.error or "") for r in records if r.change is None]
        self._dead_letters.put(letters)
        changes = [r.change for r in records if r.change is not None]
        report = self._intake.record(changes)
        by_change = {id(r.change): r for r in records if r.change is not None}
        rejected = [_record_letter(by_change[id(c)], reason) for c, reason in report.rejected]
        self._dead_letters.put(rejected)
        clock.lap("intake")
        self._projector.catch_up()
        clock.lap("projection")
        synced = self._sync.flush()
        self._dead_letters.put([NewDeadLetter.for_document(f) for f in synced.failed])
        clock.lap("search")
        outcome.events_recorded = report.events_recorded
        outcome.duplicates = len(report.duplicates)
        outcome.dead_lettered = len(letters) + len(rejected) + len(synced.failed)
        outcome.documents_written = synced.written
        outcome.stale_writes_rejected = synced.stale
        outcome.lag_seconds = _lag(changes)

    @staticmethod
    def _fail(records: Sequence[StreamRecord], outcome: BatchOutcome, reason: str) -> None:
        outcome.failed = [r.item_identifier for r in records]
        outcome.error = reason
        logger.warning("batch of %d records will be retried: %s", len(records), reason)


class _StageClock:
    def __init__(self, laps: dict[str, float]) -> None:
        self._laps = laps
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self._laps[stage] = self._laps.get(stage, 0.0) + now - self._last
        self._last = now


def _record_letter(record: StreamRecord, reason: str) -> NewDeadLetter:
    raw = dict(record.raw) if isinstance(record.raw, Mapping) else {"record": record.raw}
    return NewDeadLetter(record.source, record.table_name, reason, raw)


def _lag(changes: Sequence[Any]) -> float | None:
    times = [c.occurred_at for c in changes if c.occurred_at is not None]
    if not times:
        return None
    return max(0.0, (datetime.now(UTC) - min(times)).total_seconds())
