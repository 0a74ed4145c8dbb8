"""A command's full groups settle in a second process while it records the next ones.

Real processes, on the real event stores (SQLite files and PostgreSQL) and the embedded
index on real files.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.demo import CrmWorkload, lambda_events
from infrastructure.composition import Streamfold
from infrastructure.services.background_settle import BackgroundSettleFailed, ProcessSettler
from infrastructure.services.grouping import SettleGroups
from infrastructure.settings import PostgresStore, SQLiteStore
from tests.e2e.documents import assert_same_documents, searchable_documents
from tests.integration.test_grouped_settling import ingest_as_a_command, settings_of
from tests.support.reference import expected_documents


def test_full_groups_settle_in_a_second_process_and_the_end_leaves_all_searchable(
    event_store_target: SQLiteStore | PostgresStore, tmp_path: Path
) -> None:
    workload = CrmWorkload(seed=11, users=14)
    events = lambda_events(workload.records, batch_size=30)
    with Streamfold.from_settings(settings_of(event_store_target, tmp_path)) as app:
        assert isinstance(app.pipeline.settler, ProcessSettler)
        groups = SettleGroups(app.pipeline, max_records=120, max_seconds=3600)
        outcomes = ingest_as_a_command(app, events, groups)
        found = searchable_documents(app)

    assert all(not outcome.failed for outcome in outcomes)
    assert groups.counts.in_background == len(workload.records) // 120 >= 2
    assert groups.counts.settles == groups.counts.in_background + 1
    # The end's documents were rendered by both processes, a kind each.
    assert groups.counts.rendered_in_both == 1
    assert sum(o.documents_written for o in outcomes) == groups.settled.documents_written > 0
    assert_same_documents(found, expected_documents(workload.final_items()))


def test_what_a_stopped_commands_groups_left_to_render_the_next_writer_renders(
    event_store_target: SQLiteStore | PostgresStore, tmp_path: Path
) -> None:
    workload = CrmWorkload(seed=13, users=10)
    *command, last = lambda_events(workload.records, batch_size=30)
    with Streamfold.from_settings(settings_of(event_store_target, tmp_path)) as app:
        settler = app.pipeline.settler
        assert isinstance(settler, ProcessSettler)
        # No group renders within the hour: the second process only folds.
        groups = SettleGroups(app.pipeline, max_records=60, max_seconds=3600, render_seconds=3600)
        for event in command:
            assert not app.ingestion.handle(event, groups).failed
        if settler.under_way:
            settler.finish()
        # The command stops here, before its settle at the end.
        [left] = app.status().projections
        assert groups.counts.folded_only == groups.counts.in_background >= 2
        assert left.unrendered_documents > 0 and left.pending_documents == 0
    # The next writer (a Lambda invocation, settling its one batch) renders them all.
    with Streamfold.from_settings(settings_of(event_store_target, tmp_path)) as app:
        assert not app.ingestion.handle(last).failed
        [after] = app.status().projections
        found = searchable_documents(app)
    assert (after.unrendered_documents, after.pending_documents, after.behind) == (0, 0, 0)
    assert_same_documents(found, expected_documents(workload.final_items()))


def test_a_settling_process_that_dies_fails_the_batch_and_loses_nothing(
    sqlite_store: SQLiteStore, tmp_path: Path
) -> None:
    workload = CrmWorkload(seed=12, users=8)
    first, *rest = lambda_events(workload.records, batch_size=40)
    with Streamfold.from_settings(settings_of(sqlite_store, tmp_path)) as app:
        settler = app.pipeline.settler
        assert isinstance(settler, ProcessSettler)
        groups = SettleGroups(app.pipeline, max_records=1, max_seconds=3600)
        assert not app.ingestion.handle(first, groups).failed  # handed to the process
        process = settler._process
        assert process is not None
        process.kill()
        process.join()
        with pytest.raises(BackgroundSettleFailed, match="stopped"):
            groups.settle()  # waits for the settle under way: its process is gone
        for event in rest:  # the next group starts a new process
            assert not app.ingestion.handle(event, groups).failed
        groups.settle()
        found = searchable_documents(app)
    assert_same_documents(found, expected_documents(workload.final_items()))


def test_a_settler_readied_and_never_asked_ends_with_the_command(
    sqlite_store: SQLiteStore, tmp_path: Path
) -> None:
    app = Streamfold.from_settings(settings_of(sqlite_store, tmp_path))
    settler = app.pipeline.settler
    assert isinstance(settler, ProcessSettler)
    settler.prepare()  # a group half full: the process starts
    process = settler._process
    assert process is not None and process.is_alive()
    assert not settler.running  # never handed work: a command's end renders alone
    app.close()  # the command ends before any group was handed over
    assert not process.is_alive() and process.exitcode is not None
