"""GetRecords records parsed as stream records, as the stream handler parses Lambda's."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from infrastructure.adapters.streams import StreamRecord
from infrastructure.adapters.streams.change_records import KindOfTable
from infrastructure.adapters.streams.dynamodb_streams import parse_dynamodb_streams_record


def parse_page(
    records: Iterable[Mapping[str, Any]], stream_arn: str, kind_of_table: KindOfTable
) -> list[StreamRecord]:
    """The records of one GetRecords page, in order, each parsed on its own.

    >>> [r.item_identifier for r in parse_page(page["Records"], stream_arn, kind_of_table)]
    ['4421584500000000017450439091']
    """
    return [
        parse_dynamodb_streams_record(as_received(record, stream_arn), kind_of_table)
        for record in records
    ]


def as_received(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """One record as the stream handler receives it, so that a dead letter replays alike.

    boto3 parses ``ApproximateCreationDateTime`` into a datetime; the record keeps epoch
    seconds, and names the stream in ``eventSourceARN``.

    >>> as_received(page["Records"][0], stream_arn)["dynamodb"]["ApproximateCreationDateTime"]
    1704067200.0
    """
    change = dict(record.get("dynamodb") or {})
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = created.timestamp()
    shaped = dict(record)
    shaped["dynamodb"] = change
    shaped["eventSourceARN"] = stream_arn
    shaped.setdefault("awsRegion", stream_arn.split(":")[3])
    return shaped
