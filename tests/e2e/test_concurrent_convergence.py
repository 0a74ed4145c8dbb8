"""Several handler processes at once, on PostgreSQL and OpenSearch, still converge."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from infrastructure import lambda_handlers
from infrastructure.composition import Streamfold
from infrastructure.services.grouping import SettleGroups
from infrastructure.settings import PostgresStore, Settings
from tests.conftest import event_store_url
from tests.e2e.documents import assert_same_documents, searchable_documents
from tests.support.delivery import Turbulence, unreliable_delivery
from tests.support.fixtures import ReferenceTables
from tests.support.moto_server import read_stream_records, scan_items
from tests.support.random_workload import apply_random_workload
from tests.support.reference import expected_documents

HANDLERS = 4
ROUGH = Turbulence(
    max_batch_size=30, duplicate_record_rate=0.1, retry_batch_rate=0.15, late_replay_rate=0.1
)


def handle_share(environment: Mapping[str, str], events: list[dict[str, Any]]) -> list[Any]:
    """One handler process: a Lambda container receiving its share of the batches."""
    os.environ.update(environment)
    lambda_handlers.reset()
    return [lambda_handlers.stream_handler(event, None) for event in events]


def turbulent_events(reference_tables: ReferenceTables, seed: int) -> list[dict[str, Any]]:
    """A random workload's stream records, delivered with duplicates, retries and replays."""
    apply_random_workload(
        reference_tables.endpoint.dynamodb(), reference_tables.names, seed=seed, operations=400
    )
    records = [
        record
        for arn in reference_tables.stream_arns.values()
        for record in read_stream_records(reference_tables.endpoint.streams(), arn)
    ]
    return unreliable_delivery(records, seed=seed, turbulence=ROUGH)


def handler_environment(
    reference_tables: ReferenceTables, postgres_store: PostgresStore, osmem_clone: Any
) -> dict[str, str]:
    return {
        "STREAMFOLD_EVENT_STORE": event_store_url(postgres_store),
        "STREAMFOLD_SEARCH": osmem_clone.url,
        "STREAMFOLD_TABLES": reference_tables.streamfold_tables_setting(),
        "STREAMFOLD_INDEX_PREFIX": "crm",
    }


def expected(reference_tables: ReferenceTables) -> Any:
    """The documents the tables' items now give."""
    dynamodb = reference_tables.endpoint.dynamodb()
    tables = {kind: scan_items(dynamodb, name) for kind, name in reference_tables.names.items()}
    return expected_documents(tables)


def test_four_concurrent_handlers_on_postgres_and_opensearch_converge(
    reference_tables: ReferenceTables,
    postgres_store: PostgresStore,
    osmem_clone: Any,
) -> None:
    events = turbulent_events(reference_tables, seed=23)
    environment = handler_environment(reference_tables, postgres_store, osmem_clone)
    shares = [events[n::HANDLERS] for n in range(HANDLERS)]
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=HANDLERS, mp_context=spawn) as pool:
        answers = list(pool.map(handle_share, [environment] * HANDLERS, shares))
    assert all(a == {"batchItemFailures": []} for share in answers for a in share)

    with Streamfold.from_settings(Settings.from_environment(environment)) as app:
        found = searchable_documents(app)
    assert_same_documents(found, expected(reference_tables))


def test_a_command_folding_in_its_second_process_beside_two_handlers_converges(
    reference_tables: ReferenceTables,
    postgres_store: PostgresStore,
    osmem_clone: Any,
) -> None:
    """A command's groups fold in its second process and leave their documents to render
    (ADR 0033) while two handlers settle their own batches, rendering what it left."""
    events = turbulent_events(reference_tables, seed=29)
    environment = handler_environment(reference_tables, postgres_store, osmem_clone)
    command_share, *handler_shares = (events[n::3] for n in range(3))
    spawn = multiprocessing.get_context("spawn")
    with (
        ProcessPoolExecutor(max_workers=2, mp_context=spawn) as pool,
        Streamfold.from_settings(Settings.from_environment(environment)) as app,
    ):
        answers = pool.map(handle_share, [environment] * 2, handler_shares)
        _until_recorded(app)  # the handlers are under way: the command records beside them
        # Every group handed over folds only: only the command's end renders, or a handler.
        groups = SettleGroups(app.pipeline, max_records=40, max_seconds=3600, render_seconds=3600)
        outcomes = [app.ingestion.handle(event, groups) for event in command_share]
        groups.settle()
        assert all(a == {"batchItemFailures": []} for share in answers for a in share)
        assert not any(outcome.failed for outcome in outcomes)
        assert groups.counts.folded_only == groups.counts.in_background >= 2
        [live] = app.status().projections
        found = searchable_documents(app)

    assert (live.unrendered_documents, live.pending_documents) == (0, 0)
    assert_same_documents(found, expected(reference_tables))


def _until_recorded(app: Streamfold, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while app.event_store.head() == 0:
        assert time.monotonic() < deadline, "no handler recorded anything"
        time.sleep(0.01)


@pytest.fixture(autouse=True)
def _forget_composition_root() -> Any:
    lambda_handlers.reset()
    yield
    lambda_handlers.reset()
