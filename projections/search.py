"""The CRM's entry point for search and count queries, whatever the backend."""

from __future__ import annotations

from projections.documents import DocumentKind
from projections.ports import SearchIndex
from projections.query import SearchPage, SearchRequest


class SearchService:
    """Search and count documents of one kind.

    >>> service = SearchService(index)
    >>> service.search("images", SearchRequest(text="mountain sunset")).total
    12
    >>> service.count("users", SearchRequest(text="anna"))
    3
    """

    def __init__(self, index: SearchIndex) -> None:
        self._index = index

    def search(self, kind: DocumentKind | str, request: SearchRequest) -> SearchPage:
        return self._index.search(DocumentKind(kind), request)

    def count(self, kind: DocumentKind | str, request: SearchRequest | None = None) -> int:
        return self._index.count(DocumentKind(kind), request or SearchRequest())
