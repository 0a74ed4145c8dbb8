"""A whole Lambda stream event: every record, of either transport, parsed on its own."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from domain.kinds import TableKind
from infrastructure.adapters.streams import dynamodb_streams, kinesis
from infrastructure.adapters.streams.change_records import KindOfTable
from infrastructure.adapters.streams.records import (
    UNKNOWN_SOURCE,
    MalformedEvent,
    StreamRecord,
    fallback_identifier,
    refused,
    shown,
)

_PARSERS = {
    dynamodb_streams.EVENT_SOURCE: dynamodb_streams.parse_dynamodb_streams_record,
    kinesis.EVENT_SOURCE: kinesis.parse_kinesis_record,
}


def parse_lambda_event(event: Mapping[str, Any], kind_of_table: KindOfTable) -> list[StreamRecord]:
    """Parse every record of a DynamoDB Streams or Kinesis Lambda event, in order.

    Each record is parsed on its own; one that cannot be processed comes back with
    ``change=None`` and an ``error`` a person can act on, so a bad record never fails
    its batch. Only an event that is not a stream event at all raises MalformedEvent.

    >>> records = parse_lambda_event(lambda_event, Settings.from_environment().kind_of_table)
    >>> [r.change.change_type for r in records if r.change]
    [<ChangeType.INSERT: 'INSERT'>, <ChangeType.REMOVE: 'REMOVE'>]
    """
    if not isinstance(event, Mapping):
        raise MalformedEvent(
            f"expected a Lambda stream event (an object with a 'Records' list), "
            f"got {type(event).__name__}"
        )
    records = event.get("Records")
    if not isinstance(records, list | tuple):
        raise MalformedEvent(
            "expected a Lambda stream event with a 'Records' list of DynamoDB Streams or "
            f"Kinesis records, got Records={shown(records)}"
        )
    kinds = _KindsOfTables(kind_of_table)
    return [_parse_record(record, kinds.__getitem__) for record in records]


class _KindsOfTables(dict[str, TableKind | None]):
    """The kind of each table an event's records name, looked up once per table."""

    def __init__(self, kind_of_table: KindOfTable) -> None:
        super().__init__()
        self._kind_of_table = kind_of_table

    def __missing__(self, table_name: str) -> TableKind | None:
        kind = self[table_name] = self._kind_of_table(table_name)
        return kind


def _parse_record(record: object, kind_of_table: KindOfTable) -> StreamRecord:
    if type(record) is not dict and not isinstance(record, Mapping):
        return refused(
            fallback_identifier(record),
            record,
            UNKNOWN_SOURCE,
            None,
            f"a stream record must be an object, got {shown(record)}",
        )
    source = record.get("eventSource")
    parse = _PARSERS.get(source) if isinstance(source, str) else None
    if parse is None:
        event_id = record.get("eventID")
        return refused(
            event_id if isinstance(event_id, str) and event_id else fallback_identifier(record),
            record,
            UNKNOWN_SOURCE,
            None,
            f"eventSource {shown(source)} is neither aws:dynamodb nor aws:kinesis",
        )
    return parse(record, kind_of_table)
