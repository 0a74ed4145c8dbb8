"""The projection's state: a normalized mirror of the source items, folded from events.

The rows of users, images and web traffic are the source tables' items themselves (declared
once, in `domain.items`); likes and payments keep only what the documents count. The state
tables' SQL columns, and how a row is written and read back, are derived from the rows'
fields (`infrastructure.adapters.eventstore.state_tables`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import lru_cache

from domain.items import ImageItem, UserItem, WebTrafficItem
from domain.values import quick_init


class StateTable(StrEnum):
    USERS = "users"
    IMAGES = "images"
    LIKES = "likes"
    PAYMENTS = "payments"
    ANALYTICS = "analytics"


# A user's and a web-traffic row's state is the whole item, as the table declares it.
UserRow = UserItem
WebTrafficRow = WebTrafficItem


class ImageRow(ImageItem):
    """An image's state: the whole item, and its upload instant for ordering."""

    __slots__ = ()

    @property
    def uploaded_instant(self) -> str:
        return sortable_instant(self.created_at)


@quick_init
@dataclass(frozen=True, slots=True)
class LikeRow:
    image_id: str
    user_id: str


@quick_init
@dataclass(frozen=True, slots=True)
class PaymentRow:
    user_id: str
    payment_id: str
    amount_cents: int
    status: str


Row = UserRow | ImageRow | LikeRow | PaymentRow | WebTrafficRow


@quick_init
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

    @classmethod
    def of(cls, rows: Sequence[WebTrafficRow]) -> WebAnalytics | None:
        """The summary of one user's traffic rows; None when there are none."""
        if not rows:
            return None
        first = min(rows, key=lambda r: (r.visited_on, r.source))
        return cls(
            sessions=sum(r.sessions for r in rows),
            pageviews=sum(r.pageviews for r in rows),
            first_visit_on=first.visited_on,
            last_visit_on=max(r.visited_on for r in rows),
            first_source=first.source,
            first_medium=first.medium,
        )


@quick_init
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

    @classmethod
    def of(
        cls,
        images: Sequence[ImageRow],
        likes_received: int,
        likes_given: int,
        payments: Sequence[PaymentRow],
        traffic: Sequence[WebTrafficRow],
    ) -> UserStats:
        """A user's counts from the rows that name the user: the images it owns, the likes
        on them and by it, its payments and its web traffic.

        The rule the projection store's SQL (`SqlProjectionSession.user_views`) follows;
        tests/integration/test_user_stats_rule.py holds the two to it on both databases.
        The latest upload is the image with the latest instant, the greatest text of its
        timestamp breaking ties between spellings of that instant; only paid payments count.
        """
        latest = max(images, key=lambda r: (r.uploaded_instant, r.created_at), default=None)
        paid = [p for p in payments if p.status == "paid"]
        return cls(
            image_count=len(images),
            likes_received=likes_received,
            likes_given=likes_given,
            last_upload_at=None if latest is None else latest.created_at,
            lifetime_value_cents=sum(p.amount_cents for p in paid),
            payment_count=len(paid),
            analytics=WebAnalytics.of(traffic),
        )


@lru_cache(maxsize=65_536)
def sortable_instant(timestamp: str) -> str:
    """An ISO-8601 timestamp as UTC text that sorts by instant (naive means UTC)."""
    moment = datetime.fromisoformat(timestamp)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
