"""The four kinds of source table and the attributes that form their keys."""

from __future__ import annotations

from enum import StrEnum


class TableKind(StrEnum):
    USERS = "users"
    IMAGES = "images"
    LIKES = "likes"
    PAYMENTS = "payments"

    @property
    def key_attributes(self) -> tuple[str, ...]:
        return _KEY_ATTRIBUTES[self]


_KEY_ATTRIBUTES: dict[TableKind, tuple[str, ...]] = {
    TableKind.USERS: ("userId",),
    TableKind.IMAGES: ("imageId",),
    TableKind.LIKES: ("imageId", "userId"),
    TableKind.PAYMENTS: ("userId", "paymentId"),
}
