"""The web-traffic aggregate: one per (user, day, source) row of a web-analytics export.

Analytics rows come from files, not from a change stream, yet they go through the same
source mapper and intake as table records: importing a file twice records nothing new, and
a corrected row (new figures for the same user, day and source) records one correction.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.aggregate import SourceAggregate
from domain.identity import aggregate_id
from domain.items import SourceItem, WebTrafficItem, attribute_types, attribute_values
from domain.kinds import ImportedKind


class WebTraffic(SourceAggregate, created_event_name="Counted"):
    # The aggregate's own base classes: events declared on them are defined once, not
    # redefined by eventsourcing as subclasses of the aggregate's event class; like
    # SourceAggregate's, they add no field and reuse their base's dataclass methods.
    # Each event applies itself, and command methods trigger events explicitly: ``@event``
    # would build one more event class per decorated method at import.
    class Event(SourceAggregate.Event):
        __dataclass_fields__ = SourceAggregate.Event.__dataclass_fields__

    class Created(Event, SourceAggregate.Created):
        __dataclass_fields__ = SourceAggregate.Created.__dataclass_fields__

    KIND = ImportedKind.ANALYTICS

    class Counted(Created):
        __annotations__ = attribute_types(WebTrafficItem)

        def apply(self, aggregate: WebTraffic) -> None:
            aggregate.take_item(self)

    class Corrected(Event):
        """The export now says something else for the same user, day and source."""

        medium: str | None
        sessions: int
        pageviews: int

        def apply(self, aggregate: WebTraffic) -> None:
            aggregate.medium, aggregate.sessions = self.medium, self.sessions
            aggregate.pageviews = self.pageviews

    @staticmethod
    def create_id(user_id: str, visited_on: str, source: str, **_: Any) -> UUID:
        return aggregate_id(ImportedKind.ANALYTICS, (user_id, visited_on, source))

    @classmethod
    def from_item(cls, item: WebTrafficItem) -> WebTraffic:
        return cls._create(cls.Counted, **attribute_values(item))

    def revise(self, item: SourceItem) -> None:
        """One correction carrying every figure, so a row's values always travel together."""
        assert isinstance(item, WebTrafficItem)
        figures = (item.medium, item.sessions, item.pageviews)
        if figures != (self.medium, self.sessions, self.pageviews):
            self.correct(medium=item.medium, sessions=item.sessions, pageviews=item.pageviews)

    def correct(self, medium: str | None, sessions: int, pageviews: int) -> None:
        self.trigger_event(self.Corrected, medium=medium, sessions=sessions, pageviews=pageviews)


WebTrafficCounted = WebTraffic.Counted
WebTrafficCorrected = WebTraffic.Corrected
