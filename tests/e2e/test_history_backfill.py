"""`streamfold history --backfill` gives events recorded before the feed index their history."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

import pytest

from infrastructure.adapters.eventstore.dialects import dialect_for
from infrastructure.adapters.eventstore.feed_backfill import SqlBackfillStore
from infrastructure.adapters.eventstore.projection_store import SqlProjectionSession
from infrastructure.composition import Streamfold
from infrastructure.entrypoints.cli.main import main
from infrastructure.settings import Settings
from projections.documents import DocumentKind
from projections.history.backfill import BackfillProgress, Feed, FeedBackfill
from tests.e2e.history_checks import check_as_of, check_each_change, check_history
from tests.e2e.history_delivery import ROUGH, deliver
from tests.support.fixtures import ReferenceTables
from tests.support.history_rounds import oracle_of, run_rounds


def _feed_rows(app: Streamfold) -> set[tuple[str, str, str]]:
    dialect = dialect_for(app.event_store)
    with dialect.transaction() as cursor:
        cursor.execute("SELECT kind, doc_id, aggregate_id FROM streamfold_document_feeds")
        return {(r["kind"], r["doc_id"], r["aggregate_id"]) for r in cursor.fetchall()}


class Interrupted(Exception):
    pass


class DiesAfter(SqlBackfillStore):
    """Fails on the save after ``saves`` saves, as a killed run would."""

    def __init__(self, store: Any, saves: int) -> None:
        super().__init__(store)
        self.saves = saves

    def save(self, feeds: Collection[Feed], progress: BackfillProgress) -> None:
        if self.saves == 0:
            raise Interrupted
        self.saves -= 1
        super().save(feeds, progress)


def test_a_backfill_interrupted_and_run_again_gives_every_document_its_history(
    configured: None,
    reference_tables: ReferenceTables,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with monkeypatch.context() as before_the_index:
        before_the_index.setattr(SqlProjectionSession, "keeps_feeds", False)
        rounds = run_rounds(
            reference_tables, deliver, seeds=[81, 82, 83], operations=90, turbulence=ROUGH
        )
    with Streamfold.from_settings(Settings.from_environment()) as app:
        assert _feed_rows(app) == set()
        with pytest.raises(Interrupted):
            FeedBackfill(DiesAfter(app.event_store, saves=2), batch_size=40).run()
        partial = _feed_rows(app)
        assert partial
        resumed = FeedBackfill(SqlBackfillStore(app.event_store), batch_size=40).run()
        assert resumed.resumed_from == 80 and resumed.position == resumed.target
        assert resumed.target == app.event_store.head()
        complete = _feed_rows(app)
        assert partial < complete

        oracle = oracle_of(reference_tables, rounds)
        for kind in (DocumentKind.USERS, DocumentKind.IMAGES):
            check_each_change(app.history, oracle, kind)
            check_history(app.history, rounds, kind)
        check_as_of(app.history, rounds, seed=3, samples=30)

    # Once more, by the command: nothing left to do, nothing written.
    capsys.readouterr()
    assert main(["history", "--backfill", "--checkpoints", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["events_read"] == 0 and summary["resumed_from"] == resumed.target
    with Streamfold.from_settings(Settings.from_environment()) as app:
        assert _feed_rows(app) == complete


def test_the_backfill_of_a_fresh_store_finds_the_rows_the_live_projection_wrote(
    configured: None, reference_tables: ReferenceTables, capsys: pytest.CaptureFixture[str]
) -> None:
    run_rounds(reference_tables, deliver, seeds=[91], operations=90, turbulence=ROUGH)
    with Streamfold.from_settings(Settings.from_environment()) as app:
        live = _feed_rows(app)
        dialect = dialect_for(app.event_store)
        with dialect.transaction() as cursor:
            cursor.execute("DELETE FROM streamfold_document_feeds")
    capsys.readouterr()
    assert main(["history", "--backfill"]) == 0
    assert "Feed index filled for the events up to" in capsys.readouterr().out
    with Streamfold.from_settings(Settings.from_environment()) as app:
        assert _feed_rows(app) >= live  # per batch, as live: a few more rows at most


def test_backfill_and_a_document_are_exclusive(configured: None) -> None:
    assert main(["history", "users", "u1", "--backfill"]) == 2
    assert main(["history"]) == 2
