"""The OpenSearch / Elasticsearch search backend behind the `SearchIndex` port.

Layout in the cluster, for the prefix ``streamfold``::

    index template  streamfold-users   -> streamfold-users-*   (settings, strict mappings)
    index template  streamfold-images  -> streamfold-images-*
    alias streamfold-users   -> streamfold-users-v1    (filtered: tombstones hidden)
    alias streamfold-images  -> streamfold-images-v1

Writes and queries go through the aliases, so that a rebuild can fill a new physical index
and swap the alias atomically. Everything is created on first use, or by `ensure_indices`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from opensearchpy import NotFoundError, OpenSearch, TransportError

from infrastructure.adapters.opensearch.client import connect, parse_url
from infrastructure.adapters.opensearch.errors import Retryable, unavailable
from infrastructure.adapters.opensearch.indices import IndexLayout, LayoutConflict
from infrastructure.adapters.opensearch.mappings import is_tombstone, kind_mapping
from infrastructure.adapters.opensearch.names import IndexNames
from infrastructure.adapters.opensearch.retry import (
    DEFAULT_BUDGET_SECONDS,
    RetryWindow,
    retry_transient,
)
from infrastructure.adapters.opensearch.writer import VersionedWriter
from infrastructure.settings import OpenSearchTarget
from projections.documents import DocumentChange, DocumentKind
from projections.ports import IndexedDocument, SearchIndex, WriteOutcome

if TYPE_CHECKING:  # searching loads the query model; a stream handler only writes
    from infrastructure.adapters.opensearch.search import Run
    from projections.query import SearchPage, SearchRequest

T = TypeVar("T")

_INDEX_NOT_FOUND = "index_not_found_exception"


class OpenSearchIndex(SearchIndex):
    """User and image documents in an OpenSearch (or Elasticsearch) cluster.

    Writes carry ``version_type=external`` (the higher version wins, a 409 counts as stale),
    deletes leave soft tombstones, and a write returns once its documents are durable:
    searchable too with ``target.refresh == "wait_for"``, else within the index's refresh
    interval, or at once after `make_searchable`.
    Transient failures (unreachable, 429, 5xx) are retried with exponential backoff and full
    jitter until ``deadline`` (a ``time.monotonic()`` value the caller may set, e.g. from a
    Lambda's remaining time), or for ``retry_budget`` seconds per call when it is None;
    then `SearchUnavailable` is raised.

    >>> index = OpenSearchIndex(OpenSearchTarget("https://search.example.com", "sigv4"))
    >>> index.deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - 5
    >>> index.write([DocumentChange(DocumentKind.USERS, "u-1", 7, body)]).written
    1
    >>> index.search(DocumentKind.USERS, SearchRequest(text="ada")).hits[0].id
    'u-1'
    """

    def __init__(
        self,
        target: OpenSearchTarget,
        index_prefix: str = "streamfold",
        client: OpenSearch | None = None,
        *,
        retry_budget: float = DEFAULT_BUDGET_SECONDS,
    ) -> None:
        if client is None:
            cluster = connect(target)
            client, self._url = cluster.client, cluster.url
        else:
            self._url = parse_url(target.url)[0].url
        self._client = client
        self._names = IndexNames(index_prefix)
        self._layout = IndexLayout(client, self._names)
        self._writer = VersionedWriter(
            client,
            self._names,
            self._ensure_ready,
            self._url,
            forget_ready=self._forget_ready,
            refresh=target.refresh,
        )
        self._refresh = target.refresh
        self._unrefreshed = False
        self._ready = False
        self._guard = threading.Lock()
        self.deadline: float | None = None
        self.retry_budget = retry_budget

    def __repr__(self) -> str:
        return f"OpenSearchIndex({self._url!r}, index_prefix={self._names.prefix!r})"

    # -- indices and aliases ------------------------------------------------------------

    def alias_name(self, kind: DocumentKind) -> str:
        """The stable name queries and writes go through, e.g. ``streamfold-users``."""
        return self._names.alias(kind)

    def default_physical_name(self, kind: DocumentKind) -> str:
        """The physical index created on first use, e.g. ``streamfold-users-v1``."""
        return self._names.physical(kind)

    def ensure_indices(self) -> None:
        """Write the index templates, and create each kind's index and alias if missing.

        Safe to repeat and to run from several processes at once.

        >>> index.ensure_indices()
        >>> index.alias_target(DocumentKind.USERS)
        'streamfold-users-v1'
        """
        self._run("create the indices")(
            lambda timeout: self._layout.ensure(timeout, write_templates=True)
        )
        self._ready = True

    def create_physical_index(self, kind: DocumentKind, name: str) -> None:
        """Create an empty physical index with the kind's mappings (no-op if it exists).

        >>> index.create_physical_index(DocumentKind.USERS, "streamfold-users-v2")
        """
        self._run(f"create index {name}")(
            lambda timeout: self._layout.create_physical(kind, name, timeout)
        )

    def alias_target(self, kind: DocumentKind) -> str | None:
        """The physical index the kind's alias points to (None before first use)."""
        return self._run("read the aliases")(
            lambda timeout: self._layout.alias_target(kind, timeout)
        )

    def swap_alias(self, kind: DocumentKind, physical_name: str) -> str | None:
        """Point the kind's alias at an existing physical index atomically; returns the previous.

        >>> previous = index.swap_alias(DocumentKind.USERS, "streamfold-users-v2")
        >>> index.swap_alias(DocumentKind.USERS, previous)  # roll back
        'streamfold-users-v2'
        """
        # Documents other processes wrote into the index (a rebuild's workers) may not
        # have been refreshed: the command's end refreshes it.
        self._unrefreshed = self._refresh != "wait_for"
        return self._run(f"point alias {self.alias_name(kind)} at {physical_name}")(
            lambda timeout: self._layout.swap_alias(kind, physical_name, timeout)
        )

    def index_definition(self, physical_name: str) -> dict[str, Any]:
        """The mappings and settings of a physical index, as the cluster reports them.

        >>> index.index_definition("streamfold-users-v1")["mappings"]["_meta"]
        {'kind': 'users', 'schema_version': 1, 'projection_version': 2}
        """

        def request(timeout: float) -> dict[str, Any]:
            mappings = self._client.indices.get_mapping(
                index=physical_name, request_timeout=timeout
            )
            settings = self._client.indices.get_settings(
                index=physical_name, request_timeout=timeout
            )
            return {
                "mappings": mappings[physical_name]["mappings"],
                "settings": settings[physical_name]["settings"],
            }

        return self._run(f"read the mapping of {physical_name}")(request)

    def extend_mapping(
        self, physical_name: str, properties: dict[str, Any], meta: dict[str, Any]
    ) -> None:
        """Add fields to a live index's mapping and replace its ``_meta`` (a migration).

        The cluster refuses the whole update if it would change an existing field.
        """
        body = {"properties": properties, "_meta": meta}
        self._run(f"update the mapping of {physical_name}")(
            lambda timeout: self._client.indices.put_mapping(
                index=physical_name, body=body, request_timeout=timeout
            )
        )

    # -- the SearchIndex port -----------------------------------------------------------

    def write(
        self,
        changes: Sequence[DocumentChange],
        into: Mapping[DocumentKind, str] | None = None,
    ) -> WriteOutcome:
        if not changes:
            return WriteOutcome()
        self._unrefreshed = self._refresh != "wait_for"
        return self._writer.write(changes, self._window(), into)

    def get(self, kind: DocumentKind, doc_id: str) -> IndexedDocument | None:
        alias = self.alias_name(kind)

        def request(timeout: float) -> Any:
            self._ensure_ready(timeout)
            try:
                return self._client.get(index=alias, id=doc_id, request_timeout=timeout)
            except NotFoundError as error:
                if error.error == _INDEX_NOT_FOUND:
                    raise
                return None

        found = self._run("read")(request)
        if not found or not found.get("found"):
            return None
        source: dict[str, Any] = found["_source"]
        body = None if is_tombstone(source) else source
        return IndexedDocument(kind, doc_id, int(found["_version"]), body)

    def search(self, kind: DocumentKind, request: SearchRequest) -> SearchPage:
        from infrastructure.adapters.opensearch.search import read_export, read_page

        run = self._run("search")
        run(self._ensure_ready)
        mapping, alias = kind_mapping(kind), self.alias_name(kind)
        if request.every_document:
            return read_export(self._client, alias, mapping, request, run)
        return read_page(self._client, alias, mapping, request, run)

    def count(self, kind: DocumentKind, request: SearchRequest) -> int:
        from infrastructure.adapters.opensearch.search import read_count

        run = self._run("count")
        run(self._ensure_ready)
        return read_count(self._client, self.alias_name(kind), kind_mapping(kind), request, run)

    def set_deadline(self, deadline: float | None) -> None:
        self.deadline = deadline

    def make_searchable(self) -> None:
        """Refresh the kinds' indices (behind the aliases or not yet) when writes did not
        wait for it: one request."""
        if not self._unrefreshed:
            return
        aliases = ",".join(f"{self.alias_name(kind)}*" for kind in DocumentKind)
        self._run("refresh")(
            lambda timeout: self._client.indices.refresh(
                index=aliases, ignore_unavailable=True, request_timeout=timeout
            )
        )
        self._unrefreshed = False

    def prepare(self) -> None:
        self.ensure_indices()

    def close(self) -> None:
        self._client.close()
        self._forget_ready()

    # -- internals ----------------------------------------------------------------------

    def _window(self) -> RetryWindow:
        if self.deadline is not None:
            return RetryWindow(self.deadline)
        return RetryWindow(time.monotonic() + self.retry_budget, hard=False)

    def _run(self, action: str) -> Run:
        """Runs requests with retries, reporting failures as `SearchUnavailable`."""

        def run(request: Callable[[float], T]) -> T:
            try:
                return retry_transient(request, self._window())
            except (TransportError, Retryable, LayoutConflict) as error:
                if isinstance(error, NotFoundError) and error.error == _INDEX_NOT_FOUND:
                    self._forget_ready()  # recreated at the next call
                raise unavailable(self._url, action, error) from None

        return run

    def _ensure_ready(self, timeout: float) -> None:
        if self._ready:
            return
        with self._guard:
            if not self._ready:
                self._layout.ensure(timeout)
                self._ready = True

    def _forget_ready(self) -> None:
        self._ready = False
