"""A compact text form of filters and facets, for command lines and query strings.

Filters: ``FIELD=VALUE`` (``=A,B`` for any of several values, ``=*`` for "has a value"),
``FIELD!=VALUE``, and ``FIELD>=VALUE``, ``>``, ``<=``, ``<`` for ranges.
Facets: ``FIELD`` (terms for text and booleans, monthly histogram for dates, statistics
for numbers), ``FIELD:SIZE``, ``FIELD:day|week|month|year``, ``FIELD:stats`` and
``FIELD:LOW-HIGH,...`` for numeric ranges (an empty side is open).

>>> parse_filter("like_count>=10")
Range(type='range', field='like_count', gt=None, gte='10', lt=None, lte=None)
>>> parse_filter("status!=hidden")
Not(type='not', filter=Term(type='term', field='status', value='hidden'))
>>> parse_facet(DocumentKind.IMAGES, "like_count:0-10,10-")
RangeFacet(field='like_count', type='range', ranges=[...])
"""

from __future__ import annotations

import re

from projections.documents import DocumentKind
from projections.query.errors import QueryError
from projections.query.facets import (
    DateHistogramFacet,
    FacetSpec,
    NumericRange,
    RangeFacet,
    StatsFacet,
    TermsFacet,
)
from projections.query.fields import FieldType, query_fields
from projections.query.filters import Exists, FilterType, Not, Range, Term, Terms

_FILTER = re.compile(
    r"^\s*(?P<field>[A-Za-z_][\w.]*)\s*(?P<op>>=|<=|!=|=|>|<)\s*(?P<value>.*?)\s*$"
)
_RANGE_SIDES = {">=": "gte", ">": "gt", "<=": "lte", "<": "lt"}
_INTERVALS = ("day", "week", "month", "year")


def parse_filter(expression: str) -> FilterType:
    """One filter from ``FIELD OP VALUE``; a `QueryError` if it is not of that form."""
    found = _FILTER.match(expression)
    if found is None or not found["value"]:
        raise QueryError.single(
            "filter",
            f"{expression!r} is not FIELD=VALUE, FIELD!=VALUE, FIELD>=VALUE, FIELD>VALUE, "
            "FIELD<=VALUE or FIELD<VALUE",
        )
    field, op, value = found["field"], found["op"], found["value"]
    if op in _RANGE_SIDES:
        return Range.model_validate({"field": field, _RANGE_SIDES[op]: value})
    matched = _equals(field, value)
    return Not(filter=matched) if op == "!=" else matched


def _equals(field: str, value: str) -> FilterType:
    if value == "*":
        return Exists(field=field)
    if "," in value:
        return Terms(field=field, values=[part.strip() for part in value.split(",")])
    return Term(field=field, value=value)


def parse_facet(kind: DocumentKind | str, expression: str) -> FacetSpec:
    """One facet from ``FIELD[:OPTION]``; the field's type picks the default kind of facet."""
    field, _, option = expression.strip().partition(":")
    known = query_fields(DocumentKind(kind)).get(field)
    if not option:
        if known is not None and known.type is FieldType.DATE:
            return DateHistogramFacet(field=field)
        if known is not None and known.type is FieldType.INTEGER:
            return StatsFacet(field=field)
        return TermsFacet(field=field)
    if option.isdigit():
        return TermsFacet(field=field, size=int(option))
    if option in _INTERVALS:
        return DateHistogramFacet(field=field, interval=option)  # type: ignore[arg-type]
    if option == "stats":
        return StatsFacet(field=field)
    return RangeFacet(field=field, ranges=[_range(expression, part) for part in option.split(",")])


def _range(expression: str, part: str) -> NumericRange:
    low, separator, high = part.strip().partition("-")
    try:
        if not separator:
            raise ValueError
        return NumericRange(gte=float(low) if low else None, lt=float(high) if high else None)
    except ValueError:
        raise QueryError.single(
            "facet",
            f"{expression!r}: use FIELD, FIELD:SIZE, FIELD:day|week|month|year, FIELD:stats "
            "or FIELD:LOW-HIGH,... (e.g. like_count:0-10,10-100,100-)",
        ) from None
