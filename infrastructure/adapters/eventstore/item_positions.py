"""Item positions as the text the ``streamfold_item_positions`` table keeps.

A plain position alone is stored as before origins were recorded: its order as 48
zero-padded digits, so event stores written by earlier versions read as they are (as
plain positions, compared by order alone until the item's next change records its
stream). Any other position is a JSON list with one object per stream. The text must
come out the same for the same position: writers check that an item's row still holds
the text they read before they move it.

>>> encoded(ItemPosition.at(StreamPosition.of(7)))
'000000000000000000000000000000000000000000000007'
>>> decoded(encoded(position)) == position
True
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from domain.positions import CreationTime, ItemPosition, StreamOrigin, StreamPosition, Transport

_DIGITS = 48


def encoded(position: ItemPosition) -> str:
    positions = position.positions
    if len(positions) == 1:
        only = positions[0]
        origin = only.origin
        if origin is None:
            return str(only.order).zfill(_DIGITS)
        created = only.created
        if created is not None and only.record:
            # The usual position (a record of a stream with its creation time), written
            # as orjson writes its entry, without the entry.
            micros = created.micros
            width = created.width
            if (
                type(micros) is int
                and type(width) is int
                and 0 <= micros <= _U64
                and 0 <= width <= _U64
            ):
                return (
                    f'[{{"created":{micros},"order":"{only.order}",'
                    f'"record":{_json_text(only.record)},{_origin_text(origin)},'
                    f'"width":{width}}}]'
                )
    return orjson.dumps([_entry(p) for p in positions]).decode()


_U64 = 2**64 - 1  # orjson writes integers up to this; beyond, it refuses


def _json_text(text: str) -> str:
    return orjson.dumps(text).decode()


# "stream", "table" and "transport" of each stream, as an entry has them; by the origin's
# identity (its hash is computed each time), the origin kept to hold its identity.
_ORIGIN_TEXTS: dict[int, tuple[StreamOrigin, str]] = {}


def _origin_text(origin: StreamOrigin) -> str:
    known = _ORIGIN_TEXTS.get(id(origin))
    if known is not None and known[0] is origin:
        return known[1]
    text = orjson.dumps(
        {
            "stream": origin.stream,
            "table": origin.table,
            "transport": _TRANSPORT_TEXT[origin.transport],
        }
    ).decode()[1:-1]
    if len(_ORIGIN_TEXTS) >= 1024:
        _ORIGIN_TEXTS.clear()
    _ORIGIN_TEXTS[id(origin)] = (origin, text)
    return text


def decoded(text: str) -> ItemPosition:
    if text.isdigit():
        return ItemPosition.at(StreamPosition.of(int(text)))
    entries = orjson.loads(text)
    return ItemPosition(tuple(_position(entry) for entry in entries))


def _entry(position: StreamPosition) -> dict[str, Any]:
    # The keys in sorted order, as the text has always had them (an object's keys sorted).
    # Orders are text: a DynamoDB sequence number has up to 40 digits, beyond JSON's integers.
    entry: dict[str, Any] = {}
    created = position.created
    if created is not None:
        entry["created"] = created.micros
    entry["order"] = str(position.order)
    if position.record:
        entry["record"] = position.record
    origin = position.origin
    if origin is not None:
        entry["stream"] = origin.stream
        entry["table"] = origin.table
        entry["transport"] = _TRANSPORT_TEXT[origin.transport]
    if created is not None:
        entry["width"] = created.width
    return entry


def _position(entry: dict[str, Any]) -> StreamPosition:
    origin = None
    if "transport" in entry:
        origin = _origin(entry["transport"], entry["table"], entry["stream"])
    created = None
    if "created" in entry:
        created = CreationTime(int(entry["created"]), int(entry["width"]))
    return StreamPosition(int(entry["order"]), origin, entry.get("record", ""), created)


# The value of each transport, read without the enum's property (as orjson writes it).
_TRANSPORT_TEXT = {transport: transport.value for transport in Transport}


@lru_cache(maxsize=1024)
def _origin(transport: str, table: str, stream: str) -> StreamOrigin:
    """A stream, made once: the positions read in a batch name few streams, many times."""
    return StreamOrigin(Transport(transport), table, stream)
