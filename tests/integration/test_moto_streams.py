"""Stream records read back from moto's DynamoDB Streams look like what Lambda receives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeSerializer

from domain.kinds import TableKind
from infrastructure.adapters.streams import parse_lambda_event
from tests.support.delivery import (
    CALM,
    Turbulence,
    first_deliveries,
    item_of,
    unreliable_delivery,
)
from tests.support.moto_server import read_stream_records, scan_items
from tests.support.random_workload import apply_random_workload
from tests.support.reference import expected_documents
from tests.support.replay import comparable, deserialized, tables_from_records

if TYPE_CHECKING:
    from tests.support.fixtures import ReferenceTables


SERIALIZER = TypeSerializer()


def put(tables: ReferenceTables, kind: str, item: dict[str, Any]) -> None:
    tables.endpoint.dynamodb().put_item(
        TableName=tables.names[kind],
        Item={name: SERIALIZER.serialize(value) for name, value in item.items()},
    )


def all_records(tables: ReferenceTables) -> list[dict[str, Any]]:
    streams = tables.endpoint.streams()
    return [
        record
        for kind in tables.names
        for record in read_stream_records(streams, tables.stream_arns[kind])
    ]


def test_writes_come_back_in_order_with_lambda_shaped_records(
    reference_tables: ReferenceTables,
) -> None:
    client = reference_tables.endpoint.dynamodb()
    users = reference_tables.names["users"]
    put(reference_tables, "users", {"userId": "u-1", "plan": "free", "tags": {"vip"}})
    client.update_item(
        TableName=users,
        Key={"userId": {"S": "u-1"}},
        UpdateExpression="SET #plan = :plan REMOVE tags",
        ExpressionAttributeNames={"#plan": "plan"},
        ExpressionAttributeValues={":plan": {"S": "pro"}},
    )
    client.delete_item(TableName=users, Key={"userId": {"S": "u-1"}})

    arn = reference_tables.stream_arns["users"]
    records = read_stream_records(reference_tables.endpoint.streams(), arn)

    assert [record["eventName"] for record in records] == ["INSERT", "MODIFY", "REMOVE"]
    for record in records:
        assert record["eventSource"] == "aws:dynamodb"
        assert record["eventSourceARN"] == arn
        assert f":table/{users}/stream/" in arn
        assert record["awsRegion"] == reference_tables.endpoint.region
        assert record["dynamodb"]["Keys"] == {"userId": {"S": "u-1"}}
        assert record["dynamodb"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    insert, modify, remove = (record["dynamodb"] for record in records)
    assert "OldImage" not in insert
    assert deserialized(insert["NewImage"]) == {"userId": "u-1", "plan": "free", "tags": {"vip"}}
    assert deserialized(modify["OldImage"])["plan"] == "free"
    assert deserialized(modify["NewImage"]) == {"userId": "u-1", "plan": "pro"}
    assert "NewImage" not in remove
    assert deserialized(remove["OldImage"]) == {"userId": "u-1", "plan": "pro"}
    numbers = [int(change["SequenceNumber"]) for change in (insert, modify, remove)]
    assert numbers == sorted(set(numbers))


def test_composite_keys_come_back_as_keys(reference_tables: ReferenceTables) -> None:
    put(reference_tables, "likes", {"imageId": "i-1", "userId": "u-1", "createdAt": "x"})
    put(reference_tables, "payments", {"userId": "u-1", "paymentId": "p-1", "amountCents": 499})

    likes, payments = (
        read_stream_records(reference_tables.endpoint.streams(), reference_tables.stream_arns[k])
        for k in ("likes", "payments")
    )

    assert likes[0]["dynamodb"]["Keys"] == {"imageId": {"S": "i-1"}, "userId": {"S": "u-1"}}
    assert payments[0]["dynamodb"]["Keys"] == {"userId": {"S": "u-1"}, "paymentId": {"S": "p-1"}}
    assert payments[0]["dynamodb"]["NewImage"]["amountCents"] == {"N": "499"}


def test_an_empty_stream_reads_as_no_records(reference_tables: ReferenceTables) -> None:
    arn = reference_tables.stream_arns["images"]

    assert read_stream_records(reference_tables.endpoint.streams(), arn) == []


def test_a_random_workload_streams_exactly_what_the_tables_hold(
    reference_tables: ReferenceTables,
) -> None:
    client = reference_tables.endpoint.dynamodb()
    done = apply_random_workload(client, reference_tables.names, seed=21, operations=250)

    records = all_records(reference_tables)

    assert sum(done.values()) == 250
    assert {"put_user", "update_image", "delete_image", "put_like"} <= set(done)
    replayed = tables_from_records(records)
    scanned = {kind: scan_items(client, name) for kind, name in reference_tables.names.items()}
    from_stream = {kind: replayed.get(name, []) for kind, name in reference_tables.names.items()}
    for kind in reference_tables.names:
        assert comparable(from_stream[kind]) == comparable(scanned[kind])
    assert expected_documents(from_stream) == expected_documents(scanned)


def test_the_records_are_valid_lambda_input(reference_tables: ReferenceTables) -> None:
    apply_random_workload(
        reference_tables.endpoint.dynamodb(), reference_tables.names, seed=5, operations=80
    )
    kinds = {name: TableKind(kind) for kind, name in reference_tables.names.items()}

    parsed = parse_lambda_event({"Records": all_records(reference_tables)}, kinds.get)

    assert parsed
    assert [record.error for record in parsed if record.error] == []


def test_bad_delivery_keeps_each_items_order_and_loses_nothing(
    reference_tables: ReferenceTables,
) -> None:
    apply_random_workload(
        reference_tables.endpoint.dynamodb(), reference_tables.names, seed=9, operations=150
    )
    records = all_records(reference_tables)

    events = unreliable_delivery(records, seed=3, turbulence=Turbulence(late_replay_rate=0.2))

    delivered = [record for event in events for record in event["Records"]]
    assert len(delivered) > len(records)
    assert {r["eventID"] for r in delivered} == {r["eventID"] for r in records}
    first = first_deliveries(events)
    for item in {item_of(record) for record in records}:
        in_stream = [r["eventID"] for r in records if item_of(r) == item]
        assert [r["eventID"] for r in first if item_of(r) == item] == in_stream
    for event in events:
        assert len({record["eventSourceARN"] for record in event["Records"]}) == 1


def test_calm_delivery_delivers_each_record_once(reference_tables: ReferenceTables) -> None:
    apply_random_workload(
        reference_tables.endpoint.dynamodb(), reference_tables.names, seed=2, operations=60
    )
    records = all_records(reference_tables)

    events = unreliable_delivery(records, seed=1, turbulence=CALM)

    delivered = [record for event in events for record in event["Records"]]
    assert sorted(r["eventID"] for r in delivered) == sorted(r["eventID"] for r in records)
