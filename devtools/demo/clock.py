"""Simulated wall-clock time for the simulated tables, and its ISO-8601 spellings."""

from __future__ import annotations

import time
from datetime import UTC, datetime

DEFAULT_START = datetime(2024, 1, 1, tzinfo=UTC)


class SimulatedClock:
    """Whole epoch seconds that only move forward.

    Every stream record takes the current second and then moves the clock on by one, so
    no two records share a second. That keeps ``ApproximateCreationDateTime`` strictly
    increasing, which the Kinesis shape relies on to order the changes of one item.

    >>> clock = SimulatedClock(DEFAULT_START)
    >>> clock.tick(), clock.tick()
    (1704067200, 1704067201)
    """

    def __init__(self, start: datetime = DEFAULT_START) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self._now = int(start.timestamp())

    @property
    def now(self) -> int:
        """The second the next change will carry."""
        return self._now

    def advance(self, seconds: int) -> None:
        """Let ``seconds`` of quiet time pass before the next change."""
        if seconds < 0:
            raise ValueError(f"time cannot go backwards: advance({seconds})")
        self._now += seconds

    def tick(self) -> int:
        """The current second, for one change; the clock then moves on by one second."""
        now = self._now
        self._now = now + 1
        return now


def iso_utc(epoch_seconds: int) -> str:
    """An instant as ISO-8601 UTC text with a ``Z``.

    >>> iso_utc(1709633700)
    '2024-03-05T10:15:00Z'
    """
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))


def iso_naive(epoch_seconds: int) -> str:
    """UTC wall time without a zone designator, as some older clients write it.

    >>> iso_naive(1709633700)
    '2024-03-05T10:15:00'
    """
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(epoch_seconds))


def iso_with_offset(epoch_seconds: int, offset_minutes: int) -> str:
    """The same instant as local time at a UTC offset.

    >>> iso_with_offset(1709633700, 60)
    '2024-03-05T11:15:00+01:00'
    """
    local = time.gmtime(epoch_seconds + offset_minutes * 60)
    sign = "+" if offset_minutes >= 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return time.strftime("%Y-%m-%dT%H:%M:%S", local) + f"{sign}{hours:02d}:{minutes:02d}"
