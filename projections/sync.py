"""Search sync: the projection's pending documents go to the search backend in bulk."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from projections.documents import DocumentKind
from projections.ports import DocumentFailure, ProjectionStore, SearchIndex


@dataclass
class SyncReport:
    written: int = 0
    stale: int = 0
    failed: list[DocumentFailure] = field(default_factory=list)


class SearchSync:
    """Writes every pending document, then marks it synced.

    A version conflict means the backend already holds a newer version: that counts as
    synced. Permanent failures are reported to the caller (who dead-letters them) and
    marked synced so that one bad document cannot block the others. A transient failure
    raises before anything is marked, so the next flush writes the same documents again.

    >>> SearchSync(store, index).flush()
    """

    def __init__(
        self,
        store: ProjectionStore,
        index: SearchIndex,
        batch_size: int = 10_000,
        into: Mapping[DocumentKind, str] | None = None,
    ) -> None:
        self._store = store
        self._index = index
        # Up to a whole Lambda batch's documents per round: each round costs the embedded
        # backend a commit per kind; the OpenSearch adapter cuts its own bulk requests.
        self._batch_size = batch_size
        # With ``into``, those kinds are written into their named physical indices (a
        # rebuild of some kinds) and the others through their aliases: a live handler may
        # have rendered them in the old generation and not flushed them before the swap.
        # The version guard keeps whichever of the two renderings is newer.
        self._into = into

    def flush(self, max_rounds: int = 10_000) -> SyncReport:
        report = SyncReport()
        for _ in range(max_rounds):
            pending = self._store.pending_documents(self._batch_size)
            if not pending:
                break
            outcome = self._index.write(pending, self._into)
            report.written += outcome.written
            report.stale += outcome.stale
            report.failed += outcome.failed
            self._store.mark_synced(pending)
        return report
