"""Lambda stream events of both transports become source changes, or say why they cannot."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from boto3.dynamodb.types import Binary

from domain.changes import ChangeType, StreamPosition
from domain.kinds import TableKind
from domain.positions import CreationTime, Precedence, StreamOrigin, Transport
from infrastructure.adapters.streams import MalformedEvent, StreamRecord, parse_lambda_event
from infrastructure.settings import EmbeddedSearch, Settings, SQLiteStore, parse_tables

EVENTS = Path(__file__).parent.parent / "fixtures" / "events"

SETTINGS = Settings(
    event_store=SQLiteStore(Path("events.db")),
    search=EmbeddedSearch(Path("index")),
    tables=parse_tables(
        "users=prod-users,images=prod-images,likes=prod-likes,payments=prod-payments"
    ),
    index_prefix="streamfold",
)
KIND_OF_TABLE = SETTINGS.kind_of_table
TTL_IDENTITY = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
KINESIS_ARN = "arn:aws:kinesis:eu-west-1:123456789012:stream/prod-changes"


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def ddb_record(index: int = 0) -> dict[str, Any]:
    """A fresh copy of one record of the DynamoDB Streams sample event."""
    record: dict[str, Any] = load_event("dynamodb_streams_event.json")["Records"][index]
    return record


def kinesis_body(index: int = 0) -> dict[str, Any]:
    """The decoded change record inside one record of the Kinesis sample event."""
    data = load_event("kinesis_event.json")["Records"][index]["kinesis"]["data"]
    body: dict[str, Any] = json.loads(base64.b64decode(data))
    return body


def kinesis_record(body: object, index: int = 0) -> dict[str, Any]:
    """A Kinesis sample record carrying ``body`` as its data."""
    record: dict[str, Any] = load_event("kinesis_event.json")["Records"][index]
    record["kinesis"]["data"] = base64.b64encode(json.dumps(body).encode()).decode()
    return record


def parse_one(
    record: object, kind_of_table: Callable[[str], TableKind | None] = KIND_OF_TABLE
) -> StreamRecord:
    (parsed,) = parse_lambda_event({"Records": [record]}, kind_of_table)
    return parsed


def error_of(record: object) -> str:
    parsed = parse_one(record)
    assert parsed.change is None
    assert parsed.error is not None
    return parsed.error


# DynamoDB Streams


def test_an_insert_becomes_a_change_with_the_new_image_as_python_values() -> None:
    record = ddb_record(0)

    parsed = parse_one(record)

    assert parsed.error is None
    assert parsed.source == "dynamodb-streams"
    assert parsed.table_name == "prod-users"
    assert parsed.item_identifier == "111100000000012345678901"
    change = parsed.change
    assert change is not None
    assert change.kind is TableKind.USERS
    assert change.key == ("usr-7f3a",)
    assert change.change_type is ChangeType.INSERT
    assert change.record_id == "c81e728d9d4c2f636f067f89cc14862c"
    assert change.position == StreamPosition(
        111100000000012345678901,
        StreamOrigin(Transport.DYNAMODB_STREAMS, "prod-users", "2024-01-01T00:00:00.000"),
        "c81e728d9d4c2f636f067f89cc14862c",
        CreationTime(1_704_067_200_000_000, 1_000_000),
    )
    assert change.occurred_at == datetime(2024, 1, 1, tzinfo=UTC)
    assert change.expired is False
    assert change.item == {
        "userId": "usr-7f3a",
        "email": "ana@example.com",
        "name": "Ana Lima",
        "plan": "pro",
        "country": "PT",
        "createdAt": "2023-11-02T09:15:00+00:00",
        "marketingOptIn": True,
        "tags": {"photography", "travel"},
        "bio": None,
    }


def test_a_modify_carries_the_new_image_with_numbers_maps_and_binary_decoded() -> None:
    change = parse_one(ddb_record(1)).change

    assert change is not None
    assert change.change_type is ChangeType.MODIFY
    assert change.kind is TableKind.IMAGES
    assert change.item is not None
    assert change.item["title"] == "Harbour at dawn, Lisbon"
    assert change.item["sizeBytes"] == Decimal("2483110")
    assert change.item["exif"] == {
        "iso": Decimal(200),
        "lens": "35mm",
        "thumb": Binary(base64.b64decode("iVBORw0K")),
    }


def test_a_remove_carries_no_item() -> None:
    record = ddb_record(2)
    del record["userIdentity"]

    change = parse_one(record).change

    assert change is not None
    assert change.change_type is ChangeType.REMOVE
    assert change.item is None
    assert change.expired is False


def test_a_remove_made_by_ttl_is_marked_expired() -> None:
    change = parse_one(ddb_record(2)).change

    assert change is not None
    assert change.expired is True


def test_an_insert_by_the_ttl_principal_is_not_marked_expired() -> None:
    record = ddb_record(0)
    record["userIdentity"] = TTL_IDENTITY

    change = parse_one(record).change

    assert change is not None
    assert change.expired is False


def test_a_new_image_stream_is_accepted() -> None:
    record = ddb_record(3)
    assert record["dynamodb"]["StreamViewType"] == "NEW_IMAGE"

    change = parse_one(record).change

    assert change is not None
    assert change.item is not None
    assert change.item["amountCents"] == Decimal(1299)


@pytest.mark.parametrize("view_type", ["KEYS_ONLY", "OLD_IMAGE"])
@pytest.mark.parametrize("index", [0, 2], ids=["insert", "remove"])
def test_a_stream_without_new_images_is_refused_naming_the_view_type_to_set(
    view_type: str, index: int
) -> None:
    record = ddb_record(index)
    record["dynamodb"]["StreamViewType"] = view_type
    record["dynamodb"].pop("NewImage", None)

    assert error_of(record) == (
        f"stream view type {view_type} carries no NewImage; set the table's stream view "
        "type to NEW_AND_OLD_IMAGES or NEW_IMAGE"
    )


def test_an_unknown_view_type_is_refused() -> None:
    record = ddb_record(0)
    record["dynamodb"]["StreamViewType"] = "EVERYTHING"

    assert "unknown stream view type 'EVERYTHING'" in error_of(record)


@pytest.mark.parametrize("index", [0, 1], ids=["insert", "modify"])
def test_an_insert_or_modify_without_new_image_is_refused(index: int) -> None:
    record = ddb_record(index)
    del record["dynamodb"]["NewImage"]

    assert "record has no NewImage" in error_of(record)


def test_an_unmapped_table_is_refused_naming_the_variable_to_set() -> None:
    record = ddb_record(0)
    record["eventSourceARN"] = record["eventSourceARN"].replace("prod-users", "prod-orders")

    parsed = parse_one(record)

    assert parsed.table_name == "prod-orders"
    assert parsed.error == (
        "table 'prod-orders' is not mapped to a kind; name it in STREAMFOLD_TABLES "
        "(for example users=prod-orders)"
    )


def test_the_refusal_of_an_unmapped_table_suggests_the_kind_its_name_suggests() -> None:
    record = ddb_record(2)
    record["eventSourceARN"] = record["eventSourceARN"].replace("prod-likes", "photo-likes-v2")

    assert error_of(record).endswith("(for example likes=photo-likes-v2)")


def test_a_table_is_mapped_through_the_given_lookup() -> None:
    record = ddb_record(0)
    record["eventSourceARN"] = record["eventSourceARN"].replace("prod-users", "members")

    parsed = parse_one(record, {"members": TableKind.USERS}.get)

    assert parsed.change is not None
    assert parsed.change.kind is TableKind.USERS
    assert parsed.table_name == "members"


def test_without_a_mapping_a_table_named_after_its_kind_is_read_as_that_kind() -> None:
    record = ddb_record(0)
    record["eventSourceARN"] = record["eventSourceARN"].replace("prod-users", "users")
    unmapped = Settings(SETTINGS.event_store, SETTINGS.search, {}, "streamfold")

    change = parse_one(record, unmapped.kind_of_table).change

    assert change is not None
    assert change.kind is TableKind.USERS


def test_once_a_mapping_is_set_a_table_it_leaves_out_is_refused_even_if_named_a_kind() -> None:
    record = ddb_record(0)
    record["eventSourceARN"] = record["eventSourceARN"].replace("prod-users", "users")

    assert error_of(record) == (
        "table 'users' is not mapped to a kind; name it in STREAMFOLD_TABLES "
        "(for example users=users)"
    )


def test_a_likes_key_is_image_then_user() -> None:
    record = ddb_record(2)
    record["dynamodb"]["Keys"] = {"userId": {"S": "usr-19c2"}, "imageId": {"S": "img-0001"}}

    change = parse_one(record).change

    assert change is not None
    assert change.kind is TableKind.LIKES
    assert change.key == ("img-0001", "usr-19c2")


def test_a_payments_key_is_user_then_payment() -> None:
    change = parse_one(ddb_record(3)).change

    assert change is not None
    assert change.kind is TableKind.PAYMENTS
    assert change.key == ("usr-7f3a", "pay-20240101-01")


def test_a_missing_key_attribute_is_named() -> None:
    record = ddb_record(2)
    del record["dynamodb"]["Keys"]["userId"]

    assert error_of(record) == (
        "dynamodb.Keys has no 'userId', which a likes key needs (imageId + userId)"
    )


def test_a_record_without_keys_is_refused() -> None:
    record = ddb_record(0)
    del record["dynamodb"]["Keys"]

    assert error_of(record) == "dynamodb.Keys must be an object, got None"


@pytest.mark.parametrize(
    "value", [{"N": "42"}, {"B": "aGk="}, {"S": 42}, "usr-7f3a", {"S": "a", "N": "1"}]
)
def test_a_key_attribute_that_is_not_a_string_is_refused(value: object) -> None:
    record = ddb_record(0)
    record["dynamodb"]["Keys"]["userId"] = value

    assert error_of(record).startswith("key attribute 'userId' must be a string (S), got ")


def test_an_empty_key_is_refused() -> None:
    record = ddb_record(0)
    record["dynamodb"]["Keys"]["userId"] = {"S": ""}

    assert error_of(record) == "key attribute 'userId' is an empty string"


def test_a_key_longer_than_dynamodb_allows_is_refused() -> None:
    record = ddb_record(0)
    record["dynamodb"]["Keys"]["userId"] = {"S": "é" * 1500}

    assert error_of(record) == ("key attribute 'userId' is 3000 bytes, more than DynamoDB allows")


def test_a_key_that_is_not_valid_unicode_is_refused() -> None:
    record = ddb_record(0)
    record["dynamodb"]["Keys"]["userId"] = {"S": "usr-\ud800"}

    assert error_of(record) == "key attribute 'userId' is not valid Unicode: 'usr-\\ud800'"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ({"N": "abc"}, "N 'abc' is not a number"),
        ({"N": "NaN"}, "N 'NaN' is not a number"),
        ({"N": "1e500"}, "N '1e500' is outside DynamoDB's number range or 38-digit precision"),
        ({"N": 42}, "N must hold a string, got 42"),
        ({"XX": 1}, "unknown type descriptor 'XX'"),
        ({"s": "lower-case descriptor"}, "unknown type descriptor 's'"),
        ({}, "expected one type descriptor such as {'S': ...}, got {}"),
        ({"S": "a", "N": "1"}, "expected one type descriptor such as {'S': ...}, got "),
        ("plain", "expected one type descriptor such as {'S': ...}, got 'plain'"),
        ({"S": 5}, "S must hold a string, got 5"),
        ({"S": "\udcff"}, "S holds text that is not valid Unicode: '\\udcff'"),
        ({"SS": "abc"}, "SS must hold a list, got 'abc'"),
        ({"NS": ["1", "x"]}, "N 'x' is not a number"),
        ({"B": "***"}, "B '***' is not base64"),
        ({"BOOL": "true"}, "BOOL must hold true or false, got 'true'"),
        ({"NULL": False}, "NULL must hold true, got False"),
        ({"M": []}, "M must hold an object, got []"),
        ({"L": [{"N": "1"}, {"Q": "?"}]}, "unknown type descriptor 'Q'"),
    ],
)
def test_a_bad_attribute_value_is_refused_naming_the_attribute(value: object, reason: str) -> None:
    record = ddb_record(0)
    record["dynamodb"]["NewImage"]["bio"] = value

    error = error_of(record)

    assert error.startswith("NewImage attribute 'bio': ")
    assert reason in error


def test_an_attribute_nested_too_deeply_is_refused() -> None:
    value: dict[str, Any] = {"S": "bottom"}
    for _ in range(5000):
        value = {"L": [value]}
    record = ddb_record(0)
    record["dynamodb"]["NewImage"]["bio"] = value

    assert error_of(record) == "NewImage attribute 'bio' is nested too deeply"


def test_a_bad_old_image_does_not_matter() -> None:
    record = ddb_record(1)
    record["dynamodb"]["OldImage"]["title"] = {"N": "abc"}

    assert parse_one(record).change is not None


def test_the_sequence_number_orders_changes_numerically() -> None:
    earlier, later = ddb_record(0), ddb_record(0)
    earlier["dynamodb"]["SequenceNumber"] = "9"
    later["dynamodb"]["SequenceNumber"] = "10"
    later["eventID"] = "d3d9446802a44259755d38e6d163e820"

    first, second = parse_lambda_event({"Records": [earlier, later]}, KIND_OF_TABLE)

    assert first.change is not None
    assert second.change is not None
    assert second.change.position.against(first.change.position) is Precedence.NEWER
    assert first.change.position.against(second.change.position) is Precedence.STALE


def test_a_record_without_a_sequence_number_is_refused_and_identified_by_its_event_id() -> None:
    record = ddb_record(0)
    del record["dynamodb"]["SequenceNumber"]

    parsed = parse_one(record)

    assert parsed.item_identifier == "c81e728d9d4c2f636f067f89cc14862c"
    assert parsed.error == ("dynamodb.SequenceNumber must be a string of up to 48 digits, got None")


@pytest.mark.parametrize("sequence_number", ["", "12a", " 12", "1_000", "-5", "١٢", "9" * 49])
def test_a_sequence_number_that_is_not_plain_digits_is_refused(sequence_number: str) -> None:
    record = ddb_record(0)
    record["dynamodb"]["SequenceNumber"] = sequence_number

    assert error_of(record).startswith("dynamodb.SequenceNumber must be a string of up to 48")


def test_a_fractional_creation_time_keeps_its_microseconds() -> None:
    record = ddb_record(0)
    record["dynamodb"]["ApproximateCreationDateTime"] = 1704067200.25

    change = parse_one(record).change

    assert change is not None
    assert change.occurred_at == datetime(2024, 1, 1, 0, 0, 0, 250000, tzinfo=UTC)


def test_a_record_without_creation_time_has_no_occurred_at() -> None:
    record = ddb_record(0)
    del record["dynamodb"]["ApproximateCreationDateTime"]

    change = parse_one(record).change

    assert change is not None
    assert change.occurred_at is None


@pytest.mark.parametrize("created", ["yesterday", -1, 1e20, True])
def test_a_creation_time_that_is_not_a_plausible_epoch_is_refused(created: object) -> None:
    record = ddb_record(0)
    record["dynamodb"]["ApproximateCreationDateTime"] = created

    assert error_of(record).startswith("dynamodb.ApproximateCreationDateTime ")


@pytest.mark.parametrize("event_name", ["UPSERT", "insert", None, ["INSERT"]])
def test_an_unknown_event_name_is_refused(event_name: object) -> None:
    record = ddb_record(0)
    record["eventName"] = event_name

    assert error_of(record).startswith("eventName must be INSERT, MODIFY or REMOVE, got ")


def test_a_record_without_an_event_id_is_refused() -> None:
    record = ddb_record(0)
    del record["eventID"]

    assert error_of(record) == "the record has no eventID, got None"


def test_a_record_without_a_dynamodb_block_is_refused() -> None:
    record = ddb_record(0)
    del record["dynamodb"]

    parsed = parse_one(record)

    assert parsed.error == "the record has no 'dynamodb' object, got None"
    assert parsed.table_name == "prod-users"
    assert parsed.item_identifier == "c81e728d9d4c2f636f067f89cc14862c"


@pytest.mark.parametrize(
    "arn",
    [
        None,
        "arn:aws:kinesis:eu-west-1:123456789012:stream/prod-users",
        "arn:aws:dynamodb:eu-west-1:123456789012:global-table/prod-users",
        "prod-users",
    ],
)
def test_a_source_arn_that_is_not_a_dynamodb_stream_is_refused(arn: object) -> None:
    record = ddb_record(0)
    record["eventSourceARN"] = arn

    assert error_of(record).startswith("eventSourceARN ")


def test_a_table_name_dynamodb_would_not_allow_is_refused() -> None:
    record = ddb_record(0)
    record["eventSourceARN"] = "arn:aws:dynamodb:eu-west-1:1:table/pröd users/stream/x"

    assert error_of(record) == "eventSourceARN does not name a DynamoDB table: 'pröd users'"


# Kinesis Data Streams for DynamoDB


def test_a_kinesis_record_in_milliseconds_becomes_a_change_positioned_in_microseconds() -> None:
    record = load_event("kinesis_event.json")["Records"][0]

    parsed = parse_one(record)

    assert parsed.error is None
    assert parsed.source == "kinesis"
    assert parsed.table_name == "prod-users"
    assert parsed.item_identifier == "49647175988923546346391934217425423456789012345678901234"
    change = parsed.change
    assert change is not None
    assert change.kind is TableKind.USERS
    assert change.key == ("usr-7f3a",)
    assert change.change_type is ChangeType.INSERT
    assert change.record_id == "5f8e0c3a-1b2d-4e6f-8a9b-0c1d2e3f4a5b"
    assert change.position.order == 1_704_067_200_123_000
    assert change.position.created == CreationTime(1_704_067_200_123_000, 1_000)
    assert change.position.record == "5f8e0c3a-1b2d-4e6f-8a9b-0c1d2e3f4a5b"
    assert change.position.origin == StreamOrigin(Transport.KINESIS, "prod-users", KINESIS_ARN)
    assert change.occurred_at == datetime(2024, 1, 1, 0, 0, 0, 123000, tzinfo=UTC)
    assert change.item is not None
    assert change.item["tags"] == {"photography", "travel"}


def test_a_kinesis_record_in_microseconds_keeps_its_microseconds() -> None:
    record = load_event("kinesis_event.json")["Records"][1]

    change = parse_one(record).change

    assert change is not None
    assert change.position.order == 1_704_067_202_123_456
    assert change.position.created == CreationTime(1_704_067_202_123_456, 1)
    assert change.occurred_at == datetime(2024, 1, 1, 0, 0, 2, 123456, tzinfo=UTC)


def test_kinesis_precision_beside_the_dynamodb_block_is_honoured() -> None:
    body = kinesis_body(1)
    body["ApproximateCreationDateTimePrecision"] = body["dynamodb"].pop(
        "ApproximateCreationDateTimePrecision"
    )

    change = parse_one(kinesis_record(body)).change

    assert change is not None
    assert change.position.created == CreationTime(1_704_067_202_123_456, 1)


def test_an_unknown_kinesis_precision_is_refused() -> None:
    body = kinesis_body(0)
    body["dynamodb"]["ApproximateCreationDateTimePrecision"] = "NANOSECOND"

    assert error_of(kinesis_record(body)) == (
        "ApproximateCreationDateTimePrecision must be MILLISECOND or MICROSECOND, got 'NANOSECOND'"
    )


def test_a_kinesis_record_without_creation_time_is_refused() -> None:
    body = kinesis_body(0)
    del body["dynamodb"]["ApproximateCreationDateTime"]

    assert error_of(kinesis_record(body)) == (
        "dynamodb.ApproximateCreationDateTime must be a number of epoch milliseconds, got None"
    )


def test_a_kinesis_remove_made_by_ttl_is_marked_expired() -> None:
    change = parse_one(load_event("kinesis_event.json")["Records"][1]).change

    assert change is not None
    assert change.change_type is ChangeType.REMOVE
    assert change.kind is TableKind.LIKES
    assert change.key == ("img-0001", "usr-19c2")
    assert change.item is None
    assert change.expired is True


def test_a_kinesis_modify_without_new_image_is_refused() -> None:
    body = kinesis_body(0)
    body["eventName"] = "MODIFY"
    del body["dynamodb"]["NewImage"]

    assert "MODIFY record has no NewImage" in error_of(kinesis_record(body))


def test_kinesis_data_that_is_not_base64_is_refused() -> None:
    record = kinesis_record(kinesis_body(0))
    record["kinesis"]["data"] = "not base64!"

    parsed = parse_one(record)

    assert parsed.error == "kinesis.data is not base64: 'not base64!'"
    assert parsed.item_identifier == record["kinesis"]["sequenceNumber"]


def test_kinesis_data_that_is_not_json_is_refused() -> None:
    record = kinesis_record(kinesis_body(0))
    record["kinesis"]["data"] = base64.b64encode(b"{'tableName': 'prod-users'").decode()

    assert error_of(record).startswith("kinesis.data is not UTF-8 JSON (")


def test_kinesis_data_that_is_not_utf8_is_refused() -> None:
    record = kinesis_record(kinesis_body(0))
    record["kinesis"]["data"] = base64.b64encode(b'{"tableName": "\xff"}').decode()

    assert error_of(record).startswith("kinesis.data is not UTF-8 JSON (")


def test_kinesis_data_that_is_json_but_no_object_is_refused() -> None:
    assert error_of(kinesis_record([1, 2])) == (
        "kinesis.data is not a DynamoDB change record (a JSON object), got [1, 2]"
    )


def test_kinesis_data_larger_than_a_kinesis_record_is_refused_unread() -> None:
    record = kinesis_record(kinesis_body(0))
    record["kinesis"]["data"] = "A" * 2_000_000

    assert error_of(record) == (
        "kinesis.data is 2000000 characters, more than a Kinesis record can hold"
    )


def test_a_kinesis_change_record_without_table_name_is_refused() -> None:
    body = kinesis_body(0)
    del body["tableName"]

    assert error_of(kinesis_record(body)) == (
        "kinesis.data tableName does not name a DynamoDB table: None"
    )


def test_a_kinesis_record_of_an_unmapped_table_is_refused() -> None:
    body = kinesis_body(0)
    body["tableName"] = "prod-orders"

    parsed = parse_one(kinesis_record(body))

    assert parsed.table_name == "prod-orders"
    assert parsed.error is not None
    assert parsed.error.startswith("table 'prod-orders' is not mapped to a kind")


def test_a_kinesis_record_without_sequence_number_is_identified_by_its_event_id() -> None:
    record = kinesis_record(kinesis_body(0))
    del record["kinesis"]["sequenceNumber"]

    assert parse_one(record).item_identifier == record["eventID"]


def test_a_kinesis_change_record_without_dynamodb_block_is_refused() -> None:
    body = kinesis_body(0)
    del body["dynamodb"]

    assert error_of(kinesis_record(body)) == "kinesis.data has no 'dynamodb' object, got None"


def test_a_kinesis_record_without_kinesis_block_is_refused() -> None:
    record = kinesis_record(kinesis_body(0))
    del record["kinesis"]

    assert error_of(record) == "the record has no 'kinesis' object, got None"


# The event as a whole


def test_a_mixed_batch_parses_good_records_beside_bad_ones_in_order() -> None:
    bad_descriptor = ddb_record(1)
    bad_descriptor["dynamodb"]["NewImage"]["sizeBytes"] = {"N": "lots"}
    bad_base64 = kinesis_record(kinesis_body(0))
    bad_base64["kinesis"]["data"] = "%%%"
    records = [
        ddb_record(0),
        bad_descriptor,
        load_event("kinesis_event.json")["Records"][1],
        "not a record",
        bad_base64,
        ddb_record(3),
    ]

    parsed = parse_lambda_event({"Records": records}, KIND_OF_TABLE)

    assert [p.raw for p in parsed] == records
    assert [p.source for p in parsed] == [
        "dynamodb-streams",
        "dynamodb-streams",
        "kinesis",
        "unknown",
        "kinesis",
        "dynamodb-streams",
    ]
    assert [p.change is not None for p in parsed] == [True, False, True, False, False, True]
    assert [p.error is None for p in parsed] == [True, False, True, False, False, True]


def test_the_sample_events_parse_without_errors() -> None:
    dynamodb = load_event("dynamodb_streams_event.json")
    kinesis = load_event("kinesis_event.json")

    parsed = parse_lambda_event(
        {"Records": dynamodb["Records"] + kinesis["Records"]}, KIND_OF_TABLE
    )

    assert [p.error for p in parsed] == [None] * 6


def test_raw_is_the_record_exactly_as_received() -> None:
    record = ddb_record(0)
    untouched = copy.deepcopy(record)

    parsed = parse_one(record)

    assert parsed.raw is record
    assert record == untouched


@pytest.mark.parametrize("record", [None, 17, "text", ["a", "list"]])
def test_a_record_that_is_not_an_object_is_refused_with_a_stable_identifier(
    record: object,
) -> None:
    first, again = parse_one(record), parse_one(copy.deepcopy(record))

    assert first.error is not None
    assert first.error.startswith("a stream record must be an object, got ")
    assert first.source == "unknown"
    assert first.item_identifier == again.item_identifier
    assert first.item_identifier.startswith("sha256:")


@pytest.mark.parametrize("source", ["aws:sqs", None, 42])
def test_a_record_from_another_event_source_is_refused(source: object) -> None:
    record = ddb_record(0)
    record["eventSource"] = source

    parsed = parse_one(record)

    assert parsed.source == "unknown"
    assert parsed.item_identifier == "c81e728d9d4c2f636f067f89cc14862c"
    assert parsed.error is not None
    assert "is neither aws:dynamodb nor aws:kinesis" in parsed.error


def test_an_event_with_no_records_yields_nothing() -> None:
    assert parse_lambda_event({"Records": []}, KIND_OF_TABLE) == []


@pytest.mark.parametrize(
    "event",
    [{}, {"Records": None}, {"Records": "x"}, {"records": []}, [], "event", None],
    ids=repr,
)
def test_an_event_without_a_records_list_raises_malformed_event(event: Any) -> None:
    with pytest.raises(MalformedEvent, match="expected a Lambda stream event"):
        parse_lambda_event(event, KIND_OF_TABLE)


def test_numbers_too_large_to_print_are_refused_without_raising() -> None:
    huge = 10**5000
    created = ddb_record(0)
    created["dynamodb"]["ApproximateCreationDateTime"] = huge
    number = ddb_record(0)
    number["dynamodb"]["NewImage"]["bio"] = {"N": huge}

    parsed = parse_lambda_event({"Records": [huge, created, number]}, KIND_OF_TABLE)

    assert [p.error for p in parsed] == [
        "a stream record must be an object, got <int too large to show>",
        "dynamodb.ApproximateCreationDateTime is beyond the year 9999",
        "NewImage attribute 'bio': N must hold a string, got <int too large to show>",
    ]


def test_errors_are_single_lines_of_bounded_length() -> None:
    record = ddb_record(0)
    record["dynamodb"]["NewImage"]["bio"] = {"S": 7, "huge": "x\n" * 100_000}
    record["dynamodb"]["Keys"]["userId"] = {"N": "line\nbreak" * 1000}

    error = error_of(record)

    assert "\n" not in error
    assert len(error) < 300


def test_an_event_looks_each_table_up_once_and_the_next_event_looks_again() -> None:
    records = [ddb_record(0), ddb_record(2), ddb_record(0), kinesis_record(kinesis_body(0))]
    looked_up: list[str] = []

    def kind_of_table(table_name: str) -> TableKind | None:
        looked_up.append(table_name)
        return KIND_OF_TABLE(table_name)

    first = parse_lambda_event({"Records": records}, kind_of_table)
    second = parse_lambda_event({"Records": records}, kind_of_table)

    assert [parsed.error for parsed in first] == [None] * 4
    assert first == second
    assert looked_up == ["prod-users", "prod-likes"] * 2


def test_an_unmapped_table_is_refused_in_every_record_that_names_it() -> None:
    record = ddb_record(0)
    record["eventSourceARN"] = record["eventSourceARN"].replace("prod-users", "members")

    parsed = parse_lambda_event({"Records": [record, copy.deepcopy(record)]}, KIND_OF_TABLE)

    assert [p.error for p in parsed] == [
        "table 'members' is not mapped to a kind; name it in STREAMFOLD_TABLES "
        "(for example users=members)"
    ] * 2


@pytest.mark.parametrize(
    ("created", "occurred_at"),
    [
        (0, datetime(1970, 1, 1, tzinfo=UTC)),
        (1704067200.5, datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        (253402300799, datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ],
)
def test_the_creation_time_is_read_in_epoch_seconds(created: object, occurred_at: datetime) -> None:
    record = ddb_record(0)
    record["dynamodb"]["ApproximateCreationDateTime"] = created

    change = parse_one(record).change

    assert change is not None
    assert change.occurred_at == occurred_at
    assert change.position.created == CreationTime(
        int(occurred_at.timestamp()) * 1_000_000 + occurred_at.microsecond, 1_000_000
    )


@pytest.mark.parametrize(
    ("created", "reason"),
    [
        (253402300800, "dynamodb.ApproximateCreationDateTime is beyond the year 9999"),
        (-1, "dynamodb.ApproximateCreationDateTime must be a non-negative number, got -1"),
        (True, "dynamodb.ApproximateCreationDateTime must be a number of epoch seconds, got True"),
        ("1", "dynamodb.ApproximateCreationDateTime must be a number of epoch seconds, got '1'"),
    ],
)
def test_a_creation_time_that_is_no_time_is_refused(created: object, reason: str) -> None:
    record = ddb_record(0)
    record["dynamodb"]["ApproximateCreationDateTime"] = created

    assert error_of(record) == reason
