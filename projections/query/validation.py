"""Checking a request against a kind's allowlist, and normalizing its values.

`checked` refuses unknown fields, operations a field does not allow, values of the wrong
type and empty ranges, with every problem at once; values come back in one canonical form
per type (``"10"`` becomes ``10`` for a number, dates become UTC ISO-8601 with
milliseconds), so the backends never parse them again.

>>> checked(DocumentKind.IMAGES, SearchRequest(filter=Range(field="like_count", gte="10")))
SearchRequest(..., filter=Range(type='range', field='like_count', gte=10, ...), ...)
>>> checked(DocumentKind.IMAGES, SearchRequest(sort=[SortKey(field="colour")]))
Traceback (most recent call last):
QueryError: sort.0.field: unknown field 'colour' for images; sortable fields: title, ...
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from projections.documents import DocumentKind
from projections.query.cursor import decode_cursor
from projections.query.errors import QueryError, QueryProblem
from projections.query.facets import (
    DateHistogramFacet,
    FacetSpec,
    RangeFacet,
    StatsFacet,
    TermsFacet,
)
from projections.query.fields import FieldType, KindFields, QueryField, query_fields
from projections.query.filters import And, Exists, FilterType, Not, Or, Range, Term
from projections.query.request import SearchRequest

_FACET_TYPES: dict[type[Any], tuple[FieldType, ...]] = {
    TermsFacet: (FieldType.KEYWORD, FieldType.BOOLEAN),
    DateHistogramFacet: (FieldType.DATE,),
    RangeFacet: (FieldType.INTEGER,),
    StatsFacet: (FieldType.INTEGER,),
}


def checked(kind: DocumentKind | str, request: SearchRequest) -> SearchRequest:
    """The request with canonical values; a `QueryError` listing every problem otherwise."""
    check = _Check(query_fields(DocumentKind(kind)))
    normalized = request.model_copy(
        update={
            "fields": [check.searched(f"fields.{i}", f) for i, f in enumerate(request.fields)],
            "boosts": {check.searched(f"boosts.{f}", f): b for f, b in request.boosts.items()},
            "filter": check.filter("filter", request.filter) if request.filter else None,
            "facets": {
                name: check.facet(f"facets.{name}", facet) for name, facet in request.facets.items()
            },
        }
    )
    for i, key in enumerate(request.sort):
        check.sortable(f"sort.{i}.field", key.field, request.sort[:i])
    if request.highlight is not None:
        for i, field in enumerate(request.highlight.fields):
            check.searched(f"highlight.fields.{i}", field)
    if check.problems:
        raise QueryError(check.problems)
    if normalized.search_after is not None:
        decode_cursor(normalized, normalized.search_after)
    return normalized


def canonical_date(value: Any) -> str:
    """An ISO-8601 date or instant as UTC with milliseconds (naive means UTC)."""
    if not isinstance(value, str):
        raise ValueError("expects an ISO-8601 date such as 2024-05-01 or 2024-05-01T12:00:00Z")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"{value!r} is not an ISO-8601 date such as 2024-05-01 or 2024-05-01T12:00:00Z"
        ) from None
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _Check:
    def __init__(self, fields: KindFields) -> None:
        self.fields = fields
        self.problems: list[QueryProblem] = []

    def problem(self, location: str, message: str) -> None:
        self.problems.append(QueryProblem(location, message))

    def field(self, location: str, path: str, allowed: list[QueryField], role: str) -> QueryField:
        found = self.fields.get(path)
        kind, names = self.fields.kind.value, ", ".join(f.path for f in allowed)
        if found is None:
            self.problem(location, f"unknown field {path!r} for {kind}; {role}: {names}")
        elif found not in allowed:
            self.problem(location, f"{path!r} is not among the {role} of {kind}: {names}")
        return found or QueryField(path, FieldType.OBJECT)

    def searched(self, location: str, path: str) -> str:
        self.field(location, path, list(self.fields.searched), "searched fields")
        return path

    def sortable(self, location: str, path: str, before: list[Any]) -> None:
        sortable = [f for f in self.fields.fields if f.sortable]
        self.field(location, path, sortable, "sortable fields")
        if any(key.field == path for key in before):
            self.problem(location, f"{path!r} is already a sort key")

    def filter(self, location: str, spec: FilterType) -> FilterType:
        if isinstance(spec, And | Or):
            return spec.model_copy(
                update={
                    "filters": [
                        self.filter(f"{location}.filters.{i}", inner)
                        for i, inner in enumerate(spec.filters)
                    ]
                }
            )
        if isinstance(spec, Not):
            return spec.model_copy(
                update={"filter": self.filter(f"{location}.filter", spec.filter)}
            )
        if isinstance(spec, Exists):
            self.field(f"{location}.field", spec.field, list(self.fields.fields), "fields")
            return spec
        filterable = [f for f in self.fields.fields if f.filterable]
        field = self.field(f"{location}.field", spec.field, filterable, "filterable fields")
        if isinstance(spec, Range):
            return self.range(location, field, spec)
        if isinstance(spec, Term):
            return spec.model_copy(
                update={"value": self.value(f"{location}.value", field, spec.value)}
            )
        values = [self.value(f"{location}.values.{i}", field, v) for i, v in enumerate(spec.values)]
        return spec.model_copy(update={"values": values})

    def value(self, location: str, field: QueryField, value: Any) -> Any:
        try:
            return _canonical(field.type, value)
        except ValueError as error:
            self.problem(location, f"{field.path!r} {error}")
            return value

    def range(self, location: str, field: QueryField, spec: Range) -> Range:
        if field.type not in (FieldType.INTEGER, FieldType.DATE):
            self.problem(f"{location}.field", f"{field.path!r} is not a number or a date: no range")
            return spec
        known = len(self.problems)
        bounds = {
            side: self.value(f"{location}.{side}", field, getattr(spec, side))
            for side in ("gt", "gte", "lt", "lte")
            if getattr(spec, side) is not None
        }
        if not bounds:
            self.problem(location, "a range needs at least one of gt, gte, lt, lte")
        for low, high in (("gt", "gte"), ("lt", "lte")):
            if low in bounds and high in bounds:
                self.problem(location, f"give {low} or {high}, not both")
        lower = [(side, v) for side, v in bounds.items() if side in ("gt", "gte")]
        upper = [(side, v) for side, v in bounds.items() if side in ("lt", "lte")]
        if lower and upper and len(self.problems) == known:
            (low_side, low), (high_side, high) = lower[0], upper[0]
            if low > high or (low == high and (low_side, high_side) != ("gte", "lte")):
                backwards = "; its bounds are backwards: swap them" if low > high else ""
                self.problem(
                    location,
                    f"the range {low_side} {low} and {high_side} {high} is empty{backwards}",
                )
        return spec.model_copy(update=bounds)

    def facet(self, location: str, facet: FacetSpec) -> FacetSpec:
        allowed_types = _FACET_TYPES[type(facet)]
        allowed = [f for f in self.fields.fields if f.type in allowed_types]
        self.field(f"{location}.field", facet.field, allowed, f"{facet.type} facets")
        if isinstance(facet, RangeFacet):
            for i, bucket in enumerate(facet.ranges):
                if bucket.gte is None and bucket.lt is None:
                    self.problem(f"{location}.ranges.{i}", "give gte, lt or both")
                elif bucket.gte is not None and bucket.lt is not None and bucket.gte >= bucket.lt:
                    self.problem(
                        f"{location}.ranges.{i}", f"gte {bucket.gte} is not below lt {bucket.lt}"
                    )
        return facet


def _canonical(field_type: FieldType, value: Any) -> Any:
    if field_type is FieldType.INTEGER:
        return _integer(value)
    if field_type is FieldType.BOOLEAN:
        return _boolean(value)
    if field_type is FieldType.DATE:
        return canonical_date(value)
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ValueError("expects a string")
    return str(value)


def _integer(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("expects a whole number, not true or false")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise ValueError(f"expects a whole number, not {value!r}")


def _boolean(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise ValueError(f"expects true or false, not {value!r}")
