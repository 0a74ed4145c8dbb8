"""What a search returns: the total, one page of hits, facets and the next page's cursor."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from projections.query.facets import FacetResult
from projections.query.matching import WordRule


class SearchHit(BaseModel):
    id: str
    score: float | None  # None when hits are not ordered by relevance
    source: dict[str, Any]  # the document
    highlight: dict[str, list[str]] = Field(default_factory=dict)  # per field (dotted path)


class SearchPage(BaseModel):
    total: int  # every document matching the text and filter, whatever the page
    hits: list[SearchHit]
    facets: dict[str, FacetResult] = Field(default_factory=dict)
    next_cursor: str | None = None  # pass as search_after for the next page; None: last page
    # Which words the hits had to match: "all_words", or "some_words" when no document had
    # them all; None without text.
    matched: WordRule | None = None
