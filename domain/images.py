"""The image aggregate: one per item of the images table."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import UUID

from domain.aggregate import SourceAggregate, mirrors_item
from domain.identity import aggregate_id
from domain.items import ImageItem, attribute_types, attribute_values
from domain.kinds import TableKind


@mirrors_item
class Image(SourceAggregate, created_event_name="Uploaded"):
    # The aggregate's own base classes: events declared on them are defined once, not
    # redefined by eventsourcing as subclasses of the aggregate's event class; like
    # SourceAggregate's, they add no field and reuse their base's dataclass methods.
    # Each event applies itself, and command methods trigger events explicitly: ``@event``
    # would build one more event class per decorated method at import.
    class Event(SourceAggregate.Event):
        __dataclass_fields__ = SourceAggregate.Event.__dataclass_fields__

    class Created(Event, SourceAggregate.Created):
        __dataclass_fields__ = SourceAggregate.Created.__dataclass_fields__

    KIND = TableKind.IMAGES

    class Uploaded(Created):
        __annotations__ = attribute_types(ImageItem)

        def apply(self, aggregate: Image) -> None:
            aggregate.take_item(self)

    class Restored(Event):
        __annotations__ = attribute_types(ImageItem)

        def apply(self, aggregate: Image) -> None:
            aggregate.take_item(self)

    class OwnerChanged(Event):
        owner_id: str
        previous_owner_id: str

        def apply(self, aggregate: Image) -> None:
            aggregate.owner_id = self.owner_id

    class Retitled(Event):
        title: str

        def apply(self, aggregate: Image) -> None:
            aggregate.title = self.title

    class DescriptionChanged(Event):
        description: str | None

        def apply(self, aggregate: Image) -> None:
            aggregate.description = self.description

    class TagsChanged(Event):
        tags: list[str] | None

        def apply(self, aggregate: Image) -> None:
            aggregate.tags = self.tags

    class FileMoved(Event):
        image_url: str

        def apply(self, aggregate: Image) -> None:
            aggregate.image_url = self.image_url

    class UploadDateCorrected(Event):
        created_at: str

        def apply(self, aggregate: Image) -> None:
            aggregate.created_at = self.created_at

    class StatusChanged(Event):
        status: str

        def apply(self, aggregate: Image) -> None:
            aggregate.status = self.status

    class Resized(Event):
        size_bytes: int

        def apply(self, aggregate: Image) -> None:
            aggregate.size_bytes = self.size_bytes

    class Deleted(Event):
        expired: bool

        def apply(self, aggregate: Image) -> None:
            aggregate.deleted = True

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

    @classmethod
    def creation(cls, item: ImageItem, aggregate_id: UUID | None = None) -> Any:
        return cls._create_from(cls.Uploaded, item, aggregate_id)

    def restore(self, item: ImageItem) -> None:
        self.trigger_event(self.Restored, **attribute_values(item))

    def change_owner(self, owner_id: str) -> None:
        self.trigger_event(self.OwnerChanged, owner_id=owner_id, previous_owner_id=self.owner_id)

    def retitle(self, title: str) -> None:
        self.trigger_event(self.Retitled, title=title)

    def describe(self, description: str | None) -> None:
        self.trigger_event(self.DescriptionChanged, description=description)

    def retag(self, tags: list[str] | None) -> None:
        self.trigger_event(self.TagsChanged, tags=tags)

    def move_file(self, image_url: str) -> None:
        self.trigger_event(self.FileMoved, image_url=image_url)

    def correct_upload_date(self, created_at: str) -> None:
        self.trigger_event(self.UploadDateCorrected, created_at=created_at)

    def change_status(self, status: str) -> None:
        self.trigger_event(self.StatusChanged, status=status)

    def resize(self, size_bytes: int) -> None:
        self.trigger_event(self.Resized, size_bytes=size_bytes)

    def delete(self, *, expired: bool) -> None:
        self.trigger_event(self.Deleted, expired=expired)


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
