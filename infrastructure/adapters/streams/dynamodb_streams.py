"""Records of a DynamoDB Streams event source (``eventSource: aws:dynamodb``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.changes import SourceChange
from domain.positions import CreationTime, StreamOrigin, Transport
from infrastructure.adapters.streams.change_records import (
    KindOfTable,
    checked_table_name,
    dynamodb_block,
    source_change,
    unmapped_table,
)
from infrastructure.adapters.streams.records import (
    DYNAMODB_STREAMS,
    RecordError,
    StreamRecord,
    item_identifier,
    refused,
    shown,
)
from infrastructure.adapters.streams.timestamps import LAST_MICROS, checked_micros, epoch_micros

EVENT_SOURCE = "aws:dynamodb"
# StreamPosition holds at most 48 digits; DynamoDB's sequence numbers have up to 40.
_MAX_SEQUENCE_DIGITS = 48
_MICROS_PER_SECOND = 1_000_000


def parse_dynamodb_streams_record(
    record: Mapping[str, Any], kind_of_table: KindOfTable
) -> StreamRecord:
    """One DynamoDB Streams record as a StreamRecord; never raises for a bad record.

    >>> parse_dynamodb_streams_record(lambda_event["Records"][0], settings.kind_of_table)
    StreamRecord(item_identifier='4421584500000000017450439091', ..., error=None)
    """
    block = record.get("dynamodb")
    sequence_number = block.get("SequenceNumber") if type(block) is dict else None
    if type(sequence_number) is str and sequence_number:
        identifier = sequence_number
    else:
        identifier = item_identifier(record, "dynamodb", "SequenceNumber")
    table_name = None
    try:
        origin = _origin(record.get("eventSourceARN"))
        table_name = origin.table
        change = _change(record, origin, kind_of_table)
    except RecordError as error:
        return refused(identifier, record, DYNAMODB_STREAMS, table_name, str(error))
    return StreamRecord(identifier, record, DYNAMODB_STREAMS, table_name, change, None)


# The streams of the ARNs seen lately: a process reads few streams, each in many records.
_ORIGINS: dict[str, StreamOrigin] = {}
_MAX_ORIGINS = 1024


def _origin(arn: object) -> StreamOrigin:
    origin = _ORIGINS.get(arn) if type(arn) is str else None
    if origin is None:
        origin = StreamOrigin(Transport.DYNAMODB_STREAMS, table_name_of(arn), _label(arn))
        if type(arn) is str:
            if len(_ORIGINS) >= _MAX_ORIGINS:
                _ORIGINS.clear()
            _ORIGINS[arn] = origin
    return origin


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


def _label(arn: object) -> str:
    # The stream's label is its creation time; table_name_of has checked the ARN's form.
    resource = str(arn).split(":", 5)[5].split("/")
    return "/".join(resource[3:]) if len(resource) > 3 and resource[2] == "stream" else ""


def _change(
    record: Mapping[str, Any], origin: StreamOrigin, kind_of_table: KindOfTable
) -> SourceChange:
    kind = kind_of_table(origin.table)
    if kind is None:
        raise unmapped_table(origin.table)
    block = record.get("dynamodb")
    if type(block) is not dict:
        block = dynamodb_block(record, "the record")
    sequence_number = block.get("SequenceNumber")
    if (
        type(sequence_number) is str
        and sequence_number.isascii()
        and sequence_number.isdigit()
        and len(sequence_number) <= _MAX_SEQUENCE_DIGITS
    ):
        order = int(sequence_number)
    else:
        order = _sequence_number(sequence_number)
    created = block.get("ApproximateCreationDateTime")
    if created is None:
        return source_change(record, block, kind, order, origin, None, None)
    field = "dynamodb.ApproximateCreationDateTime"
    if type(created) is int and created >= 0:
        micros = created * _MICROS_PER_SECOND
    else:
        micros = epoch_micros(created, "SECOND", field)
    if micros > LAST_MICROS:
        checked_micros(micros, field)  # which names the field
    # DynamoDB Streams round the creation time down to the second.
    interval = CreationTime(micros, _MICROS_PER_SECOND)
    return source_change(record, block, kind, order, origin, interval, micros)


def _sequence_number(sequence_number: object) -> int:
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
    return int(sequence_number)
