"""Item positions as the text the ``streamfold_item_positions`` table keeps.

Three forms, told apart by their first character:

- A plain position alone (no origin) is 48 zero-padded digits, as before origins were
  recorded, so event stores written by earlier versions read as they are.
- The usual position, one record of one stream with its creation time, is one line of
  space-separated fields (about 110 bytes), led by the transport's letter: ``d`` for
  DynamoDB Streams, ``k`` for Kinesis, then the creation time's microseconds and width,
  the order, the table, the stream, and last the record (which may hold spaces).
- Anything else (several streams, a table or stream name with a space) is a JSON list
  with one object per stream, its keys sorted; so was the usual position before the
  compact form, and such rows still read.

Every intake commit rewrites the pages its batch's items touch, and a batch touches items
all over the table: a row half as long halves the pages (docs/adr/0032-compact-item-positions.md).
The text must come out the same for the same position: writers check that an item's row
still holds the text they read before they move it. A row written in the JSON form before
the compact one existed holds the other text of the same position, so writers compare
with both (`encodings`).

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
    """The text a row written now holds for ``position``."""
    usual = _usual(position)
    if usual is not None:
        only, origin, micros, width = usual
        prefix = _compact_origin(origin)
        if prefix is not None:
            return f"{prefix[0]}{micros} {width} {only.order} {prefix[1]} {only.record}"
    return _json_form(position)


def encodings(position: ItemPosition) -> tuple[str, str]:
    """The texts a row holding ``position`` may have: as written now, and as written
    before the compact form (the same text when the position has no compact form)."""
    return encoded(position), _json_form(position)


def _usual(position: ItemPosition) -> tuple[StreamPosition, StreamOrigin, int, int] | None:
    """The usual position's one record of one stream, with its creation time's microseconds
    and width; None for any other position."""
    positions = position.positions
    if len(positions) != 1:
        return None
    only = positions[0]
    origin, created = only.origin, only.created
    if origin is None or created is None or not only.record:
        return None
    micros, width = created.micros, created.width
    if type(micros) is not int or type(width) is not int or micros < 0 or width < 0:
        return None
    return only, origin, micros, width


def _json_form(position: ItemPosition) -> str:
    positions = position.positions
    if len(positions) == 1 and positions[0].origin is None:
        return str(positions[0].order).zfill(_DIGITS)
    usual = _usual(position)
    if usual is not None and usual[2] <= _U64 and usual[3] <= _U64:
        # The usual position, written as orjson writes its entry, without the entry.
        only, origin, micros, width = usual
        return (
            f'[{{"created":{micros},"order":"{only.order}",'
            f'"record":{_json_text(only.record)},{_origin_text(origin)},'
            f'"width":{width}}}]'
        )
    return orjson.dumps([_entry(p) for p in positions]).decode()


# The compact form's lead letter of each transport, and back.
_LETTER = {Transport.DYNAMODB_STREAMS: "d", Transport.KINESIS: "k"}
_TRANSPORT_OF = {letter: transport.value for transport, letter in _LETTER.items()}

# The transport's letter and "table stream" of each stream, or None if a name holds a
# space (the JSON form then); by the origin's identity, as `_ORIGIN_TEXTS`.
_COMPACT_ORIGINS: dict[int, tuple[StreamOrigin, tuple[str, str] | None]] = {}


def _compact_origin(origin: StreamOrigin) -> tuple[str, str] | None:
    known = _COMPACT_ORIGINS.get(id(origin))
    if known is not None and known[0] is origin:
        return known[1]
    table, stream = origin.table, origin.stream
    compact = None
    if table and stream and " " not in table and " " not in stream:
        compact = (_LETTER[origin.transport], f"{table} {stream}")
    if len(_COMPACT_ORIGINS) >= 1024:
        _COMPACT_ORIGINS.clear()
    _COMPACT_ORIGINS[id(origin)] = (origin, compact)
    return compact


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
    transport = _TRANSPORT_OF.get(text[:1])
    if transport is not None:
        micros, width, order, table, stream, record = text[1:].split(" ", 5)
        return ItemPosition(
            (
                StreamPosition(
                    int(order),
                    _origin(transport, table, stream),
                    record,
                    CreationTime(int(micros), int(width)),
                ),
            )
        )
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
