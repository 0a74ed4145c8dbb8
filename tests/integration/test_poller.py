"""`streamfold poll` against moto's DynamoDB Streams: checkpoints, restarts, shards, SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from devtools.demo import SimulatedTables
from infrastructure.adapters.eventstore.dialects import dialect_for
from infrastructure.adapters.eventstore.shard_checkpoints import Checkpoint
from infrastructure.composition import Streamfold
from infrastructure.entrypoints.cli.main import main
from infrastructure.services.poller import PollSettings, ShardCheckpoints, StreamPoller
from infrastructure.services.poller.shards import Shard, readable_shards
from infrastructure.settings import (
    EmbeddedSearch,
    OpenSearchTarget,
    PostgresStore,
    Settings,
    SQLiteStore,
    parse_tables,
)
from tests.conftest import event_store_url
from tests.e2e.documents import assert_same_documents, searchable_documents
from tests.support.fixtures import ReferenceTables
from tests.support.moto_server import read_stream_records, scan_items
from tests.support.random_workload import apply_random_workload
from tests.support.reference import expected_documents

EventStoreTarget = SQLiteStore | PostgresStore


def settings_for(
    tables: ReferenceTables, store: EventStoreTarget, index_dir: Path, **overrides: Any
) -> Settings:
    return Settings(
        event_store=store,
        search=overrides.get("search", EmbeddedSearch(index_dir)),
        tables=parse_tables(tables.streamfold_tables_setting()),
        index_prefix="streamfold",
    )


@contextmanager
def poller_of(
    tables: ReferenceTables, settings: Settings, batch_size: int = 1000
) -> Iterator[tuple[StreamPoller, Streamfold]]:
    """A freshly started poller process, as far as state goes: nothing kept in memory."""
    app = Streamfold.from_settings(settings)
    try:
        poller = StreamPoller(
            app.ingestion,
            ShardCheckpoints(app.event_store),
            tables.endpoint.streams(),
            list(tables.stream_arns.values()),
            PollSettings(batch_size=batch_size, idle_seconds=0, retry_seconds=0),
        )
        yield poller, app
    finally:
        app.close()


def searchable(settings: Settings) -> dict[str, dict[str, Any]]:
    with Streamfold.from_settings(settings) as app:
        return searchable_documents(app)


def fold_of_tables(tables: ReferenceTables) -> Any:
    client = tables.endpoint.dynamodb()
    return expected_documents(
        {kind: scan_items(client, name) for kind, name in tables.names.items()}
    )


def records_in_streams(tables: ReferenceTables) -> int:
    streams = tables.endpoint.streams()
    return sum(len(read_stream_records(streams, arn)) for arn in tables.stream_arns.values())


def test_every_table_change_becomes_searchable(
    reference_tables: ReferenceTables, event_store_target: EventStoreTarget, tmp_path: Path
) -> None:
    apply_random_workload(reference_tables.endpoint.dynamodb(), reference_tables.names, 4, 200)
    settings = settings_for(reference_tables, event_store_target, tmp_path / "index")

    with poller_of(reference_tables, settings) as (poller, _):
        report = poller.drain()

    assert report.records == records_in_streams(reference_tables) and report.retries == 0
    assert_same_documents(searchable(settings), fold_of_tables(reference_tables))


def test_a_restart_in_the_middle_resumes_from_the_checkpoints_without_loss(
    reference_tables: ReferenceTables, sqlite_store: SQLiteStore, tmp_path: Path
) -> None:
    dynamodb = reference_tables.endpoint.dynamodb()
    apply_random_workload(dynamodb, reference_tables.names, seed=1, operations=240)
    settings = settings_for(reference_tables, sqlite_store, tmp_path / "index")

    with poller_of(reference_tables, settings, batch_size=25) as (poller, _):
        first = poller.poll_once()
        first_records = first.records + poller.poll_once().records
    apply_random_workload(dynamodb, reference_tables.names, seed=2, operations=60)
    total = records_in_streams(reference_tables)
    assert 0 < first_records < total
    with poller_of(reference_tables, settings, batch_size=25) as (poller, _):
        rest = poller.drain()

    assert rest.records == total - first_records  # nothing read twice, nothing skipped
    assert sum(outcome.duplicates for outcome in rest.outcomes) == 0
    assert_same_documents(searchable(settings), fold_of_tables(reference_tables))


def test_a_crash_before_the_checkpoint_redelivers_the_batch_harmlessly(
    reference_tables: ReferenceTables, sqlite_store: SQLiteStore, tmp_path: Path
) -> None:
    apply_random_workload(reference_tables.endpoint.dynamodb(), reference_tables.names, 6, 120)
    settings = settings_for(reference_tables, sqlite_store, tmp_path / "index")
    with poller_of(reference_tables, settings) as (poller, app):
        poller.drain()
        head = app.event_store.head()
        with dialect_for(app.event_store).transaction() as cursor:  # as if never saved
            cursor.execute("DELETE FROM streamfold_shard_checkpoints")

    with poller_of(reference_tables, settings) as (poller, app):
        again = poller.drain()
        assert app.event_store.head() == head

    assert again.records == records_in_streams(reference_tables)
    assert sum(outcome.events_recorded for outcome in again.outcomes) == 0
    assert_same_documents(searchable(settings), fold_of_tables(reference_tables))


def test_records_recorded_by_a_pass_whose_settle_failed_are_made_searchable_by_the_next_run(
    reference_tables: ReferenceTables, sqlite_store: SQLiteStore, tmp_path: Path
) -> None:
    apply_random_workload(reference_tables.endpoint.dynamodb(), reference_tables.names, 8, 40)
    down = OpenSearchTarget(url="http://127.0.0.1:9", auth="none")  # nothing listens there
    failing = settings_for(reference_tables, sqlite_store, tmp_path / "index", search=down)
    with poller_of(reference_tables, failing) as (poller, app):
        app.index.set_deadline(time.monotonic())  # give up at once instead of retrying
        report = poller.poll_once()
        # The pages were recorded in the event store (and checkpointed); the pass's settle
        # could not write them, so the pass asks to be retried.
        assert report.retries == 1 and report.records > 0
        assert ShardCheckpoints(app.event_store).all() != []
        assert app.event_store.head() > 0

    settings = settings_for(reference_tables, sqlite_store, tmp_path / "index")
    with poller_of(reference_tables, settings) as (poller, _):
        drained = poller.drain()  # reads nothing new: its first settle projects the rest
        assert drained.retries == 0 and drained.records == 0

    assert_same_documents(searchable(settings), fold_of_tables(reference_tables))


def checkpoint(shard_id: str, *, finished: bool) -> Checkpoint:
    return Checkpoint("arn", shard_id, "1", finished, updated_at=None)  # type: ignore[arg-type]


def test_a_child_shard_waits_until_its_parent_is_read_to_its_end() -> None:
    parent, child = Shard("parent", None, closed=True), Shard("child", "parent", closed=False)

    before = readable_shards([child, parent], {"parent": checkpoint("parent", finished=False)})
    after = readable_shards([child, parent], {"parent": checkpoint("parent", finished=True)})

    assert [shard.shard_id for shard in before] == ["parent"]
    assert [shard.shard_id for shard in after] == ["child"]


def test_a_child_of_a_trimmed_parent_is_read_at_once() -> None:
    orphan = Shard("child", "parent-trimmed-long-ago", closed=False)

    assert readable_shards([orphan], {}) == [orphan]


def poll_environment(
    tables: ReferenceTables, store: SQLiteStore, index_dir: Path
) -> dict[str, str]:
    return {
        **tables.endpoint.environment(),
        "STREAMFOLD_EVENT_STORE": event_store_url(store),
        "STREAMFOLD_SEARCH": f"embedded:///{index_dir}",
        "STREAMFOLD_TABLES": tables.streamfold_tables_setting(),
    }


def test_poll_until_idle_prints_a_summary(
    reference_tables: ReferenceTables,
    sqlite_store: SQLiteStore,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    apply_random_workload(reference_tables.endpoint.dynamodb(), reference_tables.names, 3, 30)
    for name, value in poll_environment(reference_tables, sqlite_store, tmp_path / "i").items():
        monkeypatch.setenv(name, value)

    code = main(["poll", "--until-idle", "--json"])

    summary = json.loads(capsys.readouterr().out)
    assert code == 0
    assert summary["records"] == records_in_streams(reference_tables)
    assert summary["retries"] == 0
    assert summary["events_recorded"] > 0 and summary["documents_written"] > 0


def test_sigterm_stops_the_poller_cleanly_after_its_batch(
    reference_tables: ReferenceTables, sqlite_store: SQLiteStore, tmp_path: Path
) -> None:
    apply_random_workload(reference_tables.endpoint.dynamodb(), reference_tables.names, 5, 50)
    environment = {
        **os.environ,
        **poll_environment(reference_tables, sqlite_store, tmp_path / "index"),
        "STREAMFOLD_POLL_IDLE_SECONDS": "0.2",
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "infrastructure.entrypoints.cli.main", "poll"]
    process = subprocess.Popen(
        command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for_checkpoints(sqlite_store, count=4, process=process)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()

    assert process.returncode == 0, err
    logs = [json.loads(line) for line in out.splitlines() if line.startswith('{"level"')]
    assert logs[-1]["message"] == "stopped; every checkpoint is saved"
    batches = [line for line in logs if line["message"] == "batch processed"]
    assert sum(line["records"] for line in batches) == records_in_streams(reference_tables)
    assert all(line["correlation_id"] and line["shard_id"] for line in batches)
    settings = settings_for(reference_tables, sqlite_store, tmp_path / "index")
    assert_same_documents(searchable(settings), fold_of_tables(reference_tables))


# A `poll` that dies (no handler runs, as on SIGKILL) after recording its third page, the
# first two pages' checkpoints saved, before the group commits.
_DIES_MID_GROUP = """
import os, sys
from infrastructure.entrypoints.cli.main import main
from infrastructure.services.ingestion import StreamIngestion

apply = StreamIngestion.apply
pages = []

def apply_then_die(self, *arguments, **options):
    outcome = apply(self, *arguments, **options)
    pages.append(outcome)
    if len(pages) == 3:
        os._exit(9)
    return outcome

StreamIngestion.apply = apply_then_die
sys.exit(main(["poll", "--batch-size", "5"]))
"""


def test_a_poller_that_dies_while_a_group_is_held_loses_no_record(
    reference_tables: ReferenceTables, sqlite_store: SQLiteStore, tmp_path: Path
) -> None:
    apply_random_workload(reference_tables.endpoint.dynamodb(), reference_tables.names, 7, 120)
    environment = {
        **os.environ,
        **poll_environment(reference_tables, sqlite_store, tmp_path / "index"),
    }
    died = subprocess.run(
        [sys.executable, "-c", _DIES_MID_GROUP],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert died.returncode == 9, died.stderr
    # The group's pages and their checkpoints were one transaction: neither is in the store
    # (docs/adr/0034-a-commands-batches-commit-together.md).
    assert saved_checkpoints(sqlite_store) == []
    with sqlite3.connect(sqlite_store.path) as connection:
        assert connection.execute("SELECT count(*) FROM stored_events").fetchone() == (0,)

    settings = settings_for(reference_tables, sqlite_store, tmp_path / "index")
    with poller_of(reference_tables, settings) as (poller, _):
        again = poller.drain()
    assert again.records == records_in_streams(reference_tables)
    assert_same_documents(searchable(settings), fold_of_tables(reference_tables))


def wait_for_checkpoints(store: SQLiteStore, count: int, process: subprocess.Popen[str]) -> None:
    # The child process owns the clock here: wait, bounded, for its first checkpoints.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()[1]
        if store.path.exists() and len(saved_checkpoints(store)) >= count:
            return
        time.sleep(0.1)
    process.kill()
    out, err = process.communicate()
    raise AssertionError(f"no {count} checkpoints within 60 s:\n{out[-3000:]}\n{err[-3000:]}")


def saved_checkpoints(store: SQLiteStore) -> list[Any]:
    connection = sqlite3.connect(store.path)
    try:
        return connection.execute("SELECT * FROM streamfold_shard_checkpoints").fetchall()
    except sqlite3.OperationalError:  # the table is not there yet
        return []
    finally:
        connection.close()


class RotatedStream:
    """A DynamoDB Streams client over one stream whose first shard closed and split.

    moto keeps a single open shard per table, so rotation is played by this stand-in for
    the AWS client; it answers the four calls the poller makes, as DynamoDB does.
    """

    def __init__(self, arn: str, parent: list[dict[str, Any]], child: list[dict[str, Any]]):
        self.arn = arn
        self.records = {"shardId-parent": parent, "shardId-child": child}
        self.reads: list[str] = []

    def describe_stream(self, StreamArn: str, **_: Any) -> dict[str, Any]:
        return {
            "StreamDescription": {
                "Shards": [
                    {
                        "ShardId": "shardId-child",
                        "ParentShardId": "shardId-parent",
                        "SequenceNumberRange": {"StartingSequenceNumber": "300"},
                    },
                    {
                        "ShardId": "shardId-parent",
                        "SequenceNumberRange": {
                            "StartingSequenceNumber": "100",
                            "EndingSequenceNumber": "299",
                        },
                    },
                ]
            }
        }

    def get_shard_iterator(self, ShardId: str, **_: Any) -> dict[str, str]:
        return {"ShardIterator": f"{ShardId}|0"}

    def get_records(self, ShardIterator: str, Limit: int) -> dict[str, Any]:
        shard, start = ShardIterator.split("|")
        self.reads.append(shard)
        page = self.records[shard][int(start) : int(start) + Limit]
        following = int(start) + len(page)
        if shard == "shardId-parent" and following >= len(self.records[shard]):
            return {"Records": page}  # closed and read to its end: no next iterator
        return {"Records": page, "NextShardIterator": f"{shard}|{following}"}


def test_a_parent_shard_is_read_to_its_end_before_its_child(
    sqlite_store: SQLiteStore, tmp_path: Path
) -> None:
    tables = SimulatedTables()
    user = {
        "userId": "u-1",
        "email": "a@example.com",
        "name": "Ada",
        "plan": "free",
        "country": "GB",
        "createdAt": "2024-01-01T00:00:00Z",
        "marketingOptIn": True,
    }
    tables.put("users", user)
    tables.update("users", {"userId": "u-1"}, {"plan": "pro"})
    tables.update("users", {"userId": "u-1"}, {"plan": "team"})
    first, second, third = tables.records
    arn = first["eventSourceARN"]
    stream = RotatedStream(arn, parent=[first, second], child=[third])
    settings = Settings(sqlite_store, EmbeddedSearch(tmp_path / "index"), {}, "streamfold")
    app = Streamfold.from_settings(settings)
    try:
        poller = StreamPoller(
            app.ingestion, ShardCheckpoints(app.event_store), stream, [arn],
            PollSettings(batch_size=1, idle_seconds=0, retry_seconds=0),
        )  # fmt: skip
        report = poller.drain()
        saved = ShardCheckpoints(app.event_store).of_stream(arn)
    finally:
        app.close()

    assert stream.reads[:2] == ["shardId-parent", "shardId-parent"]
    assert "shardId-child" in stream.reads and report.shards_finished == 1
    assert sum(outcome.duplicates for outcome in report.outcomes) == 0  # nothing out of order
    assert saved["shardId-parent"].finished and not saved["shardId-child"].finished
    assert searchable(settings)["users"]["u-1"]["plan"] == "team"
