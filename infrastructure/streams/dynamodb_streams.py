"""Records of a DynamoDB Streams event source (``eventSource: aws:dynamodb``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.changes import SourceChange, StreamPosition
from infrastructure.streams.change_records import (
    KindOfTable,
    checked_table_name,
    dynamodb_block,
    kind_of,
    source_change,
)
from infrastructure.streams.records import (
    DYNAMODB_STREAMS,
    RecordError,
    StreamRecord,
    fallback_identifier,
    refused,
    shown,
)
from infrastructure.streams.timestamps import epoch_micros, utc_datetime

EVENT_SOURCE = "aws:dynamodb"
# StreamPosition holds at most 48 digits; DynamoDB's sequence numbers have up to 40.
_MAX_SEQUENCE_DIGITS = 48


def parse_dynamodb_streams_record(
    record: Mapping[str, Any], kind_of_table: KindOfTable
) -> StreamRecord:
    """One DynamoDB Streams record as a StreamRecord; never raises for a bad record.

    >>> parse_dynamodb_streams_record(lambda_event["Records"][0], settings.kind_of_table)
    StreamRecord(item_identifier='4421584500000000017450439091', ..., error=None)
    """
    identifier = _item_identifier(record)
    table_name = None
    try:
        table_name = table_name_of(record.get("eventSourceARN"))
        change = _change(record, table_name, kind_of_table)
    except RecordError as error:
        return refused(identifier, record, DYNAMODB_STREAMS, table_name, str(error))
    return StreamRecord(identifier, record, DYNAMODB_STREAMS, table_name, change, None)


def table_name_of(arn: object) -> str:
    """The table a stream ARN belongs to.

    >>> table_name_of("arn:aws:dynamodb:eu-west-1:1:table/prod-users/stream/2024-01-01T00:00")
    'prod-users'
    """
    if not isinstance(arn, str):
        raise RecordError(f"eventSourceARN must be a DynamoDB stream ARN, got {shown(arn)}")
    parts = arn.split(":", 5)
    resource = parts[5].split("/") if len(parts) == 6 and parts[2] == "dynamodb" else []
    if len(resource) < 2 or resource[0] != "table":
        raise RecordError(
            f"eventSourceARN {shown(arn)} is not a DynamoDB stream ARN "
            "(arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL)"
        )
    return checked_table_name(resource[1], "eventSourceARN")


def _change(record: Mapping[str, Any], table_name: str, kind_of_table: KindOfTable) -> SourceChange:
    kind = kind_of(table_name, kind_of_table)
    block = dynamodb_block(record, "the record")
    position = _position(block.get("SequenceNumber"))
    created = block.get("ApproximateCreationDateTime")
    field = "dynamodb.ApproximateCreationDateTime"
    occurred_at = (
        None if created is None else utc_datetime(epoch_micros(created, "SECOND", field), field)
    )
    return source_change(record, block, kind, position, occurred_at)


def _position(sequence_number: object) -> StreamPosition:
    if (
        not isinstance(sequence_number, str)
        or not sequence_number.isascii()
        or not sequence_number.isdigit()
        or len(sequence_number) > _MAX_SEQUENCE_DIGITS
    ):
        raise RecordError(
            "dynamodb.SequenceNumber must be a string of up to "
            f"{_MAX_SEQUENCE_DIGITS} digits, got {shown(sequence_number)}"
        )
    return StreamPosition.of(int(sequence_number))


def _item_identifier(record: Mapping[str, Any]) -> str:
    block = record.get("dynamodb")
    sequence_number = block.get("SequenceNumber") if isinstance(block, dict) else None
    if isinstance(sequence_number, str) and sequence_number:
        return sequence_number
    event_id = record.get("eventID")
    if isinstance(event_id, str) and event_id:
        return event_id
    return fallback_identifier(record)
