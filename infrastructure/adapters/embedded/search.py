"""Answering the CRM's requests from one physical index: pages, exports and counts.

A request matches the live documents that satisfy its filter and, with text, match it.
Hits come by relevance (with text and no sort), else by the sort keys then the id (see
`ordering`); relevance ties keep tantivy's order, which is stable for one commit. A page
follows ``offset`` hits or a ``search_after`` cursor: for field orders the cursor holds the
last hit's sort values and the next page is a range search after them, however deep; for
relevance it holds the position reached. Highlights and facets come with the page.

With text, a search first requires every word; when that finds nothing it answers, counts
and facets again by the looser rule (`projections.query.matching`): a search that finds
something costs no more than before.

An export (``every_document``) reads every match in chunks from one searcher, so it sees a
single commit throughout, then orders them like a page would; it carries no highlights.

>>> page = search(users_index, SearchRequest(text="ada", size=10))
>>> page.total, page.hits[0].id
(1, 'u-1')
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, cast

import tantivy

from infrastructure.adapters.embedded.codec import stored_body, stored_id
from infrastructure.adapters.embedded.facets import facet_results
from infrastructure.adapters.embedded.filters import compile_filter
from infrastructure.adapters.embedded.ordering import (
    OrderKey,
    after,
    both,
    sort_keys,
    sort_values,
    top,
)
from infrastructure.adapters.embedded.physical import PhysicalIndex
from infrastructure.adapters.embedded.queries import (
    full_text,
    live,
    matching_terms,
    request_terms,
    searched_fields,
)
from infrastructure.adapters.embedded.schema import DELETED, KindSchema
from projections.query import (
    QueryError,
    SearchHit,
    SearchPage,
    SearchRequest,
    WordRule,
    answer,
    decode_cursor,
    encode_cursor,
    relevance_cursor,
    relevance_position,
)
from projections.query.highlighting import HighlightedField, Tags, TermMarker, highlight

# Matches collected per round of an export; bounds the collector's memory, not the result.
EXPORT_CHUNK = 10_000

# Tantivy releases the GIL while it searches: facets (and totals) are counted on another
# thread while the page is collected and highlighted, so on two cores a faceted search
# takes about as long as the slower of the two.
_ALONGSIDE = ThreadPoolExecutor(max_workers=2, thread_name_prefix="streamfold-facets")


def search(index: PhysicalIndex, request: SearchRequest) -> SearchPage:
    """The page (or, for an export, every match) of live documents matching the request."""
    schema, searcher = index.schema, index.searcher()
    page, rule = answer(
        request, lambda rule: _answer(searcher, schema, request, rule), lambda page: page.total
    )
    page.matched = rule
    return page


def _answer(
    searcher: tantivy.Searcher, schema: KindSchema, request: SearchRequest, rule: WordRule
) -> SearchPage:
    query = matching(schema, request, rule=rule)
    if request.every_document:
        return _export(searcher, schema, query, request)
    unscored = matching(schema, request, scored=False, rule=rule)
    facets = _ALONGSIDE.submit(facet_results, searcher, schema, unscored, request.facets)
    if request.ranked:
        page = _by_relevance(searcher, query, request)
    else:
        counting = _ALONGSIDE.submit(_count_matching, searcher, schema, unscored, request)
        page = _by_keys(searcher, schema, query, request, counting)
    hits = [_hit(searcher.doc(address), score) for score, address in page.found]
    if request.highlight is not None and request.has_text and hits:
        _add_highlights(schema, request, hits)
    return SearchPage(
        total=page.total,
        hits=hits,
        facets=facets.result(),
        next_cursor=page.cursor(schema, request, hits),
    )


def count(index: PhysicalIndex, request: SearchRequest) -> int:
    """The exact number of live documents matching the request (by the rule that answers)."""
    total, _ = _counted(index.searcher(), index.schema, request)
    return total


def _counted(
    searcher: tantivy.Searcher, schema: KindSchema, request: SearchRequest
) -> tuple[int, WordRule | None]:
    """How many documents match, by the first rule that finds any."""

    def attempt(rule: WordRule) -> int:
        unscored = matching(schema, request, scored=False, rule=rule)
        return _count_matching(searcher, schema, unscored, request)

    return answer(request, attempt, lambda total: total)


def matching(
    schema: KindSchema,
    request: SearchRequest,
    scored: bool = True,
    rule: WordRule | None = WordRule.ALL_WORDS,
) -> tantivy.Query:
    """The live documents matching the request's text and filter (by relevance if scored)."""
    parts: list[tantivy.Query] = []
    if request.has_text:
        terms, fields = request_terms(request), searched_fields(schema, request)
        rule = rule or WordRule.ALL_WORDS
        compile_text = full_text if scored else matching_terms
        parts.append(compile_text(schema, terms, fields, rule))
    if request.filter is not None:
        # Scores nothing: a filter never changes relevance.
        parts.append(tantivy.Query.const_score_query(compile_filter(schema, request.filter), 0.0))
    if not parts:
        return live(schema, tantivy.Query.all_query())
    return live(schema, parts[0] if len(parts) == 1 else both(*parts))


class _Found:
    """The addresses of one page, its total, and how to continue after it."""

    def __init__(
        self,
        found: list[tuple[float | None, tantivy.DocAddress]],
        total: int,
        keys: list[OrderKey] | None = None,
        position: int = 0,
    ) -> None:
        self.found = found
        self.total = total
        self._keys = keys
        self._position = position  # for relevance: hits before the next page

    def cursor(
        self, schema: KindSchema, request: SearchRequest, hits: list[SearchHit]
    ) -> str | None:
        if not hits or len(hits) < request.size:
            return None
        last = hits[-1]
        if self._keys is None:
            if self._position >= self.total:
                return None
            return relevance_cursor(request, last.score, last.id, self._position)
        return encode_cursor(request, sort_values(schema, self._keys, last.id, last.source))


def _by_relevance(
    searcher: tantivy.Searcher, query: tantivy.Query, request: SearchRequest
) -> _Found:
    position = request.offset
    if request.search_after is not None:
        position = relevance_position(request, request.search_after)
    if request.size == 0:  # a count with facets: tantivy refuses a limit of 0
        total = _count_of(searcher.search(query, limit=1, count=True))
        return _Found([], total, position=position)
    result = searcher.search(query, limit=request.size, offset=position, count=True)
    found: list[tuple[float | None, tantivy.DocAddress]] = [
        (float(score), address) for score, address in result.hits
    ]
    return _Found(found, _count_of(result), position=position + len(found))


def _by_keys(
    searcher: tantivy.Searcher,
    schema: KindSchema,
    query: tantivy.Query,
    request: SearchRequest,
    counting: Future[int],
) -> _Found:
    keys = sort_keys(schema, request.sort)
    if request.search_after is not None:
        values = decode_cursor(request, request.search_after)
        if len(values) != len(keys):
            raise QueryError.single("search_after", "the cursor does not fit this sort")
        later = both(query, after(schema, keys, values))
        addresses = top(searcher, schema, later, keys, request.size)
    else:
        addresses = top(searcher, schema, query, keys, request.offset + request.size)
        addresses = addresses[request.offset :]
    return _Found([(None, address) for address in addresses], counting.result(), keys)


def _add_highlights(schema: KindSchema, request: SearchRequest, hits: list[SearchHit]) -> None:
    assert request.highlight is not None
    wanted = set(request.highlight.fields)
    fields = [
        HighlightedField(f.field.source, f.prefix)
        for f in searched_fields(schema, request)
        if not wanted or f.field.source in wanted
    ]
    marker = TermMarker(request_terms(request))
    tags = Tags(request.highlight.pre_tag, request.highlight.post_tag)
    for hit in hits:
        hit.highlight = highlight(hit.source, fields, marker, tags)


def _export(
    searcher: tantivy.Searcher,
    schema: KindSchema,
    query: tantivy.Query,
    request: SearchRequest,
) -> SearchPage:
    # Ordering by a fast field costs far more per hit than ordering by score, so the chunks
    # are read in score order (ties by document address) and sorted here.
    total = _total(searcher, query)
    addresses: list[tuple[float, tantivy.DocAddress]] = []
    for offset in range(0, total, EXPORT_CHUNK):
        result = searcher.search(query, limit=EXPORT_CHUNK, offset=offset, count=False)
        addresses += result.hits
    ranked = request.ranked
    hits = [_hit(searcher.doc(address), score if ranked else None) for score, address in addresses]
    if ranked:
        hits.sort(key=lambda hit: (-(hit.score or 0.0), hit.id))
    else:
        _sort_by_keys(hits, schema, sort_keys(schema, request.sort))
    return SearchPage(total=len(hits), hits=hits)


def _sort_by_keys(hits: list[SearchHit], schema: KindSchema, keys: list[OrderKey]) -> None:
    values = {hit.id: sort_values(schema, keys, hit.id, hit.source) for hit in hits}
    # Stable sorts from the last key to the first; hits without a value go last either way.
    for position in reversed(range(len(keys))):
        descending = keys[position].descending

        def value_of(
            hit: SearchHit, position: int = position, descending: bool = descending
        ) -> Any:
            value = values[hit.id][position]
            return ((value is None) != descending, value)

        hits.sort(key=value_of, reverse=descending)


def _count_matching(
    searcher: tantivy.Searcher, schema: KindSchema, query: tantivy.Query, request: SearchRequest
) -> int:
    if not request.has_text and request.filter is None:
        return _every_live(searcher, schema)
    return _total(searcher, query)


def _every_live(searcher: tantivy.Searcher, schema: KindSchema) -> int:
    # Counting a million matches costs milliseconds; the live documents are all the
    # documents but the (few) tombstones.
    tombstones = tantivy.Query.term_query(schema.tantivy_schema, DELETED, True)
    return int(searcher.num_docs) - _total(searcher, tombstones)


def _total(searcher: tantivy.Searcher, query: tantivy.Query) -> int:
    return _count_of(searcher.search(query, limit=1, count=True))


def _count_of(result: tantivy.SearchResult) -> int:
    # The result carries the count when asked for one; tantivy's type stubs omit it.
    return int(cast(Any, result).count)


def _hit(stored: tantivy.Document, score: float | None) -> SearchHit:
    return SearchHit(id=stored_id(stored), score=score, source=stored_body(stored))
