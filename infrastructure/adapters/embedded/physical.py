"""One physical tantivy index on disk: the documents of one kind in one schema version.

Readers pick up commits made by any process: `searcher` reloads when ``meta.json`` has
changed. Writers create a tantivy writer per commit and give it back (with its lock)
before returning, so that the next holder of the index's lock (`locking.index_lock`), in
this process or another, can take it.

>>> users = PhysicalIndex.create(Path("/data/index/streamfold-users-v1"), users_schema)
>>> with index_lock(Path("/data/index"), "streamfold-users-v1"):
...     users.write_newer([VersionedDocument("u-1", 7, encode(change))])
1
>>> users.stored("u-1").get_first("version")
7
"""

from __future__ import annotations

import threading
import time
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import NamedTuple

import tantivy

from infrastructure.adapters.embedded.codec import order_parts, stored_id, stored_version
from infrastructure.adapters.embedded.schema import ID, ID_ORDER, VERSION, KindSchema
from infrastructure.adapters.embedded.snapshots import WatchedFile

# Per commit, the writer's arena holds one batch (1-2 thousand documents, a few MB), so
# the whole batch becomes one segment. Tantivy wants at least 15 MB per indexing thread;
# batches took the same time with arenas from 15 to 128 MB.
WRITER_HEAP_BYTES = 64_000_000
# One indexing thread: each commit then produces a single segment. Two made a command's end
# no shorter: both of the machine's cores are busy then, each process writing one kind
# (docs/performance.md).
WRITER_THREADS = 1
_RELOAD_ATTEMPTS = 3


class VersionedDocument(NamedTuple):
    doc_id: str
    version: int
    json: str  # the tantivy document, see `codec.encode`


class PhysicalIndex:
    """A tantivy index directory holding the documents of one kind."""

    def __init__(self, path: Path, schema: KindSchema) -> None:
        self.path = path
        self.schema = schema
        self._index = tantivy.Index(schema.tantivy_schema, path=str(path), reuse=True)
        self._index.config_reader(reload_policy="manual")
        self._meta = WatchedFile(path / "meta.json")
        self._guard = threading.Lock()

    @classmethod
    def create(cls, path: Path, schema: KindSchema) -> PhysicalIndex:
        """Create the index, or open it if it exists; the caller holds the directory lock."""
        path.mkdir(parents=True, exist_ok=True)
        return cls(path, schema)

    @classmethod
    def exists(cls, path: Path) -> bool:
        return path.is_dir() and tantivy.Index.exists(str(path))

    def searcher(self) -> tantivy.Searcher:
        """A searcher over the newest commit, whichever process made it."""
        with self._guard:
            if self._meta.changed():
                self._reload()
            return self._index.searcher()

    def stored(self, doc_id: str) -> tantivy.Document | None:
        """The stored document with this id (live or tombstone), if any."""
        searcher = self.searcher()
        query = tantivy.Query.term_query(self.schema.tantivy_schema, ID, doc_id)
        hits = searcher.search(query, limit=1, count=False).hits
        return searcher.doc(hits[0][1]) if hits else None

    def write_newer(self, documents: Sequence[VersionedDocument]) -> int:
        """Write the documents newer than the stored ones; returns how many were written.

        A document whose id the index holds at the same or a higher version (a tombstone
        included) is stale and left out. The ids must be distinct, and the caller holds
        the index's lock (`locking.index_lock`) so that no other writer commits between the
        check and the write.
        """
        stored = self.versions(self.searcher(), [d.doc_id for d in documents])
        newer = [d for d in documents if stored.get(d.doc_id, -1) < d.version]
        if newer:
            self._replace(newer, stored.keys())
        return len(newer)

    def versions(self, searcher: tantivy.Searcher, doc_ids: Sequence[str]) -> dict[str, int]:
        """The stored version of each of these ids that the index holds, tombstones included."""
        if not doc_ids:
            return {}
        # Every write deletes an id before adding it back in the same commit, so the index
        # holds each id at most once and one hit per id is the most there can be.
        query = tantivy.Query.term_set_query(self.schema.tantivy_schema, ID, list(doc_ids))
        hits = searcher.search(query, limit=len(doc_ids), count=False).hits
        addresses = [address for _, address in hits]
        try:
            return _fast_versions(searcher, addresses, doc_ids)
        except ValueError:  # an index without these fast fields (an older schema)
            stored = (searcher.doc(address) for address in addresses)
            return {stored_id(document): stored_version(document) for document in stored}

    def _replace(self, documents: Sequence[VersionedDocument], stored: Collection[str]) -> None:
        # One commit for the whole batch: on return it is durable and the next searcher sees it.
        # Only ids the index holds are deleted first: each delete is looked up in every
        # segment at commit, and new documents (all of them in a rebuild) need none.
        writer = self._index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=WRITER_THREADS)
        try:
            for doc_id, _, json in documents:
                if doc_id in stored:
                    writer.delete_documents_by_term(ID, doc_id)
                writer.add_json(json)
            writer.commit()
        finally:
            # Releases tantivy's writer lock; merges finish here rather than being abandoned
            # by a writer that is dropped. Without a commit, the batch is simply discarded.
            writer.wait_merging_threads()
        with self._guard:
            self._meta.forget()  # the next searcher reloads, seeing this commit

    def _reload(self) -> None:
        # Another process's commit may delete segment files between our reading meta.json
        # and opening them; the next attempt reads the newer meta.json.
        for attempt in range(_RELOAD_ATTEMPTS):
            try:
                self._index.reload()
                return
            except ValueError:
                if attempt == _RELOAD_ATTEMPTS - 1:
                    self._meta.forget()
                    raise
                time.sleep(0.01 * (attempt + 1))


def _fast_versions(
    searcher: tantivy.Searcher, addresses: list[tantivy.DocAddress], doc_ids: Sequence[str]
) -> dict[str, int]:
    """The id and version of each hit from fast fields, without loading stored documents.

    A hit is one of ``doc_ids``: the one whose byte-order parts (its first 32 bytes) it
    holds, when no other id of ``doc_ids`` has the same parts. Ids that share their first
    32 bytes are read from the stored document, as is any hit whose parts match none.
    """
    named: dict[tuple[int, ...], str | None] = {}
    for doc_id in doc_ids:
        parts = order_parts(doc_id)
        named[parts] = None if parts in named else doc_id
    columns = [searcher.fast_field_values(name, addresses) for name in (VERSION, *ID_ORDER)]
    found: dict[str, int] = {}
    for address, version, *held in zip(addresses, *columns, strict=True):
        hit = named.get(tuple(held)) or stored_id(searcher.doc(address))
        found[hit] = int(version or 0)
    return found
