"""The event log as Arrow tables: one row per domain event, read in pages by position.

Only a page or two of events is in memory at a time. Each row says where the event stands
(``position``), when it was recorded, which item it belongs to (``kind``, the item's key
columns, ``aggregate_id``) and what happened (``event_type`` and the event's fields).

Only creation events carry an item's key (``User.Registered`` has ``user_id``,
``User.PlanChanged`` has not); the key of every other event is found from its aggregate's
creation event: in the page itself, in an earlier page of the same export, or, for items
created before this export's range, in the event store.

>>> log = EventLog(event_store)
>>> table = log.read(after=0, until=50_000)
>>> table.num_rows, table.schema == EVENTS.schema
(50000, True)
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any
from uuid import UUID

import orjson
import pyarrow as pa
import pyarrow.compute as pc
from eventsourcing.utils import resolve_topic

from infrastructure.adapters.eventstore.store import EventStore
from infrastructure.adapters.eventstore.stored_events import stored_event_rows
from infrastructure.adapters.export.columns import cast_column, cast_to, read_json_rows
from infrastructure.adapters.export.schema import (
    EVENTS,
    LOG_COLUMNS,
    key_columns,
    key_fields_of_kind,
    kind_of_aggregate,
)

_LOG_NAMES = frozenset(f.name for f in LOG_COLUMNS)
# How a stored event's JSON is read: the event fields (dates and instants still text) and
# the library's encoding of the event's timestamp.
_STATE_SCHEMA = pa.schema(
    [
        pa.field("timestamp", pa.struct([pa.field("_data_", pa.string())])),
        *(f for f in EVENTS.raw_schema if f.name not in _LOG_NAMES),
    ]
)
_KEY_COLUMNS = tuple(key_columns())
_KNOWN_LIMIT = 2_000_000  # item keys remembered across pages before starting afresh


class EventLog:
    """Reads ranges of the event store's global order as tables of the ``events`` layout."""

    def __init__(self, store: EventStore, page_size: int = 100_000) -> None:
        self._store = store
        self._page_size = page_size
        self._keys = _ItemKeys(store)

    def read(self, after: int, until: int) -> pa.Table:
        """The events at positions ``after < position <= until``, in position order."""
        pages = list(self.pages(after, until))
        return pa.concat_tables(pages) if pages else EVENTS.schema.empty_table()

    def pages(self, after: int, until: int) -> Iterator[pa.Table]:
        """The same events, one page at a time (memory holds a page or two, not the range).

        The next page is read from the database while this one is turned into columns:
        SQLite and Arrow both let go of the interpreter, so the two overlap.
        """
        ranges = [
            (start, min(start + self._page_size, until))
            for start in range(after, until, self._page_size)
        ]
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="export-read") as reader:
            upcoming = [reader.submit(stored_event_rows, self._store, *r) for r in ranges[:1]]
            for index in range(len(ranges)):
                rows = upcoming.pop().result()
                if index + 1 < len(ranges):
                    upcoming.append(
                        reader.submit(stored_event_rows, self._store, *ranges[index + 1])
                    )
                if rows:
                    yield self._table(rows)

    def _table(self, rows: Sequence[Sequence[Any]]) -> pa.Table:
        positions, ids, versions, topics, states = zip(*rows, strict=True)
        version_array = pa.array(versions, pa.int64())
        stored = read_json_rows(_upcast(topics, states), _STATE_SCHEMA)
        kinds, event_types = _kinds_and_types(pa.array(topics, pa.string()))
        raw = {name: stored.column(name) for name in stored.column_names}
        raw["aggregate_id"] = pa.chunked_array([pa.array(ids, pa.string())])
        raw["kind"] = pa.chunked_array([kinds])
        self._keys.fill(raw, version_array)
        recorded_at = stored.column("timestamp").combine_chunks().field("_data_")
        log = {
            "position": pa.array(positions, pa.int64()),
            "recorded_at": cast_column(recorded_at, EVENTS.schema.field("recorded_at").type),
            "kind": kinds,
            "event_type": event_types,
            "aggregate_id": raw["aggregate_id"],
            "aggregate_version": version_array,
        }
        columns = {**raw, **log}
        table = pa.table({f.name: columns[f.name] for f in EVENTS.raw_schema})
        return cast_to(table, EVENTS.schema)


def _upcast(topics: Sequence[str], states: Sequence[bytes]) -> Sequence[bytes]:
    """The states, those stored by an older version of their event class brought up to date.

    The same steps as the library's mapper (``upcast_vN_vN+1`` from the stored
    ``class_version``), applied only to the events that need them, so that the export
    shows every event in today's shape, as a rebuild folds it. The mapper writes the
    version last, so a state of today's version ends with its mark: checking the end is
    enough for nearly every event.
    """
    versioned = {topic: v for topic in set(topics) if (v := _class_version(topic)) > 1}
    if not versioned:
        return states
    marks = {topic: b'"class_version":%d' % v for topic, v in versioned.items()}
    upcast: list[bytes] | None = None
    for index, topic in enumerate(topics):
        mark = marks.get(topic)
        if mark is None:
            continue
        state = states[index]
        if state.endswith(mark + b"}") or mark in state:
            continue
        upcast = list(states) if upcast is None else upcast
        upcast[index] = _upcast_one(topic, state)
    return states if upcast is None else upcast


@cache
def _event_class(topic: str) -> Any:
    return resolve_topic(topic)


def _class_version(topic: str) -> int:
    return int(getattr(_event_class(topic), "class_version", 1))


def _upcast_one(topic: str, state: bytes) -> bytes:
    event_class = _event_class(topic)
    values = orjson.loads(state)
    version = values.pop("class_version", 1)
    while version < event_class.class_version:
        getattr(event_class, f"upcast_v{version}_v{version + 1}")(values)
        version += 1
    return orjson.dumps(values)


def _hex(originator_id: object) -> str:
    return originator_id.hex if isinstance(originator_id, UUID) else UUID(str(originator_id)).hex


def _kinds_and_types(topics: pa.Array) -> tuple[pa.Array, pa.Array]:
    """``domain.users:User.PlanChanged`` -> (``users``, ``User.PlanChanged``), per topic."""
    encoded = pc.dictionary_encode(topics)
    distinct = encoded.dictionary.to_pylist()
    names = [topic.partition(":")[2] for topic in distinct]
    kinds = [kind_of_aggregate().get(name.partition(".")[0], "unknown") for name in names]
    indices = encoded.indices
    return (
        pc.take(pa.array(kinds, pa.string()), indices),
        pc.take(pa.array(names, pa.string()), indices),
    )


class _ItemKeys:
    """Finds the key of the item behind each event that does not carry it.

    The keys of the items created so far sit in one Arrow table; a page's lookups are one
    vectorized ``index_in`` over its ids and one ``take``, whatever the number of items.
    """

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._keys = _empty_keys()

    def fill(self, raw: dict[str, pa.ChunkedArray], versions: pa.Array) -> None:
        created = pc.equal(versions, 1)
        self._learn(
            pa.table({name: raw[name] for name in ("aggregate_id", *_KEY_COLUMNS)}).filter(created)
        )
        missing = self._missing(raw)
        if not pc.any(missing).as_py():
            return
        wanted = pa.table({"aggregate_id": raw["aggregate_id"], "kind": raw["kind"]})
        wanted = wanted.filter(missing)
        found = self._lookup(wanted.column("aggregate_id").combine_chunks())
        for column in _KEY_COLUMNS:
            owners = pa.array(
                [kind for kind, fields in key_fields_of_kind().items() if column in fields]
            )
            among_missing = pc.is_in(wanted.column("kind"), value_set=owners)
            if not pc.any(among_missing).as_py():
                continue
            mask = pc.and_(missing, pc.is_in(raw["kind"], value_set=owners))
            replacement = found.column(column).filter(among_missing)
            raw[column] = pa.chunked_array(
                [
                    pc.replace_with_mask(
                        raw[column].combine_chunks(), _flat(mask), replacement.combine_chunks()
                    )
                ]
            )

    def _missing(self, raw: dict[str, pa.ChunkedArray]) -> pa.ChunkedArray:
        """Rows whose kind's first key column is empty."""
        missing = None
        for kind, fields in key_fields_of_kind().items():
            rows = pc.and_(pc.equal(raw["kind"], kind), pc.is_null(raw[fields[0]]))
            missing = rows if missing is None else pc.or_(missing, rows)
        assert missing is not None
        return missing

    def _learn(self, learned: pa.Table) -> None:
        if self._keys.num_rows + learned.num_rows > _KNOWN_LIMIT:
            self._keys = _empty_keys()
        self._keys = pa.concat_tables([self._keys, learned.select(self._keys.column_names)])

    def _lookup(self, aggregate_ids: pa.Array) -> pa.Table:
        """The key columns of each aggregate, in order.

        The page's few ids are the join's build side and the many known keys probe it,
        so a page costs one pass over the known keys, not a new hash table of them.
        """
        wanted = pa.table(
            {"aggregate_id": aggregate_ids, "row": pa.array(range(len(aggregate_ids)))}
        )
        found = self._keys.join(wanted, "aggregate_id", join_type="inner")
        if found.num_rows < wanted.num_rows:
            seen = found.column("aggregate_id").unique()
            unknown = pc.filter(aggregate_ids, pc.invert(pc.is_in(aggregate_ids, value_set=seen)))
            self._learn(self._fetch(set(unknown.to_pylist())))
            found = self._keys.join(wanted, "aggregate_id", join_type="inner")
        if found.num_rows != wanted.num_rows:
            raise ValueError("an aggregate's creation event is not unique")
        return found.sort_by("row")

    def _fetch(self, aggregate_ids: set[str]) -> pa.Table:
        """Keys of items created before the range being read, from their first event."""
        stored = self._store.recorder.select_events_of([UUID(hex=i) for i in aggregate_ids])
        first = {
            _hex(event.originator_id): orjson.loads(event.state)
            for event in stored
            if event.originator_version == 1
        }
        missing = aggregate_ids - set(first)
        if missing:
            raise LookupError(f"no creation event for aggregate {sorted(missing)[0]}")
        columns = {name: [state.get(name) for state in first.values()] for name in _KEY_COLUMNS}
        return pa.table(
            {"aggregate_id": pa.array(list(first), pa.string()), **columns},
            schema=self._keys.schema,
        )


def _flat(values: pa.Array | pa.ChunkedArray) -> pa.Array:
    return values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values


def _empty_keys() -> pa.Table:
    fields = [pa.field("aggregate_id", pa.string())]
    fields += [EVENTS.raw_schema.field(name) for name in _KEY_COLUMNS]
    return pa.schema(fields).empty_table()
