"""The metrics of one batch, by the names dashboards and alarms use.

Published in CloudWatch embedded metric format (EMF): a JSON line per batch on stdout,
which CloudWatch Logs turns into metrics of the ``Streamfold`` namespace.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import Metrics, MetricUnit

from infrastructure.services.ingestion import BatchOutcome

RECORDS_IN = "RecordsIn"
EVENTS_RECORDED = "EventsRecorded"
DUPLICATES_SKIPPED = "DuplicatesSkipped"
CHANGES_SETTLED_BY_READ = "ChangesSettledByRead"
DOCUMENTS_WRITTEN = "DocumentsWritten"
STALE_WRITES_REJECTED = "StaleWritesRejected"
DEAD_LETTERS = "DeadLetters"
RECORDS_TO_RETRY = "RecordsToRetry"
END_TO_END_LAG = "EndToEndLag"

_COUNTS = (
    (RECORDS_IN, "records"),
    (EVENTS_RECORDED, "events_recorded"),
    (DUPLICATES_SKIPPED, "duplicates"),
    (CHANGES_SETTLED_BY_READ, "settled_by_read"),
    (DOCUMENTS_WRITTEN, "documents_written"),
    (STALE_WRITES_REJECTED, "stale_writes_rejected"),
    (DEAD_LETTERS, "dead_lettered"),
)


def add_batch_metrics(metrics: Metrics, outcome: BatchOutcome) -> None:
    """Add one batch's counts and lag to the metric set (published by the next flush).

    Counts are added even when zero, so a quiet pipeline shows zeros, not gaps. The lag
    runs from the oldest record's ``ApproximateCreationDateTime`` to the moment the batch
    was searchable; a batch that must be retried has no lag yet.

    >>> add_batch_metrics(metrics, app.ingestion.handle(event))
    >>> metrics.flush_metrics()
    """
    for name, attribute in _COUNTS:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=getattr(outcome, attribute))
    metrics.add_metric(name=RECORDS_TO_RETRY, unit=MetricUnit.Count, value=len(outcome.failed))
    if outcome.lag_seconds is not None:
        metrics.add_metric(
            name=END_TO_END_LAG, unit=MetricUnit.Seconds, value=round(outcome.lag_seconds, 3)
        )
