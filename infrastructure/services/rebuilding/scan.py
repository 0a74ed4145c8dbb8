"""Stored events decoded the cheap way the folds allow.

Events are decoded with their own fields as stored (upcast by their class's
``upcast_vN_vN+1`` methods, as the library's mapper does), on an instance of their class,
without the library's general path: the folds read an event's fields and class only, so
its metadata (originator id, timestamp) is not revived. A store that encrypts or
compresses events goes through the library's mapper instead. The events themselves are
read by aggregate by `infrastructure.adapters.eventstore.aggregate_scan`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import orjson
from eventsourcing.persistence import StoredEvent
from eventsourcing.utils import resolve_topic

from infrastructure.adapters.eventstore.store import EventStore
from projections.folds import state_table_of
from projections.state import StateTable


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
