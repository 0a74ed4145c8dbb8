"""The text of a stored item position is fixed: writers compare it to move a position."""

from __future__ import annotations

import random
from typing import Any

import orjson

from domain.positions import CreationTime, ItemPosition, StreamOrigin, StreamPosition, Transport
from infrastructure.adapters.eventstore.item_positions import decoded, encoded


def sorted_json(position: ItemPosition) -> str:
    """The text as an object per position with its keys sorted, the way it has been kept."""
    entries: list[dict[str, Any]] = []
    for p in position.positions:
        entry: dict[str, Any] = {"order": str(p.order)}
        if p.origin is not None:
            entry |= {"transport": p.origin.transport.value, "table": p.origin.table}
            entry["stream"] = p.origin.stream
        if p.record:
            entry["record"] = p.record
        if p.created is not None:
            entry |= {"created": p.created.micros, "width": p.created.width}
        entries.append(entry)
    return orjson.dumps(entries, option=orjson.OPT_SORT_KEYS).decode()


def test_a_stream_position_is_kept_as_this_text() -> None:
    origin = StreamOrigin(Transport.DYNAMODB_STREAMS, "images", "2024-01-01T00:00:00.000")
    position = StreamPosition(100000000000000547000, origin, "88ed", CreationTime(17, 1000))

    assert encoded(ItemPosition.at(position)) == (
        '[{"created":17,"order":"100000000000000547000","record":"88ed",'
        '"stream":"2024-01-01T00:00:00.000","table":"images","transport":"dynamodb-streams",'
        '"width":1000}]'
    )


def test_every_position_is_kept_with_its_keys_sorted() -> None:
    chooser = random.Random(11)

    def stream_position() -> StreamPosition:
        origin = chooser.choice(
            [None]
            + [
                StreamOrigin(transport, table, stream)
                for transport in Transport
                for table in ("t", 'ü"x')
                for stream in ("2024-01-01T00:00:00.000", "arn:aws:kinesis:s")
            ]
        )
        created = chooser.choice([None, CreationTime(chooser.randint(0, 10**16), 1000)])
        record = chooser.choice(["", "abc", "é\\"])
        return StreamPosition(chooser.randint(0, 10**40), origin, record, created)

    for _ in range(3000):
        position = ItemPosition(tuple(stream_position() for _ in range(chooser.randint(1, 3))))
        text = encoded(position)
        if len(position.positions) > 1 or position.positions[0].origin is not None:
            assert text == sorted_json(position)
            assert decoded(text) == position
        assert encoded(decoded(text)) == text
