"""The search documents: their fields are a contract with the CRM (extra fields allowed)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
from pydantic import BaseModel

DELETED = "deleted"


class DocumentKind(StrEnum):
    USERS = "users"
    IMAGES = "images"


class OwnerSummary(BaseModel):
    user_id: str
    name: str
    email: str
    plan: str
    country: str


class UserDocument(BaseModel):
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


class ImageDocument(BaseModel):
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

    @property
    def is_delete(self) -> bool:
        return self.body is None


def fingerprint(body: dict[str, Any] | None) -> str:
    """A short digest of a rendered body, to tell whether a document changed."""
    if body is None:
        return DELETED
    return hashlib.blake2b(
        orjson.dumps(body, option=orjson.OPT_SORT_KEYS), digest_size=16
    ).hexdigest()
