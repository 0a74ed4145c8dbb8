"""Deterministic aggregate ids: the same source item always maps to the same aggregate."""

from __future__ import annotations

from functools import lru_cache
from hashlib import sha1
from uuid import UUID, SafeUUID

from domain.kinds import SourceKind

STREAMFOLD_NAMESPACE = UUID("6f1d2c4e-8a57-4b0e-9a43-3f5e2b7c9d10")
_SEPARATOR = "\x1f"  # cannot occur in a DynamoDB key the way "/" or ":" can

_NAMESPACE_BYTES = STREAMFOLD_NAMESPACE.bytes
# uuid5's variant and version bits, as ``UUID(bytes=..., version=5)`` sets them.
_CLEARED = ~((0xC000 << 48) | (0xF000 << 64))
_VERSION_5 = (0x8000 << 48) | (5 << 76)
_UNKNOWN = SafeUUID.unknown  # an enum member is a property lookup each time it is named


def item_key(kind: SourceKind, key: tuple[str, ...]) -> str:
    """The stable text key of one source item, e.g. ``likes\\x1fimg-1\\x1fusr-2``."""
    # A kind is a StrEnum: joined, it is its value, without the enum's property lookup.
    return _SEPARATOR.join((kind, *key))


@lru_cache(maxsize=1 << 16)
def aggregate_id(kind: SourceKind, key: tuple[str, ...]) -> UUID:
    """>>> aggregate_id(TableKind.USERS, ("u-1")) == aggregate_id(TableKind.USERS, ("u-1"))"""
    return aggregate_id_of(item_key(kind, key))


@lru_cache(maxsize=1 << 16)
def aggregate_id_of(key_text: str) -> UUID:
    """The aggregate id of the item whose `item_key` is ``key_text``: its uuid5 in our namespace.

    Computed as `uuid.uuid5` does, without the checks of ``UUID.__init__``, which cost as
    much as the hash: the intake derives one id for every item of every batch.
    """
    hashed = sha1(_NAMESPACE_BYTES + key_text.encode(), usedforsecurity=False).digest()
    digest = int.from_bytes(hashed[:16], "big")
    made = object.__new__(UUID)
    object.__setattr__(made, "int", (digest & _CLEARED) | _VERSION_5)
    object.__setattr__(made, "is_safe", _UNKNOWN)
    return made
