"""Hits ordered by fields with the id as the final tie breaker, and ``search_after`` ranges.

Tantivy orders a search by one fast field, and breaks ties by its own document addresses.
`top` makes the order total: it asks for the best ``limit`` hits by the first key; every
group of equal values ranked before the last value on that list is complete (nothing
ranked after it can share a better value), so only groups of more than one hit and the
group of the last value need ordering by the next key, each with one more search
restricted to that value. Documents without a value come last, in either direction.

A cursor holds the sort values of the last hit; `after` matches what comes after them:
a later first value, or the same value and what comes after by the next keys, or no value
at all. Keywords and ids are compared in byte order (see `byte_order`).

>>> keys = sort_keys(images, [SortKey(field="like_count", order="desc")])
>>> addresses = top(searcher, images, query, keys, limit=20)
>>> later = both(query, after(images, keys, [12, "i-0042"]))
>>> next_page = top(searcher, images, later, keys, limit=20)
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from typing import Any

import tantivy

from infrastructure.adapters.embedded.byte_order import strings_beyond
from infrastructure.adapters.embedded.codec import indexed_value
from infrastructure.adapters.embedded.schema import ABSENT, ID, ID_ORDER, KindSchema
from projections.query import FieldType, SortKey, SortValue, query_fields


@dataclass(frozen=True, slots=True)
class OrderKey:
    source: str  # the dotted path in the body; ``id`` for the tie breaker
    name: str  # the fast field ordered by
    field_type: FieldType
    descending: bool
    order_fields: tuple[str, ...]  # byte-order parts of a keyword or the id

    @property
    def is_id(self) -> bool:
        return self.name == ID

    @property
    def tantivy_order(self) -> tantivy.Order:
        return tantivy.Order.Desc if self.descending else tantivy.Order.Asc


def sort_keys(schema: KindSchema, sort: list[SortKey]) -> list[OrderKey]:
    """The request's sort keys, then the id ascending."""
    allowlist = query_fields(schema.kind)
    keys = []
    for key in sort:
        field = allowlist.get(key.field)
        if field is None:
            raise KeyError(f"{schema.kind.value} has no field {key.field!r}")
        parts = tuple(f.name for f in schema.order_fields(key.field))
        name = schema.exact(key.field).name
        keys.append(OrderKey(key.field, name, field.type, key.descending, parts))
    return [*keys, OrderKey(ID, ID, FieldType.KEYWORD, False, ID_ORDER)]


def top(
    searcher: tantivy.Searcher,
    schema: KindSchema,
    query: tantivy.Query,
    keys: list[OrderKey],
    limit: int,
) -> list[tantivy.DocAddress]:
    """The first ``limit`` matches of the query in the total order of the keys."""
    if limit <= 0:
        return []
    key, rest = keys[0], keys[1:]
    hits = searcher.search(
        query, limit=limit, count=False, order_by_field=key.name, order=key.tantivy_order
    ).hits
    if not rest:
        return [address for _, address in hits]
    runs = [(value, [a for _, a in run]) for value, run in groupby(hits, key=lambda hit: hit[0])]
    ordered: list[tantivy.DocAddress] = []
    for position, (value, addresses) in enumerate(runs):
        cut = position == len(runs) - 1 and len(hits) == limit
        if len(addresses) == 1 and not cut:
            ordered += addresses
            continue
        wanted = limit - len(ordered) if cut else len(addresses)
        narrowed = both(query, _equal(schema, key, value))
        ordered += top(searcher, schema, narrowed, rest, wanted)
    return ordered


def after(schema: KindSchema, keys: list[OrderKey], values: list[SortValue]) -> tantivy.Query:
    """The documents ordered after a hit with these sort values."""
    key, value = keys[0], values[0]
    if len(keys) == 1:
        return _beyond(schema, key, value)
    rest = after(schema, keys[1:], values[1:])
    if value is None:
        return both(_missing(schema, key), rest)
    return either(
        _beyond(schema, key, value),
        both(_equal(schema, key, value), rest),
        _missing(schema, key),
    )


def sort_values(
    schema: KindSchema, keys: list[OrderKey], doc_id: str, body: dict[str, Any]
) -> list[SortValue]:
    """A document's values for the keys, as the index holds them."""
    return [doc_id if key.is_id else indexed_value(schema.exact(key.source), body) for key in keys]


def both(*queries: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, query) for query in queries])


def either(*queries: tantivy.Query) -> tantivy.Query:
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, query) for query in queries])


def _missing(schema: KindSchema, key: OrderKey) -> tantivy.Query:
    return tantivy.Query.term_query(schema.tantivy_schema, ABSENT, key.source)


def _equal(schema: KindSchema, key: OrderKey, value: Any) -> tantivy.Query:
    if value is None:
        return _missing(schema, key)
    return tantivy.Query.term_query(schema.tantivy_schema, key.name, value)


def _beyond(schema: KindSchema, key: OrderKey, value: Any) -> tantivy.Query:
    """Documents whose value comes strictly after ``value`` in the key's order."""
    if value is None:  # nothing comes after the documents without a value
        return tantivy.Query.empty_query()
    if key.field_type is FieldType.BOOLEAN:
        following = value is False if not key.descending else value is True
        if not following:
            return tantivy.Query.empty_query()
        return tantivy.Query.term_query(schema.tantivy_schema, key.name, not value)
    if key.field_type is FieldType.KEYWORD:
        return strings_beyond(schema, key.name, key.order_fields, str(value), key.descending)
    return tantivy.Query.range_query(
        schema.tantivy_schema,
        key.name,
        tantivy.FieldType.Integer,
        lower_bound=None if key.descending else value,
        upper_bound=value if key.descending else None,
        include_lower=key.descending,
        include_upper=not key.descending,
    )
