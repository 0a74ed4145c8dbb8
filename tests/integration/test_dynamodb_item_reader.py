"""The DynamoDB item reader against moto: what it reads, and how it fails."""

from __future__ import annotations

import socket

import boto3
import pytest
from botocore.config import Config

from domain.errors import ItemUnreadable
from domain.kinds import TableKind
from infrastructure.adapters.dynamodb_items import DynamoDBItemReader, SourceTableUnavailable
from tests.support.fixtures import ReferenceTables
from tests.support.moto_server import MotoEndpoint


def reader_for(tables: ReferenceTables) -> DynamoDBItemReader:
    return DynamoDBItemReader(boto3_client=tables.endpoint.dynamodb())


def test_an_item_reads_as_python_values(reference_tables: ReferenceTables) -> None:
    reference_tables.endpoint.dynamodb().put_item(
        TableName=reference_tables.names["likes"],
        Item={"imageId": {"S": "i-1"}, "userId": {"S": "u-1"}, "n": {"N": "3"}},
    )

    item = reader_for(reference_tables).read(
        TableKind.LIKES, ("i-1", "u-1"), reference_tables.names["likes"]
    )

    assert item == {"imageId": "i-1", "userId": "u-1", "n": 3}


def test_an_item_the_table_does_not_hold_reads_as_none(reference_tables: ReferenceTables) -> None:
    reader = reader_for(reference_tables)

    assert reader.read(TableKind.USERS, ("u-404",), reference_tables.names["users"]) is None


def test_a_table_that_does_not_exist_is_unreadable_with_what_to_do(
    moto_endpoint: MotoEndpoint,
) -> None:
    reader = DynamoDBItemReader(boto3_client=moto_endpoint.dynamodb())

    with pytest.raises(ItemUnreadable) as refused:
        reader.read(TableKind.USERS, ("u-1",), "no-such-table")

    assert "ResourceNotFoundException" in refused.value.reason
    assert "dynamodb:GetItem" in refused.value.reason


def test_an_unreachable_endpoint_is_a_transient_failure(moto_endpoint: MotoEndpoint) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    client = boto3.client(
        "dynamodb",
        endpoint_url=f"http://127.0.0.1:{closed_port}",
        region_name=moto_endpoint.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}, connect_timeout=1),
    )

    with pytest.raises(SourceTableUnavailable):
        DynamoDBItemReader(boto3_client=client).read(TableKind.USERS, ("u-1",), "users")
