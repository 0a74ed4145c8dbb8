"""The stored events of a range of aggregates, each aggregate's events together and in order.

A full rebuild reads events by aggregate, not by global position: the state row of an
aggregate is the fold of its own events alone, so each aggregate is folded from start to
end at once, its row is written exactly once, and no row ever has to be read back. Rows
then arrive in key order, which is also the cheapest order to insert them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from psycopg.rows import tuple_row

from infrastructure.adapters.eventstore.generation_tables import AggregateIds
from infrastructure.adapters.eventstore.store import EventStore

StoredRow = tuple[str, int, str, bytes]  # aggregate id (hex), version, topic, state
_PAGE = 5000


class AggregateScan:
    """Reads ``(aggregate hex, version, topic, state)`` ordered by aggregate, then version.

    >>> for aggregate, version, topic, state in AggregateScan(store).events(ids, until=5000):
    ...     ...
    """

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._recorder: Any = store.recorder
        self._datastore: Any = self._recorder.datastore

    def events(self, ids: AggregateIds, until: int) -> Iterator[StoredRow]:
        """Events of the aggregates in ``ids`` recorded at or before position ``until``."""
        if self._store.is_postgres:
            yield from self._postgres(ids, until)
        else:
            yield from self._sqlite(ids, until)

    def _sqlite(self, ids: AggregateIds, until: int) -> Iterator[StoredRow]:
        low, high = ids
        table = self._recorder.events_table_name
        statement = (
            f"SELECT originator_id, originator_version, topic, state FROM {table}"
            " WHERE originator_id >= ? AND rowid <= ?"
            + (" AND originator_id < ?" if high is not None else "")
            + " ORDER BY originator_id, originator_version"
        )
        params: list[Any] = [low, until]
        if high is not None:
            params.append(high)
        with self._datastore.transaction(commit=False) as cursor:
            raw = cursor.sqlite_cursor
            raw.row_factory = None  # plain tuples: the connection's Row objects cost more
            raw.execute(statement, params)
            while page := raw.fetchmany(_PAGE):
                yield from page

    def _postgres(self, ids: AggregateIds, until: int) -> Iterator[StoredRow]:
        from psycopg.sql import SQL, Identifier

        low, high = ids
        as_uuid = self._datastore.originator_id_type == "uuid"

        def bound(prefix: str) -> str:
            return f"{prefix}-0000-0000-0000-000000000000" if as_uuid else prefix

        statement = SQL(
            "SELECT replace(originator_id::text, '-', ''), originator_version, topic, state"
            " FROM {schema}.{table} WHERE originator_id >= %s AND notification_id <= %s"
            + (" AND originator_id < %s" if high is not None else "")
            + " ORDER BY originator_id, originator_version"
        ).format(
            schema=Identifier(self._datastore.schema),
            table=Identifier(self._recorder.events_table_name),
        )
        params: list[Any] = [bound(low), until]
        if high is not None:
            params.append(bound(high))
        with self._datastore.transaction(commit=False) as cursor:
            cursor.row_factory = tuple_row
            cursor.execute(statement, params)
            while page := cursor.fetchmany(_PAGE):
                yield from page
