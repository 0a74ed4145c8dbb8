"""A document the search backend refuses for good is dead-lettered by every command.

The refusal is a real one of both backends: a document id over 512 bytes. DynamoDB takes
a partition key of up to 2,048 bytes, so a users item can carry one; OpenSearch refuses
such an ``_id`` and the embedded backend keeps the same limit. On OpenSearch, a mapping
conflict is refused by the cluster itself, item by item in its bulk response.

Whatever command writes the document (the stream handler, ``ingest``, ``poll``,
``bootstrap``, a rebuild and its activation, ``resync``, ``verify --repair``, the
analytics import), the refused document ends in the dead-letter store with its reason,
and no document is marked synced that is neither in the index nor in the dead-letter store.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from opensearchpy import OpenSearch
from osmem_server import OsmemServer

from domain.kinds import TableKind
from infrastructure.adapters.eventstore.dead_letters import LetterStatus
from infrastructure.adapters.opensearch.mappings import index_body
from infrastructure.adapters.streams import parse_lambda_event
from infrastructure.composition import Streamfold
from infrastructure.services.analytics.columns import ColumnMapping
from infrastructure.services.analytics.importer import AnalyticsImport
from infrastructure.services.bootstrap import bootstrap
from infrastructure.services.poller import ShardCheckpoints, StreamPoller
from infrastructure.services.poller.poller import PollSettings
from infrastructure.settings import EmbeddedSearch, OpenSearchTarget, Settings, SQLiteStore
from projections.documents import MAX_DOCUMENT_ID_BYTES, DocumentKind
from tests.support.fixtures import ReferenceTables
from tests.support.moto_server import read_stream_records

USERS = DocumentKind.USERS
TOO_LONG = "u-" + "x" * MAX_DOCUMENT_ID_BYTES  # a valid DynamoDB key, an invalid document id
ID_LIMIT = f"1 to {MAX_DOCUMENT_ID_BYTES} bytes"


@pytest.fixture(scope="module")
def compatible_server() -> Iterator[OsmemServer]:
    """The OpenSearch-compatible test server, shared by the module's tests."""
    with OsmemServer.start(japanese=False) as server:
        yield server


@pytest.fixture(params=["embedded", "opensearch"])
def app(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    reference_tables: ReferenceTables,
    compatible_server: OsmemServer,
) -> Iterator[Streamfold]:
    tables = {name: TableKind(kind) for kind, name in reference_tables.names.items()}
    store = SQLiteStore(tmp_path / "events.db")
    if request.param == "embedded":
        with Streamfold.from_settings(
            Settings(store, EmbeddedSearch(tmp_path / "index"), tables, "streamfold")
        ) as streamfold:
            yield streamfold
        return
    with compatible_server.clone() as clone:
        search = OpenSearchTarget(clone.url, "none")
        with Streamfold.from_settings(Settings(store, search, tables, "streamfold")) as streamfold:
            yield streamfold


def user_item(user_id: str) -> dict[str, Any]:
    return {
        "userId": user_id,
        "email": "long@mail.example",
        "name": "Long Name",
        "plan": "free",
        "country": "DE",
        "createdAt": "2024-03-01T10:00:00Z",
        "marketingOptIn": False,
    }


def put_users(tables: ReferenceTables, *user_ids: str) -> None:
    serializer = TypeSerializer()
    client = tables.endpoint.dynamodb()
    for user_id in user_ids:
        item = {name: serializer.serialize(value) for name, value in user_item(user_id).items()}
        client.put_item(TableName=tables.names["users"], Item=item)


def stream_event(tables: ReferenceTables) -> dict[str, Any]:
    streams = tables.endpoint.streams()
    return {"Records": read_stream_records(streams, tables.stream_arns["users"])}


def refused_versions(app: Streamfold, doc_id: str, because: str = ID_LIMIT) -> set[int]:
    """The versions of the document the dead-letter store holds, each with its reason."""
    letters = [
        letter
        for letter in app.dead_letters.list(LetterStatus.OPEN, limit=10_000)
        if letter.source == "document" and letter.raw["id"] == doc_id
    ]
    assert all(because in letter.reason for letter in letters), letters
    return {int(letter.raw["version"]) for letter in letters}


def assert_nothing_lost(app: Streamfold) -> None:
    """Every document marked synced is in the index or, at its version, a dead letter."""
    assert app.projection_store.pending_documents(10) == []
    for kind in DocumentKind:
        for change in app.projection_store.documents_page(kind, "", 10_000):
            indexed = app.index.get(kind, change.doc_id) if change.body is not None else None
            if change.body is not None and indexed is None:
                kept = refused_versions(app, change.doc_id, because="")
                assert change.version in kept, change.doc_id


def test_the_stream_handler_and_ingest_dead_letter_a_refused_document(
    app: Streamfold, reference_tables: ReferenceTables
) -> None:
    put_users(reference_tables, "u-1", TOO_LONG)

    outcome = app.ingestion.handle(stream_event(reference_tables))

    assert outcome.failed == [] and outcome.dead_lettered == 1
    assert app.index.get(USERS, "u-1") is not None
    assert len(refused_versions(app, TOO_LONG)) == 1
    assert_nothing_lost(app)


def test_the_poller_dead_letters_a_refused_document(
    app: Streamfold, reference_tables: ReferenceTables
) -> None:
    put_users(reference_tables, "u-1", TOO_LONG)
    poller = StreamPoller(
        app.ingestion,
        ShardCheckpoints(app.event_store),
        reference_tables.endpoint.streams(),
        [reference_tables.stream_arns["users"]],
        PollSettings(idle_seconds=0, retry_seconds=0),
    )

    report = poller.drain()

    assert report.records == 2 and report.retries == 0
    assert len(refused_versions(app, TOO_LONG)) == 1
    assert_nothing_lost(app)


def test_bootstrap_dead_letters_a_refused_document(
    app: Streamfold, reference_tables: ReferenceTables
) -> None:
    put_users(reference_tables, "u-1", TOO_LONG)

    report = bootstrap(
        app.pipeline, reference_tables.endpoint.dynamodb(),
        {TableKind.USERS: reference_tables.names["users"]}, segments=2,
    )  # fmt: skip

    assert report.documents_written == 1 and report.documents_dead_lettered == 1
    assert len(refused_versions(app, TOO_LONG)) == 1
    assert_nothing_lost(app)


def test_a_rebuild_and_its_activation_dead_letter_refused_documents(
    app: Streamfold, reference_tables: ReferenceTables
) -> None:
    put_users(reference_tables, "u-1")
    assert app.ingestion.handle(stream_event(reference_tables)).failed == []
    seen = len(stream_event(reference_tables)["Records"])
    late = {"catching up": "u-" + "c" * MAX_DOCUMENT_ID_BYTES,
            "activating": "u-" + "a" * MAX_DOCUMENT_ID_BYTES}  # fmt: skip

    def record_while(stage: str) -> None:
        # Recorded, not projected: only the rebuild's catch-up (or its activation) folds it.
        if stage in late:
            put_users(reference_tables, late[stage])
            records = stream_event(reference_tables)["Records"][seen:]
            parsed = parse_lambda_event({"Records": records}, app.settings.kind_of_table)
            app.intake.record([r.change for r in parsed if r.change is not None])

    report = app.rebuild(batch_size=100, stage=record_while).run(list(DocumentKind))

    assert report.activated
    for doc_id in late.values():
        assert len(refused_versions(app, doc_id)) == 1, doc_id
    assert_nothing_lost(app)


def test_resync_dead_letters_a_refused_rewrite(
    app: Streamfold, reference_tables: ReferenceTables
) -> None:
    put_users(reference_tables, TOO_LONG)
    assert app.ingestion.handle(stream_event(reference_tables)).failed == []
    before = refused_versions(app, TOO_LONG)

    report = app.resync().documents(USERS, [TOO_LONG])

    assert report.rewritten == 1 and report.documents_dead_lettered == 1
    assert max(refused_versions(app, TOO_LONG)) > max(before)
    assert_nothing_lost(app)


def test_resync_from_the_tables_dead_letters_a_refused_document(
    app: Streamfold, reference_tables: ReferenceTables
) -> None:
    put_users(reference_tables, TOO_LONG)  # a stream record that never arrived

    report = app.resync().reconcile_table(
        reference_tables.endpoint.dynamodb(), TableKind.USERS, keys=[(TOO_LONG,)]
    )

    assert report.differed == [f"users/{TOO_LONG}"] and report.documents_dead_lettered == 1
    assert len(refused_versions(app, TOO_LONG)) == 1
    assert_nothing_lost(app)


def test_verify_repair_dead_letters_a_refused_rewrite(
    app: Streamfold, reference_tables: ReferenceTables
) -> None:
    put_users(reference_tables, "u-1", TOO_LONG)
    assert app.ingestion.handle(stream_event(reference_tables)).failed == []
    before = refused_versions(app, TOO_LONG)

    report = app.verification().against_event_store(list(DocumentKind), repair=True)

    assert [(d.doc_id, d.problem) for d in report.drift] == [(TOO_LONG, "missing")]
    assert report.repaired == 0 and report.documents_dead_lettered == 1
    assert max(refused_versions(app, TOO_LONG)) > max(before)
    assert_nothing_lost(app)


def test_the_analytics_import_dead_letters_a_refused_document(
    app: Streamfold, reference_tables: ReferenceTables
) -> None:
    put_users(reference_tables, TOO_LONG)
    assert app.ingestion.handle(stream_event(reference_tables)).failed == []
    before = refused_versions(app, TOO_LONG)
    csv = f"userId,date,sessions,pageviews,source\n{TOO_LONG},2024-04-30,2,5,google\n"

    report = AnalyticsImport(app.pipeline, ColumnMapping()).run(
        "traffic.csv", io.BytesIO(csv.encode()), datetime(2024, 5, 1, tzinfo=UTC)
    )

    assert report.events_recorded == 1 and report.dead_lettered == 1
    assert max(refused_versions(app, TOO_LONG)) > max(before)
    assert_nothing_lost(app)


# -- a refusal by the cluster itself: a mapping conflict ----------------------------------


@pytest.fixture
def conflicting_app(
    tmp_path: Path, reference_tables: ReferenceTables, compatible_server: OsmemServer
) -> Iterator[Streamfold]:
    """OpenSearch whose live users index maps ``bio`` as a number: a user with a bio is
    refused by the cluster (mapper_parsing_exception), one without is written."""
    tables = {name: TableKind(kind) for kind, name in reference_tables.names.items()}
    with compatible_server.clone() as clone:
        body = index_body(USERS)
        body["mappings"]["properties"]["bio"] = {"type": "integer"}
        OpenSearch(hosts=[clone.url]).indices.create(
            index="streamfold-users-v1", body={**body, "aliases": {"streamfold-users": {}}}
        )
        settings = Settings(
            SQLiteStore(tmp_path / "events.db"), OpenSearchTarget(clone.url, "none"), tables,
            "streamfold",
        )  # fmt: skip
        with Streamfold.from_settings(settings) as streamfold:
            yield streamfold


def put_user_with_bio(tables: ReferenceTables, user_id: str) -> None:
    serializer = TypeSerializer()
    item = {**user_item(user_id), "bio": "Paints mountains at dawn"}
    tables.endpoint.dynamodb().put_item(
        TableName=tables.names["users"],
        Item={name: serializer.serialize(value) for name, value in item.items()},
    )


def test_a_mapping_conflict_is_dead_lettered_by_ingest_resync_and_verify_repair(
    conflicting_app: Streamfold, reference_tables: ReferenceTables
) -> None:
    app = conflicting_app
    put_users(reference_tables, "u-1")
    put_user_with_bio(reference_tables, "u-2")

    assert app.ingestion.handle(stream_event(reference_tables)).failed == []
    ingested = refused_versions(app, "u-2", because="mapper_parsing_exception")
    app.resync().documents(USERS, ["u-2"])
    resynced = refused_versions(app, "u-2", because="mapper_parsing_exception")
    app.verification().against_event_store([USERS], repair=True)
    repaired = refused_versions(app, "u-2", because="mapper_parsing_exception")

    assert app.index.get(USERS, "u-1") is not None
    assert len(ingested) == 1 and max(resynced) > max(ingested) and max(repaired) > max(resynced)
    assert_nothing_lost(app)
