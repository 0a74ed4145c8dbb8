"""The library's JSON transcoder, with orjson doing the encoding and decoding.

Stored events stay plain JSON in the library's own format (``{"_type_", "_data_"}`` for
datetimes and other registered types), so either transcoder reads what the other wrote.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast
from uuid import UUID

import orjson
from eventsourcing.persistence import (
    DatetimeAsISO,
    JSONTranscoder,
    Mapper,
    StoredEvent,
    find_id_convertor,
)
from eventsourcing.utils import get_topic, resolve_topic

_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_SUBCLASS
T = TypeVar("T")


def _stored_event(originator_id: Any, version: int, topic: str, state: bytes) -> StoredEvent:
    stored = object.__new__(StoredEvent)
    object.__setattr__(
        stored,
        "__dict__",
        {
            "originator_id": originator_id,
            "originator_version": version,
            "topic": topic,
            "state": state,
        },
    )
    return stored


def _row(originator_id: Any, version: int, topic: str, state: bytes) -> tuple[str, int, str, bytes]:
    # As the library's SQLite recorder binds a stored event.
    return (
        originator_id.hex if isinstance(originator_id, UUID) else originator_id,
        version,
        topic,
        state,
    )


class OrjsonTranscoder(JSONTranscoder):
    def encode(self, obj: Any) -> bytes:
        return orjson.dumps(obj, default=self._encode_obj, option=_OPTIONS)

    def decode(self, data: bytes) -> Any:
        value = orjson.loads(data)
        # A domain event's one typed value is, as a rule, its timestamp. When the text holds
        # the key ``"_type_"`` once and no escape that could spell it otherwise, and the
        # timestamp holds it, nothing else is revived: the walk through every nested value
        # was a sixth of decoding an event.
        if type(value) is dict and data.count(b'"_type_"') == 1 and b"\\u" not in data:
            timestamp = value.get("timestamp")
            if type(timestamp) is dict and "_type_" in timestamp:
                value["timestamp"] = self._decode_obj(timestamp)
                return value
        return self._revive(value)

    def _revive(self, value: Any) -> Any:
        # Inner values first, as json's object_hook would; scalars are left alone.
        if type(value) is dict:
            for key, item in value.items():
                if type(item) is dict or type(item) is list:
                    value[key] = self._revive(item)
            return self._decode_obj(value) if "_type_" in value else value
        if type(value) is list:
            for item in value:
                if type(item) is dict or type(item) is list:
                    return [self._revive(item) for item in value]
            return value  # scalars only: nothing to revive in it
        return value


class EventCodec:
    """The library's `Mapper` for the events the intake writes and reads back, in bulk.

    A mapper with a cipher or a compressor, or another transcoder, is used as it is. Else
    the same stored events and domain events come out, without the per-event steps that
    cannot apply: the topic of a class is looked up once, and ids arrive as UUIDs.
    """

    def __init__(self, mapper: Mapper[Any]) -> None:
        self._mapper = mapper
        self._plain = (
            type(mapper) is Mapper
            and mapper.cipher is None
            and mapper.compressor is None
            and isinstance(mapper.transcoder, OrjsonTranscoder)
        )
        self._topics: dict[type, tuple[str, int]] = {}

    def stored(self, events: Sequence[Any]) -> list[StoredEvent]:
        """`Mapper.to_stored_event` of each event."""
        if not self._plain:
            return [self._mapper.to_stored_event(event) for event in events]
        return self._encoded(events, _stored_event)

    def rows(self, events: Sequence[Any]) -> list[tuple[str, int, str, bytes]]:
        """The row of the library's events table holding each event's stored event, as
        its SQLite recorder binds it: (aggregate id in hex, version, topic, state)."""
        if not self._plain:
            return [
                _row(s.originator_id, s.originator_version, s.topic, s.state)
                for s in self.stored(events)
            ]
        return self._encoded(events, _row)

    def _encoded(self, events: Sequence[Any], made: Callable[[Any, int, str, bytes], T]) -> list[T]:
        """``made`` of each event's stored id, version, topic and state."""
        transcoder = cast(OrjsonTranscoder, self._mapper.transcoder)
        encode = transcoder.encode
        # An event's timestamp as the transcoder's default would give it to orjson.
        iso = transcoder.types.get(datetime)
        as_iso = type(iso) is DatetimeAsISO
        iso_name = iso.name if iso is not None else ""
        topics = self._topics
        found = []
        for event in events:
            cls = type(event)
            known = topics.get(cls)
            if known is None:
                known = topics[cls] = (get_topic(cls), getattr(cls, "class_version", 1))
            topic, class_version = known
            state = dict(vars(event))
            originator_id = state.pop("originator_id")
            originator_version = state.pop("originator_version")
            if class_version > 1:
                state["class_version"] = class_version
            timestamp = state.get("timestamp")
            if as_iso and type(timestamp) is datetime:
                state["timestamp"] = {"_type_": iso_name, "_data_": timestamp.isoformat()}
            found.append(made(originator_id, originator_version, topic, encode(state)))
        return found

    def domain_event(self, originator_id: UUID, version: int, topic: str, state: bytes) -> Any:
        """`Mapper.to_domain_event` of a stored event whose id is already a UUID."""
        if not self._plain:
            return self._mapper.to_domain_event(StoredEvent(originator_id, version, topic, state))
        cls = resolve_topic(topic)
        try:
            event_state = self._mapper.transcoder.decode(state)
        except Exception:  # noqa: BLE001  # the library raises its own error, with its message
            return self._mapper.to_domain_event(StoredEvent(originator_id, version, topic, state))
        event_state["originator_id"] = find_id_convertor(cls, UUID)(originator_id)
        event_state["originator_version"] = version
        class_version = getattr(cls, "class_version", 1)
        from_version = event_state.pop("class_version", 1)
        while from_version < class_version:
            getattr(cls, f"upcast_v{from_version}_v{from_version + 1}")(event_state)
            from_version += 1
        event = object.__new__(cls)
        object.__setattr__(event, "__dict__", event_state)
        return event
