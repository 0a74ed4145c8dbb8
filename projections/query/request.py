"""What the CRM asks for: one request model for search and count, for both kinds.

An empty ``text`` matches every document. With text, every word is looked for in the
searched fields (all of the kind's, or ``fields``) with the fields' boosts, tolerating
typos unless ``fuzzy`` is off; with ``prefix`` the last word also matches the beginning
of a word in names and titles (search as you type). ``filter`` narrows the matches
without changing relevance. Hits come by relevance (ties by id), by id without text, or
by ``sort``. Pages are ``size`` hits after ``offset`` hits, or after the ``search_after``
cursor of the previous page (``next_cursor``), which stays cheap however deep the page.
Which fields each kind allows is in `projections.query.fields`; `checked` enforces it.

>>> SearchRequest(
...     text="photgraphy montains",
...     filter=Term(field="status", value="active") & Range(field="like_count", gte=10),
...     sort=[SortKey(field="created_at", order="desc")],
...     facets={"tags": TermsFacet(field="tags")},
...     size=20,
... )
"""

from __future__ import annotations

from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    model_validator,
)

from projections.query.facets import MAX_FACETS, FacetSpec
from projections.query.filters import FilterType
from projections.query.limits import MAX_OFFSET, MAX_PAGE_SIZE, MAX_QUERY_LENGTH
from projections.query.sorting import MAX_SORT_KEYS, SortKey

MAX_BOOST = 100.0
MAX_TAG_LENGTH = 64


def _boosts_in_range(boosts: dict[str, float]) -> dict[str, float]:
    for field, boost in boosts.items():
        if not 0 < boost <= MAX_BOOST:
            raise ValueError(f"the boost of {field!r} must be above 0 and at most {MAX_BOOST:g}")
    return boosts


# One type for search and count, so a count never accepts a boost its search refuses.
Boosts = Annotated[dict[str, StrictFloat], AfterValidator(_boosts_in_range)]


class Highlight(BaseModel):
    """Fragments of the searched fields around the matched words, between these tags."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pre_tag: str = Field(default="<em>", max_length=MAX_TAG_LENGTH)
    post_tag: str = Field(default="</em>", max_length=MAX_TAG_LENGTH)
    fields: list[str] = Field(default_factory=list, max_length=20)  # empty: every searched one


class MatchRequest(BaseModel):
    """Which documents of a kind match: the part a search and a count share."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str = Field(default="", max_length=MAX_QUERY_LENGTH)
    fields: list[str] = Field(default_factory=list, max_length=20)
    boosts: Boosts = Field(default_factory=dict)
    fuzzy: StrictBool = True
    prefix: StrictBool = False
    filter: FilterType | None = None


class SearchRequest(MatchRequest):
    """A search over one kind of document: what matches, and which page of it."""

    sort: list[SortKey] = Field(default_factory=list, max_length=MAX_SORT_KEYS)
    size: StrictInt = Field(default=10, ge=0, le=MAX_PAGE_SIZE)
    offset: StrictInt = Field(default=0, ge=0, le=MAX_OFFSET)
    search_after: str | None = Field(default=None, max_length=4096)
    highlight: Highlight | None = Field(default_factory=Highlight)
    facets: dict[str, FacetSpec] = Field(default_factory=dict, max_length=MAX_FACETS)
    every_document: StrictBool = False  # unpaged: every match, for exports and checks

    @model_validator(mode="after")
    def _paging_is_consistent(self) -> SearchRequest:
        if self.search_after is not None and self.offset:
            raise ValueError("use either offset or search_after, not both")
        if self.every_document and self.search_after is not None:
            raise ValueError("every_document returns every match; it takes no search_after")
        return self

    @property
    def ranked(self) -> bool:
        """Whether hits come by relevance: there is text and no explicit sort."""
        return bool(self.text.strip()) and not self.sort

    @property
    def has_text(self) -> bool:
        return bool(self.text.strip())


class CountRequest(MatchRequest):
    """The matching part of a `SearchRequest`: what `count` needs, nothing more."""

    def as_search(self) -> SearchRequest:
        return SearchRequest(**self.model_dump(exclude_unset=True), size=0, highlight=None)
