"""Strongly consistent reads of source items from their DynamoDB tables.

The intake reads an item only when a stream cannot tell the order of one of its changes
(a change from another stream, two Kinesis changes within one timestamp tick). What can
pass (throttling, a service error, the endpoint unreachable) is a transient failure: the
batch is retried. What retrying cannot fix (no permission, no such table, no region or
credentials) makes the change a dead letter with the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any

from domain.errors import ItemUnreadable, TransientFailure
from domain.kinds import TableKind
from domain.source_items import SourceItemReader

if TYPE_CHECKING:
    from boto3.dynamodb.types import TypeDeserializer
    from botocore.exceptions import ClientError

_TRANSIENT_CODES = frozenset(
    (
        "InternalServerError",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "ServiceUnavailable",
        "ThrottlingException",
    )
)


@cache
def _deserializer() -> TypeDeserializer:
    # boto3 and botocore are imported on the first read: a command or handler that never
    # reads a source table (most never do) does not load them (about 0.1 s).
    from boto3.dynamodb.types import TypeDeserializer

    return TypeDeserializer()


class SourceTableUnavailable(TransientFailure):
    """A source table cannot be read right now; the same read may succeed later."""


class DynamoDBItemReader(SourceItemReader):
    """Reads an item with ``GetItem`` and ``ConsistentRead=True``.

    The client is made on the first read, so a handler that never needs one pays nothing.

    >>> reader = DynamoDBItemReader(boto3_client=boto3.client("dynamodb"))
    >>> reader.read(TableKind.USERS, ("u-1",), "prod-users")
    {'userId': 'u-1', 'name': 'Ada', ...}
    """

    def __init__(self, boto3_client: Any = None) -> None:
        self._client = boto3_client

    def read(self, kind: TableKind, key: tuple[str, ...], table: str) -> Mapping[str, Any] | None:
        from botocore.exceptions import (
            BotoCoreError,
            ClientError,
            ConnectionError,
            HTTPClientError,
            NoCredentialsError,
            NoRegionError,
        )

        keys = {name: {"S": value} for name, value in zip(kind.key_attributes, key, strict=True)}
        try:
            response = self._dynamodb().get_item(TableName=table, Key=keys, ConsistentRead=True)
        except ClientError as error:
            raise _classified(error, table) from None
        except (NoCredentialsError, NoRegionError) as error:
            raise ItemUnreadable(
                f"cannot read table {table!r} to settle the order of this change: "
                f"{str(error).rstrip('.')}; give streamfold AWS credentials and a region"
            ) from None
        except (ConnectionError, HTTPClientError, BotoCoreError) as error:
            raise SourceTableUnavailable(
                f"cannot reach DynamoDB to read {table!r}: {error}"
            ) from None
        item = response.get("Item")
        if item is None:
            return None
        deserialize = _deserializer().deserialize
        return {name: deserialize(value) for name, value in item.items()}

    def _dynamodb(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client("dynamodb")
        return self._client


def _classified(error: ClientError, table: str) -> Exception:
    details = error.response.get("Error", {})
    code = str(details.get("Code", ""))
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    message = f"{code}: {details.get('Message', '')}".strip(": ")
    if code in _TRANSIENT_CODES or status >= 500:
        return SourceTableUnavailable(f"reading table {table!r} failed for now: {message}")
    return ItemUnreadable(
        f"cannot read table {table!r} to settle the order of this change ({message}); "
        "grant streamfold dynamodb:GetItem on the table, then replay the dead letter"
    )
