"""The CRM's filters as tantivy queries over the exact (fast) fields.

Filters arrive checked and canonical (`projections.query.checked`): keyword values are
strings, numbers integers, dates UTC ISO-8601 strings, turned here into the epoch
milliseconds the index holds. ``exists`` looks the path up among the document's present
paths. The compiled filter scores nothing, so it never changes relevance.

>>> users = kind_schema(DocumentKind.USERS)
>>> pro_uploaders = Term(field="plan", value="pro") & Range(field="image_count", gte=3)
>>> query = compile_filter(users, pro_uploaders)
"""

from __future__ import annotations

from typing import Any

import tantivy

from infrastructure.adapters.embedded.codec import instant_millis
from infrastructure.adapters.embedded.schema import PRESENT, KindSchema
from projections.query import (
    And,
    Exists,
    FieldType,
    FilterType,
    Not,
    Or,
    Range,
    Term,
    Terms,
    query_fields,
)


def compile_filter(schema: KindSchema, spec: FilterType) -> tantivy.Query:
    """The documents the filter matches (live or not: the caller restricts to live ones)."""
    if isinstance(spec, And):
        return _all([compile_filter(schema, inner) for inner in spec.filters])
    if isinstance(spec, Or):
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, compile_filter(schema, inner)) for inner in spec.filters]
        )
    if isinstance(spec, Not):
        return without(compile_filter(schema, spec.filter))
    if isinstance(spec, Exists):
        return tantivy.Query.term_query(schema.tantivy_schema, PRESENT, spec.field)
    field_type = _type_of(schema, spec.field)
    name = schema.exact(spec.field).name
    if isinstance(spec, Term):
        return tantivy.Query.term_query(
            schema.tantivy_schema, name, index_value(field_type, spec.value)
        )
    if isinstance(spec, Terms):
        values = [index_value(field_type, value) for value in spec.values]
        return tantivy.Query.term_set_query(schema.tantivy_schema, name, values)
    return _range(schema, name, field_type, spec)


def without(query: tantivy.Query) -> tantivy.Query:
    """Every document the query does not match."""
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, tantivy.Query.all_query()), (tantivy.Occur.MustNot, query)]
    )


def index_value(field_type: FieldType, value: Any) -> Any:
    """A canonical filter value as the index holds it (dates: epoch milliseconds)."""
    return instant_millis(value) if field_type is FieldType.DATE else value


def _all(queries: list[tantivy.Query]) -> tantivy.Query:
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, query) for query in queries])


def _type_of(schema: KindSchema, path: str) -> FieldType:
    field = query_fields(schema.kind).get(path)
    if field is None:
        raise KeyError(f"{schema.kind.value} has no field {path!r}")
    return field.type


def _range(schema: KindSchema, name: str, field_type: FieldType, spec: Range) -> tantivy.Query:
    lower = spec.gt if spec.gt is not None else spec.gte
    upper = spec.lt if spec.lt is not None else spec.lte
    return tantivy.Query.range_query(
        schema.tantivy_schema,
        name,
        tantivy.FieldType.Integer,
        lower_bound=None if lower is None else index_value(field_type, lower),
        upper_bound=None if upper is None else index_value(field_type, upper),
        include_lower=spec.gt is None,
        include_upper=spec.lt is None,
    )
