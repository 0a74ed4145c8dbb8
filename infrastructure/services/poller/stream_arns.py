"""The stream of each table ``streamfold poll`` reads."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from infrastructure.settings import ConfigError


def stream_arns_of(dynamodb: Any, table_names: Iterable[str]) -> dict[str, str]:
    """Table name -> ARN of its latest stream, from ``DescribeTable``.

    >>> stream_arns_of(boto3.client("dynamodb"), ["prod-users"])
    {'prod-users': 'arn:aws:dynamodb:eu-west-1:123456789012:table/prod-users/stream/…'}
    """
    arns: dict[str, str] = {}
    for name in table_names:
        try:
            table = dynamodb.describe_table(TableName=name)["Table"]
        except dynamodb.exceptions.ResourceNotFoundException:
            raise ConfigError(f"table {name!r} does not exist") from None
        arn = table.get("LatestStreamArn")
        if not arn or not (table.get("StreamSpecification") or {}).get("StreamEnabled", True):
            raise ConfigError(
                f"table {name!r} has no stream; enable one with the NEW_AND_OLD_IMAGES view type"
            )
        arns[name] = arn
    return arns
