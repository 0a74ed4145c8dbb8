"""The stored events of a range of aggregates, each aggregate's events together and in order.

A full rebuild reads events by aggregate, not by global position: the state row of an
aggregate is the fold of its own events alone, so each aggregate is folded from start to
end at once, its row is written exactly once, and no row ever has to be read back. Rows
then arrive in key order, which is also the cheapest order to insert them.

Events are decoded the cheap way the folds allow: their own fields as stored (upcast by
their class's ``upcast_vN_vN+1`` methods, as the library's mapper does), on an instance of
their class, without the library's general path: the folds read an event's fields and
class only, so its metadata (originator id, timestamp) is not revived. A store that
encrypts or compresses events goes through the library's mapper instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic
from psycopg.rows import tuple_row

from infrastructure.adapters.eventstore.store import EventStore
from infrastructure.services.rebuilding.slices import IdRange
from projections.folds import state_table_of
from projections.state import StateTable

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

    def events(self, ids: IdRange, until: int) -> Iterator[StoredRow]:
        """Events of the aggregates in ``ids`` recorded at or before position ``until``."""
        if self._store.is_postgres:
            yield from self._postgres(ids, until)
        else:
            yield from self._sqlite(ids, until)

    def _sqlite(self, ids: IdRange, until: int) -> Iterator[StoredRow]:
        table = self._recorder.events_table_name
        statement = (
            f"SELECT originator_id, originator_version, topic, state FROM {table}"
            " WHERE originator_id >= ? AND rowid <= ?"
            + (" AND originator_id < ?" if ids.high is not None else "")
            + " ORDER BY originator_id, originator_version"
        )
        params: list[Any] = [ids.low, until]
        if ids.high is not None:
            params.append(ids.high)
        with self._datastore.transaction(commit=False) as cursor:
            raw = cursor.sqlite_cursor
            raw.row_factory = None  # plain tuples: the connection's Row objects cost more
            raw.execute(statement, params)
            while page := raw.fetchmany(_PAGE):
                yield from page

    def _postgres(self, ids: IdRange, until: int) -> Iterator[StoredRow]:
        from psycopg.sql import SQL, Identifier

        as_uuid = self._datastore.originator_id_type == "uuid"

        def bound(prefix: str) -> str:
            return f"{prefix}-0000-0000-0000-000000000000" if as_uuid else prefix

        statement = SQL(
            "SELECT replace(originator_id::text, '-', ''), originator_version, topic, state"
            " FROM {schema}.{table} WHERE originator_id >= %s AND notification_id <= %s"
            + (" AND originator_id < %s" if ids.high is not None else "")
            + " ORDER BY originator_id, originator_version"
        ).format(
            schema=Identifier(self._datastore.schema),
            table=Identifier(self._recorder.events_table_name),
        )
        params: list[Any] = [bound(ids.low), until]
        if ids.high is not None:
            params.append(bound(ids.high))
        with self._datastore.transaction(commit=False) as cursor:
            cursor.row_factory = tuple_row
            cursor.execute(statement, params)
            while page := cursor.fetchmany(_PAGE):
                yield from page


class EventDecoder:
    """Stored events to the domain events the folds read, and the state table of each.

    >>> event, table = EventDecoder(store).decode(aggregate, version, topic, state)
    """

    def __init__(self, store: EventStore) -> None:
        self._mapper = store.event_log.mapper
        self._plain = self._mapper.cipher is None and self._mapper.compressor is None
        self._classes: dict[str, tuple[type[Any], StateTable | None, int]] = {}

    def decode(
        self, aggregate: str, version: int, topic: str, state: bytes
    ) -> tuple[Any, StateTable | None]:
        """The event and the state table it folds into (None: of no interest, not decoded)."""
        known = self._classes.get(topic)
        if known is None:
            known = self._classes[topic] = self._learn(topic)
        cls, table, class_version = known
        if table is None:
            return None, None
        if not self._plain:
            stored = StoredEvent(UUID(aggregate), version, topic, bytes(state))
            return self._mapper.to_domain_event(stored), table
        fields = orjson.loads(state)
        stored_version = fields.pop("class_version", 1)
        if stored_version < class_version:
            _upcast(cls, fields, stored_version, class_version)
        fields["originator_version"] = version
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", fields)
        return event, table

    @staticmethod
    def _learn(topic: str) -> tuple[type[Any], StateTable | None, int]:
        cls = resolve_topic(topic)
        table = state_table_of(object.__new__(cls))
        return cls, table, getattr(cls, "class_version", 1)


def _upcast(cls: type[Any], fields: dict[str, Any], version: int, target: int) -> None:
    # The library's convention, as its mapper applies it: one static method per step.
    while version < target:
        getattr(cls, f"upcast_v{version}_v{version + 1}")(fields)
        version += 1
