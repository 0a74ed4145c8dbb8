"""The history service: a document's changes, its state at a date, and its derivations."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from projections.documents import DocumentKind
from projections.history.entries import HistoryEntry, history_entry
from projections.history.explain import IMAGE_FIELDS, USER_FIELDS, explain_field
from projections.history.replay import DocumentReplay
from projections.ports import PositionedEvent
from projections.query.errors import QueryError


class DocumentFeeds(ABC):
    """The port onto the feed index and the events of the aggregates it names."""

    @abstractmethod
    def feeding_aggregates(self, kind: DocumentKind, doc_id: str) -> list[str]:
        """Aggregate ids (hex) that ever fed the document."""

    @abstractmethod
    def events_of(self, aggregate_ids: Collection[str]) -> list[PositionedEvent]:
        """Every event of these aggregates, in global order."""


@dataclass(frozen=True, slots=True)
class HistoryPage:
    entries: list[HistoryEntry]
    next_cursor: int | None  # pass as ``before`` for the next, older page

    def as_json(self) -> dict[str, Any]:
        return {
            "entries": [e.as_json() for e in self.entries],
            "next_cursor": self.next_cursor,
        }


class DocumentHistory:
    """Replays the aggregates that fed a document with the production fold and render.

    >>> history = DocumentHistory(feeds)
    >>> history.changes(DocumentKind.USERS, "u-1", limit=20).entries[0].summary
    'user renamed'
    """

    def __init__(self, feeds: DocumentFeeds) -> None:
        self._feeds = feeds

    def _events(self, kind: DocumentKind, doc_id: str) -> list[PositionedEvent]:
        return self._feeds.events_of(self._feeds.feeding_aggregates(kind, doc_id))

    def changes(
        self, kind: DocumentKind, doc_id: str, limit: int = 50, before: int | None = None
    ) -> HistoryPage:
        """The events that changed the document, newest first, ``limit`` at a time."""
        replay = DocumentReplay(kind, doc_id)
        steps = [
            step
            for step in replay.steps(self._events(kind, doc_id))
            if step.before != step.after and (before is None or step.positioned.position < before)
        ]
        steps.reverse()
        page = [history_entry(kind, doc_id, step) for step in steps[:limit]]
        more = len(steps) > limit
        return HistoryPage(page, page[-1].position if more and page else None)

    def as_of(self, kind: DocumentKind, doc_id: str, moment: datetime) -> dict[str, Any] | None:
        """The document as the events recorded up to ``moment`` render it; None if absent."""
        return DocumentReplay(kind, doc_id).until(self._events(kind, doc_id), moment)

    def explain(
        self, kind: DocumentKind, doc_id: str, field: str, moment: datetime | None = None
    ) -> dict[str, Any] | None:
        """The items that make a derived field's value; None when the document is absent."""
        allowed = USER_FIELDS if kind is DocumentKind.USERS else IMAGE_FIELDS
        if field not in allowed:
            raise QueryError.single("field", f"must be one of {', '.join(allowed)}; got {field!r}")
        replay = DocumentReplay(kind, doc_id)
        events = self._events(kind, doc_id)
        body = replay.until(events, moment) if moment else _all(replay, events)
        if body is None:
            return None
        items = explain_field(replay.session, kind, doc_id, field)
        return {"field": field, "value": body[field], "items": items}


def _all(replay: DocumentReplay, events: list[PositionedEvent]) -> dict[str, Any] | None:
    for _ in replay.steps(events):
        pass
    return replay.body()
