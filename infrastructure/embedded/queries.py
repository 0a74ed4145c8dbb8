"""The CRM's search text as tantivy queries: typo-tolerant full text over the text fields.

Each query term matches a field exactly or within an edit distance chosen like OpenSearch's
``fuzziness: AUTO`` (0 for terms of 1-2 characters, 1 for 3-5, 2 beyond). A term matches a
document through its best field, and the terms add up, so a document matching more terms,
or matching them exactly, scores higher. Tombstones never match.

>>> terms = query_terms("Photgraphy travel")
>>> [(t.text, t.distance) for t in terms]
[('photgraphy', 2), ('travel', 2)]
>>> images = kind_schema(DocumentKind.IMAGES)
>>> query = live(images, full_text(images, terms))
"""

from __future__ import annotations

from dataclasses import dataclass

import tantivy

from infrastructure.embedded.schema import DELETED, KindSchema

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


@dataclass(frozen=True, slots=True)
class QueryTerm:
    text: str
    distance: int  # the edit distance still counted as a match


def fuzziness(term: str) -> int:
    """The edit distance allowed for a term, like OpenSearch's ``AUTO``."""
    if len(term) <= 2:
        return 0
    return 1 if len(term) <= 5 else 2


def query_terms(text: str) -> list[QueryTerm]:
    """The distinct analyzed terms of the search text, in order."""
    terms = dict.fromkeys(TEXT_ANALYZER.analyze(text))
    return [QueryTerm(term, fuzziness(term)) for term in terms]


def full_text(schema: KindSchema, terms: list[QueryTerm]) -> tantivy.Query:
    """Documents matching any term in any text field; nothing at all without terms."""
    if not terms:
        return tantivy.Query.empty_query()
    per_term = [
        tantivy.Query.disjunction_max_query(
            [_term_in_field(schema, field.name, term) for field in schema.text_fields]
        )
        for term in terms
    ]
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, query) for query in per_term])


def every_live_document(schema: KindSchema) -> tantivy.Query:
    return live(schema, tantivy.Query.all_query())


def live(schema: KindSchema, query: tantivy.Query) -> tantivy.Query:
    """The query restricted to live documents (tombstones excluded)."""
    tombstones = tantivy.Query.term_query(schema.tantivy_schema, DELETED, True)
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, query), (tantivy.Occur.MustNot, tombstones)]
    )


def _term_in_field(schema: KindSchema, field: str, term: QueryTerm) -> tantivy.Query:
    exact = tantivy.Query.term_query(schema.tantivy_schema, field, term.text)
    if term.distance == 0:
        return exact
    fuzzy = tantivy.Query.fuzzy_term_query(
        schema.tantivy_schema, field, term.text, distance=term.distance
    )
    return tantivy.Query.boolean_query(
        [
            (tantivy.Occur.Should, tantivy.Query.boost_query(exact, EXACT_BOOST)),
            (tantivy.Occur.Should, fuzzy),
        ]
    )
