"""How a benchmark reports a figure measured several times: the median, the minimum and
the maximum."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def spread(values: Sequence[float], digits: int = 0) -> dict[str, float]:
    """``{"median": ..., "min": ..., "max": ...}``, rounded to ``digits`` (0: integers).

    >>> spread([3.0, 1.0, 2.0])
    {'median': 2, 'min': 1, 'max': 3}
    """
    return {
        "median": round(statistics.median(values), digits or None),
        "min": round(min(values), digits or None),
        "max": round(max(values), digits or None),
    }


def median_item(items: Sequence[T], key: Callable[[T], float]) -> T:
    """The item whose ``key`` is the median (of an even number, the lower of the two)."""
    return sorted(items, key=key)[(len(items) - 1) // 2]


def shown(figure: dict[str, float] | None, unit: str = "", width: int = 0) -> str:
    """``median (min-max)`` of a figure given by `spread`, the median right-aligned in
    ``width`` characters; ``not measured`` for None.

    >>> shown({"median": 1500, "min": 1486, "max": 1514}, " records/s")
    '1,500 records/s (1,486-1,514)'
    """
    if figure is None:
        return "not measured"
    return f"{figure['median']:>{width},}{unit} ({figure['min']:,}-{figure['max']:,})"
