"""Facets through tantivy's aggregations, answered in OpenSearch's shape.

Every facet of a request is counted in one aggregation pass. Terms come most frequent
first, ties by value. Tantivy has no calendar intervals, so a date histogram counts the
days that hold documents and rolls them up here into weeks (starting on Monday), months or
years; the buckets run from the first non-empty interval to the last, empty ones between
included, as OpenSearch's ``date_histogram`` does.

>>> facet_results(searcher, images, query, {"status": TermsFacet(field="status")})
{'status': BucketFacet(type='terms', buckets=[FacetBucket(key='active', count=9)], ...)}
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import tantivy

from infrastructure.adapters.embedded.schema import KindSchema
from projections.query import (
    BucketFacet,
    DateHistogramFacet,
    FacetBucket,
    FacetResult,
    FacetSpec,
    RangeFacet,
    StatsResult,
    TermsFacet,
)

DAY_MILLIS = 86_400_000
# Terms are gathered beyond the requested size so that ties at the cut are decided by value.
_TERMS_HEADROOM = 10
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Aggregations = dict[str, Any]


def facet_results(
    searcher: tantivy.Searcher,
    schema: KindSchema,
    query: tantivy.Query,
    facets: dict[str, FacetSpec],
) -> dict[str, FacetResult]:
    """Every facet of the request over the documents the query matches."""
    if not facets:
        return {}
    names = {f"f{i}": name for i, name in enumerate(facets)}
    requested = {key: _aggregation(schema, facets[name]) for key, name in names.items()}
    answers = searcher.aggregate(query, requested)
    return {name: _result(facets[name], answers.get(key) or {}) for key, name in names.items()}


def _aggregation(schema: KindSchema, facet: FacetSpec) -> Aggregations:
    field = schema.exact(facet.field).name
    if isinstance(facet, TermsFacet):
        size = facet.size + _TERMS_HEADROOM
        return {"terms": {"field": field, "size": size, "segment_size": size * 10}}
    if isinstance(facet, DateHistogramFacet):
        return {"histogram": {"field": field, "interval": DAY_MILLIS, "min_doc_count": 1}}
    if isinstance(facet, RangeFacet):
        ranges = [_bounds(f"r{i}", r.gte, r.lt) for i, r in enumerate(facet.ranges)]
        return {"range": {"field": field, "ranges": ranges}}
    return {"stats": {"field": field}}


def _bounds(key: str, low: float | None, high: float | None) -> dict[str, Any]:
    bounds: dict[str, Any] = {"key": key}
    if low is not None:
        bounds["from"] = low
    if high is not None:
        bounds["to"] = high
    return bounds


def _result(facet: FacetSpec, answer: Aggregations) -> FacetResult:
    if isinstance(facet, TermsFacet):
        return _terms(facet, answer)
    if isinstance(facet, RangeFacet):
        counts = {bucket["key"]: bucket["doc_count"] for bucket in answer.get("buckets", [])}
        buckets = [
            FacetBucket(key=r.label, count=int(counts.get(f"r{i}", 0)))
            for i, r in enumerate(facet.ranges)
        ]
        return BucketFacet(type="range", buckets=buckets)
    if isinstance(facet, DateHistogramFacet):
        days = {int(b["key"]): int(b["doc_count"]) for b in answer.get("buckets", [])}
        return BucketFacet(type="date_histogram", buckets=calendar_buckets(days, facet.interval))
    return StatsResult(
        count=int(answer.get("count") or 0),
        min=answer.get("min"),
        max=answer.get("max"),
        avg=answer.get("avg"),
        sum=float(answer.get("sum") or 0.0),
    )


def _terms(facet: TermsFacet, answer: Aggregations) -> BucketFacet:
    found = [(_term_key(bucket), int(bucket["doc_count"])) for bucket in answer.get("buckets", [])]
    found.sort(key=lambda pair: (-pair[1], pair[0]))
    kept, dropped = found[: facet.size], found[facet.size :]
    other = int(answer.get("sum_other_doc_count") or 0) + sum(count for _, count in dropped)
    buckets = [FacetBucket(key=key, count=count) for key, count in kept]
    return BucketFacet(type="terms", buckets=buckets, other_count=other)


def _term_key(bucket: Aggregations) -> str | bool:
    if bucket.get("key_as_string") in ("true", "false"):
        return bool(bucket["key_as_string"] == "true")
    return str(bucket["key"])


def calendar_buckets(days: dict[int, int], interval: str) -> list[FacetBucket]:
    """Counts per day start (epoch ms) rolled up into contiguous calendar intervals."""
    if not days:
        return []
    counts: Counter[datetime] = Counter()
    for day, count in days.items():
        counts[interval_start(_EPOCH + timedelta(milliseconds=day), interval)] += count
    current, last = min(counts), max(counts)
    buckets = []
    while current <= last:
        buckets.append(
            FacetBucket(key=current.strftime("%Y-%m-%dT%H:%M:%SZ"), count=counts[current])
        )
        current = _next(current, interval)
    return buckets


def interval_start(moment: datetime, interval: str) -> datetime:
    """The start of the day, week (Monday), month or year holding the moment (UTC)."""
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if interval == "week":
        return day - timedelta(days=day.weekday())
    if interval == "month":
        return day.replace(day=1)
    if interval == "year":
        return day.replace(month=1, day=1)
    return day


def _next(start: datetime, interval: str) -> datetime:
    if interval == "day":
        return start + timedelta(days=1)
    if interval == "week":
        return start + timedelta(weeks=1)
    if interval == "month":
        return start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start.replace(year=start.year + 1)
