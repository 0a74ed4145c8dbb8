"""The embedded event store keeps the projection's tables in a file of their own.

SQLite has one write lock per file: with the projection beside the events, a command's
intake records while another process folds (on real SQLite files).
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from devtools.demo import CrmWorkload, lambda_events
from infrastructure.adapters.eventstore.schema import PROJECTION_TABLES
from infrastructure.adapters.eventstore.sqlite_factory import connect_store, projection_file
from infrastructure.composition import Streamfold
from infrastructure.settings import EmbeddedSearch, Settings, SQLiteStore
from tests.e2e.documents import assert_same_documents, searchable_documents
from tests.support.reference import expected_documents


def tables_in(path: Path) -> set[str]:
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in rows}


def settings_in(tmp_path: Path) -> Settings:
    return Settings(
        SQLiteStore(tmp_path / "events.db"), EmbeddedSearch(tmp_path / "index"), {}, "streamfold"
    )


def ingest_and_compare(tmp_path: Path, workload: CrmWorkload) -> dict[str, Any]:
    """Ingest the workload batch by batch; its documents are the fold of its tables."""
    with Streamfold.from_settings(settings_in(tmp_path)) as app:
        for event in lambda_events(workload.records, batch_size=50):
            assert not app.ingestion.handle(event).failed
        found = searchable_documents(app)
    assert_same_documents(found, expected_documents(workload.final_items()))
    return found


def test_a_new_store_keeps_the_projection_in_its_own_file(tmp_path: Path) -> None:
    found = ingest_and_compare(tmp_path, CrmWorkload(seed=8, users=6))

    events, projection = (
        tables_in(tmp_path / "events.db"),
        tables_in(tmp_path / "events.projection.db"),
    )
    assert projection_file(str(tmp_path / "events.db")) == tmp_path / "events.projection.db"
    assert {"stored_events", "streamfold_item_positions", "streamfold_dead_letters"} <= events
    assert {"streamfold_tracking", "streamfold_documents", "streamfold_user_state"} <= projection
    assert not events & {"streamfold_tracking", "streamfold_documents", "streamfold_user_state"}
    assert "stored_events" not in projection
    # Tools reading rows directly see both files through one connection.
    with connect_store(tmp_path / "events.db") as connection:
        (documents,) = connection.execute("SELECT COUNT(*) FROM streamfold_documents").fetchone()
    assert documents == len(found["users"]) + len(found["images"])


def test_a_store_with_the_projection_in_the_event_file_keeps_it_there(tmp_path: Path) -> None:
    # A store created before the projection had a file of its own: its tables are in
    # events.db (its tracking table stands for them all here; the rest are created beside it).
    tracking = next(s for s in PROJECTION_TABLES if "streamfold_tracking (" in s)
    with sqlite3.connect(tmp_path / "events.db") as connection:
        connection.execute(tracking)
    ingest_and_compare(tmp_path, CrmWorkload(seed=9, users=5))
    assert not (tmp_path / "events.projection.db").exists()
    assert {"streamfold_documents", "streamfold_user_state"} <= tables_in(tmp_path / "events.db")


def test_the_intake_records_while_another_process_holds_the_projection(tmp_path: Path) -> None:
    workload = CrmWorkload(seed=10, users=6)
    first, *rest = lambda_events(workload.records, batch_size=40)
    settings = settings_in(tmp_path)
    with Streamfold.from_settings(settings) as folding, Streamfold.from_settings(settings) as app:
        assert not app.ingestion.handle(first).failed
        recorded = threading.Event()
        failed: list[str] = []

        def record_the_rest() -> None:
            groups = app.ingestion.groups()
            for event in rest:
                failed.extend(str(f) for f in app.ingestion.handle(event, groups).failed)
            # What a hand-over does first: the group's batches commit together.
            app.pipeline.commit_held()
            recorded.set()

        # A projection transaction of another store (another process's connections) holds
        # the projection file's write lock until it ends.
        with folding.projection_store.session() as session:
            position = session.position()
            recorder = threading.Thread(target=record_the_rest)
            recorder.start()
            in_time = recorded.wait(timeout=30)
        recorder.join()
        assert in_time, "the intake waited for the projection's lock"
        assert not failed
        assert app.event_store.head() > position
        groups = app.ingestion.groups()
        groups.settle()
        found = searchable_documents(app)
    assert_same_documents(found, expected_documents(workload.final_items()))


def test_a_store_whose_tables_exist_opens_while_another_process_writes_events(
    tmp_path: Path,
) -> None:
    settings = settings_in(tmp_path)
    Streamfold.from_settings(settings, settler=None).close()  # every table created
    writer = sqlite3.connect(tmp_path / "events.db", isolation_level=None, timeout=60)
    # Another process in a write transaction of the events' file (a command recording).
    writer.execute("BEGIN")
    writer.execute("DELETE FROM stored_events WHERE 0")
    opened = threading.Event()

    def open_and_fold() -> None:
        with Streamfold.from_settings(settings, settler=None) as app:
            app.projector.catch_up()  # the projection's file is not locked
        opened.set()

    thread = threading.Thread(target=open_and_fold)
    thread.start()
    try:
        assert opened.wait(timeout=20), "opening the store waited for the events' write lock"
    finally:
        writer.execute("ROLLBACK")
        thread.join()
        writer.close()
