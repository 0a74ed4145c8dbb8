"""The search documents: their fields are a contract with the CRM (extra fields allowed).

Each field is declared here once, with how it is indexed (`Indexed`); the mappings, the
query allowlist, the export's columns and the projection versions derive from it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

import orjson
from pydantic import BaseModel, ConfigDict

from domain.values import quick_init
from projections.declarations import Indexed, Revision, Shape

DELETED = "deleted"

# A document's version is the global position of the event batch that rendered it, times
# VERSION_STEP. The steps between two positions leave room for rewrites (a repair, a
# resync) that must beat what is indexed now yet lose to every later event.
VERSION_STEP = 1000

# OpenSearch refuses a longer ``_id``; the embedded backend keeps the same limit, so both
# hold the same documents. A DynamoDB key may be longer (2,048 bytes): its document is
# refused for good and dead-lettered.
MAX_DOCUMENT_ID_BYTES = 512


class DocumentKind(StrEnum):
    USERS = "users"
    IMAGES = "images"


class _Document(BaseModel):
    # The documents' shape, for their schemas (the export's columns, tests); validators
    # are built on first use, which the stream handler never makes of them.
    model_config = ConfigDict(defer_build=True)


# The revisions after each kind's first: the kind's projection versions (`versions`).
ANALYTICS = Revision(2, "analytics: web traffic totals from imported rows")
ENGAGEMENT = Revision(3, "engagement: likes given + likes received + uploads")

Id = Indexed(Shape.ID, sortable=True)
Words = Indexed(Shape.WORDS)
Instant = Indexed(Shape.DATE, sortable=True)
Count = Indexed(Shape.INTEGER, sortable=True)
BigCount = Indexed(Shape.LONG, sortable=True)
Category = Indexed(Shape.TERMS, sortable=True)


class OwnerSummary(_Document):
    user_id: Annotated[str, Id]
    name: Annotated[str, Indexed(Shape.WORDS, boost=2.0, prefix=True, sortable=True)]
    email: Annotated[str, Indexed(Shape.WORDS, boost=2.0, sortable=True)]
    plan: Annotated[str, Category]
    country: Annotated[str, Category]


class WebAnalyticsSummary(_Document):
    sessions: Annotated[int, BigCount]
    pageviews: Annotated[int, BigCount]
    first_visit_on: Annotated[str, Instant]
    last_visit_on: Annotated[str, Instant]
    first_source: Annotated[str, Category]
    first_medium: Annotated[str | None, Category]


# Names and titles weigh most, then emails, owners and tags, then prose and enumerations:
# a name or title match ranks above a description match.
class UserDocument(_Document):
    user_id: Annotated[str, Id]
    email: Annotated[str, Indexed(Shape.WORDS, boost=2.0, sortable=True)]
    name: Annotated[str, Indexed(Shape.WORDS, boost=3.0, prefix=True, sortable=True)]
    plan: Annotated[str, Indexed(Shape.TERMS, boost=1.0, sortable=True)]
    country: Annotated[str, Indexed(Shape.TERMS, boost=1.0, sortable=True)]
    created_at: Annotated[str, Instant]
    marketing_opt_in: Annotated[bool, Indexed(Shape.BOOLEAN, sortable=True)]
    tags: Annotated[list[str] | None, Indexed(Shape.TERMS, boost=2.0)]
    bio: Annotated[str | None, Indexed(Shape.WORDS, boost=1.0, exact=False)]
    image_count: Annotated[int, Count]
    likes_received: Annotated[int, Count]
    likes_given: Annotated[int, Count]
    last_upload_at: Annotated[str | None, Instant]
    lifetime_value_cents: Annotated[int, BigCount]
    payment_count: Annotated[int, Count]
    # likes given + likes received + uploads
    engagement: Annotated[
        int, Indexed(Shape.INTEGER, sortable=True, since=ENGAGEMENT, from_tables=False)
    ]
    analytics: Annotated[
        WebAnalyticsSummary | None,
        Indexed(Shape.OBJECT, since=ANALYTICS, from_tables=False),
    ]


class ImageDocument(_Document):
    image_id: Annotated[str, Id]
    owner_id: Annotated[str, Id]
    title: Annotated[str, Indexed(Shape.WORDS, boost=3.0, prefix=True, sortable=True)]
    description: Annotated[str | None, Indexed(Shape.WORDS, boost=1.0, exact=False)]
    tags: Annotated[list[str] | None, Indexed(Shape.TERMS, boost=2.0)]
    image_url: Annotated[str, Indexed(Shape.URL)]
    created_at: Annotated[str, Instant]
    status: Annotated[str, Indexed(Shape.TERMS, boost=1.0, sortable=True)]
    size_bytes: Annotated[int, BigCount]
    like_count: Annotated[int, Count]
    owner: Annotated[OwnerSummary | None, Indexed(Shape.OBJECT)]


DOCUMENT_MODELS: dict[DocumentKind, type[_Document]] = {
    DocumentKind.USERS: UserDocument,
    DocumentKind.IMAGES: ImageDocument,
}
ID_FIELDS = {DocumentKind.USERS: "user_id", DocumentKind.IMAGES: "image_id"}


@quick_init
@dataclass(frozen=True, slots=True)
class DocumentChange:
    """A document to write (``body``) or to delete (``body is None``) at ``version``.

    ``version`` grows with the event store's global position; a search backend keeps the
    higher of two versions, so a stale write can never replace a newer document.
    """

    kind: DocumentKind
    doc_id: str
    version: int
    body: dict[str, Any] | None


def fingerprint(body: dict[str, Any] | None) -> str:
    """A short digest of a rendered body, to tell whether a document changed."""
    if body is None:
        return DELETED
    return hashlib.blake2b(
        orjson.dumps(body, option=orjson.OPT_SORT_KEYS), digest_size=16
    ).hexdigest()


def newest_per_document(changes: Sequence[DocumentChange]) -> tuple[list[DocumentChange], int]:
    """The highest version of each (kind, id), in first-seen order, and how many were stale.

    A backend applies one change per document per write: two changes of one document in a
    batch would be applied in order, and only the higher version counts anyway.

    >>> newest, stale = newest_per_document([user_v3, user_v5, image_v2])
    >>> [c.version for c in newest], stale
    ([5, 2], 1)
    """
    newest: dict[tuple[DocumentKind, str], DocumentChange] = {}
    for change in changes:
        key = (change.kind, change.doc_id)
        kept = newest.get(key)
        if kept is None or change.version > kept.version:
            newest[key] = change
    return list(newest.values()), len(changes) - len(newest)
