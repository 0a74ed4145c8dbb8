"""The Kinesis Data Streams for DynamoDB shape of change records, as Lambda receives it."""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from collections.abc import Iterable
from typing import Any

import orjson

from devtools.demo.stream_records import ACCOUNT_ID, StreamRecord, table_of_stream_arn

KinesisRecord = dict[str, Any]
KinesisLambdaEvent = dict[str, list[KinesisRecord]]

DEFAULT_STREAM_NAME = "streamfold-changes"
_SHARD_ID = "shardId-000000000000"
_MICROS = 1_000_000
_HEX_DIGITS = re.compile("[0-9a-f]{32}")


def kinesis_lambda_events(
    records: Iterable[StreamRecord],
    batch_size: int = 100,
    stream_name: str = DEFAULT_STREAM_NAME,
) -> list[KinesisLambdaEvent]:
    """DynamoDB Streams records re-shaped as Lambda events from a Kinesis data stream.

    All tables write to one Kinesis stream, so a batch may mix tables; it keeps the
    input order. ``ApproximateCreationDateTime`` becomes microseconds: the record's second
    plus a sub-second part derived from its ``eventID``, nudged so that it grows strictly
    in input order, as the changes of one item do in DynamoDB.

    >>> from devtools.demo.tables import SimulatedTables
    >>> tables = SimulatedTables()
    >>> _ = tables.put("users", {"userId": "u-1", "name": "Ada"})
    >>> (event,) = kinesis_lambda_events(tables.records)
    >>> decode_kinesis_data(event["Records"][0])["tableName"]
    'users'
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    converted = to_kinesis_records(records, stream_name)
    return [
        {"Records": converted[start : start + batch_size]}
        for start in range(0, len(converted), batch_size)
    ]


def to_kinesis_records(
    records: Iterable[StreamRecord], stream_name: str = DEFAULT_STREAM_NAME
) -> list[KinesisRecord]:
    """Each record in the Kinesis shape, in input order.

    >>> from devtools.demo.tables import SimulatedTables
    >>> tables = SimulatedTables()
    >>> _ = tables.put("users", {"userId": "u-1"}), tables.delete("users", {"userId": "u-1"})
    >>> [decode_kinesis_data(r)["eventName"] for r in to_kinesis_records(tables.records)]
    ['INSERT', 'REMOVE']
    """
    converted = []
    last_micros = -1
    for record in records:
        micros = max(_candidate_micros(record), last_micros + 1)
        last_micros = micros
        converted.append(to_kinesis_record(record, micros, stream_name))
    return converted


def to_kinesis_record(
    record: StreamRecord, micros: int, stream_name: str = DEFAULT_STREAM_NAME
) -> KinesisRecord:
    """One record in the Kinesis shape, created at ``micros`` since the epoch."""
    region = record["awsRegion"]
    table = table_of_stream_arn(record["eventSourceARN"])
    change = record["dynamodb"]
    data = {
        "awsRegion": region,
        "eventID": _uuid_text(record["eventID"]),
        "eventName": record["eventName"],
        "userIdentity": record.get("userIdentity"),
        "recordFormat": "application/json",
        "tableName": table,
        "dynamodb": _kinesis_change(change, micros),
        "eventSource": "aws:dynamodb",
    }
    sequence_number = "49" + str(change["SequenceNumber"]).zfill(54)
    payload = orjson.dumps(data)
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": _partition_key(table, change["Keys"]),
            "sequenceNumber": sequence_number,
            "data": base64.b64encode(payload).decode("ascii"),
            "approximateArrivalTimestamp": round(micros / _MICROS + 0.25, 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{_SHARD_ID}:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT_ID}:role/streamfold-stream-handler",
        "awsRegion": region,
        "eventSourceARN": f"arn:aws:kinesis:{region}:{ACCOUNT_ID}:stream/{stream_name}",
    }


def decode_kinesis_data(record: KinesisRecord) -> dict[str, Any]:
    """The DynamoDB change carried base64-encoded in a Kinesis record's ``data``.

    >>> record = {"kinesis": {"data": "eyJldmVudE5hbWUiOiAiSU5TRVJUIn0="}}
    >>> decode_kinesis_data(record)
    {'eventName': 'INSERT'}
    """
    decoded: dict[str, Any] = orjson.loads(base64.b64decode(record["kinesis"]["data"]))
    return decoded


def _kinesis_change(change: dict[str, Any], micros: int) -> dict[str, Any]:
    converted: dict[str, Any] = {
        "ApproximateCreationDateTime": micros,
        "ApproximateCreationDateTimePrecision": "MICROSECOND",
        "Keys": change["Keys"],
    }
    for image in ("NewImage", "OldImage"):
        if image in change:
            converted[image] = change[image]
    converted["SizeBytes"] = change["SizeBytes"]
    return converted


def _candidate_micros(record: StreamRecord) -> int:
    seconds = record["dynamodb"]["ApproximateCreationDateTime"]
    if isinstance(seconds, float) and not seconds.is_integer():
        return round(seconds * _MICROS)
    sub_second = zlib.crc32(str(record["eventID"]).encode()) % _MICROS
    return int(seconds) * _MICROS + sub_second


def _partition_key(table: str, keys: dict[str, Any]) -> str:
    text = table.encode() + orjson.dumps(keys, option=orjson.OPT_SORT_KEYS)
    return hashlib.md5(text, usedforsecurity=False).hexdigest().upper()


def _uuid_text(event_id: Any) -> str:
    # DynamoDB Streams event ids are 32 hex digits; Kinesis ones are the same as a UUID.
    text = str(event_id)
    if len(text) == 32 and _HEX_DIGITS.fullmatch(text):
        return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"
    return text
