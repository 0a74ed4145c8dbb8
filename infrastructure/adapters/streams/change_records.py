"""The DynamoDB change record both transports carry, turned into a SourceChange.

DynamoDB Streams deliver the change record as the Lambda record itself; Kinesis Data
Streams for DynamoDB deliver it base64-encoded in ``kinesis.data``. Either way it has
``eventID``, ``eventName``, ``userIdentity`` and a ``dynamodb`` block with ``Keys`` and
the images; only the table name, the position and the timestamp differ.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from domain.changes import ChangeType, SourceChange, StreamPosition
from domain.kinds import TableKind
from domain.positions import CreationTime, StreamOrigin
from infrastructure.adapters.streams.attribute_values import deserialize_image
from infrastructure.adapters.streams.records import RecordError, shown
from infrastructure.settings import TABLES

KindOfTable = Callable[[str], TableKind | None]

_CHANGE_TYPES = {change_type.value: change_type for change_type in ChangeType}
_SUPPORTED_VIEWS = frozenset(("NEW_AND_OLD_IMAGES", "NEW_IMAGE"))
_IMAGELESS_VIEWS = frozenset(("KEYS_ONLY", "OLD_IMAGE"))
_TABLE_NAME = re.compile(r"[A-Za-z0-9_.\-]{3,255}")
_TTL_PRINCIPAL = "dynamodb.amazonaws.com"
# DynamoDB caps a partition key at 2048 bytes and a sort key at 1024.
_MAX_KEY_BYTES = 2048


def dynamodb_block(body: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    block = body.get("dynamodb")
    if not isinstance(block, dict):
        raise RecordError(f"{where} has no 'dynamodb' object, got {shown(block)}")
    return block


def checked_table_name(name: object, where: str) -> str:
    if not isinstance(name, str) or not _TABLE_NAME.fullmatch(name):
        raise RecordError(f"{where} does not name a DynamoDB table: {shown(name)}")
    return name


def kind_of(table_name: str, kind_of_table: KindOfTable) -> TableKind:
    kind = kind_of_table(table_name)
    if kind is None:
        raise unmapped_table(table_name)
    return kind


def unmapped_table(table_name: str) -> RecordError:
    return RecordError(
        f"table {table_name!r} is not mapped to a kind; name it in {TABLES} "
        f"(for example {_likely_kind(table_name).value}={table_name})"
    )


def _likely_kind(table_name: str) -> TableKind:
    lowered = table_name.lower()
    return next((kind for kind in TableKind if kind.value in lowered), TableKind.USERS)


def source_change(
    body: Mapping[str, Any],
    block: Mapping[str, Any],
    kind: TableKind,
    order: int,
    origin: StreamOrigin,
    created: CreationTime | None,
    occurred_micros: int | None,
) -> SourceChange:
    """The change a record's ``body`` (with its ``dynamodb`` ``block``) describes, at
    ``order`` in the ``origin`` stream.

    >>> source_change(record, record["dynamodb"], TableKind.USERS, 42, origin, None, None).key
    ('u-1',)
    """
    # The checks of every field, inlined for the usual record; the functions they call
    # otherwise tell what is wrong.
    event_name = body.get("eventName")
    change_type = _CHANGE_TYPES.get(event_name) if type(event_name) is str else None
    if change_type is None:
        change_type = _change_type(event_name)
    view_type = block.get("StreamViewType")
    if view_type is not None and not (type(view_type) is str and view_type in _SUPPORTED_VIEWS):
        _check_view_type(view_type)
    key = _key(block.get("Keys"), kind)
    item = None
    if change_type is not ChangeType.REMOVE:
        image = block.get("NewImage")
        if image is None:
            raise _no_new_image(change_type)
        item = deserialize_image(image, "NewImage")
    record_id = body.get("eventID")
    if type(record_id) is not str or not record_id or "\x00" in record_id:
        record_id = _record_id(record_id)
    expired = change_type is ChangeType.REMOVE and _by_ttl(body.get("userIdentity"))
    # kind, key, change_type, item, position, record_id, occurred_micros, expired
    return SourceChange(
        kind,
        key,
        change_type,
        item,
        StreamPosition(order, origin, record_id, created),
        record_id,
        occurred_micros,
        expired,
    )


def _change_type(event_name: object) -> ChangeType:
    change_type = _CHANGE_TYPES.get(event_name) if isinstance(event_name, str) else None
    if change_type is None:
        raise RecordError(f"eventName must be INSERT, MODIFY or REMOVE, got {shown(event_name)}")
    return change_type


def _check_view_type(view_type: object) -> None:
    # Kinesis Data Streams for DynamoDB always carry both images and name no view type.
    if view_type is None or (isinstance(view_type, str) and view_type in _SUPPORTED_VIEWS):
        return
    if isinstance(view_type, str) and view_type in _IMAGELESS_VIEWS:
        raise RecordError(
            f"stream view type {view_type} carries no NewImage; set the table's stream "
            "view type to NEW_AND_OLD_IMAGES or NEW_IMAGE"
        )
    raise RecordError(
        f"unknown stream view type {shown(view_type)}; expected NEW_AND_OLD_IMAGES or NEW_IMAGE"
    )


def _key(keys: object, kind: TableKind) -> tuple[str, ...]:
    if not isinstance(keys, dict):
        raise RecordError(f"dynamodb.Keys must be an object, got {shown(keys)}")
    names = kind.key_attributes
    if type(keys) is dict:
        # The usual key: short ASCII strings, taken without a call per part.
        parts = []
        for name in names:
            value = keys.get(name)
            text = value.get("S") if type(value) is dict and len(value) == 1 else None
            if (
                type(text) is not str
                or not text
                or not text.isascii()
                or "\x00" in text
                or len(text) > _MAX_KEY_BYTES
            ):
                break
            parts.append(text)
        else:
            return tuple(parts)
    return tuple(_key_part(keys, name, kind) for name in names)


def _key_part(keys: Mapping[str, Any], name: str, kind: TableKind) -> str:
    if name not in keys:
        raise RecordError(
            f"dynamodb.Keys has no {name!r}, which a {kind.value} key needs "
            f"({' + '.join(kind.key_attributes)})"
        )
    value = keys[name]
    text = value.get("S") if isinstance(value, dict) and len(value) == 1 else None
    if not isinstance(text, str):
        raise RecordError(f"key attribute {name!r} must be a string (S), got {shown(value)}")
    if not text:
        raise RecordError(f"key attribute {name!r} is an empty string")
    if "\x00" in text:
        raise RecordError(f"key attribute {name!r} holds a NUL character: {shown(text)}")
    try:
        size = len(text.encode("utf-8"))
    except UnicodeEncodeError:
        raise RecordError(f"key attribute {name!r} is not valid Unicode: {shown(text)}") from None
    if size > _MAX_KEY_BYTES:
        raise RecordError(f"key attribute {name!r} is {size} bytes, more than DynamoDB allows")
    return text


def _no_new_image(change_type: ChangeType) -> RecordError:
    return RecordError(
        f"{change_type.value} record has no NewImage; set the table's stream view type "
        "to NEW_AND_OLD_IMAGES or NEW_IMAGE"
    )


def _record_id(event_id: object) -> str:
    if not isinstance(event_id, str) or not event_id:
        raise RecordError(f"the record has no eventID, got {shown(event_id)}")
    if "\x00" in event_id:
        raise RecordError(f"eventID holds a NUL character: {shown(event_id)}")
    return event_id


def _by_ttl(identity: object) -> bool:
    return (
        isinstance(identity, dict)
        and identity.get("type") == "Service"
        and identity.get("principalId") == _TTL_PRINCIPAL
    )
