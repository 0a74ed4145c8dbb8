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

from typing import Any

import orjson

from domain.positions import CreationTime, ItemPosition, StreamOrigin, StreamPosition, Transport

_DIGITS = 48


def encoded(position: ItemPosition) -> str:
    if len(position.positions) == 1 and position.positions[0].origin is None:
        return str(position.positions[0].order).zfill(_DIGITS)
    entries = [_entry(p) for p in position.positions]
    return orjson.dumps(entries, option=orjson.OPT_SORT_KEYS).decode()


def decoded(text: str) -> ItemPosition:
    if text.isdigit():
        return ItemPosition.at(StreamPosition.of(int(text)))
    entries = orjson.loads(text)
    return ItemPosition(tuple(_position(entry) for entry in entries))


def _entry(position: StreamPosition) -> dict[str, Any]:
    # Orders are text: a DynamoDB sequence number has up to 40 digits, beyond JSON's integers.
    entry: dict[str, Any] = {"order": str(position.order)}
    if position.origin is not None:
        entry["transport"] = position.origin.transport.value
        entry["table"] = position.origin.table
        entry["stream"] = position.origin.stream
    if position.record:
        entry["record"] = position.record
    if position.created is not None:
        entry["created"] = position.created.micros
        entry["width"] = position.created.width
    return entry


def _position(entry: dict[str, Any]) -> StreamPosition:
    origin = None
    if "transport" in entry:
        origin = StreamOrigin(Transport(entry["transport"]), entry["table"], entry["stream"])
    created = None
    if "created" in entry:
        created = CreationTime(int(entry["created"]), int(entry["width"]))
    return StreamPosition(int(entry["order"]), origin, entry.get("record", ""), created)
