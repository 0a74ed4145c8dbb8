"""Slices of a rebuild: disjoint ranges of aggregate ids, each folded and rendered on its own.

Aggregate ids are UUIDv5, so their first 32 bits are uniform. Slice K of N owns the ids whose
first eight hex digits, read as a number, fall in [K·2³²/N, (K+1)·2³²/N). A state row is the
fold of one aggregate's events, so every state row belongs to exactly one slice, and so does
every document (to the slice of its own item's aggregate). A slice is cut the same way into
buckets: the unit of one commit, and of resumption after a crash.

Equal-length lowercase hex compares as text exactly as it does as a number, so each range is
a plain ``>=``/``<`` on the stored ids, answered from the primary keys.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

ID_SPACE = 1 << 32
_PARTITION = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


class PartitionError(ValueError):
    """A ``K/N`` that does not name one of N slices."""


@dataclass(frozen=True)
class Partition:
    """Slice ``index`` (0-based, like ``AWS_BATCH_JOB_ARRAY_INDEX``) of ``count``.

    >>> Partition.parse("2/8")
    Partition(index=2, count=8)
    """

    index: int = 0
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> Partition:
        match = _PARTITION.match(text)
        if match is None:
            raise PartitionError(f"{text!r} is not K/N, e.g. 0/4 for the first of four slices")
        index, count = int(match.group(1)), int(match.group(2))
        if not 1 <= count <= 4096 or not 0 <= index < count:
            raise PartitionError(f"{text!r}: N must be 1 to 4096 and K from 0 to N-1")
        return cls(index, count)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


@dataclass(frozen=True)
class IdRange:
    """Aggregate ids from ``low`` (inclusive) to ``high`` (exclusive; None: to the end)."""

    low: str
    high: str | None

    def contains(self, aggregate_hex: str) -> bool:
        return aggregate_hex >= self.low and (self.high is None or aggregate_hex < self.high)


def _prefix(boundary: int) -> str | None:
    return None if boundary >= ID_SPACE else f"{boundary:08x}"


def bucket_range(partition: Partition, buckets: int, bucket: int) -> IdRange:
    """The ids of one bucket of one slice (slices split evenly into ``buckets`` each).

    >>> bucket_range(Partition(1, 2), buckets=2, bucket=0)
    IdRange(low='80000000', high='c0000000')
    """
    total = partition.count * buckets
    position = partition.index * buckets + bucket
    low = _prefix(position * ID_SPACE // total)
    return IdRange(low or "", _prefix((position + 1) * ID_SPACE // total))


def slice_range(partition: Partition) -> IdRange:
    """Every id of one slice.

    >>> slice_range(Partition(0, 1))
    IdRange(low='00000000', high=None)
    """
    return bucket_range(partition, 1, 0)


def buckets_for(events: int, slices: int, events_per_bucket: int) -> int:
    """How many buckets keep each commit near ``events_per_bucket`` events."""
    per_slice = -(-max(events, 1) // slices)
    return max(1, -(-per_slice // max(events_per_bucket, 1)))
