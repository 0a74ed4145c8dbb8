"""The search sync on PostgreSQL: documents from memory, and those a stopped writer left.

A batch's own catch-up hands the documents it committed to the sync, which writes them
without reading the outbox back. A writer that stops between its commit and its sync
leaves them pending: the batch, delivered again, records nothing new and writes them.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from devtools.demo import SimulatedTables, lambda_events
from devtools.demo.people import new_user
from infrastructure.composition import Streamfold
from infrastructure.settings import EmbeddedSearch, PostgresStore, Settings
from projections.documents import DocumentKind
from projections.ports import SearchUnavailable


def _new_users(count: int) -> dict[str, Any]:
    """A stream batch creating ``count`` users."""
    rng = random.Random(3)
    tables = SimulatedTables()
    for number in range(count):
        tables.put("users", new_user(rng, f"u-{number}", "2024-01-01T00:00:00Z"))
    (event,) = lambda_events(tables.take_records(), count)
    return event


@pytest.fixture
def app(postgres_store: PostgresStore, tmp_path: Path) -> Any:
    settings = Settings(postgres_store, EmbeddedSearch(tmp_path / "index"), {}, "sync")
    with Streamfold.from_settings(settings) as streamfold:
        yield streamfold


def test_a_batch_writes_its_documents_without_reading_the_outbox(
    app: Streamfold, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads: list[int] = []
    read = app.projection_store.pending_documents

    def counted(limit: int) -> Any:
        reads.append(limit)
        return read(limit)

    monkeypatch.setattr(app.projection_store, "pending_documents", counted)

    outcome = app.ingestion.handle(_new_users(5))

    assert outcome.failed == [] and outcome.documents_written == 5
    assert reads == []
    assert app.projection_store.progress(1).pending_documents == 0
    assert app.index.get(DocumentKind.USERS, "u-4") is not None


def test_what_a_writer_left_pending_is_written_when_its_batch_is_delivered_again(
    app: Streamfold, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = _new_users(5)

    def unavailable(*_: Any) -> Any:
        raise SearchUnavailable("the search backend is down")

    with monkeypatch.context() as patch:
        patch.setattr(app.index, "write", unavailable)
        first = app.ingestion.handle(event)
    assert len(first.failed) == 5  # committed to the outbox, not written
    assert app.projection_store.progress(1).pending_documents == 5
    assert app.index.get(DocumentKind.USERS, "u-0") is None

    again = app.ingestion.handle(event)

    assert again.failed == [] and again.events_recorded == 0
    assert again.documents_written == 5
    assert app.projection_store.progress(1).pending_documents == 0
    assert app.index.get(DocumentKind.USERS, "u-0") is not None
