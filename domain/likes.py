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

    class Liked(Created):
        image_id: str
        user_id: str
        liked_at: str

    class LikedAgain(Event):
        image_id: str
        user_id: str
        liked_at: str

    class Unliked(Event):
        expired: bool

    # A like's own timestamp is indexed nowhere: changing it records nothing.
    REVISIONS: ClassVar[dict[str, str]] = {}

    @staticmethod
    def create_id(image_id: str, user_id: str, **_: Any) -> UUID:
        return aggregate_id(TableKind.LIKES, (image_id, user_id))

    @event(Liked)
    def __init__(self, image_id: str, user_id: str, liked_at: str) -> None:
        self.image_id, self.user_id, self.liked_at = image_id, user_id, liked_at
        self.deleted = False

    @classmethod
    def from_item(cls, item: LikeItem) -> Like:
        return cls(image_id=item.image_id, user_id=item.user_id, liked_at=item.created_at)

    def restore(self, item: LikeItem) -> None:
        self._like_again(image_id=item.image_id, user_id=item.user_id, liked_at=item.created_at)

    @event(LikedAgain)
    def _like_again(self, image_id: str, user_id: str, liked_at: str) -> None:
        self.liked_at = liked_at
        self.deleted = False

    @event(Unliked)
    def delete(self, *, expired: bool) -> None:
        self.deleted = True


ImageLiked = Like.Liked
ImageLikedAgain = Like.LikedAgain
ImageUnliked = Like.Unliked
