"""Lambda stream events (DynamoDB Streams or Kinesis Data Streams for DynamoDB) as changes.

>>> from infrastructure.adapters.streams import parse_lambda_event
>>> records = parse_lambda_event(event, settings.kind_of_table)
>>> [r.item_identifier for r in records]  # how Lambda names each record
"""

from infrastructure.adapters.streams.lambda_event import parse_lambda_event
from infrastructure.adapters.streams.records import (
    DYNAMODB_STREAMS,
    KINESIS,
    UNKNOWN_SOURCE,
    MalformedEvent,
    StreamRecord,
)

__all__ = [
    "DYNAMODB_STREAMS",
    "KINESIS",
    "UNKNOWN_SOURCE",
    "MalformedEvent",
    "StreamRecord",
    "parse_lambda_event",
]
