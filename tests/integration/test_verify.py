"""Verify against the source tables: drift found, put down to its cause, never over-repaired.

The tables live on the moto server; the stream is delivered as Lambda would, except for
the records a test holds back to play a stream record that never arrived.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from domain.kinds import TableKind
from infrastructure.composition import Streamfold
from infrastructure.entrypoints.cli.main import main
from infrastructure.services.table_documents import scan_documents
from infrastructure.services.verify import EVENT_STORE, INDEX
from infrastructure.settings import EmbeddedSearch, Settings, SQLiteStore
from projections.documents import DocumentChange, DocumentKind
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


def deliver_stream(app: Streamfold, reference_tables: ReferenceTables) -> None:
    streams = reference_tables.endpoint.streams()
    for arn in reference_tables.stream_arns.values():
        records = read_stream_records(streams, arn)
        for start in range(0, len(records), 100):
            assert app.ingestion.handle({"Records": records[start : start + 100]}).failed == []


def scan(reference_tables: ReferenceTables) -> Any:
    tables = {TableKind(kind): name for kind, name in reference_tables.names.items()}
    return scan_documents(reference_tables.endpoint.dynamodb(), tables, segments=3)


def final_tables(reference_tables: ReferenceTables) -> dict[str, list[dict[str, Any]]]:
    dynamodb = reference_tables.endpoint.dynamodb()
    return {kind: scan_items(dynamodb, name) for kind, name in reference_tables.names.items()}


def owner_with_images(app: Streamfold) -> tuple[str, list[str]]:
    images = searchable_documents(app)["images"].values()
    owned = sorted((i["owner_id"], i["image_id"]) for i in images if i["owner"] is not None)
    owner = owned[0][0]
    return owner, [image_id for user_id, image_id in owned if user_id == owner]


def test_the_documents_of_the_tables_are_those_of_the_reference_rules(
    app: Streamfold, reference_tables: ReferenceTables
) -> None:
    apply_random_workload(reference_tables.endpoint.dynamodb(), reference_tables.names, 61, 300)
    expected = expected_documents(final_tables(reference_tables))

    documents = scan(reference_tables).documents

    assert {kind.value: documents[kind] for kind in DocumentKind}.keys() == expected.keys()
    for kind in DocumentKind:
        wanted = expected[kind.value]
        assert documents[kind].keys() == wanted.keys()
        for doc_id, body in documents[kind].items():
            assert {name: body[name] for name in wanted[doc_id]} == wanted[doc_id]


def test_a_change_whose_stream_record_never_arrived_is_reported_and_never_written(
    app: Streamfold, reference_tables: ReferenceTables
) -> None:
    dynamodb = reference_tables.endpoint.dynamodb()
    apply_random_workload(dynamodb, reference_tables.names, seed=51, operations=250)
    deliver_stream(app, reference_tables)
    assert app.verification().against_tables(list(DocumentKind), scan(reference_tables)).clean

    owner, images = owner_with_images(app)
    dynamodb.update_item(  # its stream record is held back: never delivered
        TableName=reference_tables.names["users"],
        Key={"userId": {"S": owner}},
        UpdateExpression="SET #n = :n",
        ExpressionAttributeNames={"#n": "name"},
        ExpressionAttributeValues={":n": {"S": "Renamed Behind The Stream"}},
    )
    tampered = sorted(set(searchable_documents(app)["images"]) - set(images))[0]
    app.index.write(  # drift of the index alone, by a newer write from elsewhere
        [DocumentChange(DocumentKind.IMAGES, tampered, app.event_store.head() * 1000 + 7,
                        {"image_id": tampered, "title": "tampered"})]
    )  # fmt: skip
    before = app.index.get(DocumentKind.USERS, owner)

    report = app.verification().against_tables(
        list(DocumentKind), scan(reference_tables), repair=True
    )

    behind = {(d.kind, d.doc_id): d.fields for d in report.caused_by(EVENT_STORE)}
    assert behind == {("users", owner): ["name"]} | {
        ("images", image_id): ["owner"] for image_id in images
    }
    assert [(d.kind, d.doc_id, d.problem) for d in report.caused_by(INDEX)] == [
        ("images", tampered, "differs")
    ]
    assert report.repaired == 1
    assert sorted(report.unrepairable) == sorted(f"{kind}/{doc_id}" for kind, doc_id in behind)
    assert app.index.get(DocumentKind.USERS, owner) == before  # nothing the events cannot justify
    again = app.verification().against_tables(list(DocumentKind), scan(reference_tables))
    assert {(d.kind, d.doc_id) for d in again.drift} == set(behind)

    deliver_stream(app, reference_tables)  # the stream replayed: the change arrives at last
    assert app.verification().against_tables(list(DocumentKind), scan(reference_tables)).clean
    expected = expected_documents(final_tables(reference_tables))
    assert_same_documents(searchable_documents(app), expected)


def test_the_command_reports_drift_against_the_tables_as_json(
    app: Streamfold,
    reference_tables: ReferenceTables,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    dynamodb = reference_tables.endpoint.dynamodb()
    apply_random_workload(dynamodb, reference_tables.names, seed=71, operations=120)
    deliver_stream(app, reference_tables)
    user_id = sorted(searchable_documents(app)["users"])[0]
    dynamodb.delete_item(TableName=reference_tables.names["users"], Key={"userId": {"S": user_id}})
    for name, value in {
        **reference_tables.endpoint.environment(),
        "STREAMFOLD_EVENT_STORE": f"sqlite:///{tmp_path / 'events.db'}",
        "STREAMFOLD_SEARCH": f"embedded:///{tmp_path / 'index'}",
        "STREAMFOLD_TABLES": reference_tables.streamfold_tables_setting(),
    }.items():
        monkeypatch.setenv(name, value)

    status = main(["verify", "users", "--source", "dynamodb", "--repair", "--json"])

    summary = json.loads(capsys.readouterr().out)
    assert status == 1  # drift remains that only new events can fix
    assert summary["source"] == "dynamodb" and summary["extra"] == 1
    assert summary["event_store_behind_tables"] == 1 and summary["repaired"] == 0
    assert summary["examples"] == [
        {"kind": "users", "id": user_id, "problem": "extra", "fields": [], "cause": "event store"}
    ]
    assert summary["items_scanned"]["users"] == len(final_tables(reference_tables)["users"])
