"""``streamfold poll``: DynamoDB Streams read directly, for containers and local development."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from domain.errors import TransientFailure
from infrastructure.adapters.eventstore.postgres_deadline import database_deadline
from infrastructure.adapters.eventstore.shard_checkpoints import ShardCheckpoints
from infrastructure.adapters.streams import StreamRecord
from infrastructure.services.grouping import SettleGroups
from infrastructure.services.ingestion import BatchOutcome, StreamIngestion
from infrastructure.services.observability import BatchTelemetry
from infrastructure.services.poller.records import parse_page
from infrastructure.services.poller.shards import Shard, list_shards, readable_shards
from infrastructure.settings import (
    DEFAULT_POLL_BATCH_SECONDS,
    DEFAULT_POLL_BATCH_SIZE,
    DEFAULT_POLL_IDLE_SECONDS,
    DEFAULT_POLL_RETRY_SECONDS,
    POLL_BATCH_SECONDS,
    POLL_BATCH_SIZE,
    POLL_IDLE_SECONDS,
    POLL_RETRY_SECONDS,
    ConfigError,
)

logger = logging.getLogger("streamfold.poller")

_GONE = {"ExpiredIteratorException", "ResourceNotFoundException"}
_TRIMMED = "TrimmedDataAccessException"


@dataclass
class PassReport:
    """What one pass over every readable shard did."""

    records: int = 0
    batches: int = 0
    shards_finished: int = 0
    retries: int = 0  # batches or reads that must be tried again later
    outcomes: list[BatchOutcome] = field(default_factory=list)


@dataclass(frozen=True)
class PollSettings:
    batch_size: int = 1000  # records per GetRecords call (DynamoDB allows up to 1000)
    idle_seconds: float = 1.0  # wait after a pass that read nothing
    retry_seconds: float = 5.0  # wait after a pass with a batch to retry
    # DescribeStream allows 10 calls a second; shards change every few hours at most.
    discovery_seconds: float = 10.0
    # A batch's waits for PostgreSQL (and its checkpoint's) end this long after it starts:
    # a stalled server fails the batch, which is read again after ``retry_seconds``.
    batch_seconds: float = DEFAULT_POLL_BATCH_SECONDS

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> PollSettings:
        """Read ``STREAMFOLD_POLL_*``; unset variables keep their defaults.

        >>> PollSettings.from_environment({"STREAMFOLD_POLL_BATCH_SIZE": "100"}).batch_size
        100
        """
        env = os.environ if environ is None else environ
        return cls(
            batch_size=int(_number(env, POLL_BATCH_SIZE, DEFAULT_POLL_BATCH_SIZE, 1, 1000)),
            idle_seconds=_number(env, POLL_IDLE_SECONDS, DEFAULT_POLL_IDLE_SECONDS, 0, 3600),
            retry_seconds=_number(env, POLL_RETRY_SECONDS, DEFAULT_POLL_RETRY_SECONDS, 0, 3600),
            batch_seconds=_number(env, POLL_BATCH_SECONDS, DEFAULT_POLL_BATCH_SECONDS, 1, 3600),
        )


class StreamPoller:
    """Reads every shard of some DynamoDB streams and ingests each page as one batch.

    A shard's checkpoint moves only after its batch is recorded in the event store, so a
    restart (or a crash) re-reads at most the batch in flight; ingestion is idempotent, so
    that costs nothing but time. The batches of a pass are settled a group at a time and
    once more when the pass ends (`infrastructure.services.grouping`): what a pass read is
    searchable when it returns, and what a crash left recorded but not yet searchable is
    made so by the next pass's catch-up. A parent shard is read to its end before its children.

    >>> poller = StreamPoller(app.ingestion, app.shard_checkpoints(), streams, arns)
    >>> stop = threading.Event()  # set it from a SIGTERM handler
    >>> poller.run(stop)
    """

    def __init__(
        self,
        ingestion: StreamIngestion,
        checkpoints: ShardCheckpoints,
        streams: Any,
        stream_arns: Sequence[str],
        settings: PollSettings | None = None,
        telemetry: BatchTelemetry | None = None,
    ) -> None:
        self._ingestion = ingestion
        self._checkpoints = checkpoints
        self._streams = streams
        self._stream_arns = list(stream_arns)
        self._settings = settings or PollSettings()
        self._telemetry = telemetry
        self._iterators: dict[tuple[str, str], str] = {}
        self._caught_up = False  # a settle has succeeded since the poller started
        self._listed: dict[str, tuple[float, list[Shard]]] = {}

    def run(self, stop: threading.Event) -> None:
        """Poll until ``stop`` is set; the batch in flight is finished first."""
        logger.info("polling %d streams", len(self._stream_arns))
        while not stop.is_set():
            try:
                report = self.poll_once(stop)
            except (ClientError, BotoCoreError, TransientFailure) as error:
                logger.warning("polling failed, trying again: %s", error)
                report = PassReport(retries=1)
            if report.retries:
                stop.wait(self._settings.retry_seconds)
            elif not report.records and not report.shards_finished:
                stop.wait(self._settings.idle_seconds)
        logger.info("stopped; every checkpoint is saved")

    def drain(self, max_passes: int = 10_000) -> PassReport:
        """Poll until a pass reads nothing and closes no shard (local development, tests)."""
        total = PassReport()
        for _ in range(max_passes):
            report = self.poll_once()
            total.records += report.records
            total.batches += report.batches
            total.shards_finished += report.shards_finished
            total.retries += report.retries
            total.outcomes += report.outcomes
            if report.retries or not (report.records or report.shards_finished):
                break
        return total

    def poll_once(self, stop: threading.Event | None = None) -> PassReport:
        """Read one page of every readable shard of every stream and ingest it.

        The pages are recorded one by one and settled a group at a time; the pass ends
        with a settle, so what it read is searchable when it returns.
        """
        report = PassReport()
        groups = self._ingestion.groups()
        self._read_pages(stop, groups, report)
        if groups.pending or not self._caught_up:
            self._settle(groups, report)
        return report

    def _read_pages(
        self, stop: threading.Event | None, groups: SettleGroups, report: PassReport
    ) -> None:
        for stream_arn in self._stream_arns:
            try:
                with database_deadline(self._settings.batch_seconds):
                    shards = self._readable(stream_arn)
            except (ClientError, BotoCoreError, TransientFailure) as error:
                logger.warning("cannot list the shards of %s: %s", stream_arn, error)
                report.retries += 1
                continue
            for shard in shards:
                if stop is not None and stop.is_set():
                    return
                with database_deadline(self._settings.batch_seconds):
                    self._read_page(stream_arn, shard, groups, report)

    def _settle(self, groups: SettleGroups, report: PassReport) -> None:
        """Settle the pass's group: what it recorded (and any earlier run) becomes searchable.

        A failure leaves the records recorded and their checkpoints saved: the next pass
        settles again, and its catch-up projects them.
        """
        with self._observed(None, None):
            try:
                with database_deadline(self._settings.batch_seconds):
                    settled = groups.settle()
            except TransientFailure as error:
                logger.warning("cannot make the records read searchable yet: %s", error)
                self._caught_up = False
                report.retries += 1
                return
            outcome = BatchOutcome(**vars(settled))
            if self._telemetry is not None:
                self._telemetry.record(outcome, settle=True)
        self._caught_up = True
        report.outcomes.append(outcome)

    def _readable(self, stream_arn: str) -> list[Shard]:
        return readable_shards(self._shards(stream_arn), self._checkpoints.of_stream(stream_arn))

    def _shards(self, stream_arn: str) -> list[Shard]:
        listed_at, shards = self._listed.get(stream_arn, (0.0, []))
        if not shards or time.monotonic() - listed_at >= self._settings.discovery_seconds:
            shards = list_shards(self._streams, stream_arn)
            self._checkpoints.forget_finished(stream_arn, [shard.shard_id for shard in shards])
            self._listed[stream_arn] = (time.monotonic(), shards)
        return shards

    def _read_page(
        self, stream_arn: str, shard: Shard, groups: SettleGroups, report: PassReport
    ) -> None:
        key = (stream_arn, shard.shard_id)
        try:
            iterator = self._iterators.get(key) or self._first_iterator(stream_arn, shard)
            page = self._streams.get_records(ShardIterator=iterator, Limit=self._batch_size)
        except ClientError as error:
            self._iterators.pop(key, None)
            if _code(error) not in _GONE:
                logger.warning("cannot read %s of %s: %s", shard.shard_id, stream_arn, error)
                report.retries += 1
            return
        except (BotoCoreError, TransientFailure) as error:
            self._iterators.pop(key, None)
            logger.warning("cannot read %s of %s: %s", shard.shard_id, stream_arn, error)
            report.retries += 1
            return
        records = parse_page(page.get("Records", []), stream_arn, self._ingestion.kind_of_table)
        following = page.get("NextShardIterator")
        if records and not self._ingest(stream_arn, shard, records, groups, report):
            self._iterators.pop(key, None)  # read the rest again from the checkpoint
            return
        if following:
            self._iterators[key] = following
            return
        self._iterators.pop(key, None)
        self._checkpoints.save(stream_arn, shard.shard_id, None, finished=True)
        self._listed.pop(stream_arn, None)  # its children may be listed by now
        report.shards_finished += 1
        logger.info("shard %s of %s is read to its end", shard.shard_id, stream_arn)

    def _ingest(
        self,
        stream_arn: str,
        shard: Shard,
        records: list[StreamRecord],
        groups: SettleGroups,
        report: PassReport,
    ) -> bool:
        with self._observed(stream_arn, shard.shard_id):
            outcome = self._ingestion.apply(records, groups)
            if self._telemetry is not None:
                self._telemetry.record(outcome)
        report.records += len(records)
        report.batches += 1
        report.outcomes.append(outcome)
        done = _applied_prefix(records, outcome.failed)
        if done:
            last = done[-1].raw["dynamodb"]["SequenceNumber"]
            try:
                self._checkpoints.save(stream_arn, shard.shard_id, last)
            except TransientFailure as error:
                logger.warning("cannot save the checkpoint of %s: %s", shard.shard_id, error)
                report.retries += 1
                return False
        if outcome.failed:
            report.retries += 1
            return False
        return True

    def _observed(
        self, stream_arn: str | None, shard_id: str | None
    ) -> AbstractContextManager[Any]:
        if self._telemetry is None:
            return nullcontext()
        if stream_arn is None or shard_id is None:  # a settle of the pass's records
            return self._telemetry.batch()
        return self._telemetry.batch(event_source_arn=stream_arn, shard_id=shard_id)

    def _first_iterator(self, stream_arn: str, shard: Shard) -> str:
        checkpoint = self._checkpoints.of_stream(stream_arn).get(shard.shard_id)
        arguments = {"StreamArn": stream_arn, "ShardId": shard.shard_id}
        if checkpoint is None or checkpoint.sequence_number is None:
            return self._iterator(arguments, "TRIM_HORIZON")
        try:
            return self._iterator(
                {**arguments, "SequenceNumber": checkpoint.sequence_number},
                "AFTER_SEQUENCE_NUMBER",
            )
        except ClientError as error:
            if _code(error) != _TRIMMED:
                raise
            logger.error(
                "records of %s after %s are past the stream's retention and were never "
                "processed; reading on from the oldest record left (bootstrap from the "
                "table to recover them)",
                shard.shard_id,
                checkpoint.sequence_number,
            )
            return self._iterator(arguments, "TRIM_HORIZON")

    def _iterator(self, arguments: Mapping[str, str], kind: str) -> str:
        answer = self._streams.get_shard_iterator(**arguments, ShardIteratorType=kind)
        return str(answer["ShardIterator"])

    @property
    def _batch_size(self) -> int:
        return self._settings.batch_size


def _applied_prefix(records: Sequence[StreamRecord], failed: Sequence[str]) -> list[StreamRecord]:
    # Lambda's rule for partial batch responses: everything before the first failure is done.
    failures = set(failed)
    done: list[StreamRecord] = []
    for record in records:
        if record.item_identifier in failures:
            break
        done.append(record)
    return done


def _number(
    env: Mapping[str, str], variable: str, default: float, lowest: float, highest: float
) -> float:
    text = env.get(variable)
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not lowest <= value <= highest:
        raise ConfigError(f"{variable}={text!r}: use a number from {lowest:g} to {highest:g}")
    return value


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))
