"""The like aggregate: one per (image, user) row of the likes table."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import event

from domain.aggregate import SourceAggregate
from domain.identity import aggregate_id
from domain.items import LikeItem
from domain.kinds import TableKind


class Like(SourceAggregate):
    # The aggregate's own base classes: events declared on them are defined once, not
    # redefined by eventsourcing as subclasses of the aggregate's event class.
    class Event(SourceAggregate.Event):
        pass

    class Created(Event, SourceAggregate.Created):
        pass

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

    class LikedAgain(Event):
        class_version = 2

        image_id: str
        user_id: str
        created_at: str

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["created_at"] = state.pop("liked_at")

    class Unliked(Event):
        expired: bool

    # A like's own timestamp is indexed nowhere: changing it records nothing.
    REVISIONS: ClassVar[dict[str, str]] = {}

    @staticmethod
    def create_id(image_id: str, user_id: str, **_: Any) -> UUID:
        return aggregate_id(TableKind.LIKES, (image_id, user_id))

    @event(Liked)
    def __init__(self, image_id: str, user_id: str, created_at: str) -> None:
        self.image_id, self.user_id, self.created_at = image_id, user_id, created_at
        self.deleted = False

    @classmethod
    def from_item(cls, item: LikeItem) -> Like:
        return cls(**item.model_dump())

    def restore(self, item: LikeItem) -> None:
        self._like_again(**item.model_dump())

    @event(LikedAgain)
    def _like_again(self, image_id: str, user_id: str, created_at: str) -> None:
        self.created_at = created_at
        self.deleted = False

    @event(Unliked)
    def delete(self, *, expired: bool) -> None:
        self.deleted = True


ImageLiked = Like.Liked
ImageLikedAgain = Like.LikedAgain
ImageUnliked = Like.Unliked
