"""Records of a Kinesis Data Streams for DynamoDB event source (``eventSource: aws:kinesis``).

Each Kinesis record's ``data`` is the base64 of a JSON DynamoDB change record. Kinesis
carries no sequence number per item, so the position of a change is its
``ApproximateCreationDateTime`` in microseconds, in the Kinesis stream (``eventSourceARN``)
it came through; two changes within one tick of its precision are of unknown order.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from collections.abc import Mapping
from typing import Any

import orjson

from domain.changes import SourceChange
from domain.positions import CreationTime, StreamOrigin, Transport
from infrastructure.adapters.streams.change_records import (
    KindOfTable,
    checked_table_name,
    dynamodb_block,
    kind_of,
    source_change,
)
from infrastructure.adapters.streams.records import (
    KINESIS,
    RecordError,
    StreamRecord,
    item_identifier,
    refused,
    shown,
)
from infrastructure.adapters.streams.timestamps import checked_micros, epoch_micros

EVENT_SOURCE = "aws:kinesis"
# A Kinesis record holds at most 1 MiB, which base64 spells in this many characters.
_MAX_DATA_CHARS = 4 * ((1024 * 1024 + 2) // 3)
_WIDTHS = {"MILLISECOND": 1_000, "MICROSECOND": 1}  # microseconds one tick stands for
_PRECISIONS = frozenset(_WIDTHS)


def parse_kinesis_record(record: Mapping[str, Any], kind_of_table: KindOfTable) -> StreamRecord:
    """One Kinesis record as a StreamRecord; never raises for a bad record.

    >>> parse_kinesis_record(lambda_event["Records"][0], settings.kind_of_table)
    StreamRecord(item_identifier='4954...0002', source='kinesis', ..., error=None)
    """
    identifier = item_identifier(record, "kinesis", "sequenceNumber")
    table_name = None
    try:
        body = decode_change_record(record.get("kinesis"))
        table_name = checked_table_name(body.get("tableName"), "kinesis.data tableName")
        origin = StreamOrigin(Transport.KINESIS, table_name, _stream_arn(record))
        change = _change(body, origin, kind_of_table)
    except RecordError as error:
        return refused(identifier, record, KINESIS, table_name, str(error))
    return StreamRecord(identifier, record, KINESIS, table_name, change, None)


def decode_change_record(kinesis: object) -> Mapping[str, Any]:
    """The DynamoDB change record inside a Kinesis record's ``kinesis`` block.

    >>> decode_change_record({"data": "eyJ0YWJsZU5hbWUiOiAidXNlcnMifQ=="})
    {'tableName': 'users'}
    """
    if not isinstance(kinesis, dict):
        raise RecordError(f"the record has no 'kinesis' object, got {shown(kinesis)}")
    data = kinesis.get("data")
    if not isinstance(data, str):
        raise RecordError(f"kinesis.data must be base64 text, got {shown(data)}")
    if len(data) > _MAX_DATA_CHARS:
        raise RecordError(
            f"kinesis.data is {len(data)} characters, more than a Kinesis record can hold"
        )
    try:
        payload = b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise RecordError(f"kinesis.data is not base64: {shown(data)}") from None
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as error:
        raise RecordError(f"kinesis.data is not UTF-8 JSON ({error}): {shown(payload)}") from None
    if not isinstance(body, dict):
        raise RecordError(
            f"kinesis.data is not a DynamoDB change record (a JSON object), got {shown(body)}"
        )
    return body


def _stream_arn(record: Mapping[str, Any]) -> str:
    arn = record.get("eventSourceARN")
    return arn if isinstance(arn, str) else ""


def _change(
    body: Mapping[str, Any], origin: StreamOrigin, kind_of_table: KindOfTable
) -> SourceChange:
    kind = kind_of(origin.table, kind_of_table)
    block = dynamodb_block(body, "kinesis.data")
    field = "dynamodb.ApproximateCreationDateTime"
    precision = _precision(body, block)
    micros = epoch_micros(block.get("ApproximateCreationDateTime"), precision, field)
    checked_micros(micros, field)
    created = CreationTime(micros, _WIDTHS[precision])
    return source_change(body, block, kind, micros, origin, created, micros)


def _precision(body: Mapping[str, Any], block: Mapping[str, Any]) -> str:
    # Read in the dynamodb block and, failing that, beside it, as producers differ;
    # without the field the timestamp is in milliseconds.
    precision = block.get("ApproximateCreationDateTimePrecision")
    if precision is None:
        precision = body.get("ApproximateCreationDateTimePrecision", "MILLISECOND")
    if not isinstance(precision, str) or precision not in _PRECISIONS:
        raise RecordError(
            "ApproximateCreationDateTimePrecision must be MILLISECOND or MICROSECOND, "
            f"got {shown(precision)}"
        )
    return precision
