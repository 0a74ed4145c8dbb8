"""The CRM's search text as tantivy queries: typo-tolerant, boosted full text.

Each query term matches a field exactly or within an edit distance chosen like OpenSearch's
``fuzziness: AUTO`` (0 for terms of 1-2 characters, 1 for 3-5, 2 beyond; always 0 when the
request turns ``fuzzy`` off). With ``prefix``, the last term also matches the beginning
of a word in the fields that allow it (names, titles). A term matches a document through
its best field, weighted by the field's boost, plus a little for other matching fields
(like OpenSearch's ``best_fields`` with a tie breaker); the terms add up, so a document
matching more terms, or matching them exactly, scores higher. Tombstones never match.

>>> terms = query_terms("Photgraphy mou", fuzzy=True, prefix=True)
>>> [(t.text, t.distance, t.prefix) for t in terms]
[('photgraphy', 2, False), ('mou', 1, True)]
>>> images = kind_schema(DocumentKind.IMAGES)
>>> query = live(images, full_text(images, terms, searched_fields(images, SearchRequest())))
"""

from __future__ import annotations

from dataclasses import dataclass

import tantivy

from infrastructure.embedded.schema import DELETED, FieldRole, IndexedField, KindSchema
from projections.query import SearchRequest, fuzziness

# Mirrors tantivy's "default" tokenizer, which indexes the text fields.
TEXT_ANALYZER = (
    tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
    .filter(tantivy.Filter.remove_long(40))
    .filter(tantivy.Filter.lowercase())
    .build()
)
# An exact match must outrank a near miss: the fuzzy query scores a constant 1.0 whatever
# the distance, the exact one scores by BM25 on top of it.
EXACT_BOOST = 2.0
# A match in a second field adds a little to the best field's score.
TIE_BREAKER = 0.3


@dataclass(frozen=True, slots=True)
class QueryTerm:
    text: str
    distance: int  # the edit distance still counted as a match
    prefix: bool = False  # also matches as the beginning of a word, in prefix fields


@dataclass(frozen=True, slots=True)
class SearchedField:
    field: IndexedField
    boost: float
    prefix: bool


def query_terms(text: str, *, fuzzy: bool = True, prefix: bool = False) -> list[QueryTerm]:
    """The distinct analyzed terms of the search text, in order."""
    words = list(dict.fromkeys(TEXT_ANALYZER.analyze(text)))
    return [
        QueryTerm(word, fuzziness(word) if fuzzy else 0, prefix and i == len(words) - 1)
        for i, word in enumerate(words)
    ]


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
    schema: KindSchema, terms: list[QueryTerm], fields: list[SearchedField]
) -> tantivy.Query:
    """Documents matching any term in any of the fields; nothing at all without terms."""
    if not terms or not fields:
        return tantivy.Query.empty_query()
    per_term = [
        tantivy.Query.disjunction_max_query(
            [_weighted(_term_in_field(schema, field, term), field.boost) for field in fields],
            tie_breaker=TIE_BREAKER,
        )
        for term in terms
    ]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, query) for query in per_term])


def any_term(
    schema: KindSchema, terms: list[QueryTerm], fields: list[SearchedField]
) -> tantivy.Query:
    """The documents `full_text` matches, without its scoring: cheaper to count and facet."""
    if not terms or not fields:
        return tantivy.Query.empty_query()
    alternatives = [
        (tantivy.Occur.Should, query)
        for term in terms
        for field in fields
        for query in _matching_term(schema, field, term)
    ]
    return tantivy.Query.boolean_query(alternatives)


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
    if term.prefix and searched.prefix:
        beginning = tantivy.Query.fuzzy_term_query(
            schema.tantivy_schema, name, term.text, distance=0, prefix=True
        )
        alternatives.append((tantivy.Occur.Should, beginning))
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
    if not (term.prefix and searched.prefix):
        return [within]
    beginning = tantivy.Query.fuzzy_term_query(
        schema.tantivy_schema, name, text, distance=0, prefix=True
    )
    return [within, beginning]
