"""The CRM's query model: one request for search and count, over users or images.

Everything a caller needs is importable from here:

>>> from projections.query import SearchRequest, Term, Range, TermsFacet, SortKey
>>> request = SearchRequest(
...     text="photgraphy montains",
...     filter=Term(field="status", value="active") & Range(field="like_count", gte=10),
...     facets={"tags": TermsFacet(field="tags", size=5)},
... )
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from projections.query.cursor import (
        SortValue,
        decode_cursor,
        encode_cursor,
        relevance_cursor,
        relevance_position,
    )
    from projections.query.errors import (
        QueryError,
        QueryProblem,
    )
    from projections.query.expressions import (
        parse_facet,
        parse_filter,
    )
    from projections.query.facets import (
        BucketFacet,
        DateHistogramFacet,
        FacetBucket,
        FacetResult,
        FacetSpec,
        NumericRange,
        RangeFacet,
        StatsFacet,
        StatsResult,
        TermsFacet,
    )
    from projections.query.fields import (
        FieldType,
        KindFields,
        QueryField,
        query_fields,
    )
    from projections.query.filters import (
        And,
        Exists,
        Filter,
        FilterType,
        Not,
        Or,
        Range,
        Term,
        Terms,
    )
    from projections.query.limits import (
        MAX_OFFSET,
        MAX_PAGE_SIZE,
        MAX_QUERY_LENGTH,
    )
    from projections.query.matching import (
        WordRule,
        answer,
        can_loosen,
    )
    from projections.query.request import (
        CountRequest,
        Highlight,
        SearchRequest,
    )
    from projections.query.results import (
        SearchHit,
        SearchPage,
    )
    from projections.query.sorting import (
        SortKey,
    )
    from projections.query.text import (
        fuzziness,
        query_words,
    )
    from projections.query.validation import (
        canonical_date,
        checked,
    )

# Each name is loaded from its module on first use (PEP 562), so that code needing one
# part of the model (an adapter's field list, say) does not build every pydantic
# validator of the query model: the stream handler's cold start never loads them.
_SOURCES: dict[str, str] = {
    "And": "projections.query.filters",
    "BucketFacet": "projections.query.facets",
    "CountRequest": "projections.query.request",
    "DateHistogramFacet": "projections.query.facets",
    "Exists": "projections.query.filters",
    "FacetBucket": "projections.query.facets",
    "FacetResult": "projections.query.facets",
    "FacetSpec": "projections.query.facets",
    "FieldType": "projections.query.fields",
    "Filter": "projections.query.filters",
    "FilterType": "projections.query.filters",
    "Highlight": "projections.query.request",
    "KindFields": "projections.query.fields",
    "MAX_OFFSET": "projections.query.limits",
    "MAX_PAGE_SIZE": "projections.query.limits",
    "MAX_QUERY_LENGTH": "projections.query.limits",
    "Not": "projections.query.filters",
    "NumericRange": "projections.query.facets",
    "Or": "projections.query.filters",
    "QueryError": "projections.query.errors",
    "QueryField": "projections.query.fields",
    "QueryProblem": "projections.query.errors",
    "Range": "projections.query.filters",
    "RangeFacet": "projections.query.facets",
    "WordRule": "projections.query.matching",
    "answer": "projections.query.matching",
    "can_loosen": "projections.query.matching",
    "SearchHit": "projections.query.results",
    "SearchPage": "projections.query.results",
    "SearchRequest": "projections.query.request",
    "SortKey": "projections.query.sorting",
    "SortValue": "projections.query.cursor",
    "StatsFacet": "projections.query.facets",
    "StatsResult": "projections.query.facets",
    "Term": "projections.query.filters",
    "Terms": "projections.query.filters",
    "TermsFacet": "projections.query.facets",
    "canonical_date": "projections.query.validation",
    "checked": "projections.query.validation",
    "decode_cursor": "projections.query.cursor",
    "encode_cursor": "projections.query.cursor",
    "fuzziness": "projections.query.text",
    "parse_facet": "projections.query.expressions",
    "parse_filter": "projections.query.expressions",
    "query_fields": "projections.query.fields",
    "query_words": "projections.query.text",
    "relevance_cursor": "projections.query.cursor",
    "relevance_position": "projections.query.cursor",
}


def __getattr__(name: str) -> Any:
    source = _SOURCES.get(name)
    if source is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(source), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "MAX_OFFSET",
    "MAX_PAGE_SIZE",
    "MAX_QUERY_LENGTH",
    "And",
    "BucketFacet",
    "CountRequest",
    "DateHistogramFacet",
    "Exists",
    "FacetBucket",
    "FacetResult",
    "FacetSpec",
    "FieldType",
    "Filter",
    "FilterType",
    "Highlight",
    "KindFields",
    "Not",
    "NumericRange",
    "Or",
    "QueryError",
    "QueryField",
    "QueryProblem",
    "Range",
    "RangeFacet",
    "SearchHit",
    "SearchPage",
    "SearchRequest",
    "SortKey",
    "SortValue",
    "StatsFacet",
    "StatsResult",
    "Term",
    "Terms",
    "TermsFacet",
    "WordRule",
    "answer",
    "can_loosen",
    "canonical_date",
    "checked",
    "decode_cursor",
    "encode_cursor",
    "fuzziness",
    "parse_facet",
    "parse_filter",
    "query_fields",
    "query_words",
    "relevance_cursor",
    "relevance_position",
]
