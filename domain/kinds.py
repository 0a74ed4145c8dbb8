"""The kinds of source (four tables, and files imported beside them) and their keys."""

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


class ImportedKind(StrEnum):
    """Sources that are files, not DynamoDB tables: imported rows, never a change stream."""

    ANALYTICS = "analytics"  # web analytics: a user's traffic on one day from one source

    @property
    def key_attributes(self) -> tuple[str, ...]:
        return ("userId", "date", "source")


SourceKind = TableKind | ImportedKind
