"""The search documents: their fields are a contract with the CRM (extra fields allowed)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict

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


class OwnerSummary(_Document):
    user_id: str
    name: str
    email: str
    plan: str
    country: str


class WebAnalyticsSummary(_Document):
    sessions: int
    pageviews: int
    first_visit_on: str
    last_visit_on: str
    first_source: str
    first_medium: str | None


class UserDocument(_Document):
    user_id: str
    email: str
    name: str
    plan: str
    country: str
    created_at: str
    marketing_opt_in: bool
    tags: list[str] | None
    bio: str | None
    image_count: int
    likes_received: int
    likes_given: int
    last_upload_at: str | None
    lifetime_value_cents: int
    payment_count: int
    engagement: int  # likes given + likes received + uploads
    analytics: WebAnalyticsSummary | None


class ImageDocument(_Document):
    image_id: str
    owner_id: str
    title: str
    description: str | None
    tags: list[str] | None
    image_url: str
    created_at: str
    status: str
    size_bytes: int
    like_count: int
    owner: OwnerSummary | None


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
