"""Convergence when a table's changes come through more than one stream.

The writes go to moto's tables and come back from moto's DynamoDB stream. Moto refuses
to re-enable a table's stream (it keeps the old stream label), and delivers no Kinesis
destination, so the later changes are re-shaped the way the service shapes them: a
re-created stream has a later label in its ARN and sequence numbers that start far lower;
a Kinesis destination wraps the change record in base64 with a creation time in
milliseconds or microseconds. The consistent reads that settle changes of unknown order
go to moto's tables, which hold the final state the documents must match.
"""

from __future__ import annotations

import base64
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import orjson
import pytest

from devtools.demo.kinesis import to_kinesis_record
from infrastructure import lambda_handlers
from infrastructure.composition import Streamfold
from infrastructure.settings import PostgresStore, Settings, SQLiteStore
from tests.conftest import event_store_url
from tests.e2e.documents import assert_same_documents, searchable_documents
from tests.support.delivery import Turbulence, unreliable_delivery
from tests.support.fixtures import ReferenceTables
from tests.support.moto_server import read_stream_records, scan_items
from tests.support.random_workload import apply_random_workload
from tests.support.reference import expected_documents

Record = dict[str, Any]
ROUGH = Turbulence(
    max_batch_size=25, duplicate_record_rate=0.1, retry_batch_rate=0.15, late_replay_rate=0.1
)
# The AWS CLI's example: about 7.6e23 before a stream is re-created, 7e20 to 9e20 after.
RE_CREATED_START = 700_000_000_000_000_000_000
RE_CREATED_LABEL = "2099-01-01T00:00:00.000"


@pytest.fixture
def tables(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    event_store_target: SQLiteStore | PostgresStore,
    reference_tables: ReferenceTables,
) -> Iterator[ReferenceTables]:
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", event_store_url(event_store_target))
    monkeypatch.setenv("STREAMFOLD_SEARCH", f"embedded:///{tmp_path / 'index'}")
    monkeypatch.setenv("STREAMFOLD_TABLES", reference_tables.streamfold_tables_setting())
    for name, value in reference_tables.endpoint.environment().items():
        monkeypatch.setenv(name, value)
    lambda_handlers.reset()
    yield reference_tables
    lambda_handlers.reset()


def stream_records(tables: ReferenceTables) -> list[Record]:
    streams = tables.endpoint.streams()
    return [
        record
        for arn in tables.stream_arns.values()
        for record in read_stream_records(streams, arn)
    ]


def workload_phases(tables: ReferenceTables, seed: int, phases: int) -> list[list[Record]]:
    """Run one random workload per phase; each phase's new stream records, in order."""
    dynamodb = tables.endpoint.dynamodb()
    seen: set[str] = set()
    result = []
    for phase in range(phases):
        apply_random_workload(dynamodb, tables.names, seed * 10 + phase, operations=200)
        new = [r for r in stream_records(tables) if r["eventID"] not in seen]
        seen.update(r["eventID"] for r in new)
        result.append(new)
    return result


def on_re_created_stream(records: Sequence[Record]) -> list[Record]:
    """The records as a re-created NEW_IMAGE stream of the same table would carry them."""
    shaped = []
    for number, record in enumerate(records):
        change = {k: v for k, v in record["dynamodb"].items() if k != "OldImage"}
        change["SequenceNumber"] = str(RE_CREATED_START + number)
        change["StreamViewType"] = "NEW_IMAGE"
        arn = record["eventSourceARN"].rsplit("/", 1)[0] + f"/{RE_CREATED_LABEL}"
        shaped.append({**record, "dynamodb": change, "eventSourceARN": arn})
    return shaped


def on_kinesis(records: Sequence[Record], micros: Sequence[int], precision: str) -> list[Record]:
    """The records as a Kinesis destination delivers them, created at ``micros``."""
    shaped = []
    for record, created in zip(records, micros, strict=True):
        kinesis = to_kinesis_record(record, created)
        data = orjson.loads(base64.b64decode(kinesis["kinesis"]["data"]))
        if precision == "MILLISECOND":
            data["dynamodb"]["ApproximateCreationDateTime"] = created // 1_000
        data["dynamodb"]["ApproximateCreationDateTimePrecision"] = precision
        kinesis["kinesis"]["data"] = base64.b64encode(orjson.dumps(data)).decode()
        shaped.append(kinesis)
    return shaped


def created_at(records: Sequence[Record], seconds: int) -> list[Record]:
    """The records as if created ``seconds`` after the epoch (DynamoDB Streams: seconds)."""
    return [
        {**r, "dynamodb": {**r["dynamodb"], "ApproximateCreationDateTime": seconds}}
        for r in records
    ]


def deliver(records: Sequence[Record], seed: int) -> None:
    for event in unreliable_delivery(records, seed, ROUGH):
        assert lambda_handlers.stream_handler(event, None) == {"batchItemFailures": []}


def assert_documents_equal_the_fold_of_the_tables(tables: ReferenceTables) -> None:
    dynamodb = tables.endpoint.dynamodb()
    final = {kind: scan_items(dynamodb, name) for kind, name in tables.names.items()}
    with Streamfold.from_settings(Settings.from_environment()) as app:
        assert_same_documents(searchable_documents(app), expected_documents(final))
        assert app.dead_letters.count() == 0


def updates_and_removes(records: Sequence[Record]) -> int:
    return sum(1 for r in records if r.get("eventName") in ("MODIFY", "REMOVE"))


@pytest.mark.parametrize("seed", [3])
def test_a_re_created_stream_with_lower_sequence_numbers_converges(
    tables: ReferenceTables, seed: int
) -> None:
    before, after = workload_phases(tables, seed, phases=2)
    re_created = on_re_created_stream(after)
    assert updates_and_removes(re_created) > 20  # what the old ordering dropped

    deliver(before + re_created, seed)

    assert_documents_equal_the_fold_of_the_tables(tables)


@pytest.mark.parametrize("times", ["apart", "overlapping"])
def test_a_move_to_kinesis_and_back_converges(tables: ReferenceTables, times: str) -> None:
    before, moved, back = workload_phases(tables, 5, phases=3)
    start = int(before[0]["dynamodb"]["ApproximateCreationDateTime"])
    last = max(int(r["dynamodb"]["ApproximateCreationDateTime"]) for r in before)
    if times == "apart":
        # Minutes between the phases: every order is known from the creation times.
        micros = [(start + 60) * 1_000_000 + 1_000 * n for n in range(len(moved))]
        back = created_at(back, start + 120)
    else:
        # Within the second of the last change before the move (and the first after it):
        # the order across transports is unknown there, and reads settle it.
        micros = [last * 1_000_000 + n for n in range(len(moved))]
    on_stream = on_kinesis(moved, micros, "MICROSECOND")

    deliver(before + on_stream + back, 5)

    assert_documents_equal_the_fold_of_the_tables(tables)


def test_kinesis_bursts_within_one_millisecond_converge(tables: ReferenceTables) -> None:
    (records,) = workload_phases(tables, 7, phases=1)
    start = int(records[0]["dynamodb"]["ApproximateCreationDateTime"]) * 1_000_000
    # Three changes a millisecond: an item's consecutive changes often share one.
    micros = [start + 1_000 * (n // 3) for n in range(len(records))]
    shaped = on_kinesis(records, micros, "MILLISECOND")
    assert _items_with_changes_in_one_millisecond(shaped) > 5

    deliver(shaped, 7)

    assert_documents_equal_the_fold_of_the_tables(tables)


def _items_with_changes_in_one_millisecond(records: Sequence[Mapping[str, Any]]) -> int:
    moments: Counter[tuple[str, str, int]] = Counter()
    for record in records:
        data = orjson.loads(base64.b64decode(record["kinesis"]["data"]))
        keys = orjson.dumps(data["dynamodb"]["Keys"], option=orjson.OPT_SORT_KEYS).decode()
        moments[(data["tableName"], keys, data["dynamodb"]["ApproximateCreationDateTime"])] += 1
    return sum(1 for count in moments.values() if count > 1)


def two_changes_in_one_millisecond(tables: ReferenceTables) -> list[Record]:
    dynamodb = tables.endpoint.dynamodb()
    for plan in ("free", "pro"):
        dynamodb.put_item(
            TableName=tables.names["users"],
            Item={
                "userId": {"S": "u-1"},
                "email": {"S": "ada@example.com"},
                "name": {"S": "Ada"},
                "plan": {"S": plan},
                "country": {"S": "GB"},
                "createdAt": {"S": "2024-01-02T03:04:05Z"},
                "marketingOptIn": {"BOOL": True},
            },
        )
    records = read_stream_records(tables.endpoint.streams(), tables.stream_arns["users"])
    moment = int(records[0]["dynamodb"]["ApproximateCreationDateTime"]) * 1_000_000
    return on_kinesis(records, [moment, moment], "MILLISECOND")


def test_a_change_of_unknown_order_whose_table_cannot_be_read_is_a_dead_letter(
    tables: ReferenceTables,
) -> None:
    first, second = two_changes_in_one_millisecond(tables)
    tables.endpoint.dynamodb().delete_table(TableName=tables.names["users"])

    assert lambda_handlers.stream_handler({"Records": [first]}, None)["batchItemFailures"] == []
    reply = lambda_handlers.stream_handler({"Records": [second]}, None)

    assert reply == {"batchItemFailures": []}
    with Streamfold.from_settings(Settings.from_environment()) as app:
        [letter] = app.dead_letters.list()
        assert "ResourceNotFoundException" in letter.reason
        assert letter.raw["kinesis"]["sequenceNumber"] == second["kinesis"]["sequenceNumber"]


def test_a_change_of_unknown_order_is_retried_while_its_table_is_unreachable(
    tables: ReferenceTables, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = two_changes_in_one_millisecond(tables)
    assert lambda_handlers.stream_handler({"Records": [first]}, None)["batchItemFailures"] == []
    monkeypatch.setenv("AWS_ENDPOINT_URL_DYNAMODB", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    lambda_handlers.reset()

    reply = lambda_handlers.stream_handler({"Records": [second]}, None)

    assert reply == {"batchItemFailures": [{"itemIdentifier": second["kinesis"]["sequenceNumber"]}]}
    with Streamfold.from_settings(Settings.from_environment()) as app:
        assert app.dead_letters.count() == 0
