"""The CRM's search text as tantivy queries: typo-tolerant, boosted full text.

The terms are the query's words (`projections.query.query_words`: analyzed like the
indexed text, stop words left out). Under the ``all_words`` rule every term must match,
under ``some_words`` at least one (see `projections.query.matching`). Each query term
matches a field exactly or within an edit distance chosen like OpenSearch's
``fuzziness: AUTO`` (0 for terms of 1-2 characters, 1 for 3-5, 2 beyond; always 0 when
the request turns ``fuzzy`` off). With ``prefix``, the last term also matches the
beginning of a word in the fields that allow it (names, titles); a Korean term matches
beginnings everywhere, and a single Chinese or Japanese character either half of a pair.
A term matches a document through its best field, weighted by the field's boost, plus a
little for other matching fields (like OpenSearch's ``best_fields`` with a tie breaker);
the terms add up, so a document matching more terms, or matching them exactly, scores
higher. Tombstones never match.

>>> terms = query_terms("Photgraphy mou", fuzzy=True, prefix=True)
>>> images = kind_schema(DocumentKind.IMAGES)
>>> fields = searched_fields(images, SearchRequest())
>>> query = live(images, full_text(images, terms, fields, WordRule.ALL_WORDS))
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import tantivy

from infrastructure.adapters.embedded.schema import DELETED, FieldRole, IndexedField, KindSchema
from projections.query import SearchRequest, WordRule
from projections.query.text import QueryTerm, query_terms

# An exact match must outrank a near miss: the fuzzy query scores a constant 1.0 whatever
# the distance, the exact one scores by BM25 on top of it.
EXACT_BOOST = 2.0
# A match in a second field adds a little to the best field's score.
TIE_BREAKER = 0.3


@dataclass(frozen=True, slots=True)
class SearchedField:
    field: IndexedField
    boost: float
    prefix: bool


def request_terms(request: SearchRequest) -> list[QueryTerm]:
    return query_terms(request.text, fuzzy=request.fuzzy, prefix=request.prefix)


def searched_fields(schema: KindSchema, request: SearchRequest) -> list[SearchedField]:
    """The text fields the request searches, with their boosts."""
    chosen = set(request.fields)
    searched: list[SearchedField] = []
    for field in schema.queryable:
        if field.boost is None or (chosen and field.path not in chosen):
            continue
        indexed = schema.field(field.path, FieldRole.TEXT)
        if indexed is not None:
            boost = request.boosts.get(field.path, field.boost)
            searched.append(SearchedField(indexed, boost, field.prefix))
    return searched


def full_text(
    schema: KindSchema, terms: list[QueryTerm], fields: list[SearchedField], rule: WordRule
) -> tantivy.Query:
    """Documents matching the terms (all or some) in the fields; nothing without terms."""
    if not terms or not fields:
        return tantivy.Query.empty_query()
    per_term = [
        tantivy.Query.disjunction_max_query(
            [_weighted(_term_in_field(schema, field, term), field.boost) for field in fields],
            tie_breaker=TIE_BREAKER,
        )
        for term in terms
    ]
    return _combined(per_term, rule)


def matching_terms(
    schema: KindSchema, terms: list[QueryTerm], fields: list[SearchedField], rule: WordRule
) -> tantivy.Query:
    """The documents `full_text` matches, without its scoring: cheaper to count and facet."""
    if not terms or not fields:
        return tantivy.Query.empty_query()
    per_term = [
        tantivy.Query.boolean_query(
            [
                (tantivy.Occur.Should, query)
                for field in fields
                for query in _matching_term(schema, field, term)
            ]
        )
        for term in terms
    ]
    return _combined(per_term, rule)


def _combined(per_term: list[tantivy.Query], rule: WordRule) -> tantivy.Query:
    if len(per_term) == 1:
        return per_term[0]
    occur = tantivy.Occur.Must if rule is WordRule.ALL_WORDS else tantivy.Occur.Should
    return tantivy.Query.boolean_query([(occur, query) for query in per_term])


def live(schema: KindSchema, query: tantivy.Query) -> tantivy.Query:
    """The query restricted to live documents (tombstones excluded)."""
    tombstones = tantivy.Query.term_query(schema.tantivy_schema, DELETED, True)
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, query), (tantivy.Occur.MustNot, tombstones)]
    )


def _weighted(query: tantivy.Query, boost: float) -> tantivy.Query:
    return query if boost == 1.0 else tantivy.Query.boost_query(query, boost)


def _term_in_field(schema: KindSchema, searched: SearchedField, term: QueryTerm) -> tantivy.Query:
    name = searched.field.name
    exact = tantivy.Query.term_query(schema.tantivy_schema, name, term.text)
    alternatives = [(tantivy.Occur.Should, tantivy.Query.boost_query(exact, EXACT_BOOST))]
    if term.distance:
        fuzzy = tantivy.Query.fuzzy_term_query(
            schema.tantivy_schema, name, term.text, distance=term.distance
        )
        alternatives.append((tantivy.Occur.Should, fuzzy))
    alternatives += [(tantivy.Occur.Should, query) for query in _loose(schema, searched, term)]
    if len(alternatives) == 1:
        return exact
    return tantivy.Query.boolean_query(alternatives)


def _matching_term(
    schema: KindSchema, searched: SearchedField, term: QueryTerm
) -> list[tantivy.Query]:
    name, text = searched.field.name, term.text
    within = (
        tantivy.Query.fuzzy_term_query(schema.tantivy_schema, name, text, distance=term.distance)
        if term.distance
        else tantivy.Query.term_query(schema.tantivy_schema, name, text)
    )
    return [within, *_loose(schema, searched, term)]


def _loose(schema: KindSchema, searched: SearchedField, term: QueryTerm) -> list[tantivy.Query]:
    """The other indexed words the term matches: words it begins, pairs it is half of."""
    name, text = searched.field.name, term.text
    loose: list[tantivy.Query] = []
    if term.begins(searched.prefix):
        loose.append(
            tantivy.Query.fuzzy_term_query(
                schema.tantivy_schema, name, text, distance=0, prefix=True
            )
        )
    if term.halves:
        pattern = f"{re.escape(text)}.|.{re.escape(text)}"
        loose.append(tantivy.Query.regex_query(schema.tantivy_schema, name, pattern))
    return loose
