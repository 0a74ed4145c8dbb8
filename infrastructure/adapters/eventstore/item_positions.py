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
    if len(positions) == 1 and positions[0].origin is None:
        return str(positions[0].order).zfill(_DIGITS)
    return orjson.dumps([_entry(p) for p in positions]).decode()


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
