"""The like aggregate: one per (image, user) row of the likes table."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from domain.aggregate import SourceAggregate, mirrors_item
from domain.identity import aggregate_id
from domain.items import LikeItem, attribute_types, attribute_values
from domain.kinds import TableKind


@mirrors_item
class Like(SourceAggregate, created_event_name="Liked"):
    # The aggregate's own base classes: events declared on them are defined once, not
    # redefined by eventsourcing as subclasses of the aggregate's event class; like
    # SourceAggregate's, they add no field and reuse their base's dataclass methods.
    # Each event applies itself, and command methods trigger events explicitly: ``@event``
    # would build one more event class per decorated method at import.
    class Event(SourceAggregate.Event):
        __dataclass_fields__ = SourceAggregate.Event.__dataclass_fields__

    class Created(Event, SourceAggregate.Created):
        __dataclass_fields__ = SourceAggregate.Created.__dataclass_fields__

    KIND = TableKind.LIKES

    # Version 2: ``liked_at`` is ``created_at``, the name the likes item and every other
    # aggregate use. Events stored as version 1 are upcast when they are read.
    class Liked(Created):
        class_version = 2

        __annotations__ = attribute_types(LikeItem)

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["created_at"] = state.pop("liked_at")

        def apply(self, aggregate: Like) -> None:
            aggregate.take_item(self)

    class LikedAgain(Event):
        class_version = 2

        __annotations__ = attribute_types(LikeItem)

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["created_at"] = state.pop("liked_at")

        def apply(self, aggregate: Like) -> None:
            aggregate.take_item(self)

    class Unliked(Event):
        expired: bool

        def apply(self, aggregate: Like) -> None:
            aggregate.deleted = True

    # A like's own timestamp is indexed nowhere: changing it records nothing.
    UNRECORDED = frozenset({"created_at"})

    @staticmethod
    def create_id(image_id: str, user_id: str, **_: Any) -> UUID:
        return aggregate_id(TableKind.LIKES, (image_id, user_id))

    @classmethod
    def creation(cls, item: LikeItem, aggregate_id: UUID | None = None) -> Any:
        return cls._create_from(cls.Liked, item, aggregate_id)

    def restore(self, item: LikeItem) -> None:
        self.trigger_event(self.LikedAgain, **attribute_values(item))

    def delete(self, *, expired: bool) -> None:
        self.trigger_event(self.Unliked, expired=expired)


ImageLiked = Like.Liked
ImageLikedAgain = Like.LikedAgain
ImageUnliked = Like.Unliked
