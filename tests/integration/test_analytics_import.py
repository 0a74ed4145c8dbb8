"""Web analytics beside the users: imported like stream records, folded into user documents."""

from __future__ import annotations

import csv
import gzip
import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from devtools.demo import CrmWorkload, SimulatedTables, lambda_events
from infrastructure.adapters.eventstore.dead_letters import LetterStatus
from infrastructure.adapters.export.destination import LocalDirectory
from infrastructure.adapters.export.exporter import ParquetExport
from infrastructure.composition import Streamfold
from infrastructure.entrypoints import lambda_analytics
from infrastructure.entrypoints.cli.main import main
from infrastructure.services.analytics.columns import ColumnMapping
from infrastructure.services.analytics.importer import AnalyticsImport, ImportReport
from infrastructure.settings import EmbeddedSearch, PostgresStore, Settings, SQLiteStore
from projections.documents import DocumentKind
from tests.conftest import event_store_url
from tests.e2e.documents import assert_same_documents, searchable_documents
from tests.support.exported import exported_documents, exported_events
from tests.support.moto_server import MotoEndpoint
from tests.support.reference import expected_documents

FIELDS = ["userId", "date", "sessions", "pageviews", "source", "medium"]


@pytest.fixture
def app(tmp_path: Path) -> Iterator[Streamfold]:
    settings = Settings(
        SQLiteStore(tmp_path / "events.db"), EmbeddedSearch(tmp_path / "index"), {}, "web"
    )
    with Streamfold.from_settings(settings) as built:
        yield built


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]], version: int) -> Path:
    """A CSV export whose modification time (its version) is ``version`` seconds."""
    with path.open("w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    os.utime(path, (version, version))
    return path


def row(user: str, day: str, sessions: int, pageviews: int, source: str = "google",
        medium: str | None = "organic") -> dict[str, Any]:  # fmt: skip
    return {"userId": user, "date": day, "sessions": sessions, "pageviews": pageviews,
            "source": source, "medium": medium}  # fmt: skip


def import_file(app: Streamfold, path: Path) -> ImportReport:
    version = datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)
    with path.open("rb") as stream:
        return AnalyticsImport(app.pipeline, ColumnMapping()).run(str(path), stream, version)


def register(app: Streamfold, *user_ids: str) -> None:
    tables = SimulatedTables(seed=1)
    for user_id in user_ids:
        item = {"userId": user_id, "email": f"{user_id}@mail.example", "name": f"User {user_id}",
                "plan": "free", "country": "GB", "createdAt": "2024-01-01T00:00:00Z",
                "marketingOptIn": False}  # fmt: skip
        tables.put("users", item)
    for event in lambda_events(tables.take_records(), batch_size=100):
        assert not app.ingestion.handle(event).failed


def user_document(app: Streamfold, user_id: str) -> dict[str, Any] | None:
    found = app.index.get(DocumentKind.USERS, user_id)
    return None if found is None else found.body


def latest_rows(*files: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The rows that count: for each user, date and source, the last file's, last line's."""
    latest: dict[tuple[str, str, str], dict[str, Any]] = {}
    for rows in files:
        for item in rows:
            latest[(item["userId"], item["date"], item["source"])] = dict(item)
    return list(latest.values())


def test_importing_the_same_file_twice_changes_nothing(app: Streamfold, tmp_path: Path) -> None:
    register(app, "u1", "u2")
    path = write_csv(tmp_path / "traffic.csv", [
        row("u1", "2024-03-01", 2, 9), row("u1", "2024-03-02", 1, 3, "newsletter", "email"),
        row("u2", "2024-03-01", 4, 4),
    ], version=1_700_000_000)  # fmt: skip
    first = import_file(app, path)
    head, version = app.event_store.head(), app.index.get(DocumentKind.USERS, "u1")

    again = import_file(app, path)

    assert (first.rows, first.events_recorded, first.dead_lettered) == (3, 3, 0)
    assert (again.events_recorded, again.already_imported, again.documents_written) == (0, 3, 0)
    assert app.event_store.head() == head
    assert app.index.get(DocumentKind.USERS, "u1") == version
    assert user_document(app, "u1")["analytics"] == {  # type: ignore[index]
        "sessions": 3, "pageviews": 12, "first_visit_on": "2024-03-01",
        "last_visit_on": "2024-03-02", "first_source": "google", "first_medium": "organic",
    }  # fmt: skip


def test_a_corrected_row_replaces_the_old_values_and_an_older_file_cannot_undo_it(
    app: Streamfold, tmp_path: Path
) -> None:
    register(app, "u1")
    original = [row("u1", "2024-03-01", 2, 9), row("u1", "2024-03-05", 1, 1)]
    corrected = [row("u1", "2024-03-01", 5, 20, medium="cpc")]
    old = write_csv(tmp_path / "march.csv", original, version=1_700_000_000)
    new = write_csv(tmp_path / "march-corrected.csv", corrected, version=1_700_086_400)
    import_file(app, old)

    fixed = import_file(app, new)
    head = app.event_store.head()
    replayed = import_file(app, old)

    assert fixed.events_recorded == 1  # one correction, carrying every figure of the row
    assert replayed.events_recorded == 0 and app.event_store.head() == head
    analytics = user_document(app, "u1")["analytics"]  # type: ignore[index]
    assert (analytics["sessions"], analytics["pageviews"], analytics["first_medium"]) == (
        6,
        21,
        "cpc",
    )


def test_a_row_for_an_unknown_user_is_kept_and_counts_once_the_user_exists(
    app: Streamfold, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "early.csv", [row("u-later", "2024-02-10", 7, 30, "ads", "cpc")],
                     version=1_700_000_000)  # fmt: skip
    report = import_file(app, path)
    assert report.events_recorded == 1 and report.dead_lettered == 0
    assert user_document(app, "u-later") is None  # no users item, no user document

    register(app, "u-later")

    assert user_document(app, "u-later")["analytics"] == {  # type: ignore[index]
        "sessions": 7, "pageviews": 30, "first_visit_on": "2024-02-10",
        "last_visit_on": "2024-02-10", "first_source": "ads", "first_medium": "cpc",
    }  # fmt: skip


def test_bad_rows_go_to_the_dead_letter_store_with_file_and_line(
    app: Streamfold, tmp_path: Path
) -> None:
    register(app, "u1")
    path = tmp_path / "messy.csv"
    path.write_text(
        "userId,date,sessions,pageviews,source,medium\n"
        "u1,2024-03-01,2,9,google,organic\n"
        "u1,2024-03-02,two,9,google,organic\n"
        ",2024-03-03,1,1,google,organic\n"
        "u1,2024-02-30,1,1,google,organic\n"
        "u1,2024-03-04,-3,1,google,organic\n"
        "u1,20240305,1,2,google,\n",
        encoding="utf-8",
    )

    report = import_file(app, path)

    letters = {
        letter.raw["line"]: letter
        for letter in app.dead_letters.list(status=LetterStatus.OPEN, table_name="analytics")
    }
    assert (report.rows, report.events_recorded, report.dead_lettered) == (6, 2, 4)
    assert sorted(letters) == [3, 4, 5, 6]
    assert all(letter.raw["file"] == str(path) for letter in letters.values())
    assert letters[3].reason == f"{path} line 3: sessions must be a whole number, got 'two'"
    assert "userId is missing" in letters[4].reason
    assert "date must be an ISO-8601 date" in letters[5].reason
    assert "sessions" in letters[6].reason and "greater than or equal to 0" in letters[6].reason
    assert letters[3].raw["row"]["sessions"] == "two"
    assert user_document(app, "u1")["analytics"]["last_visit_on"] == "2024-03-05"  # type: ignore[index]

    import_file(app, path)  # the same bad rows again are counted, not copied
    again = app.dead_letters.list(status=LetterStatus.OPEN, table_name="analytics")
    assert len(again) == 4 and all(letter.attempts == 2 for letter in again)


def test_a_file_dropped_in_s3_is_imported_by_the_lambda_entry_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto_endpoint: MotoEndpoint
) -> None:
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", f"sqlite:///{tmp_path / 'events.db'}")
    monkeypatch.setenv("STREAMFOLD_SEARCH", f"embedded:///{tmp_path / 'index'}")
    monkeypatch.setenv("STREAMFOLD_ANALYTICS_COLUMNS", "userId=user_id,date=event_date")
    for name, value in moto_endpoint.environment().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", moto_endpoint.url)
    s3 = boto3.client("s3", **moto_endpoint.client_arguments())
    bucket = f"drop-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    lines = ["user_id,event_date,sessions,pageviews,source,medium",
             "u1,20240301,2,9,google,organic", "u1,20240302,oops,1,google,organic"]  # fmt: skip
    key = "ga4/export 2024-03.csv.gz"
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress("\n".join(lines).encode()))
    notification = {"Records": [{
        "eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "eventTime": "2024-04-01T06:00:00.000Z",
        "s3": {"bucket": {"name": bucket}, "object": {"key": "ga4/export+2024-03.csv.gz"}},
    }]}  # fmt: skip
    lambda_analytics.reset()
    try:
        with Streamfold.from_settings(Settings.from_environment()) as app:
            register(app, "u1")

        answer = lambda_analytics.s3_import_handler(notification, None)
        repeated = lambda_analytics.s3_import_handler(notification, None)
    finally:
        lambda_analytics.reset()

    [imported] = answer["imported"]
    assert imported["file"] == f"s3://{bucket}/{key}"
    assert (imported["rows"], imported["events_recorded"], imported["dead_lettered"]) == (2, 1, 1)
    assert repeated["imported"][0]["events_recorded"] == 0
    with Streamfold.from_settings(Settings.from_environment()) as app:
        assert user_document(app, "u1")["analytics"]["sessions"] == 2  # type: ignore[index]
        [bad] = app.dead_letters.list(table_name="analytics")
        assert bad.reason.startswith(f"s3://{bucket}/{key} line 3: sessions")


def test_a_file_without_the_needed_columns_is_refused_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", f"sqlite:///{tmp_path / 'events.db'}")
    monkeypatch.setenv("STREAMFOLD_SEARCH", f"embedded:///{tmp_path / 'index'}")
    path = tmp_path / "ga.csv"
    path.write_text("user_pseudo_id,event_date,sessions,views,session_source\nu,20240101,1,1,g\n")

    refused = main(["import", "analytics", str(path)])
    error = capsys.readouterr().err
    columns = "userId=user_pseudo_id,date=event_date,pageviews=views,source=session_source"
    mapped = main(["import", "analytics", str(path), "--json", "--columns", columns])

    assert refused == 2 and len(error.strip().splitlines()) == 1
    assert "no column for userId, date, pageviews, source;" in error and "--columns" in error
    assert mapped == 0
    assert json.loads(capsys.readouterr().out)["events_recorded"] == 1


def test_json_lines_and_gzip_are_read_like_csv(app: Streamfold, tmp_path: Path) -> None:
    register(app, "u1")
    path = tmp_path / "traffic.jsonl.gz"
    lines = [json.dumps(row("u1", "2024-03-01", 2, 9)), "{not json", json.dumps([1, 2])]
    path.write_bytes(gzip.compress("\n".join(lines).encode()))

    report = import_file(app, path)

    assert (report.rows, report.events_recorded, report.dead_lettered) == (3, 1, 2)
    reasons = sorted(letter.reason for letter in app.dead_letters.list(table_name="analytics"))
    assert reasons == [f"{path} line 2: not JSON: Expecting property name enclosed in double"
                       " quotes", f"{path} line 3: not a JSON object"]  # fmt: skip


@pytest.fixture
def store_app(
    tmp_path: Path, event_store_target: SQLiteStore | PostgresStore
) -> Iterator[Streamfold]:
    settings = Settings(event_store_target, EmbeddedSearch(tmp_path / "index"), {}, "web")
    with Streamfold.from_settings(settings) as built:
        yield built


def test_documents_equal_a_fold_computed_directly_from_the_files_and_the_tables(
    store_app: Streamfold, tmp_path: Path
) -> None:
    workload = CrmWorkload(seed=21, users=25)
    records = workload.records
    half = len(records) // 2
    items = workload.final_items()
    users = sorted({item["userId"] for item in items["users"]})
    ghosts = ["usr_never", "usr_gone"]
    january = [row(user, f"2024-01-{day:02d}", day % 4, day * 3, source, medium)
               for day, user in enumerate(users[:12] + ghosts, start=1)
               for source, medium in (("google", "organic"), ("newsletter", "email"))]  # fmt: skip
    january_fixed = [{**item, "sessions": item["sessions"] + 10} for item in january[:5]]
    january_fixed.append(row(users[0], "2023-12-31", 1, 1, "ads", None))
    first = write_csv(tmp_path / "january.csv", january, version=1_700_000_000)
    second = write_csv(tmp_path / "january-fixed.csv", january_fixed, version=1_700_100_000)

    for event in lambda_events(records[:half], batch_size=300):
        assert not store_app.ingestion.handle(event).failed
    import_file(store_app, first)
    for event in lambda_events(records[half:], batch_size=300):
        assert not store_app.ingestion.handle(event).failed
    import_file(store_app, second)

    expected = expected_documents({**items, "analytics": latest_rows(january, january_fixed)})
    assert_same_documents(searchable_documents(store_app), expected)
    assert any(doc["analytics"] for doc in expected["users"].values())
    assert any(doc["analytics"] is None for doc in expected["users"].values())


def test_rebuild_verify_and_export_include_the_analytics_events(
    app: Streamfold, tmp_path: Path
) -> None:
    workload = CrmWorkload(seed=22, users=12)
    for event in lambda_events(workload.records, batch_size=300):
        assert not app.ingestion.handle(event).failed
    users = sorted(item["userId"] for item in workload.final_items()["users"])
    rows = [row(user, "2024-05-01", 3, 8) for user in users[:6]]
    import_file(app, write_csv(tmp_path / "may.csv", rows, version=1_700_000_000))
    expected = expected_documents({**workload.final_items(), "analytics": rows})

    assert app.verification().against_event_store(list(DocumentKind)).clean
    app.rebuild().run(list(DocumentKind))
    assert_same_documents(searchable_documents(app), expected)
    assert app.verification().against_event_store(list(DocumentKind)).clean

    root = tmp_path / "export"
    ParquetExport(app.event_store, LocalDirectory(root)).run()
    traffic = [e for e in exported_events(root) if e["kind"] == "analytics"]
    assert sorted(e["user_id"] for e in traffic) == users[:6]
    assert {e["event_type"] for e in traffic} == {"WebTraffic.Counted"}
    exported = exported_documents(root)["users"]
    for user in users[:6]:
        assert exported[user]["analytics"]["sessions"] == 3
    assert exported[users[-1]]["analytics"] is None


def test_the_import_command_reports_each_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = SQLiteStore(tmp_path / "events.db")
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", event_store_url(store))
    monkeypatch.setenv("STREAMFOLD_SEARCH", f"embedded:///{tmp_path / 'index'}")
    path = write_csv(tmp_path / "a.csv", [row("u1", "2024-03-01", 1, 2)], version=1_700_000_000)

    code = main(["import", "analytics", str(path), str(tmp_path / "missing.csv")])
    missing = capsys.readouterr().err
    code_ok = main(["import", "analytics", str(path)])
    printed = capsys.readouterr().out

    assert code == 2 and "missing.csv: no such file" in missing
    assert code_ok == 0
    assert printed.startswith(f"{path}: 1 row, 1 event, 0 already imported, 0 dead-lettered")
