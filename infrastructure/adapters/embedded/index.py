"""The embedded search backend: tantivy indexes in a local directory, behind aliases.

Layout of the directory::

    aliases.json               {"streamfold-users": "streamfold-users-v1", ...}
    write.lock                 exclusive while the catalog changes, shared while writing
    streamfold-users-v1.lock   held by whoever checks versions, writes and commits there
    streamfold-users-v1/       one tantivy index per kind and schema version
    streamfold-images-v1/

See `locking` for the locks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from infrastructure.adapters.embedded.catalog import IndexCatalog
from infrastructure.adapters.embedded.codec import UnindexableDocument, decode, encode
from infrastructure.adapters.embedded.errors import unavailable_on_failure
from infrastructure.adapters.embedded.locking import directory_lock, index_lock
from infrastructure.adapters.embedded.physical import PhysicalIndex, VersionedDocument
from infrastructure.adapters.embedded.search import count, search
from projections.documents import DocumentChange, DocumentKind, newest_per_document
from projections.ports import DocumentFailure, IndexedDocument, SearchIndex, WriteOutcome
from projections.query import SearchPage, SearchRequest


class EmbeddedSearchIndex(SearchIndex):
    """User and image documents in tantivy indexes under ``directory``, created on first use.

    Safe to use from several threads and several processes on the same directory: writes
    to one physical index are serialized by its file lock (those to different indexes run
    at once), and every call sees the latest commit of any writer.

    >>> index = EmbeddedSearchIndex(Path(".streamfold/index"))
    >>> index.write([DocumentChange(DocumentKind.USERS, "u-1", 7, body)]).written
    1
    >>> index.search(DocumentKind.USERS, SearchRequest(text="ada")).hits[0].id
    'u-1'
    """

    def __init__(self, directory: Path, index_prefix: str = "streamfold") -> None:
        self._directory = Path(directory)
        self._catalog = IndexCatalog(self._directory, index_prefix)

    # -- aliases and physical indexes ---------------------------------------------------

    def alias_name(self, kind: DocumentKind) -> str:
        """The stable name reads and writes go through, e.g. ``streamfold-users``."""
        return self._catalog.alias_name(kind)

    def default_physical_name(self, kind: DocumentKind) -> str:
        """The physical index created on first use, e.g. ``streamfold-users-v1``."""
        return self._catalog.default_physical_name(kind)

    def alias_target(self, kind: DocumentKind) -> str | None:
        """The physical index the kind's alias points to (None before first use).

        >>> index.alias_target(DocumentKind.USERS)
        'streamfold-users-v1'
        """
        with unavailable_on_failure(self._directory, "read the aliases"):
            return self._catalog.alias_target(kind)

    def create_physical_index(self, kind: DocumentKind, name: str) -> None:
        """Create an empty physical index for the kind (nothing happens if it exists).

        >>> index.create_physical_index(DocumentKind.USERS, "streamfold-users-v2")
        """
        with unavailable_on_failure(self._directory, f"create index {name}"):
            self._catalog.create_physical_index(kind, name)

    def swap_alias(self, kind: DocumentKind, physical_name: str) -> str | None:
        """Point the kind's alias at an existing physical index; returns the previous one.

        >>> previous = index.swap_alias(DocumentKind.USERS, "streamfold-users-v2")
        >>> index.swap_alias(DocumentKind.USERS, previous)  # roll back
        'streamfold-users-v2'
        """
        with unavailable_on_failure(self._directory, f"point the alias at {physical_name}"):
            return self._catalog.swap_alias(kind, physical_name)

    # -- the SearchIndex port -----------------------------------------------------------

    def write(
        self,
        changes: Sequence[DocumentChange],
        into: Mapping[DocumentKind, str] | None = None,
    ) -> WriteOutcome:
        """Write the newest change of each document, unless the index holds a newer one.

        Changes older than another of the batch or than the index count as stale writes
        rejected; bodies that can never be indexed are reported in ``failed``. One commit
        per kind, under the directory lock; on return the commits are durable and searchable.
        """
        newest, stale = newest_per_document(changes)
        outcome = WriteOutcome(stale_writes_rejected=stale)
        batches: dict[DocumentKind, list[VersionedDocument]] = defaultdict(list)
        for change in newest:
            try:
                json = encode(change)
            except UnindexableDocument as error:
                outcome.failed.append(DocumentFailure(change, str(error)))
                continue
            batches[change.kind].append(VersionedDocument(change.doc_id, change.version, json))
        if batches:
            self._write_encoded(batches, into, outcome)
        return outcome

    def _write_encoded(
        self,
        batches: Mapping[DocumentKind, list[VersionedDocument]],
        into: Mapping[DocumentKind, str] | None,
        outcome: WriteOutcome,
    ) -> None:
        with unavailable_on_failure(self._directory, "write"):
            self._catalog.ensure_ready()
            with (
                directory_lock(self._directory, shared=True),
                ThreadPoolExecutor(len(batches)) as writers,
            ):
                # The kinds live in separate tantivy indexes, each under its own lock: their
                # commits (which let go of the interpreter while tantivy serializes and syncs
                # segments) overlap, as do other processes' writes to the other kind.
                writes = [
                    (batch, writers.submit(self._write_locked, self._target(kind, into), batch))
                    for kind, batch in batches.items()
                ]
                for batch, write in writes:
                    written = write.result()
                    outcome.written += written
                    outcome.stale_writes_rejected += len(batch) - written

    def _write_locked(self, target: PhysicalIndex, batch: list[VersionedDocument]) -> int:
        with index_lock(self._directory, target.path.name):
            return target.write_newer(batch)

    def _target(self, kind: DocumentKind, into: Mapping[DocumentKind, str] | None) -> PhysicalIndex:
        if into and kind in into:
            return self._catalog.named(kind, into[kind])
        return self._catalog.behind_alias(kind)

    def get(self, kind: DocumentKind, doc_id: str) -> IndexedDocument | None:
        """The stored document, a tombstone (``body`` None) included, or None."""
        with unavailable_on_failure(self._directory, "read"):
            stored = self._catalog.resolve(kind).stored(doc_id)
            return None if stored is None else decode(kind, stored)

    def search(self, kind: DocumentKind, request: SearchRequest) -> SearchPage:
        """Live documents matching the request; see `infrastructure.adapters.embedded.search`."""
        with unavailable_on_failure(self._directory, "search"):
            return search(self._catalog.resolve(kind), request)

    def count(self, kind: DocumentKind, request: SearchRequest) -> int:
        """The exact number of live documents matching the request."""
        with unavailable_on_failure(self._directory, "count"):
            return count(self._catalog.resolve(kind), request)

    def close(self) -> None:
        """Let go of the opened indexes; a later call opens them again."""
        self._catalog.close()
