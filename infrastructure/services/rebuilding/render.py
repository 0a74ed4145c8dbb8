"""Render one slice's documents from a fully folded generation, into its indices and outbox.

Every document is rendered once, from the state at the slice's target position, by the
projector's own rendering. Documents of the kinds being rebuilt are written into the new
physical indices; the others are taken as indexed already (their projection did not
change). Each page is then stored in the generation's outbox as synced, which is what
lets the generation continue event by event afterwards. Pages go one after the other, on
one thread (see `fold` for what a second one cost).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from infrastructure.adapters.eventstore.generation_tables import GenerationTables
from infrastructure.services.rebuilding.allocator import release_freed_memory
from infrastructure.services.rebuilding.slices import IdRange
from projections.documents import VERSION_STEP, DocumentChange, DocumentKind
from projections.projector import DocumentProjector
from projections.sync import SearchSync

RenderProgress = Callable[[int, int], None]  # documents rendered so far, and to render


class SliceRender:
    """Renders and writes every document of one slice; returns how many were written.

    >>> SliceRender(projector, tables, sync, into).run(slice_ids, target=120482)
    4211
    """

    def __init__(
        self,
        projector: DocumentProjector,
        tables: GenerationTables,
        sync: SearchSync,
        into: Mapping[DocumentKind, str],
        page: int = 2000,
        progress: RenderProgress | None = None,
    ) -> None:
        self._tables = tables
        self._sync = sync  # writing into the generation's indices (``into``)
        self._into = into
        self._page = page
        self._progress = progress or (lambda done, total: None)
        self._projector = projector
        self.dead_lettered = 0  # documents the backend refused for good (dead-lettered)

    def run(self, ids: IdRange, target: int) -> int:
        rendered = written = 0
        bounds = (ids.low, ids.high)
        total = sum(self._tables.document_count(kind, bounds) for kind in DocumentKind)
        version = target * VERSION_STEP
        for kind in DocumentKind:
            after = ""
            while page := self._tables.document_ids(kind, bounds, after, self._page):
                after = page[-1][0]
                written += self._store(self._render(kind, [doc_id for _, doc_id in page], version))
                rendered += len(page)
                self._progress(rendered, total)
        return written

    def _store(self, changes: list[DocumentChange]) -> int:
        written = self._write(changes)
        self._tables.save_written(changes)
        release_freed_memory()
        return written

    def _render(self, kind: DocumentKind, doc_ids: list[str], version: int) -> list[DocumentChange]:
        users = doc_ids if kind is DocumentKind.USERS else []
        images = doc_ids if kind is DocumentKind.IMAGES else []
        with self._tables.reading() as session:
            return self._projector.render(session, users, images, version)

    def _write(self, changes: list[DocumentChange]) -> int:
        to_write = [change for change in changes if change.kind in self._into]
        if not to_write:
            return 0
        report = self._sync.write(to_write)
        self.dead_lettered += len(report.dead_lettered)
        return report.written
