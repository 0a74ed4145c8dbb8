"""A change of one source item, as the stream reported it, stripped of transport details."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import total_ordering
from typing import Any

from domain.identity import item_key
from domain.kinds import SourceKind

_POSITION_WIDTH = 48


class ChangeType(StrEnum):
    INSERT = "INSERT"
    MODIFY = "MODIFY"
    REMOVE = "REMOVE"


@total_ordering
@dataclass(frozen=True, slots=True)
class StreamPosition:
    """Where a change stands in the order of changes of its item.

    DynamoDB Streams give a ``SequenceNumber`` (a decimal of up to 40 digits) that grows
    with every change of an item; Kinesis Data Streams for DynamoDB give only
    ``ApproximateCreationDateTime``, used here in microseconds. Both are kept as
    zero-padded decimal text so that SQLite and PostgreSQL compare them the same way.
    """

    value: str

    @classmethod
    def of(cls, number: int) -> StreamPosition:
        if number < 0:
            raise ValueError(f"a stream position cannot be negative: {number}")
        text = str(number)
        if len(text) > _POSITION_WIDTH:
            raise ValueError(f"a stream position has more than {_POSITION_WIDTH} digits")
        return cls(text.zfill(_POSITION_WIDTH))

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, StreamPosition):
            return NotImplemented
        return self.value < other.value

    def __int__(self) -> int:
        return int(self.value)


@dataclass(frozen=True, slots=True)
class SourceChange:
    """One INSERT, MODIFY or REMOVE of a source item.

    ``item`` is the item after the change (the stream's NewImage, deserialized to Python
    values), or ``None`` for a REMOVE. ``expired`` marks a REMOVE made by DynamoDB's TTL.
    """

    kind: SourceKind
    key: tuple[str, ...]
    change_type: ChangeType
    item: Mapping[str, Any] | None
    position: StreamPosition
    record_id: str
    occurred_at: datetime | None = None
    expired: bool = False

    @property
    def item_key(self) -> str:
        return item_key(self.kind, self.key)
