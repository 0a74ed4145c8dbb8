"""The history service: a document's changes, its state at a date, and its derivations."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from projections.documents import DocumentKind
from projections.history.entries import HistoryEntry, history_entry
from projections.history.explain import IMAGE_FIELDS, USER_FIELDS, explain_field
from projections.history.memory import MemoryProjectionSession, ReplayState
from projections.history.replay import DocumentReplay, Step, recorded_at
from projections.ports import PositionedEvent
from projections.query.errors import QueryError

# A checkpoint every this many feeding events of a document: a page or an as-of replays at
# most about this many events after restoring one.
CHECKPOINT_EVERY = 250
KEEP_RESTORED = 8  # checkpoints kept restored in memory, the least recently used dropped


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A replay's state after the first ``events`` feeding events of a document.

    Events are immutable and the set of aggregates feeding a document only grows, so a
    checkpoint stays right as long as its ``events``-th feeding event is still the one at
    ``position``: an aggregate that joins later with older events shifts it, and that
    checkpoint and the later ones are dropped and built again.
    """

    events: int
    position: int  # the global position of the last event folded into it
    earliest: datetime  # the earliest recorded time of the events since the previous one
    latest: datetime  # the latest recorded time of every event folded into it


class DocumentFeeds(ABC):
    """The port onto the feed index, the events it names and the replays' checkpoints."""

    @abstractmethod
    def feeding_positions(self, kind: DocumentKind, doc_id: str) -> list[int]:
        """The global positions of every event of the aggregates that ever fed the document,
        ascending (the document's own item included)."""

    @abstractmethod
    def events_at(self, positions: Sequence[int]) -> list[PositionedEvent]:
        """The events at these global positions, in global order."""

    @abstractmethod
    def checkpoints(self, kind: DocumentKind, doc_id: str) -> list[Checkpoint]:
        """The document's checkpoints, by ``events`` ascending."""

    @abstractmethod
    def checkpoint_state(self, kind: DocumentKind, doc_id: str, events: int) -> ReplayState:
        """The replay state a checkpoint kept."""

    @abstractmethod
    def save_checkpoints(
        self, kind: DocumentKind, doc_id: str, checkpoints: Sequence[tuple[Checkpoint, ReplayState]]
    ) -> None:
        """Keep these checkpoints; one already kept for the same ``events`` stays."""

    @abstractmethod
    def drop_checkpoints(self, kind: DocumentKind, doc_id: str, from_events: int) -> None:
        """Forget the checkpoints of ``from_events`` events and more."""


@dataclass(frozen=True, slots=True)
class HistoryPage:
    entries: list[HistoryEntry]
    next_cursor: int | None  # pass as ``before`` for the next, older page

    def as_json(self) -> dict[str, Any]:
        return {
            "entries": [e.as_json() for e in self.entries],
            "next_cursor": self.next_cursor,
        }


@dataclass
class _Timeline:
    positions: list[int]  # of every feeding event, ascending
    checkpoints: list[Checkpoint]  # the valid ones, ascending

    def base_before(self, end: int) -> Checkpoint | None:
        """The last checkpoint folding fewer than ``end`` events."""
        found = [c for c in self.checkpoints if c.events < end]
        return found[-1] if found else None


class DocumentHistory:
    """Replays the aggregates that fed a document with the production fold and render.

    Replays start from the nearest checkpoint of the replayed state (one every
    ``checkpoint_every`` feeding events, built on first read and kept), so a page or an
    as-of decodes and folds a few hundred events, not the document's whole past.

    >>> history = DocumentHistory(feeds)
    >>> history.changes(DocumentKind.USERS, "u-1", limit=20).entries[0].summary
    'user renamed'
    """

    def __init__(
        self,
        feeds: DocumentFeeds,
        checkpoint_every: int = CHECKPOINT_EVERY,
        keep_restored: int = KEEP_RESTORED,
    ) -> None:
        self._feeds = feeds
        self._every = checkpoint_every
        # Checkpoints restored lately, as sessions to clone: the pages of one document
        # read one after the other restore the same ones. A checkpoint never changes
        # (one made wrong gets a new position, hence a new key).
        self._restored: OrderedDict[tuple[Any, ...], MemoryProjectionSession] = OrderedDict()
        self._keep = keep_restored
        self._lock = threading.Lock()

    def changes(
        self, kind: DocumentKind, doc_id: str, limit: int = 50, before: int | None = None
    ) -> HistoryPage:
        """The events that changed the document, newest first, ``limit`` at a time."""
        timeline = self._timeline(kind, doc_id)
        positions = timeline.positions
        end = len(positions) if before is None else bisect_left(positions, before)
        self._checkpoint(kind, doc_id, timeline, end)
        steps: list[Step] = []
        # Segment by segment backwards, each replayed from its checkpoint, until the page
        # and one more entry (is there an older page?) are found.
        while end > 0 and len(steps) <= limit:
            # A base far enough back for the page and one more, if events change the
            # document: usually one restore per page.
            wanted = limit + 1 - len(steps)
            base = timeline.base_before(end - wanted)
            start = 0 if base is None else base.events
            events = self._feeds.events_at(positions[start:end])
            # The events before the last ``wanted`` are folded in one go; if those last
            # ones hold too few changes of the document, the segment is stepped whole.
            found = self._changed(kind, doc_id, base, events, max(0, len(events) - wanted))
            if len(found) < wanted and len(events) > wanted:
                found = self._changed(kind, doc_id, base, events, 0)
            steps = found + steps
            end = start
        steps.reverse()
        page = [history_entry(kind, doc_id, step) for step in steps[:limit]]
        more = len(steps) > limit
        return HistoryPage(page, page[-1].position if more and page else None)

    def _changed(
        self,
        kind: DocumentKind,
        doc_id: str,
        base: Checkpoint | None,
        events: list[PositionedEvent],
        folded: int,
    ) -> list[Step]:
        """The steps that changed the document among ``events[folded:]``, replayed from
        ``base`` after folding ``events[:folded]`` in one go."""
        replay = self._replay_from(kind, doc_id, base)
        replay.fold(events[:folded])
        return [s for s in replay.steps(events[folded:]) if s.before != s.after]

    def as_of(self, kind: DocumentKind, doc_id: str, moment: datetime) -> dict[str, Any] | None:
        """The document as the events recorded up to ``moment`` render it; None if absent."""
        return self._replayed(kind, doc_id, moment).body()

    def explain(
        self, kind: DocumentKind, doc_id: str, field: str, moment: datetime | None = None
    ) -> dict[str, Any] | None:
        """The items that make a derived field's value; None when the document is absent."""
        allowed = USER_FIELDS if kind is DocumentKind.USERS else IMAGE_FIELDS
        if field not in allowed:
            raise QueryError.single("field", f"must be one of {', '.join(allowed)}; got {field!r}")
        replay = self._replayed(kind, doc_id, moment)
        body = replay.body()
        if body is None:
            return None
        items = explain_field(replay.session, kind, doc_id, field)
        return {"field": field, "value": body[field], "items": items}

    def checkpoint(self, kind: DocumentKind, doc_id: str) -> int:
        """Build the document's missing checkpoints now; returns how many it has."""
        timeline = self._timeline(kind, doc_id)
        self._checkpoint(kind, doc_id, timeline, len(timeline.positions))
        return len(timeline.checkpoints)

    # -- replays ---------------------------------------------------------------------------

    def _replayed(self, kind: DocumentKind, doc_id: str, moment: datetime | None) -> DocumentReplay:
        """A replay of the events recorded up to ``moment`` (every event if None)."""
        timeline = self._timeline(kind, doc_id)
        positions = timeline.positions
        self._checkpoint(kind, doc_id, timeline, len(positions))
        # Every event folded into the base was recorded by ``moment``; of the segments
        # after it, only those with an event recorded by then are read.
        included = [c for c in timeline.checkpoints if moment is None or c.latest <= moment]
        base = included[-1] if included else None
        replay = self._replay_from(kind, doc_id, base)
        start = 0 if base is None else base.events
        for segment_start, segment_end in self._segments(timeline, start, moment):
            events = self._feeds.events_at(positions[segment_start:segment_end])
            replay.fold([e for e in events if moment is None or recorded_at(e) <= moment])
        return replay

    @staticmethod
    def _segments(
        timeline: _Timeline, start: int, moment: datetime | None
    ) -> Iterator[tuple[int, int]]:
        for checkpoint in timeline.checkpoints:
            if checkpoint.events <= start:
                continue
            if moment is None or checkpoint.earliest <= moment:
                yield start, checkpoint.events
            start = checkpoint.events
        if start < len(timeline.positions):
            yield start, len(timeline.positions)

    def _replay_from(
        self, kind: DocumentKind, doc_id: str, checkpoint: Checkpoint | None
    ) -> DocumentReplay:
        if checkpoint is None:
            return DocumentReplay(kind, doc_id)
        key = (kind, doc_id, checkpoint.events, checkpoint.position)
        with self._lock:  # a server may answer several requests at once
            restored = self._restored.pop(key, None)
        if restored is None:
            state = self._feeds.checkpoint_state(kind, doc_id, checkpoint.events)
            restored = MemoryProjectionSession.restore((kind, doc_id), state)
        with self._lock:
            self._restored[key] = restored  # the most recently used last
            while len(self._restored) > self._keep:
                self._restored.popitem(last=False)
        return DocumentReplay(kind, doc_id, restored.clone())

    def _timeline(self, kind: DocumentKind, doc_id: str) -> _Timeline:
        positions = self._feeds.feeding_positions(kind, doc_id)
        valid: list[Checkpoint] = []
        for checkpoint in self._feeds.checkpoints(kind, doc_id):
            n = checkpoint.events
            if n > len(positions) or positions[n - 1] != checkpoint.position:
                # Older events joined the document's feeds since: this and later ones are off.
                self._feeds.drop_checkpoints(kind, doc_id, n)
                break
            valid.append(checkpoint)
        return _Timeline(positions, valid)

    def _checkpoint(self, kind: DocumentKind, doc_id: str, timeline: _Timeline, upto: int) -> None:
        """Add the checkpoints missing among the first ``upto`` feeding events."""
        last = timeline.checkpoints[-1] if timeline.checkpoints else None
        start = 0 if last is None else last.events
        target = upto // self._every * self._every
        if target <= start:
            return
        replay = self._replay_from(kind, doc_id, last)
        latest = None if last is None else last.latest
        made: list[tuple[Checkpoint, ReplayState]] = []
        events = self._feeds.events_at(timeline.positions[start:target])
        for offset in range(0, target - start, self._every):
            chunk = events[offset : offset + self._every]
            replay.fold(chunk)
            times = [recorded_at(e) for e in chunk]
            latest = max(times) if latest is None else max(latest, *times)
            count = start + offset + len(chunk)
            checkpoint = Checkpoint(count, timeline.positions[count - 1], min(times), latest)
            made.append((checkpoint, replay.session.export()))
        self._feeds.save_checkpoints(kind, doc_id, made)
        timeline.checkpoints += [checkpoint for checkpoint, _ in made]
