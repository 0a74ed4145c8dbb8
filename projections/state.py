"""The projection's state: a normalized mirror of the source items, folded from events.

Each row class declares one state table: its SQL columns, and how a row is written and
read back, are derived from the fields (`infrastructure.eventstore.state_tables`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

# Field metadata of the state rows, read where the state tables are declared in SQL.
ONE_PER_ITEM: dict[str, Any] = {"unique": True}  # the item's own key: one row per value


def stored_with(*computed: str) -> dict[str, Any]:
    """Properties of the row stored as columns right after this field (for SQL to use)."""
    return {"computed": computed}


class StateTable(StrEnum):
    USERS = "users"
    IMAGES = "images"
    LIKES = "likes"
    PAYMENTS = "payments"
    ANALYTICS = "analytics"


@dataclass(frozen=True, slots=True)
class UserRow:
    user_id: str = field(metadata=ONE_PER_ITEM)
    email: str
    name: str
    plan: str
    country: str
    created_at: str
    marketing_opt_in: bool
    tags: list[str] | None
    bio: str | None


@dataclass(frozen=True, slots=True)
class ImageRow:
    image_id: str = field(metadata=ONE_PER_ITEM)
    owner_id: str
    title: str
    description: str | None
    tags: list[str] | None
    image_url: str
    created_at: str = field(metadata=stored_with("uploaded_instant"))
    status: str
    size_bytes: int

    @property
    def uploaded_instant(self) -> str:
        return sortable_instant(self.created_at)


@dataclass(frozen=True, slots=True)
class LikeRow:
    image_id: str
    user_id: str


@dataclass(frozen=True, slots=True)
class PaymentRow:
    user_id: str
    payment_id: str
    amount_cents: int
    status: str


@dataclass(frozen=True, slots=True)
class WebTrafficRow:
    user_id: str
    visited_on: str
    source: str
    medium: str | None
    sessions: int
    pageviews: int


Row = UserRow | ImageRow | LikeRow | PaymentRow | WebTrafficRow


@dataclass(frozen=True, slots=True)
class WebAnalytics:
    """A user's web traffic over every imported analytics row, whatever the day or source.

    The first source and medium are those of the earliest day (the smallest source name
    on a tie): how the user first found the site.
    """

    sessions: int
    pageviews: int
    first_visit_on: str
    last_visit_on: str
    first_source: str
    first_medium: str | None


@dataclass(frozen=True, slots=True)
class UserStats:
    """What a user document counts over other items."""

    image_count: int = 0
    likes_received: int = 0
    likes_given: int = 0
    last_upload_at: str | None = None
    lifetime_value_cents: int = 0
    payment_count: int = 0
    analytics: WebAnalytics | None = None  # None: no analytics row names this user


def sortable_instant(timestamp: str) -> str:
    """An ISO-8601 timestamp as UTC text that sorts by instant (naive means UTC)."""
    moment = datetime.fromisoformat(timestamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
