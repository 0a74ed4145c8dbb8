"""Source mappers: one per table kind, each turning a change into domain events."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cached_property
from operator import attrgetter
from typing import Any
from uuid import UUID

from domain.aggregate import SourceAggregate
from domain.analytics import WebTraffic
from domain.changes import SourceChange
from domain.errors import InvalidItem
from domain.identity import aggregate_id
from domain.images import Image
from domain.items import ITEM_CLASSES, attribute_names, item_parser
from domain.kinds import ImportedKind, SourceKind, TableKind
from domain.likes import Like
from domain.payments import Payment
from domain.users import User


@dataclass(frozen=True)
class SourceMapper:
    """Folds one source table's changes into its aggregates.

    >>> mapper = MAPPERS[TableKind.USERS]
    >>> user = mapper.apply(change, current=None)   # a User holding UserRegistered
    """

    kind: SourceKind
    aggregate_class: type[SourceAggregate]

    def aggregate_id(self, key: tuple[str, ...]) -> UUID:
        return aggregate_id(self.kind, key)

    @cached_property
    def key_fields(self) -> tuple[str, ...]:
        """The event fields holding the item's key, e.g. ``("image_id", "user_id")``."""
        names = attribute_names(ITEM_CLASSES[self.kind])
        return tuple(names[attribute] for attribute in self.kind.key_attributes)

    @cached_property
    def _parse(self) -> Callable[[Mapping[str, Any]], Any]:
        return item_parser(self.kind)  # the kind's validator, built on its first change

    @cached_property
    def _stated_key(self) -> Callable[[Any], tuple[str, ...]]:
        """The key an item states, read in one call."""
        fields = self.key_fields
        if len(fields) == 1:
            read = attrgetter(fields[0])
            return lambda item: (read(item),)
        return attrgetter(*fields)

    def apply(
        self,
        change: SourceChange,
        current: SourceAggregate | None,
        aggregate_id: UUID | None = None,
    ) -> SourceAggregate | None:
        """Return the aggregate with the events this change implies pending on it.

        ``aggregate_id``, when given, is the id of the change's item (`aggregate_id`),
        which a new aggregate then takes without deriving it again.

        Raises InvalidItem when the change's item breaks the domain's rules.
        """
        if change.item is None:
            if current is not None and not current.deleted:
                current.delete(expired=change.expired)
            return current
        item = self._valid_item(change, change.item)
        if current is None:
            return self.aggregate_class.from_item(item, aggregate_id)
        if current.deleted:
            current.restore(item)
        else:
            current.revise(item)
        return current

    def creation(self, change: SourceChange, aggregate_id: UUID | None = None) -> Any:
        """The event creating the aggregate of ``change``'s new item, not applied:
        `apply` of a change that has an item, for an item with no aggregate, as the
        aggregate's `SourceAggregate.creation` event alone.

        Raises InvalidItem when the change's item breaks the domain's rules.
        """
        if change.item is None:
            raise ValueError("a change without an item creates nothing")
        return self.aggregate_class.creation(self._valid_item(change, change.item), aggregate_id)

    def _valid_item(self, change: SourceChange, attributes: Mapping[str, Any]) -> Any:
        """The change's item validated, its key checked against the record's Keys."""
        item = self._parse(attributes)
        stated = self._stated_key(item)
        if stated != change.key:
            raise InvalidItem(
                f"{self.kind.value} item: its key {stated} differs from the record's Keys "
                f"{change.key}"
            )
        return item


MAPPERS: dict[SourceKind, SourceMapper] = {
    TableKind.USERS: SourceMapper(TableKind.USERS, User),
    TableKind.IMAGES: SourceMapper(TableKind.IMAGES, Image),
    TableKind.LIKES: SourceMapper(TableKind.LIKES, Like),
    TableKind.PAYMENTS: SourceMapper(TableKind.PAYMENTS, Payment),
    ImportedKind.ANALYTICS: SourceMapper(ImportedKind.ANALYTICS, WebTraffic),
}
