"""The CRM's entry point for search and count queries, whatever the backend."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from projections.documents import DocumentKind
from projections.ports import SearchIndex
from projections.query import QueryError, SearchPage, SearchRequest, checked
from projections.query.facets import with_unknown_owners


class SearchService:
    """Search and count documents of one kind; every request is checked first.

    Pass a `SearchRequest`, or its fields as keywords. Invalid requests raise `QueryError`
    (unknown fields, wrong values, empty ranges, a page over the limit, ...).

    >>> service = SearchService(index)
    >>> page = service.search("images", text="photgraphy montains", size=5,
    ...                       filter=Term(field="status", value="active"),
    ...                       facets={"tags": TermsFacet(field="tags")})
    >>> page.total, page.hits[0].highlight["title"]
    (12, ['<em>Photography</em> of <em>mountains</em> at dawn'])
    >>> service.count("users", filter=Range(field="lifetime_value_cents", gte=10_000))
    3
    """

    def __init__(self, index: SearchIndex) -> None:
        self._index = index

    def search(
        self, kind: DocumentKind | str, request: SearchRequest | None = None, **options: Any
    ) -> SearchPage:
        kind = DocumentKind(kind)
        asked = checked(kind, _request(request, options))
        page = self._index.search(kind, asked)
        facets = with_unknown_owners(asked.facets, page.facets, page.total)
        return page.model_copy(update={"facets": facets})

    def count(
        self, kind: DocumentKind | str, request: SearchRequest | None = None, **options: Any
    ) -> int:
        """The exact number of documents matching the text and filter (paging ignored)."""
        kind = DocumentKind(kind)
        return self._index.count(kind, checked(kind, _request(request, options)))


def _request(request: SearchRequest | None, options: dict[str, Any]) -> SearchRequest:
    if request is not None and options:
        raise TypeError("pass a SearchRequest or its fields as keywords, not both")
    if request is not None:
        return request
    try:
        return SearchRequest(**options)
    except ValidationError as error:
        raise QueryError.from_validation_error(error) from None
