"""Where a change stands among the changes of its item, and how two such places compare.

A position is only an order within the stream that produced it. DynamoDB Streams number
the changes of an item with a ``SequenceNumber`` that restarts far lower when a table's
stream is re-created; Kinesis Data Streams for DynamoDB give only a creation time, in
milliseconds unless the destination asks for microseconds. So a position carries the
stream it came from, and positions of different streams are ordered by what is known
across streams (a later DynamoDB stream of a table supersedes an earlier one; creation
times that do not overlap within their precision) or not at all: ``AMBIGUOUS``, which the
intake settles by reading the item from its table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum, StrEnum

from domain.values import quick_init

_POSITION_DIGITS = 48
_POSITION_BOUND = 10**_POSITION_DIGITS
# A DynamoDB stream label is the stream's creation time, e.g. 2015-05-11T21:21:33.291.
_STREAM_LABEL = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?")


class Transport(StrEnum):
    DYNAMODB_STREAMS = "dynamodb-streams"
    KINESIS = "kinesis"


class Precedence(Enum):
    """How an incoming change stands against a recorded one of the same item."""

    NEWER = "newer"
    STALE = "stale"
    DUPLICATE = "duplicate"
    AMBIGUOUS = "ambiguous"


@dataclass(frozen=True, slots=True)
class StreamOrigin:
    """The stream a change came through.

    ``stream`` is the DynamoDB stream's label (its creation time, the last part of its
    ARN) or the Kinesis data stream's ARN.
    """

    transport: Transport
    table: str
    stream: str

    def supersedes(self, other: StreamOrigin) -> bool | None:
        """Whether this is a later DynamoDB stream of the same table; None if unknown."""
        if (
            self.transport is not Transport.DYNAMODB_STREAMS
            or other.transport is not Transport.DYNAMODB_STREAMS
            or self.table != other.table
            or not _STREAM_LABEL.fullmatch(self.stream)
            or not _STREAM_LABEL.fullmatch(other.stream)
        ):
            return None
        return self.stream > other.stream


@quick_init
@dataclass(frozen=True, slots=True)
class CreationTime:
    """``ApproximateCreationDateTime`` as an interval: ``micros`` up to ``micros + width``."""

    micros: int
    width: int

    def before(self, other: CreationTime) -> bool:
        return self.micros + self.width <= other.micros


@quick_init
@dataclass(frozen=True, slots=True)
class StreamPosition:
    """A change's place in its stream: ``order`` (SequenceNumber, or the Kinesis
    timestamp in microseconds), the ``origin`` stream, the ``record`` (eventID) that tells
    a redelivery from another change at the same time, and its creation time.

    A position without origin is a plain one: a bootstrap import (0), an imported file's
    line, or one stored before origins were recorded. Plain positions compare by order
    alone, as every position once did.

    >>> StreamPosition.of(7).against(StreamPosition.of(3))
    <Precedence.NEWER: 'newer'>
    """

    order: int
    origin: StreamOrigin | None = None
    record: str = ""
    created: CreationTime | None = None

    def __post_init__(self) -> None:
        order = self.order
        if order < 0:
            raise ValueError(f"a stream position cannot be negative: {order}")
        # An int below the bound has few enough digits without spelling them out.
        spelled_out = type(order) is not int or order >= _POSITION_BOUND
        if spelled_out and len(str(order)) > _POSITION_DIGITS:
            raise ValueError(f"a stream position has more than {_POSITION_DIGITS} digits")

    @classmethod
    def of(cls, number: int) -> StreamPosition:
        """A plain position: ordered by ``number`` alone."""
        return cls(number)

    def of_record(self, record: str) -> StreamPosition:
        return StreamPosition(self.order, self.origin, record, self.created)

    def against(self, recorded: StreamPosition) -> Precedence:
        """How this (incoming) position stands against a ``recorded`` one."""
        if self.origin is None or recorded.origin is None:
            return _by_order(self.order, recorded.order)
        if self.record and self.record == recorded.record:
            return Precedence.DUPLICATE
        if self.origin == recorded.origin:
            verdict = _by_order(self.order, recorded.order)
            if verdict is Precedence.DUPLICATE and self.origin.transport is Transport.KINESIS:
                # Two changes within one timestamp's precision: their order is unknown.
                return Precedence.AMBIGUOUS
            return verdict
        later = self.origin.supersedes(recorded.origin)
        if later is not None:
            return Precedence.NEWER if later else Precedence.STALE
        return _by_creation(self.created, recorded.created)


def _by_order(incoming: int, recorded: int) -> Precedence:
    if incoming > recorded:
        return Precedence.NEWER
    return Precedence.DUPLICATE if incoming == recorded else Precedence.STALE


def _by_creation(incoming: CreationTime | None, recorded: CreationTime | None) -> Precedence:
    if incoming is None or recorded is None:
        return Precedence.AMBIGUOUS
    if recorded.before(incoming):
        return Precedence.NEWER
    if incoming.before(recorded):
        return Precedence.STALE
    return Precedence.AMBIGUOUS


@quick_init
@dataclass(frozen=True, slots=True)
class ItemPosition:
    """What is recorded of an item: the positions its current state is known to follow.

    Normally one position. After a change whose order could not be told was settled by
    reading the item, it keeps every recorded position the change was not known to
    follow, so that no later change is judged against less than what was applied.

    >>> ItemPosition.at(StreamPosition.of(3)).precedence(StreamPosition.of(3))
    <Precedence.DUPLICATE: 'duplicate'>
    """

    positions: tuple[StreamPosition, ...]

    @classmethod
    def at(cls, position: StreamPosition) -> ItemPosition:
        return cls((position,))

    def precedence(self, incoming: StreamPosition) -> Precedence:
        verdicts = [incoming.against(recorded) for recorded in self.positions]
        for decisive in (Precedence.DUPLICATE, Precedence.STALE):
            if decisive in verdicts:
                return decisive
        if all(verdict is Precedence.NEWER for verdict in verdicts):
            return Precedence.NEWER
        return Precedence.AMBIGUOUS

    def settled(self, incoming: StreamPosition) -> ItemPosition:
        """The position after ``incoming`` was applied as read from the source table."""
        kept = tuple(
            recorded
            for recorded in self.positions
            if recorded.origin != incoming.origin
            and incoming.against(recorded) is not Precedence.NEWER
        )
        return ItemPosition((incoming, *kept))
