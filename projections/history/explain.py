"""Why a derived field has its value: the source items that count toward it."""

from __future__ import annotations

from typing import Any

from projections.documents import DocumentKind
from projections.history.memory import MemoryProjectionSession

USER_FIELDS = (
    "image_count", "likes_received", "likes_given", "last_upload_at",
    "lifetime_value_cents", "payment_count",
)  # fmt: skip
IMAGE_FIELDS = ("like_count", "owner")


def explain_field(
    session: MemoryProjectionSession, kind: DocumentKind, doc_id: str, field: str
) -> list[dict[str, Any]]:
    """Items with the amount each adds; the amounts add up to the field's value.

    ``last_upload_at`` lists the user's images with their upload time (the value is the
    latest); ``owner`` lists the users item the image names, if it exists.
    """
    if kind is DocumentKind.USERS:
        return _user_items(session, doc_id, field)
    return _image_items(session, doc_id, field)


def _user_items(session: MemoryProjectionSession, user_id: str, field: str) -> list[dict[str, Any]]:
    images = session.images_of(user_id)
    if field == "image_count":
        return [_item("images", {"imageId": r.image_id}, 1) for r in images]
    if field == "last_upload_at":
        return [_item("images", {"imageId": r.image_id}, r.created_at) for r in images]
    if field == "likes_received":
        return [
            _item("likes", {"imageId": like.image_id, "userId": like.user_id}, 1)
            for image in images
            for like in session.likes_of_image(image.image_id)
        ]
    if field == "likes_given":
        return [
            _item("likes", {"imageId": r.image_id, "userId": r.user_id}, 1)
            for r in session.likes_by(user_id)
        ]
    paid = [p for p in session.payments_of(user_id) if p.status == "paid"]
    amount = (lambda p: p.amount_cents) if field == "lifetime_value_cents" else (lambda p: 1)
    return [
        _item("payments", {"userId": p.user_id, "paymentId": p.payment_id}, amount(p)) for p in paid
    ]


def _image_items(
    session: MemoryProjectionSession, image_id: str, field: str
) -> list[dict[str, Any]]:
    if field == "like_count":
        return [
            _item("likes", {"imageId": r.image_id, "userId": r.user_id}, 1)
            for r in session.likes_of_image(image_id)
        ]
    image = session.image(image_id)
    owner = None if image is None else session.user(image.owner_id)
    return [] if owner is None else [_item("users", {"userId": owner.user_id}, owner.name)]


def _item(table: str, key: dict[str, str], amount: Any) -> dict[str, Any]:
    return {"table": table, "item_key": key, "counts": amount}
