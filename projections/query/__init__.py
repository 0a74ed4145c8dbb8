"""The CRM's query model: one request for search and count, over users or images.

Everything a caller needs is importable from here:

>>> from projections.query import SearchRequest, Term, Range, TermsFacet, SortKey
>>> request = SearchRequest(
...     text="photgraphy montains",
...     filter=Term(field="status", value="active") & Range(field="like_count", gte=10),
...     facets={"tags": TermsFacet(field="tags", size=5)},
... )
"""

from projections.query.cursor import (
    SortValue,
    decode_cursor,
    encode_cursor,
    relevance_cursor,
    relevance_position,
)
from projections.query.errors import QueryError, QueryProblem
from projections.query.expressions import parse_facet, parse_filter
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
from projections.query.fields import FieldType, KindFields, QueryField, query_fields
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
from projections.query.request import (
    MAX_OFFSET,
    MAX_PAGE_SIZE,
    MAX_QUERY_LENGTH,
    CountRequest,
    Highlight,
    SearchRequest,
)
from projections.query.results import SearchHit, SearchPage
from projections.query.sorting import SortKey
from projections.query.text import fuzziness, query_words
from projections.query.validation import canonical_date, checked

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
