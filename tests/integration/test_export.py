"""The Parquet export holds exactly the store's events and documents, incrementally."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from devtools.demo import CrmWorkload
from infrastructure.adapters.eventstore.export_checkpoints import ExportBusy, ExportCheckpoints
from infrastructure.adapters.export.destination import LocalDirectory, S3Prefix, open_destination
from infrastructure.adapters.export.exporter import ParquetExport
from infrastructure.adapters.export.schema import DOCUMENTS, EVENTS, TIMESTAMP
from infrastructure.composition import Streamfold
from infrastructure.settings import EmbeddedSearch, PostgresStore, Settings, SQLiteStore
from projections.documents import DocumentKind
from tests.conftest import event_store_url
from tests.support.exported import (
    exported_documents,
    exported_events,
    ingest,
    same_instants,
    stored_documents,
    stored_events,
)
from tests.support.moto_server import MotoEndpoint

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app(tmp_path: Path, event_store_target: SQLiteStore | PostgresStore) -> Iterator[Streamfold]:
    settings = Settings(event_store_target, EmbeddedSearch(tmp_path / "index"), {}, "export")
    with Streamfold.from_settings(settings) as built:
        yield built


@pytest.fixture
def sqlite_app(tmp_path: Path) -> Iterator[Streamfold]:
    settings = Settings(
        SQLiteStore(tmp_path / "events.db"), EmbeddedSearch(tmp_path / "index"), {}, "export"
    )
    with Streamfold.from_settings(settings) as built:
        yield built


def workload_halves(seed: int, users: int) -> tuple[list[Any], list[Any]]:
    records = CrmWorkload(seed=seed, users=users).records
    half = len(records) // 2
    return records[:half], records[half:]


def assert_export_equals_store(app: Streamfold, root: Path) -> None:
    assert same_instants(exported_events(root)) == stored_events(app)
    assert exported_documents(root) == stored_documents(app)


def test_an_export_reads_back_with_pyarrow_as_exactly_the_events_and_documents_of_the_store(
    app: Streamfold, tmp_path: Path
) -> None:
    first, second = workload_halves(seed=3, users=20)
    ingest(app, first)
    root = tmp_path / "export"

    report = ParquetExport(app.event_store, LocalDirectory(root), chunk_events=100).run()

    assert report.events == app.event_store.head() and report.restarted
    assert report.event_files >= 2  # several ranges: the chunking is exercised
    assert_export_equals_store(app, root)

    ingest(app, second)
    head_before = report.position
    files_before = {p: p.stat().st_mtime_ns for p in root.glob("events/*/*.parquet")}

    again = ParquetExport(app.event_store, LocalDirectory(root), chunk_events=100).run()

    assert not again.restarted
    assert again.events == app.event_store.head() - head_before  # only what is new
    assert all(p.stat().st_mtime_ns == t for p, t in files_before.items())  # left alone
    assert_export_equals_store(app, root)


def test_duckdb_reads_the_same_rows_and_types_as_the_store_holds(
    sqlite_app: Streamfold, tmp_path: Path
) -> None:
    ingest(sqlite_app, CrmWorkload(seed=4, users=20).records)
    root = tmp_path / "export"
    ParquetExport(sqlite_app.event_store, LocalDirectory(root)).run()
    connection = duckdb.connect()

    events = connection.execute(
        f"SELECT count(*), count(DISTINCT position), max(position) FROM read_parquet("
        f"'{root}/events/*/*.parquet', hive_partitioning = true)"
    ).fetchone()
    users = connection.execute(
        f"SELECT count(*), sum(image_count), sum(lifetime_value_cents) FROM read_parquet("
        f"'{root}/users/*/*.parquet', hive_partitioning = true)"
    ).fetchone()
    described = connection.execute(
        f"DESCRIBE SELECT recorded_at, position, created_at, tags, size_bytes, event_date"
        f" FROM read_parquet('{root}/events/*/*.parquet', hive_partitioning = true)"
    ).fetchall()
    kinds = {row[0]: row[1] for row in described}

    head = sqlite_app.event_store.head()
    documents = stored_documents(sqlite_app)["users"].values()
    assert events == (head, head, head)
    assert users == (
        len(documents),
        sum(d["image_count"] for d in documents),
        sum(d["lifetime_value_cents"] for d in documents),
    )
    assert kinds == {
        "recorded_at": "TIMESTAMP WITH TIME ZONE",
        "position": "BIGINT",
        "created_at": "TIMESTAMP WITH TIME ZONE",
        "tags": "VARCHAR[]",
        "size_bytes": "BIGINT",
        "event_date": "DATE",
    }


def test_column_types_are_explicit_in_the_files() -> None:
    events = EVENTS.schema
    users = DOCUMENTS[DocumentKind.USERS].schema
    images = DOCUMENTS[DocumentKind.IMAGES].schema

    assert events.field("recorded_at").type == TIMESTAMP
    assert events.field("position").type == pa.int64()
    assert events.field("amount_cents").type == pa.int64()
    assert events.field("paid_at").type == TIMESTAMP
    assert events.field("visited_on").type == pa.date32()
    assert events.field("marketing_opt_in").type == pa.bool_()
    assert users.field("last_upload_at").type == TIMESTAMP
    assert users.field("analytics").type.field("sessions").type == pa.int64()
    assert images.field("owner").type.field("plan").type == pa.string()
    assert images.field("tags").type == pa.list_(pa.string())


def test_deleted_documents_leave_the_export_and_changed_ones_are_replaced(
    sqlite_app: Streamfold, tmp_path: Path
) -> None:
    workload = CrmWorkload(seed=8, users=25)
    records = workload.records
    cut = len(records) * 2 // 3
    ingest(sqlite_app, records[:cut])
    root = tmp_path / "export"
    ParquetExport(sqlite_app.event_store, LocalDirectory(root)).run()
    before = exported_documents(root)

    ingest(sqlite_app, records[cut:])
    report = ParquetExport(sqlite_app.event_store, LocalDirectory(root)).run()

    after = exported_documents(root)
    items = workload.final_items()
    final = {
        "users": {item["userId"] for item in items["users"]},
        "images": {item["imageId"] for item in items["images"]},
    }
    assert {kind: set(docs) for kind, docs in after.items()} == final
    assert report.deleted_documents > 0
    assert set(before["users"]) - set(after["users"])  # some users were deleted meanwhile
    assert 0 < report.document_files <= 32
    assert after == stored_documents(sqlite_app)


KILLED_EXPORT = """
import os, signal, sys
from pathlib import Path
from infrastructure.adapters.eventstore.store import EventStore
from infrastructure.adapters.export.destination import LocalDirectory
from infrastructure.adapters.export.exporter import ParquetExport
from infrastructure.settings import Settings

class DiesWhilePublishing(LocalDirectory):
    published = 0

    def publish(self, staged, name):
        table = sys.argv[2]
        if name.startswith(table) and self.published == int(sys.argv[3]):
            os.kill(os.getpid(), signal.SIGKILL)  # no cleanup, no finally: a real crash
        super().publish(staged, name)
        self.published += name.startswith(table)

store = EventStore(Settings.from_environment().event_store)
ParquetExport(store, DiesWhilePublishing(Path(sys.argv[1])), chunk_events=100).run()
"""


def test_an_export_killed_part_way_leaves_no_partial_partition_and_resumes(
    sqlite_app: Streamfold, tmp_path: Path
) -> None:
    ingest(sqlite_app, CrmWorkload(seed=6, users=20).records)
    root = tmp_path / "export"
    assert isinstance(sqlite_app.settings.event_store, SQLiteStore)
    store_url = event_store_url(sqlite_app.settings.event_store)
    environment = {**os.environ, "STREAMFOLD_EVENT_STORE": store_url}

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_EXPORT, str(root), "events/", "2"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        check=False,
    )

    assert killed.returncode == -signal.SIGKILL
    visible = sorted(root.glob("*/*/*.parquet"))
    assert len(visible) >= 2 and {p.parent.parent.name for p in visible} == {"events"}
    for path in visible:
        pq.read_metadata(path)  # every visible file is whole
    assert list((root / "_staging").iterdir())  # the crash left its unfinished file aside
    checkpoint = ExportCheckpoints(sqlite_app.event_store).get(str(root.resolve()))
    assert checkpoint is not None and checkpoint.events_pending_until == 300
    assert checkpoint.events_position == 200
    partial = exported_events(root)
    assert [row["position"] for row in partial] == list(range(1, 201))

    resumed = ParquetExport(sqlite_app.event_store, LocalDirectory(root), chunk_events=100).run()

    assert not resumed.restarted
    assert resumed.events == sqlite_app.event_store.head() - 200
    assert not (root / "_staging").exists() or not list((root / "_staging").iterdir())
    assert_export_equals_store(sqlite_app, root)


def test_an_export_killed_while_rewriting_documents_resumes_to_the_same_documents(
    sqlite_app: Streamfold, tmp_path: Path
) -> None:
    records = CrmWorkload(seed=7, users=20).records
    ingest(sqlite_app, records[: len(records) // 2])
    root = tmp_path / "export"
    ParquetExport(sqlite_app.event_store, LocalDirectory(root)).run()
    ingest(sqlite_app, records[len(records) // 2 :])
    assert isinstance(sqlite_app.settings.event_store, SQLiteStore)
    store_url = event_store_url(sqlite_app.settings.event_store)
    environment = {**os.environ, "STREAMFOLD_EVENT_STORE": store_url}

    killed = subprocess.run(
        [sys.executable, "-c", KILLED_EXPORT, str(root), "users/", "5"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        check=False,
    )

    assert killed.returncode == -signal.SIGKILL
    for path in root.glob("*/*/*.parquet"):
        pq.read_metadata(path)  # every visible file is whole
    checkpoint = ExportCheckpoints(sqlite_app.event_store).get(str(root.resolve()))
    assert checkpoint is not None and checkpoint.events_position == sqlite_app.event_store.head()
    assert exported_documents(root) != stored_documents(sqlite_app)  # stopped half-way

    resumed = ParquetExport(sqlite_app.event_store, LocalDirectory(root)).run()

    assert resumed.events == 0 and resumed.document_files > 0
    assert_export_equals_store(sqlite_app, root)


def test_an_export_to_s3_is_read_back_from_s3(
    sqlite_app: Streamfold, tmp_path: Path, moto_endpoint: MotoEndpoint
) -> None:
    ingest(sqlite_app, CrmWorkload(seed=9, users=12).records)
    s3 = boto3.client("s3", **moto_endpoint.client_arguments())
    bucket = f"exports-{uuid.uuid4().hex[:8]}"
    s3.create_bucket(Bucket=bucket)
    destination = S3Prefix(bucket, "streamfold/prod", client=s3)

    first = ParquetExport(sqlite_app.event_store, destination, chunk_events=500).run()
    again = ParquetExport(sqlite_app.event_store, destination, chunk_events=500).run()

    filesystem = pafs.S3FileSystem(
        endpoint_override=moto_endpoint.url.removeprefix("http://"),
        scheme="http",
        access_key="testing",
        secret_key="testing",
        region=moto_endpoint.region,
    )
    root = f"{bucket}/streamfold/prod"
    assert first.events == sqlite_app.event_store.head() and again.events == 0
    assert same_instants(exported_events(root, filesystem)) == stored_events(sqlite_app)
    assert exported_documents(root, filesystem) == stored_documents(sqlite_app)
    marker = s3.get_object(Bucket=bucket, Key="streamfold/prod/_streamfold_export.json")
    assert json.loads(marker["Body"].read())["export_id"]


def test_a_wiped_destination_is_exported_again_from_the_start(
    sqlite_app: Streamfold, tmp_path: Path
) -> None:
    ingest(sqlite_app, CrmWorkload(seed=2, users=10).records)
    root = tmp_path / "export"
    ParquetExport(sqlite_app.event_store, LocalDirectory(root)).run()
    for path in sorted(root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()

    report = ParquetExport(sqlite_app.event_store, LocalDirectory(root)).run()

    assert report.restarted
    assert_export_equals_store(sqlite_app, root)


def test_two_exports_to_one_destination_do_not_run_at_once(
    sqlite_app: Streamfold, tmp_path: Path
) -> None:
    destination = LocalDirectory(tmp_path / "export")
    checkpoints = ExportCheckpoints(sqlite_app.event_store)

    with checkpoints.lease(destination.describe()), pytest.raises(ExportBusy, match="another"):
        ParquetExport(sqlite_app.event_store, destination).run()

    assert ParquetExport(sqlite_app.event_store, destination).run().events == 0  # released


def test_a_destination_is_a_directory_or_an_s3_url() -> None:
    assert isinstance(open_destination("s3://bucket/a/b"), S3Prefix)
    assert open_destination("s3://bucket/a/b").describe() == "s3://bucket/a/b"
    assert isinstance(open_destination("/tmp/x"), LocalDirectory)
    with pytest.raises(ValueError, match="s3://bucket/prefix"):
        open_destination("gs://bucket/prefix")
