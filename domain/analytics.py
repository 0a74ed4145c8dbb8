"""The web-traffic aggregate: one per (user, day, source) row of a web-analytics export.

Analytics rows come from files, not from a change stream, yet they go through the same
source mapper and intake as table records: importing a file twice records nothing new, and
a corrected row (new figures for the same user, day and source) records one correction.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.aggregate import SourceAggregate, revised_attributes
from domain.identity import aggregate_id
from domain.items import SourceItem, WebTrafficItem, attribute_types
from domain.kinds import ImportedKind

# What a row says about its user, day and source: every attribute but the key's.
FIGURES = revised_attributes(ImportedKind.ANALYTICS, frozenset())


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

        __annotations__ = {
            name: kind for name, kind in attribute_types(WebTrafficItem).items() if name in FIGURES
        }

        def apply(self, aggregate: WebTraffic) -> None:
            for name in FIGURES:
                setattr(aggregate, name, getattr(self, name))

    @staticmethod
    def create_id(user_id: str, visited_on: str, source: str, **_: Any) -> UUID:
        return aggregate_id(ImportedKind.ANALYTICS, (user_id, visited_on, source))

    @classmethod
    def creation(cls, item: WebTrafficItem, aggregate_id: UUID | None = None) -> Any:
        return cls._create_from(cls.Counted, item, aggregate_id)

    def revise(self, item: SourceItem) -> None:
        """One correction carrying every figure, so a row's values always travel together."""
        figures = {name: getattr(item, name) for name in FIGURES}
        if any(getattr(self, name) != value for name, value in figures.items()):
            self.trigger_event(self.Corrected, **figures)


WebTrafficCounted = WebTraffic.Counted
WebTrafficCorrected = WebTraffic.Corrected
