"""The text of a stored item position is fixed: writers compare it to move a position.

A usual position (one record of one stream, with its creation time) is written in the
compact form; a row written before it holds the JSON form, which still reads and still
matches (`encodings`).
"""

from __future__ import annotations

import random
from typing import Any

import orjson

from domain.positions import CreationTime, ItemPosition, StreamOrigin, StreamPosition, Transport
from infrastructure.adapters.eventstore.item_positions import decoded, encoded, encodings


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
        "d17 1000 100000000000000547000 images 2024-01-01T00:00:00.000 88ed"
    )


def test_a_kinesis_position_names_its_stream_arn_and_keeps_a_record_with_spaces() -> None:
    arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/crm"
    position = StreamPosition(1718437642000123, StreamOrigin(Transport.KINESIS, "t", arn),
                              "a b  c ", CreationTime(1718437642000123, 1))  # fmt: skip
    text = encoded(ItemPosition.at(position))

    assert text == f"k1718437642000123 1 1718437642000123 t {arn} a b  c "
    assert decoded(text) == ItemPosition.at(position)


def test_the_compact_form_is_less_than_half_the_json_one() -> None:
    # The benchmark workload's positions: a DynamoDB sequence number and eventID.
    origin = StreamOrigin(Transport.DYNAMODB_STREAMS, "images", "2024-01-01T00:00:00.000")
    position = ItemPosition.at(
        StreamPosition(100000000000005146200, origin, "05db6e276a3cc61e3c4f00a1c241cfcc",
                       CreationTime(1719110068000000, 1000000))
    )  # fmt: skip
    compact, json_form = encodings(position)

    assert len(compact) == 111
    assert len(json_form) == 205
    assert decoded(compact) == decoded(json_form) == position


def test_a_position_the_compact_form_cannot_hold_is_kept_as_json() -> None:
    spaced = StreamOrigin(Transport.DYNAMODB_STREAMS, "my table", "2024-01-01T00:00:00.000")
    without_record = StreamOrigin(Transport.DYNAMODB_STREAMS, "t", "2024-01-01T00:00:00.000")
    for position in (
        StreamPosition(5, spaced, "r", CreationTime(1, 1)),
        StreamPosition(5, without_record, "", CreationTime(1, 1)),
        StreamPosition(5, without_record, "r", None),
    ):
        text = encoded(ItemPosition.at(position))
        assert text.startswith("[")
        assert encodings(ItemPosition.at(position)) == (text, text)
        assert decoded(text) == ItemPosition.at(position)


def test_every_position_reads_back_from_either_text() -> None:
    chooser = random.Random(11)

    def stream_position() -> StreamPosition:
        origin = chooser.choice(
            [None]
            + [
                StreamOrigin(transport, table, stream)
                for transport in Transport
                for table in ("t", 'ü"x', "a b")
                for stream in ("2024-01-01T00:00:00.000", "arn:aws:kinesis:s")
            ]
        )
        created = chooser.choice([None, CreationTime(chooser.randint(0, 10**16), 1000)])
        record = chooser.choice(["", "abc", "é\\", " sp ace "])
        return StreamPosition(chooser.randint(0, 10**40), origin, record, created)

    compact = 0
    for _ in range(3000):
        position = ItemPosition(tuple(stream_position() for _ in range(chooser.randint(1, 3))))
        text, json_form = encodings(position)
        compact += text != json_form
        if len(position.positions) > 1 or position.positions[0].origin is not None:
            # The JSON form keeps its keys sorted, as it always has. (A plain position
            # alone is its order's digits.)
            assert json_form == sorted_json(position)
            for each in (text, json_form):
                assert decoded(each) == position
        assert encoded(decoded(text)) == text
        assert encodings(decoded(json_form)) == (text, json_form)
    assert compact > 100  # the compact form was exercised
