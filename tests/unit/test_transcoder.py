"""The orjson transcoder decodes every stored state exactly as the library's own does.

Its shortcut (only the timestamp revived when it is the one typed value) must give the
same values as the library's `JSONTranscoder`, whose decoding revives every
``{"_type_", "_data_"}`` object wherever it is.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, TypeVar
from uuid import UUID

import pytest
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    UUIDAsHex,
)

from infrastructure.adapters.eventstore.transcoder import OrjsonTranscoder

T = TypeVar("T", bound=JSONTranscoder)

WHEN = {"_type_": "datetime_iso", "_data_": "2024-05-06T07:08:09.123456+00:00"}


def registered(transcoder: T) -> T:
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return transcoder


STATES: dict[str, dict[str, Any]] = {
    "the timestamp alone is typed": {
        "timestamp": WHEN,
        "user_id": "usr_1",
        "tags": ["a", "b"],
        "profile": {"bio": "text", "links": [{"url": "x"}]},
    },
    "a typed value inside the item": {
        "timestamp": WHEN,
        "item": {"amount": {"_type_": "decimal_str", "_data_": "9.99"}},
    },
    "a typed value in a list": {
        "timestamp": WHEN,
        "ids": [{"_type_": "uuid_hex", "_data_": "12345678123456781234567812345678"}],
    },
    "no timestamp, a typed value elsewhere": {
        "created": WHEN,
        "name": "x",
    },
    "an untyped timestamp": {"timestamp": "2024-05-06", "when": WHEN},
    "a key named like the type's": {"timestamp": WHEN, "item": {"_type_": "x", "n": 1}},
    "the key's text inside a string": {"timestamp": WHEN, "bio": 'says "_type_" twice'},
    "a backslash before a u": {"timestamp": WHEN, "path": "C:\\users"},
    "nothing typed": {"timestamp": 1, "name": "x"},
}


@pytest.mark.parametrize("name", list(STATES))
@pytest.mark.parametrize("written_by", ["orjson", "library"])
def test_decoding_is_the_librarys(name: str, written_by: str) -> None:
    state = STATES[name]
    text = (
        json.dumps(state, ensure_ascii=False).encode()
        if written_by == "library"
        else registered(OrjsonTranscoder()).encode(state)
    )
    ours = registered(OrjsonTranscoder()).decode(text)
    theirs = registered(JSONTranscoder()).decode(text)
    assert ours == theirs
    assert [type(v) for v in _leaves(ours)] == [type(v) for v in _leaves(theirs)]


# Texts no transcoder writes, but JSON allows: the key spelled with an escape.
RAW_TEXTS = [
    b'{"timestamp": {"_type_": "datetime_iso", "_data_": "2024-05-06T07:08:09+00:00"},'
    b' "item": {"\\u005ftype_": "decimal_str", "_data_": "1.5"}}',
    b'{"timestamp": {"\\u005ftype_": "datetime_iso", "_data_": "2024-05-06T07:08:09+00:00"},'
    b' "item": {"_type_": "decimal_str", "_data_": "1.5"}}',
]


@pytest.mark.parametrize("text", RAW_TEXTS)
def test_escaped_keys_are_revived_as_the_library_does(text: bytes) -> None:
    ours = registered(OrjsonTranscoder()).decode(text)
    assert ours == registered(JSONTranscoder()).decode(text)
    assert ours["item"] == Decimal("1.5")


def test_the_timestamp_and_the_values_inside_come_back_typed() -> None:
    transcoder = registered(OrjsonTranscoder())
    decoded = transcoder.decode(transcoder.encode(STATES["a typed value inside the item"]))
    assert decoded["timestamp"] == datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
    assert decoded["item"]["amount"] == Decimal("9.99")
    listed = transcoder.decode(transcoder.encode(STATES["a typed value in a list"]))
    assert listed["ids"] == [UUID("12345678123456781234567812345678")]


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _leaves(item)]
    return [value]
