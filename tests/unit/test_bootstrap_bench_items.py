"""The bootstrap benchmark loads its tables with the items as DynamoDB stores them."""

from __future__ import annotations

from boto3.dynamodb.types import TypeDeserializer

from devtools.benchmarks.bootstrap import dynamodb_item
from devtools.demo import CrmWorkload


def test_items_keep_their_string_sets_and_numbers_and_leave_out_absent_values() -> None:
    item = dynamodb_item({"imageId": "i-1", "tags": {"sea", "dawn"}, "width": 1920, "bio": None})
    assert item == {
        "imageId": {"S": "i-1"},
        "tags": {"SS": ["dawn", "sea"]},
        "width": {"N": "1920"},
    }


def test_every_item_of_the_workload_reads_back_as_it_was() -> None:
    deserializer = TypeDeserializer()
    for rows in CrmWorkload(seed=3, users=40).final_items().values():
        for row in rows:
            read = {k: deserializer.deserialize(v) for k, v in dynamodb_item(row).items()}
            assert read == {k: v for k, v in row.items() if v is not None and v != set()}
