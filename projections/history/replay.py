"""Replaying the aggregates that fed one document through the production projector."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from projections.documents import DocumentKind
from projections.folds import state_table_of
from projections.history.memory import MemoryProjectionSession
from projections.ports import PositionedEvent
from projections.projector import DocumentProjector
from projections.state import StateTable

Body = dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class Step:
    """One event replayed: the rows it changed and the document before and after it."""

    positioned: PositionedEvent
    table: StateTable
    before_row: Any
    after_row: Any
    before: Body
    after: Body


class DocumentReplay:
    """Folds a document's feeding events in global order, one event at a time."""

    def __init__(
        self, kind: DocumentKind, doc_id: str, session: MemoryProjectionSession | None = None
    ) -> None:
        """A replay from nothing, or from a session focused on the document (restored
        from a checkpoint), which the replay then changes."""
        self.kind, self.doc_id = kind, doc_id
        self.session = MemoryProjectionSession((kind, doc_id)) if session is None else session
        self._projector = DocumentProjector(_NoStore())  # type: ignore[arg-type]

    def body(self) -> Body:
        return self.session.bodies.get((self.kind, self.doc_id))

    def steps(self, events: Sequence[PositionedEvent]) -> Iterator[Step]:
        for positioned in events:
            table = state_table_of(positioned.event)
            if table is None:
                continue
            key = positioned.event.originator_id.hex
            before_row = self.session.rows[table].get(key)
            before = self.body()
            self._projector.project(self.session, [positioned])
            after_row = self.session.rows[table].get(key)
            yield Step(positioned, table, before_row, after_row, before, self.body())

    def fold(self, events: Sequence[PositionedEvent]) -> None:
        """Fold the events in one go, rendering the document once, after the last of them.

        The state and the document reached are those of `steps` over the same events
        (the projector folds a batch event by event); only the bodies in between are not
        rendered.
        """
        folded = [e for e in events if state_table_of(e.event) is not None]
        if folded:
            self._projector.project(self.session, folded)


def recorded_at(positioned: PositionedEvent) -> datetime:
    moment: datetime = positioned.event.timestamp
    return moment


class _NoStore:
    """The replay hands events to ``project`` itself; the projector needs no store then."""
