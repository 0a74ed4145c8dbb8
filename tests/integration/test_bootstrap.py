"""Bootstrap from existing tables hands over to the stream with no gap and no rollback."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer

from domain.kinds import TableKind
from infrastructure.composition import Streamfold
from infrastructure.services.bootstrap import bootstrap, import_items
from infrastructure.settings import EmbeddedSearch, Settings, SQLiteStore
from tests.e2e.documents import assert_same_documents, searchable_documents
from tests.support.fixtures import ReferenceTables
from tests.support.moto_server import read_stream_records, scan_items
from tests.support.random_workload import apply_random_workload
from tests.support.reference import expected_documents


@pytest.fixture
def app(tmp_path: Path, reference_tables: ReferenceTables) -> Iterator[Streamfold]:
    settings = Settings(
        event_store=SQLiteStore(tmp_path / "events.db"),
        search=EmbeddedSearch(tmp_path / "index"),
        tables={name: TableKind(kind) for kind, name in reference_tables.names.items()},
        index_prefix="streamfold",
    )
    with Streamfold.from_settings(settings) as streamfold:
        yield streamfold


def documents(app: Streamfold) -> dict[str, dict[str, Any]]:
    return searchable_documents(app)


def deliver_stream(app: Streamfold, reference_tables: ReferenceTables) -> None:
    streams = reference_tables.endpoint.streams()
    for arn in reference_tables.stream_arns.values():
        records = read_stream_records(streams, arn)
        for start in range(0, len(records), 100):
            assert app.ingestion.handle({"Records": records[start : start + 100]}).failed == []


def final_tables(reference_tables: ReferenceTables) -> dict[str, list[dict[str, Any]]]:
    dynamodb = reference_tables.endpoint.dynamodb()
    return {kind: scan_items(dynamodb, name) for kind, name in reference_tables.names.items()}


def test_a_bootstrap_with_writes_during_the_scan_converges_once_the_stream_is_read(
    app: Streamfold, reference_tables: ReferenceTables
) -> None:
    dynamodb = reference_tables.endpoint.dynamodb()
    apply_random_workload(dynamodb, reference_tables.names, seed=31, operations=250)
    writer = threading.Thread(
        target=apply_random_workload,
        args=(reference_tables.endpoint.dynamodb(), reference_tables.names, 32, 150),
    )
    writer.start()
    tables = {TableKind(kind): name for kind, name in reference_tables.names.items()}
    report = bootstrap(app.pipeline, dynamodb, tables, segments=3)
    writer.join()
    assert sum(report.items.values()) > 0 and report.rejected == 0

    deliver_stream(app, reference_tables)
    assert_same_documents(documents(app), expected_documents(final_tables(reference_tables)))


def test_an_old_scan_imported_after_the_stream_neither_rolls_back_nor_resurrects(
    app: Streamfold, reference_tables: ReferenceTables
) -> None:
    dynamodb = reference_tables.endpoint.dynamodb()
    apply_random_workload(dynamodb, reference_tables.names, seed=41, operations=200)
    deserializer = TypeDeserializer()
    stale_scan = {
        kind: [{k: deserializer.deserialize(v) for k, v in raw.items()}
               for raw in dynamodb.scan(TableName=name)["Items"]]
        for kind, name in reference_tables.names.items()
    }  # fmt: skip
    apply_random_workload(dynamodb, reference_tables.names, seed=42, operations=200)
    deliver_stream(app, reference_tables)  # the stream is applied first, up to date

    for kind, items in stale_scan.items():
        report = import_items(app.pipeline, TableKind(kind), items)
        assert report.events_recorded == 0  # every scanned item is behind the stream
    app.projector.catch_up()
    app.sync.flush()
    assert_same_documents(documents(app), expected_documents(final_tables(reference_tables)))
