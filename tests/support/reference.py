"""The search documents the pipeline must produce, computed straight from table contents.

A second, deliberately plain implementation of the brief's document rules: it groups
the tables' current items and shares no code with ``projections``, so a bug in the
pipeline's incremental fold cannot hide in both.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

Item = Mapping[str, Any]
Documents = dict[str, dict[str, dict[str, Any]]]


def expected_documents(items_by_kind: Mapping[str, Iterable[Item]]) -> Documents:
    """``{"users": {user_id: document}, "images": {image_id: document}}`` for the tables.

    ``items_by_kind`` maps a kind (``"users"``, ``"images"``, ``"likes"``, ``"payments"``)
    to that table's current items, with values as boto3 returns them (Decimal or int for
    N, set for SS). A missing kind is an empty table. ``"analytics"`` holds the imported
    web-analytics rows (``userId``, ``date``, ``source``, ``medium``, ``sessions``,
    ``pageviews``), one per user, date and source.

    >>> docs = expected_documents({"users": [{"userId": "u1", "email": "a@b.example",
    ...     "name": "Ada", "plan": "pro", "country": "GB", "createdAt": "2024-01-01T00:00:00Z",
    ...     "marketingOptIn": True}]})
    >>> docs["users"]["u1"]["image_count"], docs["users"]["u1"]["tags"], docs["images"]
    (0, None, {})
    """
    tables = {str(kind): list(items) for kind, items in items_by_kind.items()}
    users = {item["userId"]: item for item in tables.get("users", [])}
    images = {item["imageId"]: item for item in tables.get("images", [])}
    likes = tables.get("likes", [])
    payments = tables.get("payments", [])
    traffic_per_user: defaultdict[str, list[Item]] = defaultdict(list)
    for row in tables.get("analytics", []):
        traffic_per_user[row["userId"]].append(row)

    likes_per_image = Counter(like["imageId"] for like in likes)
    likes_per_liker = Counter(like["userId"] for like in likes)
    images_per_owner: defaultdict[str, list[Item]] = defaultdict(list)
    for image in images.values():
        images_per_owner[image["userId"]].append(image)
    paid_per_user: defaultdict[str, list[Item]] = defaultdict(list)
    for payment in payments:
        if payment["status"] == "paid":
            paid_per_user[payment["userId"]].append(payment)

    return {
        "users": {
            user_id: user_document(
                user,
                own_images=images_per_owner.get(user_id, []),
                likes_per_image=likes_per_image,
                likes_given=likes_per_liker[user_id],
                paid=paid_per_user.get(user_id, []),
                traffic=traffic_per_user.get(user_id, []),
            )
            for user_id, user in users.items()
        },
        "images": {
            image_id: image_document(image, users.get(image["userId"]), likes_per_image[image_id])
            for image_id, image in images.items()
        },
    }


def user_document(
    user: Item,
    own_images: list[Item],
    likes_per_image: Mapping[str, int],
    likes_given: int,
    paid: list[Item],
    traffic: Iterable[Item] = (),
) -> dict[str, Any]:
    likes_received = sum(likes_per_image.get(image["imageId"], 0) for image in own_images)
    return {
        "user_id": user["userId"],
        "email": user["email"],
        "name": user["name"],
        "plan": user["plan"],
        "country": user["country"],
        "created_at": user["createdAt"],
        "marketing_opt_in": user["marketingOptIn"],
        "tags": _sorted_set(user.get("tags")),
        "bio": user.get("bio"),
        "image_count": len(own_images),
        "likes_received": likes_received,
        "likes_given": likes_given,
        "last_upload_at": latest_timestamp(image["createdAt"] for image in own_images),
        "lifetime_value_cents": sum(_whole(payment["amountCents"]) for payment in paid),
        "payment_count": len(paid),
        "engagement": likes_given + likes_received + len(own_images),
        "analytics": web_analytics(traffic),
    }


def web_analytics(rows: Iterable[Item]) -> dict[str, Any] | None:
    """Totals over a user's analytics rows; the first source is that of the earliest day.

    >>> web_analytics([{"date": "2024-02-01", "source": "news", "medium": "email",
    ...     "sessions": 2, "pageviews": 5}, {"date": "2024-01-15", "source": "google",
    ...     "medium": "organic", "sessions": 1, "pageviews": 1}])["first_source"]
    'google'
    """
    rows = list(rows)
    if not rows:
        return None
    first = min(rows, key=lambda row: (row["date"], row["source"]))
    return {
        "sessions": sum(_whole(row["sessions"]) for row in rows),
        "pageviews": sum(_whole(row["pageviews"]) for row in rows),
        "first_visit_on": first["date"],
        "last_visit_on": max(row["date"] for row in rows),
        "first_source": first["source"],
        "first_medium": first.get("medium"),
    }


def image_document(image: Item, owner: Item | None, like_count: int) -> dict[str, Any]:
    return {
        "image_id": image["imageId"],
        "owner_id": image["userId"],
        "title": image["title"],
        "description": image.get("description"),
        "tags": _sorted_set(image.get("tags")),
        "image_url": image["imageUrl"],
        "created_at": image["createdAt"],
        "status": image["status"],
        "size_bytes": _whole(image["sizeBytes"]),
        "like_count": like_count,
        "owner": None
        if owner is None
        else {
            "user_id": owner["userId"],
            "name": owner["name"],
            "email": owner["email"],
            "plan": owner["plan"],
            "country": owner["country"],
        },
    }


def latest_timestamp(timestamps: Iterable[str]) -> str | None:
    """The timestamp of the latest instant (naive means UTC); on a tie, the greatest text.

    >>> latest_timestamp(["2024-01-01T10:00:00Z", "2024-01-01T11:30:00+02:00"])
    '2024-01-01T10:00:00Z'
    >>> latest_timestamp(["2024-01-01T10:00:00", "2024-01-01T10:00:00Z"])
    '2024-01-01T10:00:00Z'
    """
    return max(timestamps, key=lambda text: (_instant(text), text), default=None)


def _instant(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def _sorted_set(value: Any) -> list[str] | None:
    return None if value is None else sorted(value)


def _whole(number: int | Decimal) -> int:
    return int(number)
