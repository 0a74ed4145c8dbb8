"""The documents a projection generation rendered, read by version for the export.

The projection keeps every document it rendered, with its version, in the event-store
database (the outbox of ADR 0004); a document's version only grows, so the documents to
export again are those above the version exported last.

>>> rendered = RenderedDocuments(event_store)
>>> generation = rendered.live_generation()
>>> rendered.page(DocumentKind.USERS, generation, after_id="", versions=(0, 120), limit=2)
[{'doc_id': 'u-1', 'version': 100, 'body': '{...}'}, ...]
"""

from __future__ import annotations

from typing import Any

from infrastructure.adapters.eventstore.dialects import dialect_for
from infrastructure.adapters.eventstore.generations import GenerationRegistry, for_generation
from infrastructure.adapters.eventstore.store import EventStore
from projections.documents import DocumentKind


class RenderedDocuments:
    def __init__(self, store: EventStore) -> None:
        self._dialect = dialect_for(store)
        self._registry = GenerationRegistry(self._dialect)

    def live_generation(self) -> int:
        with self._dialect.transaction() as cursor:
            return self._registry.live_number(cursor)

    def head(self, generation: int) -> int:
        """The highest version of any rendered document of the generation (0 if none)."""
        rows = self._query(
            generation, "SELECT MAX(version) AS version FROM streamfold_documents", ()
        )
        return int(rows[0]["version"] or 0)

    def page(
        self,
        kind: DocumentKind,
        generation: int,
        after_id: str,
        versions: tuple[int, int],
        limit: int,
    ) -> list[Any]:
        """Rows (doc_id, version, body) after ``after_id`` whose version is in ``(low, high]``;
        a deleted document has no body."""
        low, high = versions
        return self._query(
            generation,
            "SELECT doc_id, version, body FROM streamfold_documents"
            " WHERE kind = ? AND doc_id > ? AND version > ? AND version <= ?"
            " ORDER BY doc_id LIMIT ?",
            (kind.value, after_id, low, high, limit),
        )

    def _query(self, generation: int, statement: str, params: tuple[Any, ...]) -> list[Any]:
        with self._dialect.transaction() as cursor:
            cursor.execute(self._dialect.sql(for_generation(statement, generation)), params)
            return list(cursor.fetchall())
