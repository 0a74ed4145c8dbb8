"""Shared fixtures: real PostgreSQL databases, embedded targets, and settings."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from infrastructure.settings import PostgresStore, SQLiteStore
from tests.support.fixtures import moto_endpoint, reference_tables  # noqa: F401 - fixtures

POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def postgres_store() -> Iterator[PostgresStore]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    name = f"streamfold_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield PostgresStore(host="127.0.0.1", port=5432, user="postgres", password="", dbname=name)
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_store(tmp_path: Path) -> SQLiteStore:
    return SQLiteStore(tmp_path / "events.db")


@pytest.fixture(params=["sqlite", "postgres"])
def event_store_target(request: pytest.FixtureRequest) -> SQLiteStore | PostgresStore:
    """Each test using this runs once per event-store backend."""
    fixture = "sqlite_store" if request.param == "sqlite" else "postgres_store"
    target: SQLiteStore | PostgresStore = request.getfixturevalue(fixture)
    return target


def event_store_url(target: SQLiteStore | PostgresStore) -> str:
    if isinstance(target, SQLiteStore):
        return f"sqlite:///{target.path}"  # an absolute path gives the four-slash form
    return f"postgresql://{target.user}@{target.host}:{target.port}/{target.dbname}"
