"""In-memory DynamoDB tables of the reference domain that write a change stream."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from devtools.demo.clock import DEFAULT_START, SimulatedClock
from devtools.demo.item_version import ItemVersion, same_attributes
from devtools.demo.stream_records import (
    EventName,
    StreamRecord,
    StreamRecordFactory,
    stream_arn,
)
from domain.kinds import TableKind

Item = Mapping[str, Any]
Key = tuple[str, ...]


class _Table:
    """One table's name, key schema, stream ARN and items."""

    __slots__ = ("arn", "items", "key_attributes", "kind", "name")

    def __init__(self, kind: TableKind, name: str, region: str) -> None:
        self.kind = kind
        self.name = name
        self.key_attributes = kind.key_attributes
        self.arn = stream_arn(region, name)
        self.items: dict[Key, ItemVersion] = {}

    def key_of(self, item: Item) -> Key:
        key = []
        for name in self.key_attributes:
            value = item.get(name)
            if type(value) is not str or not value:
                raise ValueError(
                    f"a {self.kind.value} key needs a non-empty string {name!r}, got {value!r}"
                )
            key.append(value)
        return tuple(key)


class SimulatedTables:
    """The four reference tables in memory, emitting DynamoDB Streams records.

    ``table`` arguments accept a real table name or a kind (``"users"``, ...). Items hold
    Python values: ``str``, ``bool``, ``int``/``Decimal`` for N and ``set`` of ``str``
    for SS. A ``None`` value or an empty set means "no such attribute", since DynamoDB
    stores neither. Like DynamoDB, a write that changes nothing emits no record. Records
    share their images with one another: treat them as read-only.

    >>> tables = SimulatedTables({"users": "prod-users"}, region="eu-west-1")
    >>> record = tables.put("users", {"userId": "u-1", "name": "Ada", "plan": "free"})
    >>> record["eventName"], record["eventSourceARN"].split("/")[1]
    ('INSERT', 'prod-users')
    >>> tables.update("users", {"userId": "u-1"}, {"plan": "pro"})["eventName"]
    'MODIFY'
    >>> tables.put("users", {"userId": "u-1", "name": "Ada", "plan": "pro"}) is None
    True
    >>> tables.delete("users", {"userId": "u-1"}, ttl=True)["userIdentity"]["type"]
    'Service'
    """

    def __init__(
        self,
        table_names: Mapping[str, str] | None = None,
        region: str = "us-east-1",
        seed: int = 0,
        start: datetime = DEFAULT_START,
    ) -> None:
        names = dict(table_names or {})
        unknown = set(names) - {kind.value for kind in TableKind}
        if unknown:
            raise ValueError(f"unknown table kinds: {sorted(unknown)}")
        self._by_kind = {
            kind.value: _Table(kind, names.get(kind.value, kind.value), region)
            for kind in TableKind
        }
        self._by_name = {table.name: table for table in self._by_kind.values()}
        self._records: list[StreamRecord] = []
        self._factory = StreamRecordFactory(region, seed)
        self.clock = SimulatedClock(start)
        self.region = region

    @property
    def records(self) -> list[StreamRecord]:
        """Every record emitted so far, in the order of the changes (read-only)."""
        return self._records

    def take_records(self) -> list[StreamRecord]:
        """The records emitted since the last call, handed over and forgotten."""
        taken, self._records = self._records, []
        return taken

    def table_name(self, table: str) -> str:
        """The real name of a table given by kind or by real name."""
        return self._table(table).name

    def kind_of(self, table: str) -> TableKind:
        """The kind of a table given by kind or by real name."""
        return self._table(table).kind

    def get(self, table: str, key: Item) -> dict[str, Any] | None:
        """The current item under ``key``, or None."""
        source = self._table(table)
        version = source.items.get(source.key_of(key))
        return None if version is None else version.plain()

    def items(self, table: str) -> list[dict[str, Any]]:
        """The current items of one table, in the order they were first written."""
        return [version.plain() for version in self._table(table).items.values()]

    def final_items(self) -> dict[str, list[dict[str, Any]]]:
        """The current items of every table, by kind: ``{"users": [...], ...}``."""
        return {kind: self.items(kind) for kind in self._by_kind}

    def put(self, table: str, item: Item) -> StreamRecord | None:
        """PutItem: create or replace the whole item; the record, or None for a no-op."""
        source = self._table(table)
        key = source.key_of(item)
        previous = source.items.get(key)
        version = ItemVersion.of(item)
        if previous is not None and same_attributes(version.attributes, previous.attributes):
            return None
        source.items[key] = version
        return self._emit(source, "INSERT" if previous is None else "MODIFY", previous, version)

    def update(self, table: str, key: Item, changes: Item) -> StreamRecord | None:
        """UpdateItem: SET each changed attribute, REMOVE those set to None or an empty set.

        Like DynamoDB, updating a missing item creates it from the key and the changes.
        """
        source = self._table(table)
        item_key = source.key_of(key)
        clashes = set(source.key_attributes) & set(changes)
        if clashes:
            raise ValueError(f"cannot update the key attributes {sorted(clashes)}")
        previous = source.items.get(item_key)
        if previous is None:
            key_attributes = dict(zip(source.key_attributes, item_key, strict=True))
            version = ItemVersion.of({**key_attributes, **changes})
        else:
            changed = previous.changed(changes)
            if changed is None:
                return None
            version = changed
        source.items[item_key] = version
        return self._emit(source, "INSERT" if previous is None else "MODIFY", previous, version)

    def delete(self, table: str, key: Item, ttl: bool = False) -> StreamRecord | None:
        """DeleteItem, or with ``ttl`` an expiry by DynamoDB's TTL; None if nothing was there."""
        source = self._table(table)
        previous = source.items.pop(source.key_of(key), None)
        if previous is None:
            return None
        return self._emit(source, "REMOVE", previous, None, ttl)

    def load(self, table: str, items: Iterable[Item]) -> None:
        """Store items without emitting records, as if they predated the stream."""
        source = self._table(table)
        for item in items:
            source.items[source.key_of(item)] = ItemVersion.of(item)

    def _table(self, table: str) -> _Table:
        found = self._by_name.get(table) or self._by_kind.get(table)
        if found is None:
            raise KeyError(f"no simulated table {table!r}")
        return found

    def _emit(
        self,
        source: _Table,
        event_name: EventName,
        old: ItemVersion | None,
        new: ItemVersion | None,
        expired: bool = False,
    ) -> StreamRecord:
        record = self._factory.record(
            source.arn, source.key_attributes, event_name, self.clock.tick(), old, new, expired
        )
        self._records.append(record)
        return record
