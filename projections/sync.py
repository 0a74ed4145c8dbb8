"""Search sync: the projection's pending documents go to the search backend in bulk."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from projections.documents import DocumentChange, DocumentKind
from projections.ports import DeadLetters, DocumentFailure, ProjectionStore, SearchIndex


@dataclass
class SyncReport:
    written: int = 0
    stale_writes_rejected: int = 0
    dead_lettered: list[DocumentFailure] = field(default_factory=list)

    def add(self, other: SyncReport) -> None:
        self.written += other.written
        self.stale_writes_rejected += other.stale_writes_rejected
        self.dead_lettered += other.dead_lettered


class SearchSync:
    """The one way documents reach the search backend: written, or dead-lettered.

    A version conflict means the backend already holds a newer version: that counts as
    synced. A document the backend refuses for good goes to the dead-letter store with
    the reason before it is marked synced, so that one bad document cannot block the
    others and none is lost. A transient failure raises before anything is marked, so the
    next flush writes the same documents again.

    >>> SearchSync(store, index, dead_letters).flush().written
    12
    """

    def __init__(
        self,
        store: ProjectionStore,
        index: SearchIndex,
        dead_letters: DeadLetters,
        batch_size: int = 10_000,
        into: Mapping[DocumentKind, str] | None = None,
    ) -> None:
        self._store = store
        self._index = index
        self._dead_letters = dead_letters
        # Up to a whole Lambda batch's documents per round: each round costs the embedded
        # backend a commit per kind; the OpenSearch adapter cuts its own bulk requests.
        self._batch_size = batch_size
        # With ``into``, those kinds are written into their named physical indices (a
        # rebuild of some kinds) and the others through their aliases: a live handler may
        # have rendered them in the old generation and not flushed them before the swap.
        # The version guard keeps whichever of the two renderings is newer.
        self._into = into

    def flush(self, max_rounds: int = 10_000) -> SyncReport:
        """Write every pending document of the store and mark it synced."""
        report = SyncReport()
        for _ in range(max_rounds):
            pending = self._store.pending_documents(self._batch_size)
            if not pending:
                break
            report.add(self.write(pending))
            self._store.mark_synced(pending)
            if len(pending) < self._batch_size:
                # A short page was all there was; documents rendered since then belong
                # to the writer that rendered them, which flushes after its commit.
                break
        return report

    def flush_rendered(
        self, rendered: Mapping[int, Mapping[tuple[DocumentKind, str], DocumentChange]]
    ) -> SyncReport:
        """Write documents a projection just committed, and mark them synced.

        They are in memory: nothing is read back from the outbox. Those a writer left
        pending (it stopped between its commit and its sync) are for `flush`, which the
        write pipeline calls whenever a catch-up did not itself fold every event it was
        asked to, as when the batch is delivered again.
        """
        report = SyncReport()
        for generation, documents in rendered.items():
            ordered = sorted(documents.values(), key=lambda c: (c.kind.value, c.doc_id))
            for start in range(0, len(ordered), self._batch_size):
                page = ordered[start : start + self._batch_size]
                report.add(self.write(page))
                self._store.mark_synced(page, generation)
        return report

    def write(self, changes: Sequence[DocumentChange]) -> SyncReport:
        """Write documents the caller marks synced itself (e.g. under a lock it holds)."""
        outcome = self._index.write(changes, self._into)
        self._dead_letters.put_documents(outcome.failed)
        return SyncReport(outcome.written, outcome.stale_writes_rejected, outcome.failed)
