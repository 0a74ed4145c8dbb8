"""``ApproximateCreationDateTime`` in the units each transport uses, made exact.

DynamoDB Streams give epoch seconds; Kinesis Data Streams for DynamoDB give epoch
milliseconds, or microseconds when the destination's precision is ``MICROSECOND``.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from infrastructure.adapters.streams.records import RecordError, shown

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROS_PER_UNIT = {"SECOND": 1_000_000, "MILLISECOND": 1_000, "MICROSECOND": 1}


def epoch_micros(value: object, unit: str, field: str) -> int:
    """Whole microseconds since the epoch of a non-negative number given in ``unit``.

    >>> epoch_micros(1704067200123, "MILLISECOND", "ApproximateCreationDateTime")
    1704067200123000
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise RecordError(f"{field} must be a number of epoch {_plural(unit)}, got {shown(value)}")
    if value < 0 or (isinstance(value, float) and not math.isfinite(value)):
        raise RecordError(f"{field} must be a non-negative number, got {shown(value)}")
    scaled = value * _MICROS_PER_UNIT[unit]
    if isinstance(scaled, int):
        return scaled
    if not math.isfinite(scaled):
        raise RecordError(f"{field} {shown(value)} is beyond the year 9999")
    return round(scaled)


# The last microsecond a `datetime` can hold, since the epoch.
LAST_MICROS = (datetime.max.replace(tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)


def checked_micros(micros: int, field: str) -> int:
    """``micros`` (non-negative, since the epoch), refused past the year 9999.

    >>> checked_micros(1704067200123000, "ApproximateCreationDateTime")
    1704067200123000
    """
    if micros > LAST_MICROS:
        raise RecordError(f"{field} is beyond the year 9999")
    return micros


def _plural(unit: str) -> str:
    return unit.lower() + "s"
