"""Source mappers: one per table kind, each turning a change into domain events."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from uuid import UUID

from domain.aggregate import SourceAggregate
from domain.analytics import WebTraffic
from domain.changes import SourceChange
from domain.errors import InvalidItem
from domain.identity import aggregate_id
from domain.images import Image
from domain.items import ITEM_CLASSES, attribute_names, parse_item
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

    def apply(
        self, change: SourceChange, current: SourceAggregate | None
    ) -> SourceAggregate | None:
        """Return the aggregate with the events this change implies pending on it.

        Raises InvalidItem when the change's item breaks the domain's rules.
        """
        if change.item is None:
            if current is not None and not current.deleted:
                current.delete(expired=change.expired)
            return current
        item = parse_item(self.kind, change.item)
        self._check_key(change, item)
        if current is None:
            return self.aggregate_class.from_item(item)
        if current.deleted:
            current.restore(item)
        else:
            current.revise(item)
        return current

    def _check_key(self, change: SourceChange, item: object) -> None:
        stated = tuple(getattr(item, name) for name in self.key_fields)
        if stated != change.key:
            raise InvalidItem(
                f"{self.kind.value} item: its key {stated} differs from the record's Keys "
                f"{change.key}"
            )


MAPPERS: dict[SourceKind, SourceMapper] = {
    TableKind.USERS: SourceMapper(TableKind.USERS, User),
    TableKind.IMAGES: SourceMapper(TableKind.IMAGES, Image),
    TableKind.LIKES: SourceMapper(TableKind.LIKES, Like),
    TableKind.PAYMENTS: SourceMapper(TableKind.PAYMENTS, Payment),
    ImportedKind.ANALYTICS: SourceMapper(ImportedKind.ANALYTICS, WebTraffic),
}
