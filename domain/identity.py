"""Deterministic aggregate ids: the same source item always maps to the same aggregate."""

from __future__ import annotations

from functools import lru_cache
from uuid import UUID, uuid5

from domain.kinds import SourceKind

STREAMFOLD_NAMESPACE = UUID("6f1d2c4e-8a57-4b0e-9a43-3f5e2b7c9d10")
_SEPARATOR = "\x1f"  # cannot occur in a DynamoDB key the way "/" or ":" can


def item_key(kind: SourceKind, key: tuple[str, ...]) -> str:
    """The stable text key of one source item, e.g. ``likes\\x1fimg-1\\x1fusr-2``."""
    return _SEPARATOR.join((kind.value, *key))


@lru_cache(maxsize=1 << 16)
def aggregate_id(kind: SourceKind, key: tuple[str, ...]) -> UUID:
    """>>> aggregate_id(TableKind.USERS, ("u-1")) == aggregate_id(TableKind.USERS, ("u-1"))"""
    return uuid5(STREAMFOLD_NAMESPACE, item_key(kind, key))
