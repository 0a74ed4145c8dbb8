"""What every source-item aggregate can do: appear, change, disappear and come back."""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from functools import cache
from operator import attrgetter
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar
from uuid import UUID

from eventsourcing.domain import Aggregate, DomainEvent
from eventsourcing.utils import get_topic, resolve_topic

from domain.items import (
    ITEM_CLASSES,
    SourceItem,
    attribute_names,
    attribute_order,
    attribute_types,
    attribute_values,
    field_names,
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

        def mutate(self, aggregate: Any) -> Any:
            """The library's `CanInitAggregate.mutate`, without matching the event's fields
            to the aggregate's ``__init__`` when that takes none."""
            aggregate_class = resolve_topic(self.originator_topic)
            if aggregate is not None or not _plain_init(aggregate_class):
                return super().mutate(aggregate)
            created = aggregate_class.__new__(aggregate_class)
            created.__base_init__(self.originator_id, self.originator_version, self.timestamp)
            created.__init__()
            self.apply(created)
            return created

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
    def from_item(cls, item: Any, aggregate_id: UUID | None = None) -> SourceAggregate:
        """The aggregate of a new item; ``aggregate_id``, when given, is the id its
        ``create_id`` gives (the intake derives it from the item's key)."""
        return cls.created_by(cls.creation(item, aggregate_id))

    @classmethod
    def creation(cls, item: Any, aggregate_id: UUID | None = None) -> Any:
        """The event that creates the aggregate of a new item, built but not applied.

        The intake records a new item's creation as this event alone, and builds the
        aggregate (`created_by`) only if another change of the same batch follows: most
        changes create an item that nothing else in their batch touches.
        """
        raise NotImplementedError  # each kind names its own creation event

    @staticmethod
    def created_by(created: Any) -> Any:
        """The aggregate ``created`` (a `creation` event) creates, the event pending on it:
        what `from_item` returns."""
        aggregate = created.mutate(None)
        aggregate._pending_events.append(created)
        return aggregate

    def restore(self, item: Any) -> None:
        """The item was deleted and has been put back with the same key."""
        raise NotImplementedError

    def delete(self, *, expired: bool) -> None:
        raise NotImplementedError

    @classmethod
    def _create(cls, event_class: Any, *, id: Any = None, **kwargs: Any) -> Any:
        """The library's `_create`, without its generic steps where they cannot matter.

        The created event and the aggregate come out as the library makes them: the same
        id (the one given, else ``create_id``'s), version, timestamp and topic, the fields
        in the same order. Anything else the library allows (an explicit topic, an id
        that is not a UUID, a field left to its default, an ``__init__`` of the
        aggregate's own) takes the library's way.
        """
        shape = _creation_shape(cls, event_class)
        if shape is None or kwargs.keys() != shape.fields:
            return super()._create(event_class, id=id, **kwargs)
        if id is None:
            originator_id = cls.create_id(**{name: kwargs[name] for name in shape.id_params})
        else:
            originator_id = id
        if not isinstance(originator_id, UUID):
            return super()._create(event_class, id=id, **kwargs)  # the library's way, or its error
        timestamp = event_class.create_timestamp()
        state = {
            "originator_id": originator_id,
            "originator_version": cls.INITIAL_VERSION,
            "timestamp": timestamp,
            "originator_topic": shape.topic,
        }
        created = _built(event_class, shape, state, kwargs)
        aggregate = created.mutate(None)
        aggregate._pending_events.append(created)
        return aggregate

    @classmethod
    def _create_from(cls, event_class: Any, item: Any, aggregate_id: UUID | None) -> Any:
        """The created event of ``_create(event_class, id=aggregate_id,
        **attribute_values(item))``, not applied: it takes the item's attributes as its
        fields, read in the event's field order straight from the item, and the id when it
        is known."""
        item_class: type = type(item)
        reading = _item_reading(cls, event_class, item_class)
        if reading is None or not isinstance(aggregate_id, UUID):
            # The library's way, whose aggregate is let go of: `created_by` builds it again.
            made = cls._create(event_class, id=aggregate_id, **attribute_values(item))
            return made._pending_events[0]
        shape, values = reading
        state = {
            "originator_id": aggregate_id,
            "originator_version": cls.INITIAL_VERSION,
            "timestamp": event_class.create_timestamp(),
            "originator_topic": shape.topic,
        }
        state.update(zip(shape.order, values(item), strict=True))
        created: Any = object.__new__(event_class)
        object.__setattr__(created, "__dict__", state)
        if shape.post_init:
            created.__post_init__()
        return created

    def trigger_event(self, event_class: Any, **kwargs: Any) -> None:
        """The library's `trigger_event`: the same event, built without the dataclass's
        ``__init__`` (a frozen dataclass sets each field through ``object.__setattr__``)."""
        shape = _own_fields(event_class)
        if shape is None or kwargs.keys() != shape.fields or getattr(type(self), "TOPIC", None):
            super().trigger_event(event_class, **kwargs)
            return
        originator_id = self._id
        if not isinstance(originator_id, UUID):
            super().trigger_event(event_class, **kwargs)
            return
        state = {
            "originator_id": originator_id,
            "originator_version": self._version + 1,
            "timestamp": event_class.create_timestamp(),
        }
        event = _built(event_class, shape, state, kwargs)
        event.mutate(self)
        self._pending_events.append(event)

    def take_item(self, event: object) -> None:
        """Take every attribute of the item from an event that carries a whole item."""
        taking = _taking(type(self))
        if taking is None:
            for name in _item_attributes(type(self)):
                setattr(self, name, getattr(event, name))
            self.deleted = False
            return
        # As the assignments would set them: the class intercepts none of these names.
        names, values = taking
        state = self.__dict__
        state.update(zip(names, values(event), strict=True))
        state["deleted"] = False

    def revise(self, item: SourceItem) -> None:
        """Record one event for each attribute the domain cares about that differs."""
        for attribute in _revised(type(self)):
            new_value = getattr(item, attribute)
            if getattr(self, attribute) != new_value:
                method = self.REVISIONS.get(attribute)
                if method is not None:
                    getattr(self, method)(new_value)
                else:
                    self.trigger_event(self.CHANGE_EVENTS[attribute], **{attribute: new_value})


A = TypeVar("A", bound=type[SourceAggregate])

# The fields every event has, set by the library rather than by the event's trigger.
_COMMON_FIELDS = ("originator_id", "originator_version", "timestamp")


# Looked up by aggregate class rather than by kind: a class hashes by identity, an enum
# member by a method of its own.
@cache
def _item_attributes(aggregate_class: type[SourceAggregate]) -> tuple[str, ...]:
    return attribute_order(ITEM_CLASSES[aggregate_class.KIND])


@cache
def _revised(aggregate_class: type[SourceAggregate]) -> tuple[str, ...]:
    return revised_attributes(aggregate_class.KIND, frozenset(aggregate_class.UNRECORDED))


@cache
def _taking(
    aggregate_class: type[SourceAggregate],
) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]]] | None:
    """The item's attributes and a reader of their values from an event (in one call),
    where writing them into the aggregate's ``__dict__`` is what assigning them does;
    None where the class would intercept an assignment."""
    names = _item_attributes(aggregate_class)
    if not _plainly_assigned(aggregate_class, (*names, "deleted")) or len(names) < 2:
        return None
    return names, attrgetter(*names)


def _plainly_assigned(cls: type, names: tuple[str, ...]) -> bool:
    """Whether assigning each of ``names`` on an instance of ``cls`` just stores it in the
    instance's ``__dict__``: no ``__setattr__`` of its own, no descriptor that sets."""
    if cls.__setattr__ is not object.__setattr__ or "__slots__" in vars(cls):
        return False
    for name in names:
        found = inspect.getattr_static(cls, name, None)
        if hasattr(type(found), "__set__") or hasattr(type(found), "__delete__"):
            return False
    return True


@dataclasses.dataclass(frozen=True)
class _EventShape:
    order: tuple[str, ...]  # the fields a trigger gives, in their dataclass order
    fields: frozenset[str]
    post_init: bool  # whether the dataclass's __init__ ends by calling __post_init__


@cache
def _own_fields(event_class: type) -> _EventShape | None:
    """The fields a trigger gives an event; None unless the event is a plain dataclass
    with the common fields first and no defaults."""
    found = dataclasses.fields(event_class)
    names = tuple(f.name for f in found)
    if names[: len(_COMMON_FIELDS)] != _COMMON_FIELDS or any(
        f.default is not dataclasses.MISSING
        or f.default_factory is not dataclasses.MISSING
        or not f.init
        for f in found
    ):
        return None
    if "__slots__" in vars(event_class) or "__init__" not in dir(event_class):
        return None
    own = names[len(_COMMON_FIELDS) :]
    # The library's own __post_init__ checks that the id is a UUID, which both ways of
    # building an event here make sure of before; any other runs as __init__ would run it.
    post_init = getattr(event_class, "__post_init__", None)
    return _EventShape(own, frozenset(own), post_init not in (None, DomainEvent.__post_init__))


def _built(
    event_class: type,
    shape: _EventShape | _CreationShape,
    state: dict[str, Any],
    given: Mapping[str, Any],
) -> Any:
    """The event of ``event_class`` holding ``state`` and then the given fields in their
    dataclass order, as its ``__init__`` would set them (and its ``__post_init__`` run)."""
    for name in shape.order:
        state[name] = given[name]
    event: Any = object.__new__(event_class)
    object.__setattr__(event, "__dict__", state)
    if shape.post_init:
        event.__post_init__()
    return event


@cache
def _plain_init(aggregate_class: type) -> bool:
    """Whether the aggregate's ``__init__`` takes no argument (so not the id either)."""
    initializer = aggregate_class.__init__  # type: ignore[misc]
    return set(inspect.signature(initializer).parameters) == {"self"}


@dataclasses.dataclass(frozen=True)
class _CreationShape:
    order: tuple[str, ...]  # the created event's own fields, in their dataclass order
    fields: frozenset[str]
    post_init: bool
    id_params: tuple[str, ...]  # the fields ``create_id`` takes
    topic: str


@cache
def _creation_shape(
    aggregate_class: type[SourceAggregate], event_class: type
) -> _CreationShape | None:
    own = _own_fields(event_class)
    if (
        own is None
        or own.order[:1] != ("originator_topic",)
        or getattr(aggregate_class, "TOPIC", None)
    ):
        return None
    order = own.order[1:]
    # The library passes ``create_id`` the fields its signature names.
    id_params = tuple(
        name
        for name, parameter in inspect.signature(aggregate_class.create_id).parameters.items()
        if parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY)
        and name in order
    )
    return _CreationShape(
        order, frozenset(order), own.post_init, id_params, get_topic(aggregate_class)
    )


@cache
def _item_reading(
    aggregate_class: type[SourceAggregate], event_class: type, item_class: type
) -> tuple[_CreationShape, Callable[[Any], tuple[Any, ...]]] | None:
    """The created event's shape, and a reader of an item's values in the event's field
    order (in one call); None unless the item's fields are exactly the event's own."""
    shape = _creation_shape(aggregate_class, event_class)
    if shape is None or len(shape.order) < 2 or set(field_names(item_class)) != shape.fields:
        return None
    return shape, attrgetter(*shape.order)


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
