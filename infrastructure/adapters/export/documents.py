"""The current documents as Arrow tables, read from the live projection's rendered documents.

The projection keeps every document it rendered, with its version, in the event-store
database (the outbox of ADR 0004); that is the source of the export, so exporting needs
no search backend. A document's version only grows, which is what makes an incremental
export possible: the documents to rewrite are those above the version exported last.
Deleted documents are kept there as a version without a body; they leave the export.

Each kind is spread over ``BUCKETS`` files by a stable hash of the id, so an incremental
export rewrites only the files holding documents that changed.

>>> outbox = DocumentOutbox(event_store)
>>> generation = outbox.live_generation()
>>> for page in outbox.pages(DocumentKind.USERS, generation, after=0, until=outbox.head(1)):
...     page.table.num_rows, page.deleted
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from infrastructure.adapters.eventstore.rendered_documents import RenderedDocuments
from infrastructure.adapters.eventstore.store import EventStore
from infrastructure.adapters.export.columns import cast_to, read_json_rows
from infrastructure.adapters.export.schema import BUCKETS, DOCUMENTS
from projections.documents import DocumentKind

ID_COLUMNS = {DocumentKind.USERS: "user_id", DocumentKind.IMAGES: "image_id"}


def bucket_of(doc_id: str) -> int:
    """The file a document lives in: stable across runs, machines and Python versions."""
    return zlib.crc32(doc_id.encode("utf-8")) % BUCKETS


@dataclass(frozen=True)
class DocumentPage:
    table: pa.Table  # documents with a body, in the kind's layout
    buckets: list[int]  # the bucket of each row of ``table``
    changed: list[str]  # every id of the page, deleted ones included
    deleted: int


class DocumentOutbox:
    def __init__(self, store: EventStore, page_size: int = 20_000) -> None:
        self._rendered = RenderedDocuments(store)
        self._page_size = page_size

    def live_generation(self) -> int:
        return self._rendered.live_generation()

    def head(self, generation: int) -> int:
        """The highest version of any rendered document of the generation (0 if none)."""
        return self._rendered.head(generation)

    def pages(
        self, kind: DocumentKind, generation: int, after: int, until: int
    ) -> Iterator[DocumentPage]:
        """Documents whose version is in ``(after, until]``, in pages ordered by id."""
        last_id = ""
        while True:
            rows = self._rendered.page(kind, generation, last_id, (after, until), self._page_size)
            if not rows:
                return
            yield _page(kind, rows)
            last_id = rows[-1]["doc_id"]


def _page(kind: DocumentKind, rows: Sequence[Any]) -> DocumentPage:
    layout = DOCUMENTS[kind]
    live = [row for row in rows if row["body"] is not None]
    bodies = [row["body"].encode("utf-8") for row in live]
    raw = read_json_rows(
        bodies, layout.raw_schema.remove(layout.raw_schema.get_field_index("version"))
    )
    raw = raw.append_column("version", pa.array([int(row["version"]) for row in live], pa.int64()))
    return DocumentPage(
        table=cast_to(raw, layout.schema),
        buckets=[bucket_of(row["doc_id"]) for row in live],
        changed=[row["doc_id"] for row in rows],
        deleted=len(rows) - len(live),
    )
