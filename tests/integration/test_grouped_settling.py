"""Commands settle a group of batches at a time: searchable on return, nothing lost if cut short.

On the real event stores (SQLite and PostgreSQL) and the embedded index on real files.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from devtools.demo import CrmWorkload, lambda_events
from infrastructure.adapters.embedded import EmbeddedSearchIndex
from infrastructure.composition import Streamfold
from infrastructure.services.grouping import SettleGroups
from infrastructure.settings import EmbeddedSearch, PostgresStore, Settings, SQLiteStore
from projections.documents import DocumentChange, DocumentKind
from projections.ports import WriteOutcome
from tests.e2e.documents import assert_same_documents, searchable_documents
from tests.support.reference import expected_documents


class CountedIndex(EmbeddedSearchIndex):
    """The embedded index, counting its writes (each one commit per kind it holds)."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.writes = 0

    def write(
        self, changes: Sequence[DocumentChange], into: Mapping[DocumentKind, str] | None = None
    ) -> WriteOutcome:
        self.writes += 1
        return super().write(changes, into)


def ingest_as_a_command(
    app: Streamfold, events: Sequence[Mapping[str, Any]], groups: SettleGroups
) -> list[Any]:
    """Every batch recorded through ``groups``, the last one settling: a command's run."""
    return [
        app.ingestion.handle(event, groups, settle=number == len(events))
        for number, event in enumerate(events, 1)
    ]


def settings_of(store: SQLiteStore | PostgresStore, tmp_path: Path) -> Settings:
    return Settings(store, EmbeddedSearch(tmp_path / "index"), {}, "streamfold")


def test_a_command_over_many_batches_returns_with_everything_searchable(
    event_store_target: SQLiteStore | PostgresStore, tmp_path: Path
) -> None:
    workload = CrmWorkload(seed=5, users=12)
    events = lambda_events(workload.records, batch_size=20)
    assert len(events) > 10
    settings = settings_of(event_store_target, tmp_path)
    index = CountedIndex(tmp_path / "index")
    with Streamfold.from_settings(settings, index) as app:
        groups = SettleGroups(app.pipeline, max_records=100, max_seconds=3600)
        outcomes = ingest_as_a_command(app, events, groups)
        found = searchable_documents(app)

    assert all(not outcome.failed for outcome in outcomes)
    records = len(workload.records)
    assert groups.counts.by_size == records // 100 and groups.counts.at_end == 1
    assert index.writes == groups.counts.settles  # one write per group, not one per batch
    assert sum(o.documents_written for o in outcomes) == groups.settled.documents_written
    assert_same_documents(found, expected_documents(workload.final_items()))


def test_records_of_a_command_cut_short_are_made_searchable_by_the_next_one(
    event_store_target: SQLiteStore | PostgresStore, tmp_path: Path
) -> None:
    workload = CrmWorkload(seed=6, users=8)
    events: list[dict[str, Any]] = list(lambda_events(workload.records, batch_size=25))
    settings = settings_of(event_store_target, tmp_path)
    with Streamfold.from_settings(settings) as app:
        groups = SettleGroups(app.pipeline, max_records=10_000, max_seconds=3600)
        for event in events:  # recorded; the command stops before its group settles
            assert not app.ingestion.handle(event, groups).failed
        assert groups.counts.settles == 0 and groups.pending == len(workload.records)
        assert searchable_documents(app) == {"users": {}, "images": {}}

    with Streamfold.from_settings(settings) as app:
        # The next command records nothing new (every record is a duplicate now) ...
        again = SettleGroups(app.pipeline)
        duplicates = [app.ingestion.handle(event, again) for event in events]
        assert sum(o.events_recorded for o in duplicates) == 0
        again.settle()  # ... and its catch-up projects what the first one recorded
        found = searchable_documents(app)

    assert_same_documents(found, expected_documents(workload.final_items()))
