"""The CRM's `SearchRequest` as OpenSearch query bodies.

The search text's words (`projections.query.query_words`: analyzed like the index, stop
words left out) each become a ``multi_match`` over the searched fields with their boosts
(names and titles weigh most), ``best_fields`` with a tie breaker, tolerating typos with
``fuzziness: AUTO`` like the embedded backend; with ``prefix`` the last word also matches
the beginning of a word in names and titles (a Korean word everywhere; a single Chinese
or Japanese character matches either half of a pair). Under the ``all_words`` rule every
word must match, under ``some_words`` at least one (`projections.query.matching`).
Highlights are made from the hits (`projections.query.highlighting`). Filters go to the
``filter`` context, so they never change relevance, and tombstones are filtered out of
every query. Hits come by relevance then id, or by the sort keys (missing values last)
then id, which makes ``search_after`` pages follow each other exactly.

>>> body = page_body(kind_mapping(DocumentKind.USERS), SearchRequest(text="ada", size=5))
>>> body["query"]["bool"]["filter"]
[{'bool': {'must_not': [{'term': {'tombstone': True}}]}}]
>>> body["size"], body["sort"]
(5, [{'_score': {'order': 'desc'}}, {'user_id': {'order': 'asc'}}])
"""

from __future__ import annotations

from typing import Any

from infrastructure.adapters.opensearch.facets import aggregations
from infrastructure.adapters.opensearch.mappings import KindMapping, SearchedField, live_documents
from projections.query import (
    And,
    Exists,
    FilterType,
    Not,
    Or,
    Range,
    SearchRequest,
    SortValue,
    Term,
    Terms,
    WordRule,
)
from projections.query.text import QueryTerm, query_terms

# A match in a second field adds a little to the best field's score.
TIE_BREAKER = 0.3

Body = dict[str, Any]


def match(mapping: KindMapping, request: SearchRequest, rule: WordRule | None = None) -> Body:
    """The live documents matching the request's text (by the rule) and filter."""
    filters = [live_documents()]
    if request.filter is not None:
        filters.append(compile_filter(mapping, request.filter))
    matching = text_query(mapping, request, rule) if request.has_text else {"match_all": {}}
    return {"bool": {"must": [matching], "filter": filters}}


def searched_fields(mapping: KindMapping, request: SearchRequest) -> list[SearchedField]:
    chosen = set(request.fields)
    return [
        SearchedField(f.source, f.indexed, request.boosts.get(f.source, f.boost), f.prefix)
        for f in mapping.searched
        if not chosen or f.source in chosen
    ]


def text_query(mapping: KindMapping, request: SearchRequest, rule: WordRule | None) -> Body:
    """Every word (or, under ``some_words``, at least one) in the searched fields."""
    fields = searched_fields(mapping, request)
    terms = query_terms(request.text, fuzzy=request.fuzzy, prefix=request.prefix)
    if not terms or not fields:
        return {"match_none": {}}
    clauses = [_term_query(fields, term, request.fuzzy) for term in terms]
    if len(clauses) == 1:
        return clauses[0]
    if rule is WordRule.SOME_WORDS:
        return {"bool": {"should": clauses, "minimum_should_match": 1}}
    return {"bool": {"must": clauses}}


def _term_query(fields: list[SearchedField], term: QueryTerm, fuzzy: bool) -> Body:
    found: Body = {
        "multi_match": {
            "query": term.text,
            "fields": [field.weighted for field in fields],
            "type": "best_fields",
            "tie_breaker": TIE_BREAKER,
        }
    }
    if fuzzy:
        found["multi_match"]["fuzziness"] = "AUTO"
    loose = [query for field in fields for query in _loose(field, term)]
    if not loose:
        return found
    return {"bool": {"should": [found, *loose], "minimum_should_match": 1}}


def _loose(field: SearchedField, term: QueryTerm) -> list[Body]:
    """The other indexed words the term matches: words it begins, pairs it is half of."""
    loose: list[Body] = []
    if term.begins(field.prefix):
        loose.append({"prefix": {field.indexed: {"value": term.text, "boost": field.boost}}})
    if term.halves:
        loose += [
            {"wildcard": {field.indexed: {"value": pattern, "boost": field.boost}}}
            for pattern in (f"{term.text}?", f"?{term.text}")
        ]
    return loose


def compile_filter(mapping: KindMapping, spec: FilterType) -> Body:
    if isinstance(spec, And):
        return {"bool": {"filter": [compile_filter(mapping, inner) for inner in spec.filters]}}
    if isinstance(spec, Or):
        inner = [compile_filter(mapping, one) for one in spec.filters]
        return {"bool": {"should": inner, "minimum_should_match": 1}}
    if isinstance(spec, Not):
        return {"bool": {"must_not": [compile_filter(mapping, spec.filter)]}}
    if isinstance(spec, Exists):
        return {"exists": {"field": spec.field}}
    field = mapping.exact_name(spec.field)
    if isinstance(spec, Term):
        return {"term": {field: spec.value}}
    if isinstance(spec, Terms):
        return {"terms": {field: list(spec.values)}}
    return {"range": {field: _bounds(spec)}}


def _bounds(spec: Range) -> Body:
    return {
        side: getattr(spec, side)
        for side in ("gt", "gte", "lt", "lte")
        if getattr(spec, side) is not None
    }


def order(mapping: KindMapping, request: SearchRequest) -> list[Body]:
    """Relevance then id, or the sort keys then id: a total, repeatable order."""
    by_id = {mapping.id_field: {"order": "asc"}}
    if request.ranked:
        return [{"_score": {"order": "desc"}}, by_id]
    keys = [
        {mapping.exact_name(key.field): {"order": key.order, "missing": "_last"}}
        for key in request.sort
    ]
    return [*keys, by_id]


def page_body(
    mapping: KindMapping,
    request: SearchRequest,
    after: list[SortValue] | None = None,
    position: int | None = None,
    rule: WordRule | None = None,
) -> Body:
    """One page of hits with the exact total and facets (highlights are made from them).

    The page starts after the sort values ``after``, or ``position`` hits in (by default
    the request's ``offset``).
    """
    body: Body = {
        "query": match(mapping, request, rule),
        "sort": order(mapping, request),
        "size": request.size,
        "track_total_hits": True,
        "track_scores": request.ranked,
    }
    if after is not None:
        body["search_after"] = after
    else:
        body["from"] = request.offset if position is None else position
    if request.facets:
        body["aggs"] = aggregations(mapping, request.facets)
    return body


def export_body(
    mapping: KindMapping,
    request: SearchRequest,
    chunk: int,
    after: list[Any] | None,
    rule: WordRule | None = None,
) -> Body:
    """The next chunk of an export, after the previous chunk's last hit.

    Chunks come in the request's order, except for a search by relevance: scores do not
    survive a round trip exactly enough to search after them, so its chunks come by id
    (a key that never changes between chunks) with their scores, for the caller to order.
    """
    by_id = [{mapping.id_field: {"order": "asc"}}]
    body: Body = {
        "query": match(mapping, request, rule),
        "sort": by_id if request.ranked else order(mapping, request),
        "track_scores": request.ranked,
        "size": chunk,
        "track_total_hits": False,
    }
    if after is not None:
        body["search_after"] = after
    return body


def count_body(mapping: KindMapping, request: SearchRequest, rule: WordRule | None = None) -> Body:
    return {"query": match(mapping, request, rule)}
