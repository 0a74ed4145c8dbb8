"""The size DynamoDB counts for an item, to refuse images no DynamoDB table can hold.

An item holds at most 400 KB, names and values together. A record whose image is larger
was not written by DynamoDB as it stands (a forged or corrupted record); it is refused
before it reaches the event store and the search backends.

>>> item_size({"userId": "u-1", "age": Decimal("42")})
14
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from boto3.dynamodb.types import Binary

MAX_ITEM_BYTES = 400 * 1024


def item_size(attributes: Mapping[str, object]) -> int:
    """Bytes of an item's UTF-8 names and values, as DynamoDB counts them (near enough)."""
    return sum(_text_size(name) + _value_size(value) for name, value in attributes.items())


def _text_size(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def _value_size(value: object) -> int:
    if isinstance(value, str):
        return _text_size(value)
    if isinstance(value, bool) or value is None:
        return 1
    if isinstance(value, Decimal):
        # Base-100 digits: about one byte per two significant digits, plus one.
        return len(value.as_tuple().digits) // 2 + 1
    if isinstance(value, Binary):
        return len(value.__bytes__())
    if isinstance(value, set | frozenset):
        return sum(_value_size(member) for member in value)
    if isinstance(value, list):
        return 3 + sum(1 + _value_size(member) for member in value)
    if isinstance(value, dict):
        return 3 + sum(1 + _text_size(k) + _value_size(v) for k, v in value.items())
    return 0
