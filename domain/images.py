"""The image aggregate: one per item of the images table."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from eventsourcing.domain import event

from domain.aggregate import SourceAggregate
from domain.identity import aggregate_id
from domain.items import ImageItem
from domain.kinds import TableKind


class Image(SourceAggregate):
    # The aggregate's own base classes: events declared on them are defined once, not
    # redefined by eventsourcing as subclasses of the aggregate's event class.
    class Event(SourceAggregate.Event):
        pass

    class Created(Event, SourceAggregate.Created):
        pass

    class Uploaded(Created):
        image_id: str
        owner_id: str
        title: str
        description: str | None
        tags: list[str] | None
        image_url: str
        created_at: str
        status: str
        size_bytes: int

    class Restored(Event):
        image_id: str
        owner_id: str
        title: str
        description: str | None
        tags: list[str] | None
        image_url: str
        created_at: str
        status: str
        size_bytes: int

    class OwnerChanged(Event):
        owner_id: str
        previous_owner_id: str

    class Retitled(Event):
        title: str

    class DescriptionChanged(Event):
        description: str | None

    class TagsChanged(Event):
        tags: list[str] | None

    class FileMoved(Event):
        image_url: str

    class UploadDateCorrected(Event):
        created_at: str

    class StatusChanged(Event):
        status: str

    class Resized(Event):
        size_bytes: int

    class Deleted(Event):
        expired: bool

    REVISIONS: ClassVar[dict[str, str]] = {
        "owner_id": "change_owner",
        "title": "retitle",
        "description": "describe",
        "tags": "retag",
        "image_url": "move_file",
        "created_at": "correct_upload_date",
        "status": "change_status",
        "size_bytes": "resize",
    }

    @staticmethod
    def create_id(image_id: str, **_: Any) -> UUID:
        return aggregate_id(TableKind.IMAGES, (image_id,))

    @event(Uploaded)
    def __init__(
        self,
        image_id: str,
        owner_id: str,
        title: str,
        description: str | None,
        tags: list[str] | None,
        image_url: str,
        created_at: str,
        status: str,
        size_bytes: int,
    ) -> None:
        self.image_id, self.owner_id, self.title = image_id, owner_id, title
        self.description, self.tags, self.image_url = description, tags, image_url
        self.created_at, self.status, self.size_bytes = created_at, status, size_bytes
        self.deleted = False

    @classmethod
    def from_item(cls, item: ImageItem) -> Image:
        return cls(**item.model_dump())

    def restore(self, item: ImageItem) -> None:
        self._restore(**item.model_dump())

    @event(Restored)
    def _restore(
        self,
        image_id: str,
        owner_id: str,
        title: str,
        description: str | None,
        tags: list[str] | None,
        image_url: str,
        created_at: str,
        status: str,
        size_bytes: int,
    ) -> None:
        self.owner_id, self.title = owner_id, title
        self.description, self.tags, self.image_url = description, tags, image_url
        self.created_at, self.status, self.size_bytes = created_at, status, size_bytes
        self.deleted = False

    def change_owner(self, owner_id: str) -> None:
        self._change_owner(owner_id=owner_id, previous_owner_id=self.owner_id)

    @event(OwnerChanged)
    def _change_owner(self, owner_id: str, previous_owner_id: str) -> None:
        self.owner_id = owner_id

    @event(Retitled)
    def retitle(self, title: str) -> None:
        self.title = title

    @event(DescriptionChanged)
    def describe(self, description: str | None) -> None:
        self.description = description

    @event(TagsChanged)
    def retag(self, tags: list[str] | None) -> None:
        self.tags = tags

    @event(FileMoved)
    def move_file(self, image_url: str) -> None:
        self.image_url = image_url

    @event(UploadDateCorrected)
    def correct_upload_date(self, created_at: str) -> None:
        self.created_at = created_at

    @event(StatusChanged)
    def change_status(self, status: str) -> None:
        self.status = status

    @event(Resized)
    def resize(self, size_bytes: int) -> None:
        self.size_bytes = size_bytes

    @event(Deleted)
    def delete(self, *, expired: bool) -> None:
        self.deleted = True


ImageUploaded = Image.Uploaded
ImageRestored = Image.Restored
ImageOwnerChanged = Image.OwnerChanged
ImageRetitled = Image.Retitled
ImageDescriptionChanged = Image.DescriptionChanged
ImageTagsChanged = Image.TagsChanged
ImageFileMoved = Image.FileMoved
ImageUploadDateCorrected = Image.UploadDateCorrected
ImageStatusChanged = Image.StatusChanged
ImageResized = Image.Resized
ImageDeleted = Image.Deleted
