"""A bootstrap into a fresh store builds its documents once, as a rebuild does (ADR 0030).

moto's DynamoDB over HTTP, the real event stores (SQLite files and PostgreSQL), the
embedded index on real files, and the command's second process.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer

from domain.kinds import TableKind
from infrastructure.adapters.eventstore.dead_letters import LetterStatus
from infrastructure.composition import Streamfold
from infrastructure.services.background_settle import ProcessSettler
from infrastructure.services.bootstrap import RecordOnly, bootstrap, import_items
from infrastructure.settings import EmbeddedSearch, PostgresStore, Settings, SQLiteStore
from tests.e2e.documents import assert_same_documents, searchable_documents
from tests.integration.test_bootstrap import deliver_stream, final_tables
from tests.integration.test_refused_documents import user_item
from tests.support.fixtures import ReferenceTables
from tests.support.moto_server import scan_items
from tests.support.random_workload import apply_random_workload
from tests.support.reference import expected_documents


def settings_for(
    store: SQLiteStore | PostgresStore, tmp_path: Path, reference_tables: ReferenceTables
) -> Settings:
    tables = {name: TableKind(kind) for kind, name in reference_tables.names.items()}
    return Settings(store, EmbeddedSearch(tmp_path / "index"), tables, "streamfold")


def table_kinds(reference_tables: ReferenceTables) -> dict[TableKind, str]:
    return {TableKind(kind): name for kind, name in reference_tables.names.items()}


@pytest.fixture
def app(
    sqlite_store: SQLiteStore, tmp_path: Path, reference_tables: ReferenceTables
) -> Iterator[Streamfold]:
    """The command's composition on a SQLite store, the tables mapped."""
    with Streamfold.from_settings(settings_for(sqlite_store, tmp_path, reference_tables)) as app:
        yield app


def changed_tables(reference_tables: ReferenceTables, seed: int, operations: int) -> Any:
    """The tables' DynamoDB client, after a random workload of ``operations`` writes."""
    dynamodb = reference_tables.endpoint.dynamodb()
    apply_random_workload(dynamodb, reference_tables.names, seed=seed, operations=operations)
    return dynamodb


def in_two_processes(app: Streamfold) -> dict[str, Any]:
    """A first build of these small tables shared with the second process as a large one
    is: pages handed over from the first, the build cut into two slices."""
    return {"first_build": app.first_build(settle_below=1), "share_after_items": 1}


def test_a_fresh_store_is_built_once_in_two_processes_and_the_stream_takes_over(
    event_store_target: SQLiteStore | PostgresStore,
    tmp_path: Path,
    reference_tables: ReferenceTables,
) -> None:
    dynamodb = changed_tables(reference_tables, 51, 250)
    writer = threading.Thread(
        target=apply_random_workload,
        args=(reference_tables.endpoint.dynamodb(), reference_tables.names, 52, 150),
    )
    settings = settings_for(event_store_target, tmp_path, reference_tables)
    with Streamfold.from_settings(settings) as app:
        assert isinstance(app.second_process, ProcessSettler)
        writer.start()
        report = bootstrap(
            app.pipeline, dynamodb, table_kinds(reference_tables), segments=3,
            **in_two_processes(app),
        )  # fmt: skip
        writer.join()
        built = searchable_documents(app)
        assert report.built_into == 2 and report.rejected == 0
        assert report.pages_in_second_process >= 1  # it took the first page, at least
        # Each document rendered and written once (tombstones of deleted items included).
        assert len(built) <= report.documents_written <= report.events_recorded
        assert app.projection_store.registry.live().number == 2  # type: ignore[union-attr]

        deliver_stream(app, reference_tables)  # the stream goes on into the live generation
        found = searchable_documents(app)
    assert_same_documents(found, expected_documents(final_tables(reference_tables)))


def test_a_store_whose_projection_has_folded_settles_the_bootstrap_in_groups(
    app: Streamfold, reference_tables: ReferenceTables
) -> None:
    dynamodb = changed_tables(reference_tables, 53, 200)
    deliver_stream(app, reference_tables)  # folded: no longer a fresh store
    apply_random_workload(dynamodb, reference_tables.names, seed=54, operations=100)
    report = bootstrap(
        app.pipeline, dynamodb, table_kinds(reference_tables), segments=2,
        first_build=app.first_build(),
    )  # fmt: skip
    assert report.built_into is None and report.events_recorded > 0
    assert app.projection_store.registry.live() is None  # still the first generation
    deliver_stream(app, reference_tables)
    found = searchable_documents(app)
    assert_same_documents(found, expected_documents(final_tables(reference_tables)))


def test_a_first_build_cut_short_after_recording_is_built_by_the_next_bootstrap(
    app: Streamfold, reference_tables: ReferenceTables
) -> None:
    dynamodb = changed_tables(reference_tables, 55, 200)
    tables = table_kinds(reference_tables)
    # The first bootstrap stopped once every item was recorded, before it built.
    recorded = 0
    for kind, name in tables.items():
        items: list[dict[str, Any]] = scan_items(dynamodb, name)
        imported = import_items(app.pipeline, kind, items, groups=RecordOnly(app.pipeline))
        recorded += imported.events_recorded
    assert recorded > 0 and searchable_documents(app) == {"users": {}, "images": {}}

    report = bootstrap(app.pipeline, dynamodb, tables, **in_two_processes(app))
    assert report.events_recorded == 0  # every item was recorded the first time
    assert report.built_into == 2
    found = searchable_documents(app)
    assert_same_documents(found, expected_documents(final_tables(reference_tables)))


def test_items_the_domain_refuses_are_dead_lettered_by_whichever_process_recorded_them(
    app: Streamfold, reference_tables: ReferenceTables
) -> None:
    dynamodb = changed_tables(reference_tables, 57, 150)
    refused = {f"u-bad-{n}" for n in range(8)}  # spread over the scan's segments and pages
    serializer = TypeSerializer()
    for user_id in refused:
        item = {**user_item(user_id), "country": "Germany"}  # not an ISO country code
        dynamodb.put_item(
            TableName=reference_tables.names["users"],
            Item={name: serializer.serialize(value) for name, value in item.items()},
        )
    tables = table_kinds(reference_tables)
    report = bootstrap(app.pipeline, dynamodb, tables, segments=4, **in_two_processes(app))
    letters = app.dead_letters.list(LetterStatus.OPEN, limit=100)
    found = searchable_documents(app)

    assert report.pages_in_second_process >= 1 and report.built_into == 2
    assert report.rejected == len(refused) == len(letters)
    assert {letter.source for letter in letters} == {"bootstrap"}
    assert all("country" in letter.reason for letter in letters)
    assert refused.isdisjoint(found["users"]) and found["users"]


def test_small_tables_are_recorded_by_the_command_alone_and_settled_as_one_group(
    app: Streamfold, reference_tables: ReferenceTables
) -> None:
    dynamodb = changed_tables(reference_tables, 59, 150)
    report = bootstrap(
        app.pipeline, dynamodb, table_kinds(reference_tables), first_build=app.first_build()
    )
    second = app.second_process
    assert second is not None and not second.under_way
    assert second._process is None  # never started: fewer items than SHARE_AFTER_ITEMS
    found = searchable_documents(app)
    # Fewer events than a group: settled as one group, without a build's fixed steps.
    assert report.pages_in_second_process == 0 and report.built_into is None
    assert_same_documents(found, expected_documents(final_tables(reference_tables)))
