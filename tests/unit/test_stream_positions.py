"""Positions are ordered within their stream; across streams only where the order is known."""

from __future__ import annotations

import pytest

from domain.positions import (
    CreationTime,
    ItemPosition,
    Precedence,
    StreamOrigin,
    StreamPosition,
    Transport,
)
from infrastructure.adapters.eventstore.item_positions import decoded, encoded

NEWER, STALE, DUPLICATE, AMBIGUOUS = (
    Precedence.NEWER,
    Precedence.STALE,
    Precedence.DUPLICATE,
    Precedence.AMBIGUOUS,
)
FIRST_LABEL = "2015-05-11T21:21:33.291"
SECOND_LABEL = "2015-05-20T08:00:00.000"
KINESIS_ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/changes"
SECOND = 1_000_000
T0 = 1_700_000_000 * SECOND


def streams(
    sequence: int, record: str, seconds: float = 0, label: str = FIRST_LABEL, table: str = "users"
) -> StreamPosition:
    created = CreationTime(T0 + int(seconds * SECOND), SECOND)
    origin = StreamOrigin(Transport.DYNAMODB_STREAMS, table, label)
    return StreamPosition(sequence, origin, record, created)


def kinesis(micros: int, record: str, width: int = 1, arn: str = KINESIS_ARN) -> StreamPosition:
    origin = StreamOrigin(Transport.KINESIS, "users", arn)
    return StreamPosition(T0 + micros, origin, record, CreationTime(T0 + micros, width))


def test_within_one_dynamodb_stream_the_sequence_number_orders_changes() -> None:
    assert streams(20, "b").against(streams(10, "a")) is NEWER
    assert streams(10, "a").against(streams(20, "b")) is STALE


def test_the_same_record_again_is_a_duplicate() -> None:
    assert streams(10, "a").against(streams(10, "a")) is DUPLICATE
    assert kinesis(5_000, "k", width=1_000).against(kinesis(5_000, "k", width=1_000)) is DUPLICATE


def test_a_re_created_stream_supersedes_the_old_one_though_its_numbers_are_lower() -> None:
    old = streams(760_000_000_000_000_000_000_000, "a", label=FIRST_LABEL)
    new = streams(700_000_000_000_000_000_000, "b", label=SECOND_LABEL)

    assert new.against(old) is NEWER
    assert old.against(new) is STALE


def test_streams_of_different_tables_are_not_ordered_by_their_labels() -> None:
    one = streams(10, "a", seconds=0, label=FIRST_LABEL, table="users")
    other = streams(5, "b", seconds=0.5, label=SECOND_LABEL, table="users-v2")

    assert other.against(one) is AMBIGUOUS


def test_kinesis_changes_in_one_millisecond_are_ambiguous_not_duplicates() -> None:
    first = kinesis(5_000, "a", width=1_000)
    second = kinesis(5_000, "b", width=1_000)

    assert second.against(first) is AMBIGUOUS
    assert kinesis(6_000, "c", width=1_000).against(first) is NEWER


def test_a_move_to_kinesis_is_ordered_by_creation_time_outside_the_coarser_precision() -> None:
    on_streams = streams(760_000_000_000_000_000_000_000, "a", seconds=10)

    assert kinesis(11 * SECOND, "k").against(on_streams) is NEWER
    assert kinesis(9 * SECOND + 999_999, "k").against(on_streams) is STALE
    assert kinesis(10 * SECOND + 500_000, "k").against(on_streams) is AMBIGUOUS


def test_a_move_back_from_kinesis_is_ordered_the_same_way() -> None:
    on_kinesis = kinesis(10 * SECOND + 500_000, "k", width=1_000)

    assert streams(1, "a", seconds=11).against(on_kinesis) is NEWER
    assert streams(1, "a", seconds=9).against(on_kinesis) is STALE
    assert streams(1, "a", seconds=10).against(on_kinesis) is AMBIGUOUS


def test_without_a_creation_time_another_stream_is_ambiguous() -> None:
    origin = StreamOrigin(Transport.DYNAMODB_STREAMS, "users", "not-a-label")
    unlabeled = StreamPosition(5, origin, "x")

    assert unlabeled.against(kinesis(0, "k")) is AMBIGUOUS


def test_a_legacy_position_is_taken_as_the_same_stream() -> None:
    legacy = StreamPosition.of(1_000)

    assert streams(1_001, "a").against(legacy) is NEWER
    assert streams(999, "a").against(legacy) is STALE
    assert StreamPosition.of(0).against(streams(1, "a")) is STALE  # bootstrap never wins


def test_a_position_settled_by_a_read_keeps_what_it_was_not_known_to_follow() -> None:
    on_streams = streams(10, "a", seconds=10)
    on_kinesis = kinesis(10 * SECOND + 500_000, "k")

    settled = ItemPosition.at(on_streams).settled(on_kinesis)

    assert settled.positions == (on_kinesis, on_streams)
    # Newer than the Kinesis change but within the same second as the stream's: unknown.
    assert settled.precedence(kinesis(10 * SECOND + 700_000, "l")) is AMBIGUOUS
    assert settled.precedence(kinesis(11 * SECOND, "m")) is NEWER
    assert settled.precedence(kinesis(10 * SECOND + 400_000, "n")) is STALE
    assert settled.precedence(on_kinesis) is DUPLICATE


def test_settling_drops_what_the_settled_change_is_known_to_follow() -> None:
    same_ms = ItemPosition.at(kinesis(5_000, "a", width=1_000))

    settled = same_ms.settled(kinesis(5_000, "b", width=1_000))

    assert settled.positions == (kinesis(5_000, "b", width=1_000),)


@pytest.mark.parametrize(
    "position",
    [
        ItemPosition.at(StreamPosition.of(0)),
        ItemPosition.at(streams(760_000_000_000_000_000_000_000_123, "a", seconds=3)),
        ItemPosition((kinesis(5_000, "k", width=1_000), streams(10, "a"))),
        ItemPosition((StreamPosition.of(7), kinesis(1, "k"))),
    ],
)
def test_stored_text_reads_back_as_the_same_position(position: ItemPosition) -> None:
    text = encoded(position)

    assert decoded(text) == position
    assert encoded(decoded(text)) == text


def test_positions_stored_before_origins_read_as_plain_positions() -> None:
    legacy = "000000000000000000000000001100000000017454423009"  # as earlier versions wrote

    assert decoded(legacy) == ItemPosition.at(StreamPosition.of(1100000000017454423009))
    assert encoded(decoded(legacy)) == legacy


@pytest.mark.parametrize("order", [0, 7, 10**47, 10**48 - 1])
def test_a_position_holds_up_to_48_digits(order: int) -> None:
    assert StreamPosition(order).order == order


@pytest.mark.parametrize("order", [10**48, 10**48 + 1, 10**60])
def test_a_position_of_more_than_48_digits_is_refused(order: int) -> None:
    with pytest.raises(ValueError, match="a stream position has more than 48 digits"):
        StreamPosition(order)


def test_a_negative_position_is_refused() -> None:
    with pytest.raises(ValueError, match="a stream position cannot be negative: -1"):
        StreamPosition(-1)


def test_a_position_of_a_record_keeps_everything_else() -> None:
    position = streams(42, "", seconds=3)

    named = position.of_record("e-1")

    assert named == streams(42, "e-1", seconds=3)
    assert position.record == ""
