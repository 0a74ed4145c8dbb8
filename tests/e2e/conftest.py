"""Fixtures shared by the end-to-end tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from infrastructure import lambda_handlers
from infrastructure.settings import PostgresStore, SQLiteStore
from tests.conftest import event_store_url
from tests.support.fixtures import ReferenceTables


@pytest.fixture
def configured(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    event_store_target: SQLiteStore | PostgresStore,
    reference_tables: ReferenceTables,
) -> Iterator[None]:
    monkeypatch.setenv("STREAMFOLD_EVENT_STORE", event_store_url(event_store_target))
    monkeypatch.setenv("STREAMFOLD_SEARCH", f"embedded:///{tmp_path / 'index'}")
    monkeypatch.setenv("STREAMFOLD_TABLES", reference_tables.streamfold_tables_setting())
    lambda_handlers.reset()
    yield
    lambda_handlers.reset()
