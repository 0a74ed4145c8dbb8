"""A command's full groups settle in a second process while it records the next ones.

Real processes, on the real event stores (SQLite files and PostgreSQL) and the embedded
index on real files.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

from devtools.demo import CrmWorkload, lambda_events
from infrastructure.composition import Streamfold
from infrastructure.services.background_settle import BackgroundSettleFailed, ProcessSettler
from infrastructure.services.grouping import SettleGroups
from infrastructure.services.write_pipeline import PipelineReport
from infrastructure.settings import PostgresStore, SQLiteStore
from tests.e2e.documents import assert_same_documents, searchable_documents
from tests.integration.test_grouped_settling import ingest_as_a_command, settings_of
from tests.support.reference import expected_documents

if TYPE_CHECKING:
    from collections.abc import Callable

    from infrastructure.services.background_settle import SettlingApp


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
    assert sum(o.documents_written for o in outcomes) == groups.settled.documents_written > 0
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
    app.close()  # the command ends before any group was handed over
    assert not process.is_alive() and process.exitcode is not None


@dataclass
class _HeldPipeline:
    """A settle that folds at once and writes its documents when ``release`` appears."""

    release: Path

    def settle(
        self,
        report: PipelineReport,
        events_at_once: int | None = None,
        recorded: tuple[int, int] | None = None,
        folded: Any = None,
    ) -> None:
        folded()
        deadline = time.monotonic() + 30
        while not self.release.exists():
            if time.monotonic() > deadline:
                raise TimeoutError("the test never let the documents be written")
            time.sleep(0.01)
        report.documents_written = 3


@dataclass
class _HeldApp:
    pipeline: _HeldPipeline

    def rebuild(self, **options: Any) -> Any:
        raise NotImplementedError

    def close(self) -> None:
        pass


def _held_app(release: Path) -> _HeldApp:
    return _HeldApp(_HeldPipeline(release))


def test_a_settle_says_it_has_folded_before_it_has_written_its_documents(
    tmp_path: Path,
) -> None:
    release = tmp_path / "release"
    # A stand-in for the app the process builds: only the messages of a settle are tested.
    settler = ProcessSettler(cast("Callable[[], SettlingApp]", partial(_held_app, release)))
    try:
        settler.begin(100, (1, 2))
        settler.wait_for_fold()  # returns while the process still holds its documents
        assert settler.under_way and not settler.done()
        release.touch()
        assert settler.finish().documents_written == 3
        assert not settler.under_way

        release.unlink()
        settler.begin(100, (3, 4))  # the next settle, never waited for until it ends
        release.touch()
        while not settler.done():
            time.sleep(0.01)
        assert settler.finish().documents_written == 3
    finally:
        settler.close()
