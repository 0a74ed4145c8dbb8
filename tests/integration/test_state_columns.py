"""State tables follow their declarations: an optional attribute's column is added in place.

Between deploying a newly declared optional attribute and migrating, the stream keeps
writing the live state tables; they must take the new column, or every batch would be
retried until the migration.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from infrastructure.adapters.eventstore.dialects import dialect_for
from infrastructure.adapters.eventstore.projection_store import SqlProjectionStore
from infrastructure.adapters.eventstore.store import EventStore
from infrastructure.settings import PostgresStore, SQLiteStore
from projections.state import StateTable, UserRow

ADA = UserRow("u-1", "ada@example.com", "Ada", "pro", "GB", "2024-01-02T03:04:05Z", True,
              ["a", "b"], "Counts things")  # fmt: skip


@pytest.fixture
def store(event_store_target: SQLiteStore | PostgresStore) -> Iterator[EventStore]:
    event_store = EventStore(event_store_target)
    yield event_store
    event_store.close()


def _columns(store: EventStore) -> set[str]:
    dialect = dialect_for(store)
    with dialect.transaction() as cursor:
        return dialect.column_names(cursor, "streamfold_user_state")


def _drop_bio(store: EventStore) -> None:
    # The users' state table as it was before ``bio`` was declared.
    with dialect_for(store).transaction() as cursor:
        cursor.execute("ALTER TABLE streamfold_user_state DROP COLUMN bio")


def test_an_optional_column_declared_later_is_added_and_written(store: EventStore) -> None:
    SqlProjectionStore(store)
    _drop_bio(store)
    assert "bio" not in _columns(store)

    projection = SqlProjectionStore(store)
    with projection.session() as session:
        session.save_rows(StateTable.USERS, {"agg-1": ADA})
    with projection.session() as session:
        loaded = session.load_rows(StateTable.USERS, ["agg-1"])

    assert "bio" in _columns(store)
    assert loaded == {"agg-1": ADA}


def test_tables_that_have_every_column_are_left_as_they_are(store: EventStore) -> None:
    SqlProjectionStore(store)
    before = _columns(store)
    SqlProjectionStore(store)
    assert _columns(store) == before
