"""A document's history, its state at any date and its explanations match the source tables."""

from __future__ import annotations

from infrastructure.adapters.eventstore.document_feeds import SqlDocumentFeeds
from infrastructure.composition import Streamfold
from infrastructure.settings import Settings
from projections.documents import DocumentKind
from projections.history.service import DocumentHistory
from tests.e2e.history_checks import (
    KINDS,
    check_as_of,
    check_each_change,
    check_explanations,
    check_history,
    every_document_id,
)
from tests.e2e.history_delivery import ROUGH, deliver
from tests.support.fixtures import ReferenceTables
from tests.support.history_rounds import RoundHistory, oracle_of, run_rounds


def test_history_as_of_and_explanations_agree_with_the_tables_at_every_round(
    configured: None, reference_tables: ReferenceTables
) -> None:
    """Checked on replays from nothing and on replays from checkpoints every 3 feeding
    events, built after each round so that later rounds (owner changes bringing older
    likes) make some of them wrong and dropped."""

    def checkpoint_every_document(so_far: RoundHistory) -> None:
        with Streamfold.from_settings(Settings.from_environment()) as app:
            history = DocumentHistory(SqlDocumentFeeds(app.event_store), checkpoint_every=3)
            for kind in KINDS:
                for doc_id in every_document_id(so_far, kind):
                    history.checkpoint(kind, doc_id)

    rounds = run_rounds(
        reference_tables, deliver, seeds=[31, 32, 33, 34], operations=90, turbulence=ROUGH,
        after_round=checkpoint_every_document,
    )  # fmt: skip
    assert rounds.expiries > 0
    oracle = oracle_of(reference_tables, rounds)
    assert oracle.expiries > 0
    with Streamfold.from_settings(Settings.from_environment()) as app:
        checkpointed = DocumentHistory(SqlDocumentFeeds(app.event_store), checkpoint_every=3)
        for history in (app.history, checkpointed):
            check_as_of(history, rounds, seed=5, samples=60)
            for kind in (DocumentKind.USERS, DocumentKind.IMAGES):
                check_history(history, rounds, kind)
                check_each_change(history, oracle, kind)
            check_explanations(history, rounds)


def test_a_document_that_did_not_exist_then_has_no_past_state(
    configured: None, reference_tables: ReferenceTables
) -> None:
    rounds = run_rounds(reference_tables, deliver, seeds=[41], operations=40, turbulence=ROUGH)
    with Streamfold.from_settings(Settings.from_environment()) as app:
        before = rounds.rounds[0].moment.replace(year=2000)
        for user_id in rounds.rounds[0].documents["users"]:
            assert app.history.as_of(DocumentKind.USERS, user_id, before) is None
