"""What every source-item aggregate can do: appear, change, disappear and come back."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from eventsourcing.domain import Aggregate

from domain.items import (
    ITEM_CLASSES,
    SourceItem,
    attribute_names,
    attribute_types,
    optional_attributes,
)
from domain.kinds import SourceKind


class SourceAggregate(Aggregate):
    """An aggregate that mirrors one source item, built only from what the item says.

    Events are derived by comparing the aggregate's state with the item's new state, never
    from a record's diff, so a record that arrives late after a newer one loses nothing.
    The item's attributes are declared once, on the table's item (`domain.items`): the
    events that carry a whole item take their fields from it, and a change of an attribute
    that has no event of its own is recorded by ``<Attribute>Changed``, made for it by
    `mirrors_item`.
    """

    # The base event classes of every source aggregate. A class that adds no field carries
    # its base's dataclass fields, and eventsourcing then leaves it as it is instead of
    # generating the same dataclass methods once more: about 1 ms a class at import, a
    # dozen such classes on the Lambda's path. The inherited methods are the same ones.
    class Event(Aggregate.Event):
        __dataclass_fields__ = Aggregate.Event.__dataclass_fields__

        if TYPE_CHECKING:  # the fields of whole-item events come from the item's declaration

            def __getattr__(self, name: str) -> Any: ...

    class Created(Aggregate.Created, Event):
        __dataclass_fields__ = Aggregate.Created.__dataclass_fields__

    if TYPE_CHECKING:  # set by each creation event; not a field of the created event
        deleted: bool

        # The item's attributes, set by the events (declared on the item, not here).
        def __getattr__(self, name: str) -> Any: ...
        def __setattr__(self, name: str, value: Any) -> None: ...

    KIND: ClassVar[SourceKind]
    # attribute -> name of the method that records a change of it with an event of its own
    REVISIONS: ClassVar[dict[str, str]] = {}
    UNRECORDED: ClassVar[frozenset[str]] = frozenset()  # attributes whose change is no event
    CHANGE_EVENTS: ClassVar[dict[str, type[Any]]] = {}  # made by `mirrors_item`

    @classmethod
    def from_item(cls, item: Any) -> SourceAggregate:
        raise NotImplementedError  # each kind names its own creation event

    def restore(self, item: Any) -> None:
        """The item was deleted and has been put back with the same key."""
        raise NotImplementedError

    def delete(self, *, expired: bool) -> None:
        raise NotImplementedError

    def take_item(self, event: object) -> None:
        """Take every attribute of the item from an event that carries a whole item."""
        for name in attribute_types(ITEM_CLASSES[self.KIND]):
            setattr(self, name, getattr(event, name))
        self.deleted = False

    def revise(self, item: SourceItem) -> None:
        """Record one event for each attribute the domain cares about that differs."""
        for attribute in revised_attributes(self.KIND, frozenset(self.UNRECORDED)):
            new_value = getattr(item, attribute)
            if getattr(self, attribute) != new_value:
                method = self.REVISIONS.get(attribute)
                if method is not None:
                    getattr(self, method)(new_value)
                else:
                    self.trigger_event(self.CHANGE_EVENTS[attribute], **{attribute: new_value})


A = TypeVar("A", bound=type[SourceAggregate])


@cache
def revised_attributes(kind: SourceKind, unrecorded: frozenset[str]) -> tuple[str, ...]:
    """The attributes of a kind's items whose change is an event: all but the key's."""
    names = attribute_names(ITEM_CLASSES[kind])
    keys = {names[attribute] for attribute in kind.key_attributes}
    return tuple(n for n in names.values() if n not in keys and n not in unrecorded)


def mirrors_item(aggregate_class: A) -> A:
    """Complete an aggregate from its item's declaration (a class decorator).

    An attribute declared on the item without an event of its own gets one,
    ``<Attribute>Changed``; and an optional attribute declared after events were stored
    reads as None in them (the events are not rewritten, and a missing optional attribute
    means None).

    >>> Image.CHANGE_EVENTS["location"].__qualname__   # once images declare a location
    'Image.LocationChanged'
    """
    item_class = ITEM_CLASSES[aggregate_class.KIND]
    for event_class in _event_classes(aggregate_class):
        for name in optional_attributes(item_class) & set(event_class.__dataclass_fields__):
            setattr(event_class, name, None)  # read where a stored event lacks the attribute
    aggregate_class.CHANGE_EVENTS = _change_events(aggregate_class)
    return aggregate_class


def _event_classes(aggregate_class: type[SourceAggregate]) -> list[type[Any]]:
    return [
        value
        for value in vars(aggregate_class).values()
        if isinstance(value, type) and issubclass(value, SourceAggregate.Event)
    ]


def _change_events(aggregate_class: type[SourceAggregate]) -> dict[str, type[Any]]:
    own = set(aggregate_class.REVISIONS) | aggregate_class.UNRECORDED
    types = attribute_types(ITEM_CLASSES[aggregate_class.KIND])
    made: dict[str, type[Any]] = {}
    metaclass: Any = type(aggregate_class.Event)  # eventsourcing's: makes a frozen dataclass
    for attribute in revised_attributes(aggregate_class.KIND, frozenset(own)):
        name = "".join(part.title() for part in attribute.split("_")) + "Changed"
        event_class = metaclass(
            name,
            (aggregate_class.Event,),
            {
                "__annotations__": {attribute: types[attribute]},
                "__module__": aggregate_class.__module__,
                "__qualname__": f"{aggregate_class.__qualname__}.{name}",
                "apply": _setting(attribute),
            },
        )
        setattr(aggregate_class, name, event_class)  # where its topic resolves
        made[attribute] = event_class
    return made


def _setting(attribute: str) -> Callable[[Any, Any], None]:
    def apply(event: Any, aggregate: Any) -> None:
        setattr(aggregate, attribute, getattr(event, attribute))

    return apply
