"""A change of one source item, as the stream reported it, stripped of transport details."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from domain.identity import item_key
from domain.kinds import SourceKind
from domain.positions import StreamPosition
from domain.values import quick_init

__all__ = ["ChangeType", "SourceChange", "StreamPosition"]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ChangeType(StrEnum):
    INSERT = "INSERT"
    MODIFY = "MODIFY"
    REMOVE = "REMOVE"


@quick_init
@dataclass(frozen=True, slots=True)
class SourceChange:
    """One INSERT, MODIFY or REMOVE of a source item.

    ``item`` is the item after the change (the stream's NewImage, deserialized to Python
    values), or ``None`` for a REMOVE. ``expired`` marks a REMOVE made by DynamoDB's TTL.
    ``occurred_micros`` is when the stream says the change was made, in microseconds since
    the epoch (within `datetime`'s years, as the parser checks); `occurred_at` is the same
    moment as a `datetime`, made only when asked for: only a batch's lag reads it.
    """

    kind: SourceKind
    key: tuple[str, ...]
    change_type: ChangeType
    item: Mapping[str, Any] | None
    position: StreamPosition
    record_id: str
    occurred_micros: int | None = None
    expired: bool = False

    @property
    def occurred_at(self) -> datetime | None:
        """When the change was made, as its stream tells it (UTC); None if it does not."""
        micros = self.occurred_micros
        return None if micros is None else _EPOCH + timedelta(microseconds=micros)

    @property
    def item_key(self) -> str:
        return item_key(self.kind, self.key)
