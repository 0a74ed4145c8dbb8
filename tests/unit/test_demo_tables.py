"""The simulated tables emit DynamoDB Streams records as Lambda receives them."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeSerializer
from hypothesis import given
from hypothesis import strategies as st

from devtools.demo import (
    CrmWorkload,
    SimulatedTables,
    decode_kinesis_data,
    kinesis_lambda_events,
    lambda_events,
    to_kinesis_records,
)
from devtools.demo.item_size import item_size
from devtools.demo.item_version import ItemVersion
from domain.items import parse_item
from domain.kinds import TableKind
from infrastructure.adapters.streams import parse_lambda_event
from tests.support.replay import comparable, deserialized, tables_from_records

TABLE_NAMES = {
    "users": "prod-users",
    "images": "prod-images",
    "likes": "prod-likes",
    "payments": "prod-payments",
}
KINDS = {name: TableKind(kind) for kind, name in TABLE_NAMES.items()}
ADA = {
    "userId": "u-1",
    "email": "ada@mail.example",
    "name": "Ada Lovelace",
    "plan": "free",
    "country": "GB",
    "createdAt": "2024-03-05T10:15:00Z",
    "marketingOptIn": True,
    "tags": {"vip", "beta"},
}
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}


@pytest.fixture
def tables() -> SimulatedTables:
    return SimulatedTables(TABLE_NAMES, region="eu-west-1", seed=11)


def test_a_new_item_is_an_insert_with_only_a_new_image(tables: SimulatedTables) -> None:
    record = tables.put("users", ADA)

    assert record is not None
    assert record["eventName"] == "INSERT"
    assert record["eventVersion"] == "1.1"
    assert record["eventSource"] == "aws:dynamodb"
    assert record["awsRegion"] == "eu-west-1"
    assert record["eventSourceARN"] == (
        "arn:aws:dynamodb:eu-west-1:123456789012:table/prod-users/stream/2024-01-01T00:00:00.000"
    )
    change = record["dynamodb"]
    assert change["Keys"] == {"userId": {"S": "u-1"}}
    assert change["NewImage"]["tags"] == {"SS": ["beta", "vip"]}
    assert change["NewImage"]["marketingOptIn"] == {"BOOL": True}
    assert "OldImage" not in change
    assert change["StreamViewType"] == "NEW_AND_OLD_IMAGES"
    assert isinstance(change["ApproximateCreationDateTime"], int)
    assert change["SizeBytes"] == item_size({"userId": "u-1"}) + item_size(ADA)
    assert "userIdentity" not in record


def test_an_update_is_a_modify_with_both_images(tables: SimulatedTables) -> None:
    tables.put("users", ADA)

    record = tables.update("users", {"userId": "u-1"}, {"plan": "pro", "tags": None})

    assert record is not None
    assert record["eventName"] == "MODIFY"
    assert deserialized(record["dynamodb"]["OldImage"])["plan"] == "free"
    new_image = deserialized(record["dynamodb"]["NewImage"])
    assert new_image["plan"] == "pro"
    assert "tags" not in new_image
    assert tables.get("users", {"userId": "u-1"}) == new_image


def test_an_empty_set_removes_the_attribute_as_dynamodb_stores_none(
    tables: SimulatedTables,
) -> None:
    tables.put("users", {**ADA, "tags": set()})
    stored = tables.get("users", {"userId": "u-1"})
    assert stored is not None
    assert "tags" not in stored

    record = tables.update("users", {"userId": "u-1"}, {"tags": {"vip"}})
    assert record is not None
    assert record["dynamodb"]["NewImage"]["tags"] == {"SS": ["vip"]}
    assert "tags" not in record["dynamodb"]["OldImage"]


def test_a_put_over_an_item_is_a_modify(tables: SimulatedTables) -> None:
    tables.put("users", ADA)

    record = tables.put("users", {**ADA, "name": "Ada King"})

    assert record is not None
    assert record["eventName"] == "MODIFY"
    assert record["dynamodb"]["OldImage"]["name"] == {"S": "Ada Lovelace"}
    assert record["dynamodb"]["NewImage"]["name"] == {"S": "Ada King"}


def test_a_write_that_changes_nothing_emits_nothing(tables: SimulatedTables) -> None:
    tables.put("users", ADA)

    assert tables.put("users", {**ADA, "tags": {"beta", "vip"}}) is None
    assert tables.update("users", {"userId": "u-1"}, {"plan": "free", "bio": None}) is None
    assert tables.delete("users", {"userId": "u-404"}) is None
    assert len(tables.records) == 1


def test_numbers_compare_by_value_and_booleans_are_not_numbers(tables: SimulatedTables) -> None:
    image = {"imageId": "i-1", "sizeBytes": 5, "flag": True}
    tables.put("images", image)

    assert tables.put("images", {**image, "sizeBytes": Decimal(5)}) is None
    record = tables.put("images", {**image, "flag": 1})
    assert record is not None
    assert record["dynamodb"]["NewImage"]["flag"] == {"N": "1"}


def test_updating_a_missing_item_creates_it(tables: SimulatedTables) -> None:
    record = tables.update("likes", {"imageId": "i-1", "userId": "u-1"}, {"createdAt": "x"})

    assert record is not None
    assert record["eventName"] == "INSERT"
    assert record["dynamodb"]["Keys"] == {"imageId": {"S": "i-1"}, "userId": {"S": "u-1"}}
    assert tables.items("likes") == [{"imageId": "i-1", "userId": "u-1", "createdAt": "x"}]


def test_keys_must_be_non_empty_strings_and_cannot_be_updated(tables: SimulatedTables) -> None:
    with pytest.raises(ValueError, match="userId"):
        tables.put("likes", {"imageId": "i-1"})
    with pytest.raises(ValueError, match="userId"):
        tables.put("users", {"userId": ""})
    with pytest.raises(ValueError, match="key attributes"):
        tables.update("images", {"imageId": "i-1"}, {"imageId": "i-2"})


def test_a_delete_is_a_remove_with_only_the_old_image(tables: SimulatedTables) -> None:
    tables.put("users", ADA)

    record = tables.delete("users", {"userId": "u-1"})

    assert record is not None
    assert record["eventName"] == "REMOVE"
    assert "NewImage" not in record["dynamodb"]
    assert deserialized(record["dynamodb"]["OldImage"]) == {**ADA, "tags": {"vip", "beta"}}
    assert "userIdentity" not in record
    assert tables.items("users") == []


def test_a_ttl_expiry_is_a_remove_by_the_dynamodb_service(tables: SimulatedTables) -> None:
    tables.put("users", ADA)

    record = tables.delete("users", {"userId": "u-1"}, ttl=True)

    assert record is not None
    assert record["eventName"] == "REMOVE"
    assert record["userIdentity"] == TTL_IDENTITY


def test_tables_are_named_by_kind_or_by_real_name(tables: SimulatedTables) -> None:
    tables.put("prod-images", {"imageId": "i-1"})

    assert tables.items("images") == [{"imageId": "i-1"}]
    assert tables.table_name("likes") == "prod-likes"
    assert tables.kind_of("prod-payments") is TableKind.PAYMENTS
    with pytest.raises(KeyError):
        tables.put("orders", {"orderId": "o-1"})
    with pytest.raises(ValueError, match="orders"):
        SimulatedTables({"orders": "prod-orders"})


def test_loaded_items_predate_the_stream(tables: SimulatedTables) -> None:
    tables.load("users", [ADA])

    assert tables.records == []
    record = tables.update("users", {"userId": "u-1"}, {"plan": "team"})
    assert record is not None
    assert record["eventName"] == "MODIFY"
    assert deserialized(record["dynamodb"]["OldImage"])["plan"] == "free"


def test_event_ids_are_unique_and_sequence_numbers_and_times_grow(
    tables: SimulatedTables,
) -> None:
    for n in range(30):
        tables.put("likes", {"imageId": f"i-{n % 3}", "userId": "u-1", "createdAt": str(n)})
    tables.delete("likes", {"imageId": "i-0", "userId": "u-1"})

    records = tables.records
    sequence_numbers = [record["dynamodb"]["SequenceNumber"] for record in records]
    assert all(len(number) >= 21 and number.isdigit() for number in sequence_numbers)
    assert [int(n) for n in sequence_numbers] == sorted({int(n) for n in sequence_numbers})
    assert sequence_numbers == sorted(sequence_numbers)
    times = [record["dynamodb"]["ApproximateCreationDateTime"] for record in records]
    assert times == sorted(set(times))
    assert len({record["eventID"] for record in records}) == len(records)


def test_records_are_plain_json(tables: SimulatedTables) -> None:
    tables.put("images", {"imageId": "i-1", "sizeBytes": Decimal("12"), "tags": {"a"}})

    assert json.loads(json.dumps(tables.records)) == tables.records


def test_take_records_hands_over_what_was_emitted_since_the_last_call(
    tables: SimulatedTables,
) -> None:
    tables.put("users", ADA)
    assert len(tables.take_records()) == 1
    tables.update("users", {"userId": "u-1"}, {"plan": "team"})

    (record,) = tables.take_records()
    assert record["eventName"] == "MODIFY"
    assert tables.records == []


def test_lambda_events_keep_one_stream_per_invocation_in_order(tables: SimulatedTables) -> None:
    for n in range(5):
        tables.put("users", {**ADA, "userId": f"u-{n}"})
        tables.put("images", {"imageId": f"i-{n}"})

    events = lambda_events(tables.records, batch_size=2)

    assert [len(event["Records"]) for event in events] == [2, 2, 2, 2, 1, 1]
    for event in events:
        assert len({record["eventSourceARN"] for record in event["Records"]}) == 1
    delivered = [record for event in events for record in event["Records"]]
    assert sorted(r["eventID"] for r in delivered) == sorted(r["eventID"] for r in tables.records)
    users = [r for r in delivered if "prod-users" in r["eventSourceARN"]]
    assert users == [r for r in tables.records if "prod-users" in r["eventSourceARN"]]


def test_kinesis_records_decode_back_to_the_same_change(tables: SimulatedTables) -> None:
    tables.put("users", ADA)
    tables.update("users", {"userId": "u-1"}, {"plan": "pro"})
    tables.delete("users", {"userId": "u-1"}, ttl=True)

    (event,) = kinesis_lambda_events(tables.records, batch_size=10, stream_name="changes")

    bodies = [decode_kinesis_data(record) for record in event["Records"]]
    for record, body, original in zip(event["Records"], bodies, tables.records, strict=True):
        assert record["eventSource"] == "aws:kinesis"
        assert record["eventSourceARN"] == "arn:aws:kinesis:eu-west-1:123456789012:stream/changes"
        assert record["kinesis"]["sequenceNumber"].isdigit()
        assert body["eventName"] == original["eventName"]
        assert body["tableName"] == "prod-users"
        assert body["recordFormat"] == "application/json"
        assert body["eventSource"] == "aws:dynamodb"
        assert body["dynamodb"]["ApproximateCreationDateTimePrecision"] == "MICROSECOND"
        for part in ("Keys", "NewImage", "OldImage", "SizeBytes"):
            assert body["dynamodb"].get(part) == original["dynamodb"].get(part)
        seconds = original["dynamodb"]["ApproximateCreationDateTime"]
        assert body["dynamodb"]["ApproximateCreationDateTime"] // 1_000_000 == seconds
    assert [body["userIdentity"] for body in bodies] == [None, None, TTL_IDENTITY]
    micros = [body["dynamodb"]["ApproximateCreationDateTime"] for body in bodies]
    assert micros == sorted(set(micros))


def test_kinesis_times_grow_even_when_records_share_a_second() -> None:
    tables = SimulatedTables()
    tables.put("users", {"userId": "u-1"})
    tables.put("users", {"userId": "u-1", "plan": "pro"})
    same_second = [
        {**record, "dynamodb": {**record["dynamodb"], "ApproximateCreationDateTime": 1700000000}}
        for record in tables.records
    ]

    micros = [
        decode_kinesis_data(record)["dynamodb"]["ApproximateCreationDateTime"]
        for record in to_kinesis_records(same_second)
    ]

    assert micros[0] < micros[1]
    assert all(m // 1_000_000 in (1700000000, 1700000001) for m in micros)


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8),
        st.one_of(
            st.text(max_size=20),
            st.booleans(),
            st.integers(min_value=-(10**20), max_value=10**20),
            st.frozensets(st.text(max_size=6), max_size=4).map(set),
        ),
        max_size=6,
    )
)
def test_images_match_the_boto3_serializer_and_sizes_add_up(attributes: dict[str, Any]) -> None:
    version = ItemVersion.of(attributes)

    stored = {k: v for k, v in attributes.items() if not (isinstance(v, set) and not v)}
    serializer = TypeSerializer()
    expected = {name: serializer.serialize(value) for name, value in stored.items()}
    for value in expected.values():
        if "SS" in value:
            value["SS"] = sorted(value["SS"])
    assert version.image == expected
    assert version.size_bytes == item_size(stored)
    assert deserialized(version.image) == stored


@given(
    st.dictionaries(st.sampled_from("abcdef"), st.one_of(st.none(), st.text(max_size=5))),
    st.dictionaries(st.sampled_from("abcdef"), st.one_of(st.none(), st.text(max_size=5))),
)
def test_a_changed_version_equals_one_built_whole(
    before: dict[str, Any], changes: dict[str, Any]
) -> None:
    version = ItemVersion.of(before)

    changed = version.changed(changes)

    whole = ItemVersion.of({**version.attributes, **changes})
    if changed is None:
        assert whole.attributes == version.attributes
    else:
        assert changed == whole


def test_a_workload_is_deterministic_for_its_seed() -> None:
    first = CrmWorkload(seed=5, users=40)
    again = CrmWorkload(seed=5, users=40)
    other = CrmWorkload(seed=6, users=40)

    assert first.records == again.records
    assert first.final_items() == again.final_items()
    assert first.records != other.records


def test_a_workload_ends_with_what_its_records_say() -> None:
    workload = CrmWorkload(seed=8, users=60, table_names=TABLE_NAMES)

    replayed = tables_from_records(workload.records)

    final = workload.final_items()
    for kind, name in TABLE_NAMES.items():
        assert comparable(replayed.get(name, [])) == comparable(final[kind])


def test_a_workload_covers_the_hard_cases() -> None:
    workload = CrmWorkload(seed=9, users=150)
    records = workload.records
    final = workload.final_items()

    kinds = Counter(
        (record["eventSourceARN"].split("/")[1], record["eventName"]) for record in records
    )
    assert {("users", "REMOVE"), ("images", "REMOVE"), ("likes", "REMOVE")} <= set(kinds)
    assert kinds["users", "MODIFY"] and kinds["images", "MODIFY"] and kinds["payments", "MODIFY"]
    assert any("userIdentity" in record for record in records)
    image_ids = {image["imageId"] for image in final["images"]}
    user_ids = {user["userId"] for user in final["users"]}
    assert any(like["imageId"] not in image_ids for like in final["likes"])
    assert any(image["userId"] not in user_ids for image in final["images"])
    assert any(image["status"] == "hidden" for image in final["images"])
    assert any(payment["status"] == "refunded" for payment in final["payments"])
    assert any(not image["createdAt"].endswith("Z") for image in final["images"])
    assert any("bio" not in user for user in final["users"])
    assert any("tags" in user for user in final["users"])


def test_a_workload_scales_with_its_users() -> None:
    small = len(CrmWorkload(seed=1, users=20).records)
    large = len(CrmWorkload(seed=1, users=200).records)

    assert 8 * small < large < 12 * small


def test_every_workload_record_is_valid_input_for_the_pipeline() -> None:
    workload = CrmWorkload(seed=4, users=60, table_names=TABLE_NAMES)
    events = lambda_events(workload.records) + kinesis_lambda_events(workload.records)

    parsed = [record for event in events for record in parse_lambda_event(event, KINDS.get)]

    assert len(parsed) == 2 * len(workload.records)
    assert [record.error for record in parsed if record.error] == []
    for record in parsed:
        assert record.change is not None
        if record.change.item is not None:
            parse_item(record.change.kind, record.change.item)
