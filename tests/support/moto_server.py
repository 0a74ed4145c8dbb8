"""A moto DynamoDB server on a free loopback port, with clients, tables and stream reading.

>>> with running_moto_server() as endpoint:
...     client = endpoint.dynamodb()
...     arns = create_reference_tables(client, {"users": "prod-users"})
...     _ = client.put_item(TableName="prod-users", Item={"userId": {"S": "u-1"}})
...     records = read_stream_records(endpoint.streams(), arns["users"])
>>> [record["eventName"] for record in records]
['INSERT']
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypedDict

import boto3
from boto3.dynamodb.types import TypeDeserializer
from moto.server import ThreadedMotoServer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import KeySchemaElementTypeDef
    from mypy_boto3_dynamodbstreams import DynamoDBStreamsClient

REGION = "us-east-1"
ACCESS_KEY = "testing"
SECRET_KEY = "testing"


class ClientArguments(TypedDict):
    """The keyword arguments of ``boto3.client`` that aim a client at the moto server."""

    endpoint_url: str
    region_name: str
    aws_access_key_id: str
    aws_secret_access_key: str


KEY_SCHEMAS: Mapping[str, tuple[str, ...]] = {
    "users": ("userId",),
    "images": ("imageId",),
    "likes": ("imageId", "userId"),
    "payments": ("userId", "paymentId"),
}


@dataclass(frozen=True)
class MotoEndpoint:
    """Where a moto server listens, and how to reach it."""

    url: str
    region: str = REGION

    def dynamodb(self) -> DynamoDBClient:
        return boto3.client(
            "dynamodb",
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def streams(self) -> DynamoDBStreamsClient:
        return boto3.client(
            "dynamodbstreams",
            endpoint_url=self.url,
            region_name=self.region,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )

    def client_arguments(self) -> ClientArguments:
        """Keyword arguments for ``boto3.client`` (or a session) aimed at this server."""
        return {
            "endpoint_url": self.url,
            "region_name": self.region,
            "aws_access_key_id": ACCESS_KEY,
            "aws_secret_access_key": SECRET_KEY,
        }

    def environment(self) -> dict[str, str]:
        """Environment variables that aim boto3 in a child process at this server."""
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            "AWS_ENDPOINT_URL_DYNAMODB": self.url,
            "AWS_ENDPOINT_URL_DYNAMODB_STREAMS": self.url,
        }


@contextmanager
def running_moto_server() -> Iterator[MotoEndpoint]:
    """Start moto in a thread on a free port of 127.0.0.1; stop it on exit."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one access log line per call
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield MotoEndpoint(url=f"http://{host}:{port}")
    finally:
        server.stop()


def create_reference_tables(
    client: DynamoDBClient, names: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Create the four reference tables with NEW_AND_OLD_IMAGES streams.

    ``names`` maps a kind to its real table name (default: the kind). Returns the stream
    ARN of each kind.
    """
    names = names or {}
    return {
        kind: create_table(client, names.get(kind, kind), key_attributes)
        for kind, key_attributes in KEY_SCHEMAS.items()
    }


def create_table(client: DynamoDBClient, name: str, key_attributes: tuple[str, ...]) -> str:
    """Create one on-demand table whose key attributes are all strings; its stream ARN."""
    hash_key, *range_key = key_attributes
    key_schema: list[KeySchemaElementTypeDef] = [{"AttributeName": hash_key, "KeyType": "HASH"}]
    key_schema += [{"AttributeName": key, "KeyType": "RANGE"} for key in range_key]
    response = client.create_table(
        TableName=name,
        KeySchema=key_schema,
        AttributeDefinitions=[
            {"AttributeName": attribute, "AttributeType": "S"} for attribute in key_attributes
        ],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
    )
    return response["TableDescription"]["LatestStreamArn"]


def scan_items(client: DynamoDBClient, table_name: str) -> list[dict[str, Any]]:
    """Every item of a table as Python values (Decimal for N, set for SS)."""
    deserializer = TypeDeserializer()
    items: list[dict[str, Any]] = []
    for page in client.get_paginator("scan").paginate(TableName=table_name):
        for item in page["Items"]:
            items.append({name: deserializer.deserialize(value) for name, value in item.items()})
    return items


def read_stream_records(
    streams: DynamoDBStreamsClient, stream_arn: str, limit: int = 1000
) -> list[dict[str, Any]]:
    """Every record of every shard, from TRIM_HORIZON, shaped as Lambda receives them.

    Parent shards are read before their children, so each item's changes stay in order.
    """
    records: list[dict[str, Any]] = []
    for shard in _shards_parents_first(streams, stream_arn):
        iterator = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        ).get("ShardIterator")
        position = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=limit)
            if not page["Records"]:
                break
            for record in page["Records"]:
                records.append(lambda_shaped(dict(record), stream_arn, position))
                position += 1
            iterator = page.get("NextShardIterator")
    return records


def lambda_shaped(
    record: dict[str, Any], stream_arn: str, fallback_sequence_number: int
) -> dict[str, Any]:
    """A GetRecords record as a Lambda event record: epoch seconds, ARN, region, sequence."""
    change = dict(record["dynamodb"])
    created = change.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        change["ApproximateCreationDateTime"] = int(created.timestamp())
    change.setdefault("SequenceNumber", str(fallback_sequence_number))
    record["dynamodb"] = change
    record["eventSourceARN"] = stream_arn
    record["awsRegion"] = stream_arn.split(":")[3]
    return record


def _shards_parents_first(streams: DynamoDBStreamsClient, stream_arn: str) -> list[dict[str, Any]]:
    shards: list[dict[str, Any]] = []
    description = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]
    while True:
        shards.extend(dict(shard) for shard in description.get("Shards", []))
        last = description.get("LastEvaluatedShardId")
        if not last:
            return _parents_first(shards)
        description = streams.describe_stream(StreamArn=stream_arn, ExclusiveStartShardId=last)[
            "StreamDescription"
        ]


def _parents_first(shards: list[dict[str, Any]]) -> list[dict[str, Any]]:
    known = {shard["ShardId"] for shard in shards}
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()
    pending = list(shards)
    while pending:
        ready = [
            shard
            for shard in pending
            if shard.get("ParentShardId") not in known or shard["ParentShardId"] in placed
        ]
        if not ready:  # a cycle cannot happen in DynamoDB; read what is left as listed
            ready = pending
        for shard in ready:
            ordered.append(shard)
            placed.add(shard["ShardId"])
        pending = [shard for shard in pending if shard["ShardId"] not in placed]
    return ordered
