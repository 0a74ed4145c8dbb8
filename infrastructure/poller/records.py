"""GetRecords records in the shape a Lambda event source mapping delivers them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any


def lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """One DynamoDB Streams record as Lambda would put it in ``event["Records"]``.

    boto3 parses ``ApproximateCreationDateTime`` into a datetime; Lambda sends epoch
    seconds, and names the stream in ``eventSourceARN``.

    >>> lambda_record(page["Records"][0], stream_arn)["dynamodb"]["ApproximateCreationDateTime"]
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
