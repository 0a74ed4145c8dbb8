"""Convergence: whatever the delivery, documents end up equal to the fold of the tables."""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from devtools.demo import CrmWorkload, kinesis_lambda_events
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

ROUGH = Turbulence(
    max_batch_size=40, duplicate_record_rate=0.1, retry_batch_rate=0.15, late_replay_rate=0.1
)


@pytest.fixture
def configured(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    event_store_target: SQLiteStore | PostgresStore,
) -> Iterator[None]:
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", event_store_url(event_store_target))
    monkeypatch.setenv("STREAMFOLD_SEARCH", f"embedded:///{tmp_path / 'index'}")
    lambda_handlers.reset()
    yield
    lambda_handlers.reset()


def found_documents() -> dict[str, dict[str, Any]]:
    with Streamfold.from_settings(Settings.from_environment()) as app:
        return searchable_documents(app)


def deliver(events: Sequence[Mapping[str, Any]]) -> None:
    for event in events:
        assert lambda_handlers.stream_handler(event, None) == {"batchItemFailures": []}


@pytest.mark.parametrize("seed", [11])
def test_documents_equal_the_fold_of_the_tables_after_a_rough_delivery(
    configured: None,
    reference_tables: ReferenceTables,
    monkeypatch: pytest.MonkeyPatch,
    seed: int,
) -> None:
    dynamodb = reference_tables.endpoint.dynamodb()
    streams = reference_tables.endpoint.streams()
    monkeypatch.setenv("STREAMFOLD_TABLES", reference_tables.streamfold_tables_setting())
    counts = apply_random_workload(dynamodb, reference_tables.names, seed, operations=500)
    assert counts["delete_image"] and counts["delete_user"]  # the workload exercises deletes

    records = [
        record
        for arn in reference_tables.stream_arns.values()
        for record in read_stream_records(streams, arn)
    ]
    deliver(unreliable_delivery(records, seed, ROUGH))

    tables = {kind: scan_items(dynamodb, name) for kind, name in reference_tables.names.items()}
    assert_same_documents(found_documents(), expected_documents(tables))


def test_kinesis_records_in_any_order_with_duplicates_converge(configured: None) -> None:
    # Kinesis Data Streams for DynamoDB keep no per-item order and may duplicate records.
    workload = CrmWorkload(seed=5, users=60)
    events = kinesis_lambda_events(workload.records, batch_size=1)
    records = [record for event in events for record in event["Records"]]
    rng = random.Random(5)
    delivered = records + rng.sample(records, len(records) // 5)
    rng.shuffle(delivered)
    batches = [delivered[i : i + 50] for i in range(0, len(delivered), 50)]
    deliver([{"Records": batch} for batch in batches])

    assert_same_documents(found_documents(), expected_documents(workload.final_items()))
