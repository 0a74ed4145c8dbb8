"""`streamfold resync`: exactly the named documents get fresh versions; from DynamoDB, the
items are read again and a stream gap is repaired."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from osmem_server import OsmemServer

from devtools.demo import CrmWorkload, lambda_events
from domain.kinds import TableKind
from infrastructure.adapters.eventstore.dead_letters import LetterStatus
from infrastructure.composition import Streamfold
from infrastructure.entrypoints.cli.main import main
from infrastructure.settings import PostgresStore, SQLiteStore
from projections.documents import DocumentKind
from tests.e2e.documents import assert_same_documents, searchable_documents
from tests.integration.test_migrate_older_indices import (
    Installation,
    ingest,
    installation,
    running_compatible_server,
)
from tests.support.fixtures import ReferenceTables
from tests.support.moto_server import read_stream_records, scan_items
from tests.support.random_workload import apply_random_workload
from tests.support.reference import expected_documents

USERS, IMAGES = DocumentKind.USERS, DocumentKind.IMAGES
Versions = dict[tuple[DocumentKind, str], int]


@pytest.fixture(scope="module")
def compatible_server() -> Iterator[OsmemServer]:
    """The OpenSearch-compatible test server, shared by the module's tests."""
    yield from running_compatible_server()


# Each search backend once and each event store once: the lease, the positions and the
# documents live in the event store, the indices in the backend.
@pytest.fixture(params=[("embedded", "sqlite"), ("opensearch", "postgres")],
                ids=lambda p: f"{p[0]}-{p[1]}")  # fmt: skip
def every_install(
    request: pytest.FixtureRequest, tmp_path: Path, compatible_server: OsmemServer
) -> Iterator[Installation]:
    backend, store = request.param
    target: SQLiteStore | PostgresStore = (
        SQLiteStore(tmp_path / "events.db")
        if store == "sqlite"
        else request.getfixturevalue("postgres_store")
    )
    with compatible_server.clone() as clone:
        yield installation(backend, target, tmp_path, clone.url)


def versions(app: Streamfold) -> Versions:
    found: Versions = {}
    for kind_name, documents in searchable_documents(app).items():
        kind = DocumentKind(kind_name)
        for doc_id in documents:
            indexed = app.index.get(kind, doc_id)
            assert indexed is not None
            found[kind, doc_id] = indexed.version
    return found


def rewritten(before: Versions, after: Versions) -> set[tuple[DocumentKind, str]]:
    assert set(before) == set(after)
    assert all(after[key] >= before[key] for key in before)
    return {key for key in before if after[key] > before[key]}


def test_a_resync_rewrites_exactly_the_named_documents(
    every_install: Installation, monkeypatch: pytest.MonkeyPatch
) -> None:
    workload = CrmWorkload(seed=61, users=12)
    events = lambda_events(workload.records, batch_size=100)
    with every_install.open() as app:
        ingest(app, events[:-2])
        documents = searchable_documents(app)
        named = sorted(documents["users"])[:2]
        before = versions(app)

        report = app.resync().documents(USERS, [*named, "never-existed"])

        assert report.rewritten == 2 and report.written == 2
        assert rewritten(before, after := versions(app)) == {(USERS, d) for d in named}
        assert searchable_documents(app) == documents  # same content, fresh versions
        app.resync().documents(USERS, named[:1])  # again: fresher still
        assert rewritten(after, versions(app)) == {(USERS, named[0])}

        for name, value in every_install.environment().items():
            monkeypatch.setenv(name, value)
        owner = next(iter(documents["images"].values()))["owner_id"]
        owned = {d for d, image in documents["images"].items() if image["owner_id"] == owner}
        before = versions(app)
        assert main(["resync", "images", "--owner", owner, "--json"]) == 0
        assert rewritten(before, versions(app)) == {(IMAGES, d) for d in owned}

        before = versions(app)
        assert main(["resync", "--table", "likes"]) == 0
        liked = {(IMAGES, d) for d, image in documents["images"].items() if image["like_count"]}
        changed = rewritten(before, versions(app))
        assert liked <= changed and all(
            kind is IMAGES or documents["users"][d]["likes_given"]
            or documents["users"][d]["likes_received"]
            for kind, d in changed
        )  # fmt: skip

        ingest(app, events[-2:])  # later events still win over the rewrites
        assert_same_documents(searchable_documents(app), expected_documents(workload.final_items()))


def deliver(app: Streamfold, records: list[dict[str, Any]]) -> None:
    for start in range(0, len(records), 100):
        assert app.ingestion.handle({"Records": records[start : start + 100]}).failed == []


def tables(reference_tables: ReferenceTables) -> dict[str, list[dict[str, Any]]]:
    dynamodb = reference_tables.endpoint.dynamodb()
    return {kind: scan_items(dynamodb, name) for kind, name in reference_tables.names.items()}


def key_of(record: dict[str, Any]) -> tuple[str, ...]:
    keys = record["dynamodb"]["Keys"]
    return tuple(keys[name]["S"] for name in sorted(keys))


def test_a_resync_from_dynamodb_repairs_items_whose_stream_records_never_arrived(
    tmp_path: Path,
    reference_tables: ReferenceTables,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    endpoint, names = reference_tables.endpoint, reference_tables.names
    dynamodb = endpoint.dynamodb()
    apply_random_workload(dynamodb, names, seed=62, operations=250)
    stream = {kind: read_stream_records(endpoint.streams(), arn)
              for kind, arn in reference_tables.stream_arns.items()}  # fmt: skip
    # The stream lost every record of one user and of two likes (one of them deleted
    # since): they expired before anybody read them.
    user = key_of(stream["users"][-1])
    likes = {key_of(stream["likes"][0]), key_of(stream["likes"][-1])}
    lost = {("users", user)} | {("likes", like) for like in likes}
    delivered = [r for kind, records in stream.items() for r in records
                 if (kind, key_of(r)) not in lost]  # fmt: skip
    install = installation("embedded", SQLiteStore(tmp_path / "events.db"), tmp_path, None)
    tables_setting = {"STREAMFOLD_TABLES": reference_tables.streamfold_tables_setting()}
    for name, value in {
        **install.environment(),
        **endpoint.environment(),
        **tables_setting,
    }.items():
        monkeypatch.setenv(name, value)
    settings = install.settings
    install.settings = type(settings)(
        settings.event_store, settings.search,
        {name: TableKind(kind) for kind, name in names.items()}, settings.index_prefix,
    )  # fmt: skip
    with install.open() as app:
        deliver(app, delivered)
        assert searchable_documents(app) != expected_documents(tables(reference_tables))

        assert main(["resync", "users", user[0], "--source", "dynamodb", "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["items_that_differed"] == [f"users/{user[0]}"]
        assert summary["events_recorded"] >= 1 and summary["rewritten"] == {"users": 1}
        assert main(["resync", "--table", "likes", "--source", "dynamodb", "--json"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert 1 <= len(summary["items_that_differed"]) <= 2, (likes, summary)
        assert_same_documents(
            searchable_documents(app), expected_documents(tables(reference_tables))
        )

        # The stream goes on: changes of the repaired items made after the resync apply.
        dynamodb.update_item(
            TableName=names["users"], Key={"userId": {"S": user[0]}},
            UpdateExpression="SET #n = :n", ExpressionAttributeNames={"#n": "name"},
            ExpressionAttributeValues={":n": {"S": "Renamed After The Resync"}},
        )  # fmt: skip
        seen = {r["eventID"] for records in stream.values() for r in records}
        everything = [r for arn in reference_tables.stream_arns.values()
                      for r in read_stream_records(endpoint.streams(), arn)]  # fmt: skip
        fresh = [record for record in everything if record["eventID"] not in seen]
        deliver(app, fresh)
        final = expected_documents(tables(reference_tables))
        assert final["users"][user[0]]["name"] == "Renamed After The Resync"
        assert_same_documents(searchable_documents(app), final)


def test_an_item_the_domain_refuses_on_a_resync_is_a_dead_letter_not_only_a_line(
    tmp_path: Path,
) -> None:
    install = installation("embedded", SQLiteStore(tmp_path / "events.db"), tmp_path, None)
    bad = {
        "userId": "u-bad", "email": "bad@example.com", "name": "Bad Plan", "plan": "gold",
        "country": "DE", "createdAt": "2024-03-01T10:00:00Z", "marketingOptIn": False,
    }  # fmt: skip
    with install.open() as app:
        resync = app.resync()
        report = resync.reconcile_items(TableKind.USERS, {("u-bad",): bad})
        again = resync.reconcile_items(TableKind.USERS, {("u-bad",): bad})

        [letter] = app.dead_letters.list(LetterStatus.OPEN, limit=10)
    assert report.rejected == again.rejected and "plan" in report.rejected[0]
    assert (letter.source, letter.table_name, letter.attempts) == ("resync", "users", 2)
    assert letter.raw == {"item": bad} and "plan" in letter.reason
