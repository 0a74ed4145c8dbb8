"""`streamfold poll` when PostgreSQL stops answering in the middle of a batch.

A poller is a long-running process: without a deadline of its own, a query sent to a
server that went silent would block it forever, holding its shards. Each batch's waits for
the database end ``batch_seconds`` after it started; the batch then counts as one to
retry, its checkpoint does not move, and the next pass after the stall converges.
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from devtools.demo import SimulatedTables
from infrastructure.composition import Streamfold
from infrastructure.services.poller import PollSettings, ShardCheckpoints, StreamPoller
from infrastructure.settings import EmbeddedSearch, PostgresStore, Settings
from tests.e2e.documents import searchable_documents
from tests.faults.pipeline import user_item
from tests.support.fault_proxy import FaultProxy

BATCH_SECONDS = 1.0


class OneShardStream:
    """A DynamoDB Streams client over one open shard holding these records."""

    def __init__(self, arn: str, records: list[dict[str, Any]]) -> None:
        self.arn, self.records = arn, records

    def describe_stream(self, StreamArn: str, **_: Any) -> dict[str, Any]:
        shard = {"ShardId": "shardId-1", "SequenceNumberRange": {"StartingSequenceNumber": "1"}}
        return {"StreamDescription": {"Shards": [shard]}}

    def get_shard_iterator(self, **arguments: Any) -> dict[str, str]:
        after = arguments.get("SequenceNumber")
        start = next(
            (i + 1 for i, r in enumerate(self.records) if r["dynamodb"]["SequenceNumber"] == after),
            0,
        )
        return {"ShardIterator": str(start)}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        start = int(ShardIterator)
        page = self.records[start : start + Limit]
        return {"Records": page, "NextShardIterator": str(start + len(page))}


def test_a_silent_database_fails_the_batch_at_its_deadline_and_the_next_pass_converges(
    database_proxy: FaultProxy, postgres_store: PostgresStore, tmp_path: Path
) -> None:
    tables = SimulatedTables()
    tables.put("users", user_item("u-1", "free"))
    first = tables.records[-1]
    stream = OneShardStream(first["eventSourceARN"], [first])
    store = replace(postgres_store, host="127.0.0.1", port=database_proxy.port)
    settings = Settings(store, EmbeddedSearch(tmp_path / "index"), {}, "streamfold")
    with Streamfold.from_settings(settings) as app:
        poller = StreamPoller(
            app.ingestion, ShardCheckpoints(app.event_store), stream, [stream.arn],
            PollSettings(idle_seconds=0, retry_seconds=0, batch_seconds=BATCH_SECONDS),
        )  # fmt: skip
        assert poller.drain().records == 1  # pooled connections, as in a running poller

        tables.update("users", {"userId": "u-1"}, {"plan": "pro"})
        stream.records.append(tables.records[-1])
        database_proxy.stall()
        started = time.monotonic()
        during = poller.poll_once()
        waited = time.monotonic() - started

        database_proxy.heal()
        # The pool replaces the connections it lost in the background, with back-off; a
        # running poller waits ``retry_seconds`` before its next pass, this waits for them.
        app.event_store.head()
        after = poller.drain()
        saved = ShardCheckpoints(app.event_store).of_stream(stream.arn)["shardId-1"]
        documents = searchable_documents(app)

    assert during.retries == 1  # the stalled pass fails as a whole, nothing half-applied
    assert BATCH_SECONDS * 0.8 < waited < BATCH_SECONDS + 5  # its deadline, not forever
    assert after.records == 1 and after.retries == 0  # the same record, read again
    assert saved.sequence_number == stream.records[-1]["dynamodb"]["SequenceNumber"]
    assert documents["users"]["u-1"]["plan"] == "pro"
