"""DynamoDB Streams records exactly as an AWS Lambda function receives them."""

from __future__ import annotations

import random
from typing import Any, Literal

from devtools.demo.item_size import value_size
from devtools.demo.item_version import ItemVersion

ACCOUNT_ID = "123456789012"
STREAM_LABEL = "2024-01-01T00:00:00.000"
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}

EventName = Literal["INSERT", "MODIFY", "REMOVE"]
StreamRecord = dict[str, Any]

# Real sequence numbers are 21 to 40 digit decimals; a fixed width keeps text order right too.
_FIRST_SEQUENCE_NUMBER = 100_000_000_000_000_000_000
_SEQUENCE_STEP = 100


def stream_arn(region: str, table: str) -> str:
    """The ARN of a table's stream, as ``eventSourceARN`` carries it.

    >>> stream_arn("eu-west-1", "users")
    'arn:aws:dynamodb:eu-west-1:123456789012:table/users/stream/2024-01-01T00:00:00.000'
    """
    return f"arn:aws:dynamodb:{region}:{ACCOUNT_ID}:table/{table}/stream/{STREAM_LABEL}"


def table_of_stream_arn(arn: str) -> str:
    """The table name inside a DynamoDB stream ARN.

    >>> table_of_stream_arn(stream_arn("eu-west-1", "prod-users"))
    'prod-users'
    """
    resource = arn.split(":", 5)[5]
    return resource.split("/")[1]


class StreamRecordFactory:
    """Stamps records with unique event ids and ever-growing sequence numbers.

    >>> factory = StreamRecordFactory(region="eu-west-1", seed=1)
    >>> gone = ItemVersion.of({"userId": "u-1"})
    >>> arn = stream_arn("eu-west-1", "users")
    >>> record = factory.record(arn, ("userId",), "REMOVE", 1704067200, old=gone, new=None)
    >>> record["dynamodb"]["SequenceNumber"], record["dynamodb"]["Keys"]
    ('100000000000000000100', {'userId': {'S': 'u-1'}})
    """

    def __init__(self, region: str, seed: int) -> None:
        self._region = region
        self._random = random.Random(seed)
        self._sequence_number = _FIRST_SEQUENCE_NUMBER

    def record(
        self,
        source_arn: str,
        key_attributes: tuple[str, ...],
        event_name: EventName,
        at: int,
        old: ItemVersion | None,
        new: ItemVersion | None,
        expired: bool = False,
    ) -> StreamRecord:
        """The record of one change of an item from ``old`` to ``new`` (None: absent)."""
        current = new if new is not None else old
        if current is None:
            raise ValueError("a change needs an old or a new version of the item")
        self._sequence_number += _SEQUENCE_STEP
        keys = {}
        size = 0
        for name in key_attributes:
            keys[name] = current.image[name]
            size += len(name) + value_size(current.attributes[name])
        change: dict[str, Any] = {"ApproximateCreationDateTime": at, "Keys": keys}
        if new is not None:
            change["NewImage"] = new.image
            size += new.size_bytes
        if old is not None:
            change["OldImage"] = old.image
            size += old.size_bytes
        change["SequenceNumber"] = str(self._sequence_number)
        change["SizeBytes"] = size
        change["StreamViewType"] = "NEW_AND_OLD_IMAGES"
        record: StreamRecord = {
            "eventID": f"{self._random.getrandbits(128):032x}",
            "eventName": event_name,
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self._region,
            "dynamodb": change,
            "eventSourceARN": source_arn,
        }
        if expired:
            record["userIdentity"] = dict(TTL_IDENTITY)
        return record
