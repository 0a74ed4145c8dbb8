"""Bad input through the Lambda handler on PostgreSQL and OpenSearch, not over fakes.

Some input only real stores refuse: PostgreSQL text holds no NUL character, the event
store and the search backends keep 64-bit numbers, OpenSearch reads document ids from
URLs. The batches of the bad-input properties (good records with odd but valid text, bad
records of every kind) go through the real handler here: no batch is failed, every bad
record is a dead letter in the database, every good record is searchable as written.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infrastructure import lambda_handlers
from infrastructure.adapters.eventstore.dead_letters import record_letter_id
from infrastructure.settings import PostgresStore
from projections.documents import DocumentKind
from tests.chaos.figures import report_figures
from tests.conftest import event_store_url
from tests.unit.test_bad_input_properties import NAMES, Case, mixed_batches

_CASES = itertools.count()
PREFIXES = st.builds(lambda: f"case{next(_CASES)}-")  # every case, even a replayed one, is new
TRIED: Counter[str] = Counter()


@pytest.fixture(scope="module", autouse=True)
def _report_bad_inputs_tried() -> Iterator[None]:
    yield
    if TRIED:
        report_figures("bad_input_real_stores", {**TRIED, "total": sum(TRIED.values())})


@pytest.fixture
def real_stores(
    postgres_store: PostgresStore,
    osmem_clone: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[None]:
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", event_store_url(postgres_store))
    monkeypatch.setenv("STREAMFOLD_SEARCH", osmem_clone.url)
    monkeypatch.setenv("STREAMFOLD_TABLES", ",".join(f"{k}={n}" for k, n in NAMES.items()))
    monkeypatch.setenv("STREAMFOLD_DATA_DIR", str(tmp_path))
    lambda_handlers.reset()
    yield
    lambda_handlers.reset()


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,  # one database for every case, on purpose
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(case=mixed_batches(PREFIXES))
def test_bad_input_on_postgres_and_opensearch_is_dead_lettered_and_the_rest_searchable(
    real_stores: None, case: Case
) -> None:
    tables, batch, bad = case

    response = lambda_handlers.stream_handler({"Records": batch}, None)

    assert response == {"batchItemFailures": []}
    app = lambda_handlers._app()
    letters = {letter.letter_id: letter for letter in app.dead_letters.list(None, limit=10**6)}
    for kind, record, _ in bad:
        TRIED[kind] += 1
        if isinstance(record, dict):
            letter = letters.get(record_letter_id(_source(record), record))
            assert letter is not None, (kind, record.get("eventID"))
            assert letter.raw == record and letter.reason and "\n" not in letter.reason
    for user in tables.items("users"):
        stored = app.index.get(DocumentKind.USERS, user["userId"])
        assert stored is not None and stored.body is not None
        assert (stored.body["name"], stored.body["bio"]) == (user["name"], user.get("bio"))
    for image in tables.items("images"):
        stored = app.index.get(DocumentKind.IMAGES, image["imageId"])
        assert stored is not None and stored.body is not None
        assert stored.body["title"] == image["title"]


def _source(record: dict[str, Any]) -> str:
    return "kinesis" if record.get("eventSource") == "aws:kinesis" else "dynamodb-streams"
