"""One structured log line and one set of metrics per batch, under a correlation id."""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics

from infrastructure.services.ingestion import BatchOutcome
from infrastructure.services.observability.metrics import add_batch_metrics
from infrastructure.settings import (
    DEFAULT_METRICS_NAMESPACE,
    DEFAULT_SERVICE_NAME,
    METRICS_NAMESPACE,
    SERVICE_NAME,
)

# Every module logs under "streamfold.<module>"; a Powertools logger of that name makes
# them all JSON lines carrying the batch's correlation id.
LOGGER_NAME = "streamfold"

LambdaHandler = Callable[[Mapping[str, Any], Any], dict[str, Any]]


@dataclass
class BatchScope:
    correlation_id: str
    recorded: bool = False


class BatchTelemetry:
    """Logs and metrics of ingested batches, for the Lambda handler and ``streamfold poll``.

    >>> telemetry = BatchTelemetry.from_environment()
    >>> with telemetry.batch(correlation_id=context.aws_request_id, source="prod-users"):
    ...     telemetry.record(app.ingestion.handle(event))
    """

    def __init__(self, logger: Logger, metrics: Metrics) -> None:
        self._logger = logger
        self._metrics = metrics
        self._scope: BatchScope | None = None

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> BatchTelemetry:
        env = os.environ if environ is None else environ
        service = env.get(SERVICE_NAME) or DEFAULT_SERVICE_NAME
        logger = Logger(service=LOGGER_NAME, utc=True)
        if service != LOGGER_NAME:
            logger.append_keys(service=service)
        namespace = env.get(METRICS_NAMESPACE) or DEFAULT_METRICS_NAMESPACE
        return cls(logger, Metrics(namespace=namespace, service=service))

    @contextmanager
    def batch(self, correlation_id: str | None = None, **keys: str) -> Iterator[BatchScope]:
        """Tag every log line with a correlation id (and ``keys``); publish metrics on exit."""
        scope = BatchScope(correlation_id or uuid.uuid4().hex)
        self._scope = scope
        self._logger.set_correlation_id(scope.correlation_id)
        self._logger.append_keys(**keys)
        try:
            yield scope
        finally:
            if scope.recorded:
                self._metrics.flush_metrics()
            self._logger.remove_keys(list(keys))
            self._logger.set_correlation_id(None)
            self._scope = None

    def record(self, outcome: BatchOutcome, *, settle: bool = False) -> None:
        """Count the batch in the metrics and log what it did in one line.

        ``settle``: the outcome is a command's settle of batches recorded before (the
        documents it wrote), not a batch of records.
        """
        if self._scope is not None:
            self._scope.recorded = True
        add_batch_metrics(self._metrics, outcome)
        summary = batch_summary(outcome)
        if outcome.failed:
            self._logger.warning("batch will be retried", extra=summary)
        else:
            self._logger.info("records settled" if settle else "batch processed", extra=summary)

    def observe_lambda_batches(self, handler: LambdaHandler) -> LambdaHandler:
        """Wrap a stream handler: one correlation id (the request id) and one metric set each.

        An invocation that answers without recording an outcome (it could not start) is
        counted from its partial batch response, so its retries show in the metrics too.
        """

        @functools.wraps(handler)
        def observed(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
            request_id = getattr(context, "aws_request_id", None)
            with self.batch(request_id, **_batch_keys(event)) as scope:
                response = handler(event, context)
                if not scope.recorded:
                    self.record(_outcome_of(event, response))
                return response

        return observed


def batch_summary(outcome: BatchOutcome) -> dict[str, Any]:
    """The fields of a batch's log line."""
    return {
        "records": outcome.records,
        "events_recorded": outcome.events_recorded,
        "duplicates": outcome.duplicates,
        "settled_by_read": outcome.settled_by_read,
        "dead_lettered": outcome.dead_lettered,
        "documents_written": outcome.documents_written,
        "stale_writes_rejected": outcome.stale_writes_rejected,
        "records_to_retry": len(outcome.failed),
        "error": outcome.error,
        "lag_seconds": None if outcome.lag_seconds is None else round(outcome.lag_seconds, 3),
        "stage_seconds": {stage: round(s, 4) for stage, s in outcome.seconds.items()},
    }


def _records(event: Mapping[str, Any]) -> list[Any]:
    records = event.get("Records") if isinstance(event, Mapping) else None
    return list(records) if isinstance(records, list | tuple) else []


def _batch_keys(event: Mapping[str, Any]) -> dict[str, str]:
    first = next(iter(_records(event)), None)
    arn = first.get("eventSourceARN") if isinstance(first, Mapping) else None
    return {"event_source_arn": arn} if isinstance(arn, str) else {}


def _outcome_of(event: Mapping[str, Any], response: Mapping[str, Any]) -> BatchOutcome:
    failures = response.get("batchItemFailures") or []
    return BatchOutcome(
        records=len(_records(event)),
        failed=[str(failure.get("itemIdentifier")) for failure in failures],
        error="the handler could not start" if failures else None,
    )
