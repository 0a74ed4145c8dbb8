"""One stored state of an item: Python values, DynamoDB JSON image and size, together."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any, NamedTuple, cast

from boto3.dynamodb.types import TypeSerializer

from devtools.demo.item_size import value_size

DynamoImage = dict[str, dict[str, Any]]

_SERIALIZER = TypeSerializer()
_MISSING = object()


class ItemVersion(NamedTuple):
    """An item as stored, with its stream image and size computed once.

    The image of a version becomes the ``OldImage`` of the next change of the item, so it
    is shared between records and must be treated as read-only.

    >>> version = ItemVersion.of({"userId": "u-1", "plan": "pro", "bio": None})
    >>> version.image, version.size_bytes
    ({'userId': {'S': 'u-1'}, 'plan': {'S': 'pro'}}, 16)
    >>> version.changed({"plan": "team"}).image["plan"], version.changed({"plan": "pro"})
    ({'S': 'team'}, None)
    """

    attributes: Mapping[str, Any]
    image: DynamoImage
    size_bytes: int

    @classmethod
    def of(cls, attributes: Mapping[str, Any]) -> ItemVersion:
        """Store ``attributes`` without None values and empty sets, as DynamoDB does."""
        stored: dict[str, Any] = {}
        image: DynamoImage = {}
        size = 0
        for name, value in attributes.items():
            encoded = encode(value)
            if encoded is not None:
                stored[name], image[name], value_bytes = encoded
                size += _name_size(name) + value_bytes
        return cls(stored, image, size)

    def changed(self, changes: Mapping[str, Any]) -> ItemVersion | None:
        """This item with ``changes`` applied (None or an empty set removes); None if equal.

        Only the changed attributes are encoded again: most updates touch one or two.
        """
        stored = dict(self.attributes)
        image = dict(self.image)
        size = self.size_bytes
        changed = False
        for name, value in changes.items():
            old = stored.get(name, _MISSING)
            encoded = encode(value)
            if encoded is None:
                if old is _MISSING:
                    continue
                del stored[name], image[name]
                size -= _name_size(name) + value_size(old)
                changed = True
            elif not _same_value(old, encoded[0]):
                stored[name], image[name], value_bytes = encoded
                size += value_bytes + (_name_size(name) if old is _MISSING else -value_size(old))
                changed = True
        return ItemVersion(stored, image, size) if changed else None

    def plain(self) -> dict[str, Any]:
        """A fresh copy of the attributes, with string sets as ``set`` like boto3 returns."""
        return {
            name: set(value) if isinstance(value, frozenset) else value
            for name, value in self.attributes.items()
        }


def encode(value: Any) -> tuple[Any, dict[str, Any], int] | None:
    """(stored value, DynamoDB JSON, size in bytes), or None for "no attribute".

    >>> encode({"b", "a"})[1:]
    ({'SS': ['a', 'b']}, 2)
    >>> encode(None), encode(set())
    (None, None)
    """
    kind = type(value)
    # TypeSerializer's type dispatch dominates generation time; the common types take a
    # direct path, checked against TypeSerializer by the tests.
    if kind is str:
        return value, {"S": value}, len(value) if value.isascii() else len(value.encode())
    if kind is bool:
        return value, {"BOOL": value}, 1
    if kind is int:
        text = str(value)
        return value, {"N": text}, len(text.lstrip("-")) // 2 + 1
    if value is None:
        return None
    if kind is set or kind is frozenset:
        if not value:
            return None
        members = sorted(value)
        if all(type(member) is str for member in members):
            return frozenset(value), {"SS": members}, value_size(value)
        value = frozenset(value)
    return value, serialize_value(value), value_size(value)


def same_attributes(left: Mapping[str, Any], right: Mapping[str, Any]) -> bool:
    """Equal in value and in DynamoDB type: ``True == 1`` in Python, not in DynamoDB.

    >>> same_attributes({"n": 1}, {"n": Decimal(1)}), same_attributes({"n": 1}, {"n": True})
    (True, False)
    """
    if left.keys() != right.keys():
        return False
    return all(_same_value(value, right[name]) for name, value in left.items())


def serialize_value(value: object) -> dict[str, Any]:
    """DynamoDB JSON for one value; set members sorted so a seed always yields the same JSON.

    >>> serialize_value({"b", "a"})
    {'SS': ['a', 'b']}
    """
    serialized = cast(dict[str, Any], _SERIALIZER.serialize(value))
    for set_type in ("SS", "NS", "BS"):
        if set_type in serialized:
            serialized[set_type] = sorted(serialized[set_type])
    return serialized


def _same_value(left: object, right: object) -> bool:
    return _dynamo_type(left) is _dynamo_type(right) and left == right


def _dynamo_type(value: object) -> type:
    kind = type(value)
    return Decimal if kind is int else kind


def _name_size(name: str) -> int:
    return len(name) if name.isascii() else len(name.encode())
