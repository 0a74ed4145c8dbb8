"""Facets: counts and statistics over every document a query matches, next to its hits.

>>> request = SearchRequest(facets={
...     "status": TermsFacet(field="status", size=5),
...     "per_month": DateHistogramFacet(field="created_at", interval="month"),
...     "likes": RangeFacet(field="like_count", ranges=[NumericRange(lt=10), NumericRange(gte=10)]),
...     "size": StatsFacet(field="size_bytes"),
... })
>>> page.facets["status"].buckets[0]
FacetBucket(key='active', count=812)
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_FACETS = 10
MAX_RANGES = 20


class _Facet(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str


class TermsFacet(_Facet):
    """The most frequent values, most documents first (ties by value)."""

    type: Literal["terms"] = "terms"
    size: int = Field(default=10, ge=1, le=100)


class DateHistogramFacet(_Facet):
    """Documents per calendar interval (UTC; weeks start on Monday), with empty ones between."""

    type: Literal["date_histogram"] = "date_histogram"
    interval: Literal["day", "week", "month", "year"] = "month"


class NumericRange(BaseModel):
    """``gte`` included, ``lt`` excluded, either side open; ``key`` names the bucket."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    gte: int | float | None = None
    lt: int | float | None = None
    key: str | None = Field(default=None, max_length=64)

    @property
    def label(self) -> str:
        """The bucket's key: the given one, or ``10-100``, ``*-10``, ``100-*``."""
        if self.key is not None:
            return self.key
        return f"{_number(self.gte)}-{_number(self.lt)}"


class RangeFacet(_Facet):
    """Documents per numeric range."""

    type: Literal["range"] = "range"
    ranges: list[NumericRange] = Field(min_length=1, max_length=MAX_RANGES)


class StatsFacet(_Facet):
    """Count, minimum, maximum, average and sum of a numeric field."""

    type: Literal["stats"] = "stats"


FacetSpec = Annotated[
    TermsFacet | DateHistogramFacet | RangeFacet | StatsFacet, Field(discriminator="type")
]


class FacetBucket(BaseModel):
    key: str | int | float | bool  # a value, an interval's start (ISO-8601) or a range's key
    count: int


class BucketFacet(BaseModel):
    """Buckets of a terms, date histogram or range facet."""

    type: Literal["terms", "date_histogram", "range"]
    buckets: list[FacetBucket]
    other_count: int = 0  # documents whose values fell outside the returned terms
    # Images whose user does not exist (``owner: null``): only on terms facets of an
    # ``owner.*`` field, so that its buckets, other_count and this add up to the total.
    unknown_owner_count: int = 0


class StatsResult(BaseModel):
    type: Literal["stats"] = "stats"
    count: int
    min: float | None
    max: float | None
    avg: float | None
    sum: float


FacetResult = Annotated[BucketFacet | StatsResult, Field(discriminator="type")]


def _number(value: int | float | None) -> str:
    if value is None:
        return "*"
    return str(int(value)) if float(value).is_integer() else str(value)


def with_unknown_owners(
    facets: dict[str, FacetSpec], results: dict[str, FacetResult], total: int
) -> dict[str, FacetResult]:
    """The results, with the images of no known owner counted on each owner terms facet.

    Each image has at most one owner and the owner fields hold one value, so what the
    buckets and ``other_count`` leave of the total is exactly the images with no owner;
    counted this way it is the same on every backend.
    """
    counted = dict(results)
    for name, spec in facets.items():
        result = counted.get(name)
        if not (
            isinstance(spec, TermsFacet)
            and spec.field.startswith("owner.")
            and isinstance(result, BucketFacet)
        ):
            continue
        found = sum(bucket.count for bucket in result.buckets) + result.other_count
        if found < total:
            counted[name] = result.model_copy(update={"unknown_owner_count": total - found})
    return counted
