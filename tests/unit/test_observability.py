"""Batch telemetry: one JSON log line per batch with a correlation id, and EMF metrics."""

from __future__ import annotations

import io
import json
import time
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics

from devtools.demo import SimulatedTables
from infrastructure import lambda_handlers
from infrastructure.services.ingestion import BatchOutcome
from infrastructure.services.observability import BatchTelemetry

ARN = "arn:aws:dynamodb:us-east-1:123456789012:table/users/stream/2024-01-01T00:00:00"


class Telemetry:
    """A BatchTelemetry whose log lines land in a buffer; its metrics print to stdout."""

    def __init__(self) -> None:
        self.buffer = io.StringIO()
        logger = Logger(service=f"test-{uuid.uuid4().hex}", stream=self.buffer)
        self.telemetry = BatchTelemetry(logger, Metrics(namespace="Streamfold", service="test"))

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.buffer.getvalue().splitlines()]


def published_metrics(stdout: str) -> dict[str, float]:
    """Metric name -> value, from the EMF blobs printed on stdout."""
    values: dict[str, float] = {}
    for line in stdout.splitlines():
        blob = json.loads(line) if line.startswith('{"_aws"') else None
        if blob is None:
            continue
        for declared in blob["_aws"]["CloudWatchMetrics"][0]["Metrics"]:
            value = blob[declared["Name"]]
            values[declared["Name"]] = value[0] if isinstance(value, list) else value
    return values


@pytest.fixture
def telemetry() -> Telemetry:
    return Telemetry()


def test_a_batch_is_one_log_line_with_its_correlation_id_and_counts(telemetry: Telemetry) -> None:
    outcome = BatchOutcome(records=5, events_recorded=4, duplicates=1, documents_written=3)

    with telemetry.telemetry.batch("request-1", event_source_arn=ARN):
        telemetry.telemetry.record(outcome)

    [line] = telemetry.lines()
    assert line["level"] == "INFO" and line["message"] == "batch processed"
    assert line["correlation_id"] == "request-1" and line["event_source_arn"] == ARN
    assert (line["records"], line["events_recorded"], line["duplicates"]) == (5, 4, 1)
    assert line["documents_written"] == 3 and line["records_to_retry"] == 0


def test_the_correlation_id_and_keys_end_with_the_batch(telemetry: Telemetry) -> None:
    with telemetry.telemetry.batch("request-1", event_source_arn=ARN):
        pass
    telemetry.telemetry.record(BatchOutcome(records=1))

    [line] = telemetry.lines()
    assert "correlation_id" not in line or line["correlation_id"] is None
    assert "event_source_arn" not in line


def test_each_batch_gets_a_correlation_id_of_its_own_when_none_is_given(
    telemetry: Telemetry,
) -> None:
    for _ in range(2):
        with telemetry.telemetry.batch():
            telemetry.telemetry.record(BatchOutcome(records=1))

    first, second = (line["correlation_id"] for line in telemetry.lines())
    assert first and second and first != second


def test_metrics_are_published_in_embedded_metric_format_when_the_batch_ends(
    telemetry: Telemetry, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = BatchOutcome(
        records=10,
        events_recorded=7,
        duplicates=2,
        settled_by_read=3,
        dead_lettered=1,
        documents_written=6,
        stale_writes_rejected=1,
        lag_seconds=2.5,
    )

    with telemetry.telemetry.batch("request-1"):
        telemetry.telemetry.record(outcome)
        assert capsys.readouterr().out == ""  # nothing before the batch ends

    stdout = capsys.readouterr().out
    [blob] = [json.loads(line) for line in stdout.splitlines()]
    assert blob["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Streamfold"
    assert published_metrics(stdout) == {
        "RecordsIn": 10,
        "EventsRecorded": 7,
        "DuplicatesSkipped": 2,
        "ChangesSettledByRead": 3,
        "DeadLetters": 1,
        "DocumentsWritten": 6,
        "StaleWritesRejected": 1,
        "RecordsToRetry": 0,
        "EndToEndLag": 2.5,
    }


def test_a_batch_to_retry_is_a_warning_and_counts_its_records_without_a_lag(
    telemetry: Telemetry, capsys: pytest.CaptureFixture[str]
) -> None:
    outcome = BatchOutcome(records=2, failed=["101", "102"], error="search backend unreachable")

    with telemetry.telemetry.batch("request-1"):
        telemetry.telemetry.record(outcome)

    [line] = telemetry.lines()
    assert line["level"] == "WARNING" and line["message"] == "batch will be retried"
    assert line["error"] == "search backend unreachable" and line["records_to_retry"] == 2
    metrics = published_metrics(capsys.readouterr().out)
    assert metrics["RecordsToRetry"] == 2 and "EndToEndLag" not in metrics


class LambdaContext:
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def test_a_lambda_batch_is_tagged_with_the_request_id_and_its_source(telemetry: Telemetry) -> None:
    def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        telemetry.telemetry.record(BatchOutcome(records=len(event["Records"])))
        return {"batchItemFailures": []}

    observed = telemetry.telemetry.observe_lambda_batches(handler)
    answer = observed({"Records": [{"eventSourceARN": ARN}]}, LambdaContext())

    [line] = telemetry.lines()
    assert answer == {"batchItemFailures": []}
    assert line["correlation_id"] == LambdaContext.aws_request_id
    assert line["event_source_arn"] == ARN and line["records"] == 1


def test_an_invocation_that_could_not_start_is_counted_from_its_response(
    telemetry: Telemetry, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        return {"batchItemFailures": [{"itemIdentifier": "101"}, {"itemIdentifier": "102"}]}

    telemetry.telemetry.observe_lambda_batches(handler)({"Records": [{}, {}]}, None)

    [line] = telemetry.lines()
    assert line["level"] == "WARNING" and line["records_to_retry"] == 2
    assert published_metrics(capsys.readouterr().out)["RecordsToRetry"] == 2


def test_the_stream_handler_publishes_the_batch_and_its_end_to_end_lag(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", f"sqlite:///{tmp_path / 'events.db'}")
    monkeypatch.setenv("STREAMFOLD_SEARCH", f"embedded:///{tmp_path / 'index'}")
    tables = SimulatedTables()
    tables.put("users", {"userId": "u-1", "email": "a@example.com", "name": "Ada", "plan": "pro",
                         "country": "GB", "createdAt": "2024-01-01T00:00:00Z",
                         "marketingOptIn": True})  # fmt: skip
    event = {"Records": tables.records}
    created = event["Records"][0]["dynamodb"]["ApproximateCreationDateTime"]
    lambda_handlers.reset()
    try:
        before = time.time()
        assert lambda_handlers.stream_handler(event, LambdaContext()) == {"batchItemFailures": []}
        after = time.time()
    finally:
        lambda_handlers.reset()

    metrics = published_metrics(capsys.readouterr().out)
    assert metrics["RecordsIn"] == 1 and metrics["EventsRecorded"] == 1
    assert metrics["DocumentsWritten"] == 1 and metrics["RecordsToRetry"] == 0
    assert before - created - 0.01 <= metrics["EndToEndLag"] <= after - created + 0.01
