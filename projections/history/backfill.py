"""Filling the feed index from events recorded before it existed.

The events are folded in global order, batch by batch, through the production projector
over a memory session that renders nothing and keeps the feeds the projector's own
collector (`projections.feeds`) finds: the rows the live projection would have written
had the index existed when those events were projected.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Collection
from dataclasses import dataclass

from projections.documents import DocumentKind
from projections.history.memory import MemoryProjectionSession
from projections.ports import PositionedEvent
from projections.projector import DocumentProjector

Feed = tuple[DocumentKind, str, str]


@dataclass(frozen=True, slots=True)
class BackfillProgress:
    position: int  # every event up to here has its feed rows
    target: int  # the head when the backfill started: the live projection keeps the rest


class BackfillStore(ABC):
    """Where the backfill reads events and writes feed rows with its progress."""

    @abstractmethod
    def head(self) -> int:
        """The global position of the newest recorded event."""

    @abstractmethod
    def progress(self) -> BackfillProgress | None:
        """Where an earlier run stopped; None if none ran."""

    @abstractmethod
    def events_after(self, position: int, limit: int) -> list[PositionedEvent]: ...

    @abstractmethod
    def save(self, feeds: Collection[Feed], progress: BackfillProgress) -> None:
        """Keep the rows (existing ones stay) and the progress, in one transaction."""


@dataclass
class BackfillReport:
    resumed_from: int
    position: int
    target: int
    events: int = 0  # read, including those read again to rebuild the state
    feed_rows: int = 0  # offered (rows already there are left as they are)


class _CollectingSession(MemoryProjectionSession):
    """The projector's state in memory; renders no document; keeps the feeds it finds."""

    keeps_feeds = True

    def __init__(self) -> None:
        super().__init__(focus=(DocumentKind.USERS, ""))  # no document has an empty id
        self.feeds: set[Feed] = set()

    def likes_on(self, image_ids: Collection[str]) -> dict[str, set[str]]:
        return {i: set(self._likes_by_image.get(i, ())) for i in image_ids}

    def save_feeds(self, feeds: Collection[Feed]) -> None:
        self.feeds.update(feeds)


class FeedBackfill:
    """Resumable and idempotent: progress is saved with each batch's rows, a run after an
    interruption folds the events before its position again (writing nothing for them)
    and goes on from there; rows are inserted only where missing.

    >>> FeedBackfill(store).run().position
    1000000
    """

    def __init__(self, store: BackfillStore, batch_size: int = 5_000) -> None:
        self._store = store
        self._batch_size = batch_size

    def run(self, progress: Callable[[BackfillReport], None] | None = None) -> BackfillReport:
        earlier = self._store.progress()
        target = self._store.head() if earlier is None else earlier.target
        done = 0 if earlier is None else earlier.position
        report = BackfillReport(resumed_from=done, position=done, target=target)
        if done >= target:
            return report  # finished by an earlier run: the live projection keeps the rest
        session = _CollectingSession()
        projector = DocumentProjector(None)  # type: ignore[arg-type]  # folds given events
        position = 0
        while position < target:
            events = self._store.events_after(position, self._batch_size)
            events = [e for e in events if e.position <= target]
            if not events:
                break
            if events[0].position <= done:  # folded again for the state, written already
                events = [e for e in events if e.position <= done]
            projector.project(session, events)
            position = events[-1].position
            report.events += len(events)
            if position > done:
                report.feed_rows += len(session.feeds)
                self._store.save(session.feeds, BackfillProgress(position, target))
                report.position = position
                if progress is not None:
                    progress(report)
            session.feeds = set()
        report.position = max(report.position, min(position, target))
        return report
