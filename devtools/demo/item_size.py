"""DynamoDB's item size arithmetic, as used for a stream record's ``SizeBytes``."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal


def item_size(attributes: Mapping[str, object]) -> int:
    """Bytes DynamoDB counts for an item: names plus values.

    >>> item_size({"id": "1", "foo": "bar"})
    9
    """
    return sum(len(name.encode()) + value_size(value) for name, value in attributes.items())


def value_size(value: object) -> int:
    if type(value) is str:
        return len(value) if value.isascii() else len(value.encode())
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, int | Decimal):
        # DynamoDB stores numbers as base-100 digits: about one byte per two digits, plus one.
        return len(str(abs(value)).replace(".", "")) // 2 + 1
    if isinstance(value, set | frozenset):
        return sum(value_size(member) for member in value)
    if isinstance(value, bytes):
        return len(value)
    raise TypeError(f"no DynamoDB size for a {type(value).__name__}")
