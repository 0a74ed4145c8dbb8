"""Whatever a Lambda event's records hold, parsing answers once per record and never raises."""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domain.kinds import TableKind
from infrastructure.adapters.streams import StreamRecord, parse_lambda_event

EVENTS = Path(__file__).parent.parent / "fixtures" / "events"
SAMPLE_RECORDS: list[dict[str, Any]] = [
    record
    for name in ("dynamodb_streams_event.json", "kinesis_event.json")
    for record in json.loads((EVENTS / name).read_text())["Records"]
]
TABLES = {
    "prod-users": TableKind.USERS,
    "prod-images": TableKind.IMAGES,
    "prod-likes": TableKind.LIKES,
    "prod-payments": TableKind.PAYMENTS,
}

# Words the parser looks for, so that garbage reaches past the first check now and then.
VOCABULARY = st.sampled_from(
    [
        "Records",
        "eventSource",
        "aws:dynamodb",
        "aws:kinesis",
        "eventName",
        "INSERT",
        "MODIFY",
        "REMOVE",
        "eventID",
        "eventSourceARN",
        "dynamodb",
        "kinesis",
        "data",
        "sequenceNumber",
        "SequenceNumber",
        "Keys",
        "NewImage",
        "StreamViewType",
        "KEYS_ONLY",
        "userId",
        "imageId",
        "S",
        "N",
        "M",
        "L",
        "SS",
        "B",
    ]
)
TEXT = st.one_of(st.text(), VOCABULARY)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    TEXT,
)
JSON_LIKE = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(TEXT, children, max_size=5),
    ),
    max_leaves=30,
)


def assert_well_formed(records: list[object], parsed: list[StreamRecord]) -> None:
    assert len(parsed) == len(records)
    for record, result in zip(records, parsed, strict=True):
        assert result.raw is record
        assert isinstance(result.item_identifier, str)
        assert result.item_identifier
        assert result.source in ("dynamodb-streams", "kinesis", "unknown")
        assert (result.change is None) != (result.error is None)
        if result.error is not None:
            assert "\n" not in result.error


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(JSON_LIKE, max_size=6))
def test_garbage_records_never_raise_and_each_gets_one_answer(records: list[object]) -> None:
    parsed = parse_lambda_event({"Records": records}, TABLES.get)

    assert_well_formed(records, parsed)


def _replace_somewhere(value: Any, path: list[int], replacement: Any) -> Any:
    """``value`` with one nested part, chosen by ``path``, replaced."""
    if not path or not isinstance(value, dict | list) or not value:
        return replacement
    step, rest = path[0], path[1:]
    if isinstance(value, list):
        index = step % len(value)
        return [
            _replace_somewhere(v, rest, replacement) if i == index else v
            for i, v in enumerate(value)
        ]
    keys = list(value)
    chosen = keys[step % len(keys)]
    return {
        k: _replace_somewhere(v, rest, replacement) if k == chosen else v for k, v in value.items()
    }


def _with_decoded_data(record: dict[str, Any]) -> dict[str, Any]:
    """A Kinesis record with its data as an object, so that mutations reach inside it."""
    record = copy.deepcopy(record)
    if "kinesis" not in record:
        return record
    decoded = json.loads(base64.b64decode(record["kinesis"]["data"]))
    return {**record, "kinesis": {**record["kinesis"], "data": decoded}}


def _with_encoded_data(record: Any) -> Any:
    kinesis = record.get("kinesis") if isinstance(record, dict) else None
    if not isinstance(kinesis, dict) or not isinstance(kinesis.get("data"), dict | list):
        return record
    data = base64.b64encode(json.dumps(kinesis["data"]).encode("utf-8", "surrogatepass"))
    return {**record, "kinesis": {**kinesis, "data": data.decode()}}


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(range(len(SAMPLE_RECORDS))),
    st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=8),
    JSON_LIKE,
)
def test_a_valid_record_damaged_anywhere_never_raises(
    index: int, path: list[int], replacement: object
) -> None:
    sample = _with_decoded_data(SAMPLE_RECORDS[index])
    damaged = _with_encoded_data(_replace_somewhere(sample, path, replacement))

    parsed = parse_lambda_event({"Records": [damaged]}, TABLES.get)

    assert_well_formed([damaged], parsed)


# Any text DynamoDB accepts in a key, but NUL, which the event store refuses on purpose.
KEY_TEXT = st.text(
    alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"),
    min_size=1,
    max_size=200,
)


@given(st.sampled_from(range(len(SAMPLE_RECORDS))), KEY_TEXT, KEY_TEXT)
def test_any_string_key_is_read_back_exactly(index: int, first: str, second: str) -> None:
    sample = _with_decoded_data(SAMPLE_RECORDS[index])
    body = sample["kinesis"]["data"] if "kinesis" in sample else sample
    names = list(body["dynamodb"]["Keys"])
    chosen = dict(zip(names, (first, second)[: len(names)], strict=True))
    body["dynamodb"]["Keys"] = {name: {"S": text} for name, text in chosen.items()}

    (parsed,) = parse_lambda_event({"Records": [_with_encoded_data(sample)]}, TABLES.get)

    assert parsed.change is not None, parsed.error
    assert parsed.change.key == tuple(chosen[name] for name in parsed.change.kind.key_attributes)
