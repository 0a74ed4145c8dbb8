"""Several handler processes at once keep the feed index as complete as one handler does."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from infrastructure import lambda_handlers
from infrastructure.adapters.eventstore.document_feeds import SqlDocumentFeeds
from infrastructure.composition import Streamfold
from infrastructure.settings import PostgresStore, Settings
from projections.documents import DocumentKind
from projections.history.service import DocumentHistory
from tests.conftest import event_store_url
from tests.e2e.history_checks import (
    check_as_of,
    check_explanations,
    check_history,
    check_own_changes,
)
from tests.e2e.test_concurrent_convergence import handle_share
from tests.support.delivery import Turbulence
from tests.support.fixtures import ReferenceTables
from tests.support.history_oracle import own_states
from tests.support.history_rounds import run_rounds

HANDLERS = 3
ROUGH = Turbulence(
    max_batch_size=20, duplicate_record_rate=0.1, retry_batch_rate=0.15, late_replay_rate=0.1
)


def test_history_after_concurrent_handlers_agrees_with_the_tables(
    reference_tables: ReferenceTables, postgres_store: PostgresStore, tmp_path: Any
) -> None:
    environment = {
        "STREAMFOLD_EVENT_STORE": event_store_url(postgres_store),
        "STREAMFOLD_SEARCH": f"embedded:///{tmp_path / 'index'}",
        "STREAMFOLD_TABLES": reference_tables.streamfold_tables_setting(),
    }
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=HANDLERS, mp_context=spawn) as pool:

        def deliver(events: list[dict[str, Any]]) -> None:
            shares = [events[n::HANDLERS] for n in range(HANDLERS)]
            answers = list(pool.map(handle_share, [environment] * HANDLERS, shares))
            assert all(a == {"batchItemFailures": []} for share in answers for a in share)

        rounds = run_rounds(reference_tables, deliver, [51, 52, 53], 90, ROUGH)
    assert rounds.expiries > 0
    kinds = {name: kind for kind, name in reference_tables.names.items()}
    with Streamfold.from_settings(Settings.from_environment(environment)) as app:
        checkpointed = DocumentHistory(SqlDocumentFeeds(app.event_store), checkpoint_every=3)
        for history in (app.history, checkpointed):
            check_as_of(history, rounds, seed=7, samples=40)
            for kind in (DocumentKind.USERS, DocumentKind.IMAGES):
                check_history(history, rounds, kind)
                check_own_changes(history, own_states(rounds.delivered, kinds, kind.value), kind)
            check_explanations(history, rounds)


@pytest.fixture(autouse=True)
def _forget_composition_root() -> Any:
    lambda_handlers.reset()
    yield
    lambda_handlers.reset()
