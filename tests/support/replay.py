"""Table contents rebuilt from a change stream, for checking streams against tables."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from tests.support.delivery import table_of

_DESERIALIZER = TypeDeserializer()


def tables_from_records(records: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Each table's items after applying the records in order: table name -> items.

    >>> tables_from_records([{"eventName": "INSERT",
    ...     "eventSourceARN": "arn:aws:dynamodb:r:1:table/users/stream/x",
    ...     "dynamodb": {"Keys": {"userId": {"S": "u"}},
    ...                  "NewImage": {"userId": {"S": "u"}, "n": {"N": "2"}}}}])
    {'users': [{'userId': 'u', 'n': Decimal('2')}]}
    """
    tables: dict[str, dict[str, dict[str, Any]]] = {}
    for record in records:
        items = tables.setdefault(table_of(record), {})
        change = record["dynamodb"]
        key = repr(sorted(change["Keys"].items()))
        if record["eventName"] == "REMOVE":
            items.pop(key, None)
        else:
            items[key] = deserialized(change["NewImage"])
    return {table: list(items.values()) for table, items in tables.items()}


def deserialized(image: Mapping[str, Any]) -> dict[str, Any]:
    """A DynamoDB JSON image as Python values, as boto3's resource layer returns them."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in image.items()}


def comparable(items: Iterable[Mapping[str, Any]]) -> list[list[tuple[str, Any]]]:
    """Items in a canonical, order-free form: sets sorted, whole Decimals as int.

    >>> comparable([{"b": {"y", "x"}, "a": Decimal(2)}]) == comparable([{"a": 2, "b": {"x", "y"}}])
    True
    """
    canonical = [
        sorted((name, _comparable(value)) for name, value in item.items()) for item in items
    ]
    return sorted(canonical, key=repr)


def _comparable(value: Any) -> Any:
    if isinstance(value, set | frozenset):
        return sorted(value)
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value
