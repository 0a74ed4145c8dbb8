"""Facets as OpenSearch aggregations, and their answers in the query model's shape.

Terms are asked for beyond the requested size and cut here, most frequent first and ties
by value, so both backends cut ties the same way. Date histograms use calendar intervals
(UTC, weeks from Monday) and keep the empty intervals between the first and the last.

>>> aggregations(kind_mapping(DocumentKind.IMAGES), {"status": TermsFacet(field="status")})
{'f0': {'terms': {'field': 'status', 'size': 20}}}
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from infrastructure.adapters.opensearch.mappings import KindMapping
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

_TERMS_HEADROOM = 10
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

Answer = dict[str, Any]


def aggregations(mapping: KindMapping, facets: dict[str, FacetSpec]) -> dict[str, Any]:
    """The aggregations of the request's facets, named ``f0``, ``f1``, ... in order."""
    return {f"f{i}": _aggregation(mapping, facet) for i, facet in enumerate(facets.values())}


def facet_results(facets: dict[str, FacetSpec], answers: Answer) -> dict[str, FacetResult]:
    return {
        name: _result(facet, answers.get(f"f{i}") or {})
        for i, (name, facet) in enumerate(facets.items())
    }


def _aggregation(mapping: KindMapping, facet: FacetSpec) -> dict[str, Any]:
    field = mapping.exact_name(facet.field)
    if isinstance(facet, TermsFacet):
        return {"terms": {"field": field, "size": facet.size + _TERMS_HEADROOM}}
    if isinstance(facet, DateHistogramFacet):
        return {
            "date_histogram": {
                "field": field,
                "calendar_interval": facet.interval,
                "min_doc_count": 0,
            }
        }
    if isinstance(facet, RangeFacet):
        ranges = []
        for i, bucket in enumerate(facet.ranges):
            bounds: dict[str, Any] = {"key": f"r{i}"}
            if bucket.gte is not None:
                bounds["from"] = bucket.gte
            if bucket.lt is not None:
                bounds["to"] = bucket.lt
            ranges.append(bounds)
        return {"range": {"field": field, "ranges": ranges}}
    return {"stats": {"field": field}}


def _result(facet: FacetSpec, answer: Answer) -> FacetResult:
    buckets = answer.get("buckets", [])
    if isinstance(facet, TermsFacet):
        found = [(_term_key(bucket), int(bucket["doc_count"])) for bucket in buckets]
        found.sort(key=lambda pair: (-pair[1], pair[0]))
        kept, dropped = found[: facet.size], found[facet.size :]
        other = int(answer.get("sum_other_doc_count") or 0) + sum(n for _, n in dropped)
        return BucketFacet(
            type="terms",
            buckets=[FacetBucket(key=key, count=count) for key, count in kept],
            other_count=other,
        )
    if isinstance(facet, RangeFacet):
        # Keyed ranges may come back as a list or, on some versions, as an object.
        listed = buckets.values() if isinstance(buckets, dict) else buckets
        counts = {bucket["key"]: int(bucket["doc_count"]) for bucket in listed}
        return BucketFacet(
            type="range",
            buckets=[
                FacetBucket(key=r.label, count=counts.get(f"r{i}", 0))
                for i, r in enumerate(facet.ranges)
            ],
        )
    if isinstance(facet, DateHistogramFacet):
        counted = [(int(bucket["key"]), int(bucket["doc_count"])) for bucket in buckets]
        while counted and counted[0][1] == 0:
            counted.pop(0)
        while counted and counted[-1][1] == 0:
            counted.pop()
        return BucketFacet(
            type="date_histogram",
            buckets=[FacetBucket(key=_iso(start), count=count) for start, count in counted],
        )
    count = int(answer.get("count") or 0)
    return StatsResult(
        count=count,
        min=answer.get("min") if count else None,
        max=answer.get("max") if count else None,
        avg=answer.get("avg") if count else None,
        sum=float(answer.get("sum") or 0.0),
    )


def _term_key(bucket: Answer) -> str | bool:
    if bucket.get("key_as_string") in ("true", "false"):
        return bool(bucket["key_as_string"] == "true")
    return str(bucket["key"])


def _iso(millis: int) -> str:
    return (_EPOCH + timedelta(milliseconds=millis)).strftime("%Y-%m-%dT%H:%M:%SZ")
