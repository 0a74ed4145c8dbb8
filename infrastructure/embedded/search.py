"""Answering the CRM's requests from one physical index: pages, exports and counts.

Without search text every live document matches, in id order, without a score. With text,
hits come by relevance with highlights. An export (``every_document``) reads every match
in chunks from one searcher, so it sees a single commit throughout, then orders them
(by id, or by score then id) so that repeated exports agree; it carries no highlights.

>>> page = search(users_index, SearchRequest(text="ada", size=10))
>>> page.total, page.hits[0].id
(1, 'u-1')
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import tantivy

from infrastructure.embedded.codec import stored_body, stored_id
from infrastructure.embedded.highlight import TermMarker, highlight
from infrastructure.embedded.physical import PhysicalIndex
from infrastructure.embedded.queries import (
    QueryTerm,
    every_live_document,
    full_text,
    live,
    query_terms,
)
from infrastructure.embedded.schema import ID, KindSchema
from projections.query import SearchHit, SearchPage, SearchRequest

# Matches collected per round of an export; bounds the collector's memory, not the result.
EXPORT_CHUNK = 10_000


@dataclass(frozen=True, slots=True)
class _Match:
    query: tantivy.Query
    terms: list[QueryTerm]
    ranked: bool  # by relevance; otherwise every live document, by id


def search(index: PhysicalIndex, request: SearchRequest) -> SearchPage:
    """The page (or, for an export, every match) of live documents matching the request."""
    match = _match(index.schema, request.text)
    searcher = index.searcher()
    if request.every_document:
        return _export(searcher, match)
    return _page(searcher, index.schema, match, request.size, request.offset)


def count(index: PhysicalIndex, request: SearchRequest) -> int:
    """The exact number of live documents matching the request."""
    match = _match(index.schema, request.text)
    return _total(index.searcher(), match.query)


def _match(schema: KindSchema, text: str) -> _Match:
    if not text.strip():
        return _Match(every_live_document(schema), [], ranked=False)
    terms = query_terms(text)
    return _Match(live(schema, full_text(schema, terms)), terms, ranked=True)


def _total(searcher: tantivy.Searcher, query: tantivy.Query) -> int:
    return _count_of(searcher.search(query, limit=1, count=True))


def _count_of(result: tantivy.SearchResult) -> int:
    # The result carries the count when asked for one; tantivy's type stubs omit it.
    return int(cast(Any, result).count)


def _page(
    searcher: tantivy.Searcher, schema: KindSchema, match: _Match, size: int, offset: int
) -> SearchPage:
    if match.ranked:
        result = searcher.search(match.query, limit=size, offset=offset, count=True)
        highlighter = _highlighter(schema, TermMarker(match.terms))
        hits = [_hit(searcher.doc(address), score, highlighter) for score, address in result.hits]
    else:
        result = searcher.search(
            match.query,
            limit=size,
            offset=offset,
            count=True,
            order_by_field=ID,
            order=tantivy.Order.Asc,
        )
        hits = [_hit(searcher.doc(address), None) for _, address in result.hits]
    return SearchPage(total=_count_of(result), hits=hits)


def _export(searcher: tantivy.Searcher, match: _Match) -> SearchPage:
    # Ordering by the id fast field costs far more per hit than ordering by score, so the
    # chunks are read in score order (ties by document address) and sorted here.
    total = _total(searcher, match.query)
    addresses: list[tuple[float, tantivy.DocAddress]] = []
    for offset in range(0, total, EXPORT_CHUNK):
        result = searcher.search(match.query, limit=EXPORT_CHUNK, offset=offset, count=False)
        addresses += result.hits
    hits = [
        _hit(searcher.doc(address), score if match.ranked else None) for score, address in addresses
    ]
    if match.ranked:
        hits.sort(key=lambda hit: (-(hit.score or 0.0), hit.id))
    else:
        hits.sort(key=lambda hit: hit.id)
    return SearchPage(total=len(hits), hits=hits)


Highlighter = Callable[[dict[str, Any]], dict[str, list[str]]]


def _highlighter(schema: KindSchema, marker: TermMarker) -> Highlighter:
    return lambda body: highlight(body, schema.text_fields, marker)


def _hit(
    stored: tantivy.Document, score: float | None, highlighter: Highlighter | None = None
) -> SearchHit:
    body = stored_body(stored)
    return SearchHit(
        id=stored_id(stored),
        score=score,
        source=body,
        highlight=highlighter(body) if highlighter else {},
    )
