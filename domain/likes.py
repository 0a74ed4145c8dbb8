"""The like aggregate: one per (image, user) row of the likes table."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar
from uuid import UUID

from domain.aggregate import SourceAggregate
from domain.identity import aggregate_id
from domain.items import LikeItem
from domain.kinds import TableKind


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

    # Version 2: ``liked_at`` is ``created_at``, the name the likes item and every other
    # aggregate use. Events stored as version 1 are upcast when they are read.
    class Liked(Created):
        class_version = 2

        image_id: str
        user_id: str
        created_at: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["created_at"] = state.pop("liked_at")

        def apply(self, aggregate: Like) -> None:
            aggregate.image_id, aggregate.user_id = self.image_id, self.user_id
            aggregate.created_at = self.created_at
            aggregate.deleted = False

    class LikedAgain(Event):
        class_version = 2

        image_id: str
        user_id: str
        created_at: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["created_at"] = state.pop("liked_at")

        def apply(self, aggregate: Like) -> None:
            aggregate.created_at = self.created_at
            aggregate.deleted = False

    class Unliked(Event):
        expired: bool

        def apply(self, aggregate: Like) -> None:
            aggregate.deleted = True

    if TYPE_CHECKING:  # set by the events; not fields of a created event
        image_id: str
        user_id: str
        created_at: str

    # A like's own timestamp is indexed nowhere: changing it records nothing.
    REVISIONS: ClassVar[dict[str, str]] = {}

    @staticmethod
    def create_id(image_id: str, user_id: str, **_: Any) -> UUID:
        return aggregate_id(TableKind.LIKES, (image_id, user_id))

    @classmethod
    def from_item(cls, item: LikeItem) -> Like:
        return cls._create(cls.Liked, **item.model_dump())

    def restore(self, item: LikeItem) -> None:
        self.trigger_event(self.LikedAgain, **item.model_dump())

    def delete(self, *, expired: bool) -> None:
        self.trigger_event(self.Unliked, expired=expired)


ImageLiked = Like.Liked
ImageLikedAgain = Like.LikedAgain
ImageUnliked = Like.Unliked
