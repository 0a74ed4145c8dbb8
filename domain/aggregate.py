"""What every source-item aggregate can do: appear, change, disappear and come back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from eventsourcing.domain import Aggregate

from domain.items import SourceItem


class SourceAggregate(Aggregate):
    """An aggregate that mirrors one source item, built only from what the item says.

    Events are derived by comparing the aggregate's state with the item's new state, never
    from a record's diff, so a record that arrives late after a newer one loses nothing.
    """

    # The base event classes of every source aggregate. A class that adds no field carries
    # its base's dataclass fields, and eventsourcing then leaves it as it is instead of
    # generating the same dataclass methods once more: about 1 ms a class at import, a
    # dozen such classes on the Lambda's path. The inherited methods are the same ones.
    class Event(Aggregate.Event):
        __dataclass_fields__ = Aggregate.Event.__dataclass_fields__

    class Created(Aggregate.Created, Event):
        __dataclass_fields__ = Aggregate.Created.__dataclass_fields__

    if TYPE_CHECKING:  # set by each creation event; not a field of the created event
        deleted: bool

    # attribute -> name of the method that records a change of it
    REVISIONS: ClassVar[dict[str, str]] = {}

    @classmethod
    def from_item(cls, item: Any) -> SourceAggregate:
        raise NotImplementedError  # each kind names its own creation event

    def restore(self, item: Any) -> None:
        """The item was deleted and has been put back with the same key."""
        raise NotImplementedError

    def delete(self, *, expired: bool) -> None:
        raise NotImplementedError

    def revise(self, item: SourceItem) -> None:
        """Record one event for each attribute the domain cares about that differs."""
        for attribute, method in self.REVISIONS.items():
            new_value = getattr(item, attribute)
            if getattr(self, attribute) != new_value:
                getattr(self, method)(new_value)
