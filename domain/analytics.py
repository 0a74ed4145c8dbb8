"""The web-traffic aggregate: one per (user, day, source) row of a web-analytics export.

Analytics rows come from files, not from a change stream, yet they go through the same
source mapper and intake as table records: importing a file twice records nothing new, and
a corrected row (new figures for the same user, day and source) records one correction.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from eventsourcing.domain import event

from domain.aggregate import SourceAggregate
from domain.identity import aggregate_id
from domain.items import SourceItem, WebTrafficItem
from domain.kinds import ImportedKind


class WebTraffic(SourceAggregate):
    # The aggregate's own base classes: events declared on them are defined once, not
    # redefined by eventsourcing as subclasses of the aggregate's event class.
    class Event(SourceAggregate.Event):
        pass

    class Created(Event, SourceAggregate.Created):
        pass

    class Counted(Created):
        user_id: str
        visited_on: str
        source: str
        medium: str | None
        sessions: int
        pageviews: int

    class Corrected(Event):
        """The export now says something else for the same user, day and source."""

        medium: str | None
        sessions: int
        pageviews: int

    @staticmethod
    def create_id(user_id: str, visited_on: str, source: str, **_: Any) -> UUID:
        return aggregate_id(ImportedKind.ANALYTICS, (user_id, visited_on, source))

    @event(Counted)
    def __init__(
        self,
        user_id: str,
        visited_on: str,
        source: str,
        medium: str | None,
        sessions: int,
        pageviews: int,
    ) -> None:
        self.user_id, self.visited_on, self.source = user_id, visited_on, source
        self.medium, self.sessions, self.pageviews = medium, sessions, pageviews
        self.deleted = False

    @classmethod
    def from_item(cls, item: WebTrafficItem) -> WebTraffic:
        return cls(**item.model_dump())

    def revise(self, item: SourceItem) -> None:
        """One correction carrying every figure, so a row's values always travel together."""
        assert isinstance(item, WebTrafficItem)
        figures = (item.medium, item.sessions, item.pageviews)
        if figures != (self.medium, self.sessions, self.pageviews):
            self.correct(medium=item.medium, sessions=item.sessions, pageviews=item.pageviews)

    @event(Corrected)
    def correct(self, medium: str | None, sessions: int, pageviews: int) -> None:
        self.medium, self.sessions, self.pageviews = medium, sessions, pageviews


WebTrafficCounted = WebTraffic.Counted
WebTrafficCorrected = WebTraffic.Corrected
