"""Stream records through the write pipeline: what a Lambda batch or a poller page does."""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from domain.errors import ConcurrentChange, TransientFailure
from infrastructure.services.grouping import SettleGroups
from infrastructure.services.write_pipeline import PipelineReport, WritePipeline

if TYPE_CHECKING:
    from infrastructure.adapters.streams import StreamRecord
    from infrastructure.adapters.streams.change_records import KindOfTable

logger = logging.getLogger("streamfold.ingestion")


@dataclass
class BatchOutcome(PipelineReport):
    """What one batch did; ``failed`` names the records to deliver again, by item identifier."""

    failed: list[str] = field(default_factory=list)
    error: str | None = None


class StreamIngestion:
    """Applies one batch of stream records; success means searchable.

    Bad records go to the dead-letter store and the rest of the batch goes on. A
    transient failure (database or search backend unreachable) reports every record of
    the batch as failed, so it is delivered again; since every step is idempotent, the
    records that had already been applied then change nothing.

    >>> outcome = ingestion.handle({"Records": [...]})
    >>> outcome.failed
    []

    A command of the command line passes its `SettleGroups`: the batch is recorded, and
    settled with the rest of its group (``settle=True`` settles the group now, e.g. for
    the command's last batch). A transient failure while settling a group fails the batch
    that triggered it, although its records are recorded: delivering them again is
    harmless, and the next settle projects whatever is recorded.
    """

    def __init__(self, pipeline: WritePipeline, kind_of_table: KindOfTable) -> None:
        self._pipeline = pipeline
        self.kind_of_table = kind_of_table  # the table names the transports' parsers map

    def groups(self) -> SettleGroups:
        """Settle groups for a command that records many batches (see `SettleGroups`)."""
        return SettleGroups(self._pipeline)

    def handle(
        self,
        event: Mapping[str, Any],
        groups: SettleGroups | None = None,
        *,
        settle: bool = False,
    ) -> BatchOutcome:
        """Parse a Lambda stream event (either shape) and apply its records."""
        # Here, not at the top: the parser loads boto3's DynamoDB types (about 0.1 s),
        # which a process that only settles or queries never needs. (The Lambda handler's
        # module imports it at start-up.)
        from infrastructure.adapters.streams import parse_lambda_event

        started = time.perf_counter()
        records = parse_lambda_event(event, self.kind_of_table)
        parsed = time.perf_counter() - started
        outcome = self.apply(records, groups, settle=settle)
        outcome.seconds["parse"] = parsed
        return outcome

    def apply(
        self,
        records: Sequence[StreamRecord],
        groups: SettleGroups | None = None,
        *,
        settle: bool = False,
    ) -> BatchOutcome:
        """Apply parsed records; a transient failure fails every one of them.

        Without ``groups`` the batch is searchable on return (the stream handler's rule);
        with them it is recorded, and searchable once its group settles.
        """
        try:
            if groups is None:
                report = self._pipeline.apply(records)
            else:
                report = PipelineReport()
                groups.record(records, report)
                if settle:
                    groups.settle(report)
        except (TransientFailure, ConcurrentChange) as failure:
            return _retried(records, str(failure))
        except Exception as error:
            logger.exception("unexpected error while processing a batch")
            return _retried(records, f"unexpected error: {type(error).__name__}: {error}")
        return BatchOutcome(**vars(report))


def _retried(records: Sequence[StreamRecord], reason: str) -> BatchOutcome:
    logger.warning("batch of %d records will be retried: %s", len(records), reason)
    return BatchOutcome(
        records=len(records), failed=[r.item_identifier for r in records], error=reason
    )
