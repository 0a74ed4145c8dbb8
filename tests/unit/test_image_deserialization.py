"""An image's values and size, read in one pass, are what the checked deserializer and
`item_size` make of it: the same values of the same types, or the same refusal."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infrastructure.adapters.streams.attribute_values import (
    InvalidAttributeValue,
    LambdaJsonDeserializer,
    _attribute_name,
    deserialize_image,
)
from infrastructure.adapters.streams.item_size import MAX_ITEM_BYTES, item_size
from infrastructure.adapters.streams.records import RecordError, shown

CHECKED = LambdaJsonDeserializer()


def checked_image(image: object, label: str) -> dict[str, Any]:
    """Every attribute through the checked deserializer, then the size of the whole item."""
    if not isinstance(image, dict):
        raise RecordError(f"{label} must be an object of attributes, got {shown(image)}")
    item: dict[str, Any] = {}
    for name, value in image.items():
        try:
            item[_attribute_name(name)] = CHECKED.deserialize(value)
        except InvalidAttributeValue as error:
            raise RecordError(f"{label} attribute {shown(name)}: {error}") from None
        except RecursionError:
            raise RecordError(f"{label} attribute {shown(name)} is nested too deeply") from None
    size = item_size(item)
    if size > MAX_ITEM_BYTES:
        raise RecordError(
            f"{label} is {size} bytes, more than the {MAX_ITEM_BYTES} a DynamoDB item can "
            "hold; check what produced this record"
        )
    return item


def outcome(read: Any, image: object) -> tuple[str, object]:
    try:
        return "item", _typed(read(image, "NewImage"))
    except RecordError as error:
        return "refused", str(error)


def _typed(value: object) -> object:
    """``value`` with the type of every part spelled out, so that 1 and True differ."""
    if isinstance(value, dict):
        return {"dict": [(_typed(k), _typed(v)) for k, v in value.items()]}
    if isinstance(value, list):
        return {"list": [_typed(member) for member in value]}
    if isinstance(value, set):
        return {"set": sorted(repr(_typed(member)) for member in value)}
    return type(value).__name__, repr(value)


TEXT = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "a", "\x00", "a\x00", "\ud800", "é", "日本", "😀", "a\udfff"]),
)
NUMBER_TEXTS = [
    "0",
    "-0",
    "1.50",
    "1E+5",
    "00012",
    " 7 ",
    "1e130",
    "1e126",
    "1e-131",
    "NaN",
    "sNaN",
    "Infinity",
    "-inf",
    "1" * 38,
    "1" * 39,
    "١٢",
    "abc",
    "",
    "1\x00",
]
NUMBER_TEXT = st.one_of(
    st.sampled_from(NUMBER_TEXTS),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.integers().map(str),
)
BASE64 = st.one_of(st.binary(max_size=8).map(lambda b: base64.b64encode(b).decode()), TEXT)
JUNK = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), TEXT, st.just([])
)
SCALAR_VALUES = st.one_of(
    st.builds(lambda t: {"S": t}, TEXT),
    st.builds(lambda t: {"N": t}, NUMBER_TEXT),
    st.builds(lambda t: {"B": t}, BASE64),
    st.builds(lambda t: {"BOOL": t}, st.one_of(st.booleans(), JUNK)),
    st.builds(lambda t: {"NULL": t}, st.one_of(st.just(True), JUNK)),
    st.builds(lambda t: {"SS": t}, st.one_of(st.lists(TEXT, max_size=4), JUNK)),
    st.builds(lambda t: {"NS": t}, st.one_of(st.lists(NUMBER_TEXT, max_size=4), JUNK)),
    st.builds(lambda t: {"BS": t}, st.one_of(st.lists(BASE64, max_size=3), JUNK)),
    st.builds(lambda d, t: {d: t}, st.sampled_from(["Q", "s", "", "M", "L"]), JUNK),
    st.dictionaries(st.sampled_from(["S", "N", "BOOL"]), TEXT, min_size=2, max_size=3),
    JUNK,
)
VALUES = st.recursive(
    SCALAR_VALUES,
    lambda children: st.one_of(
        st.builds(lambda t: {"L": t}, st.lists(children, max_size=4)),
        st.builds(lambda t: {"M": t}, st.dictionaries(TEXT, children, max_size=4)),
    ),
    max_leaves=20,
)
IMAGES = st.one_of(st.dictionaries(TEXT, VALUES, max_size=6), JUNK)


ODD_TEXTS = ["", "a", "\x00", "a\x00", "\ud800", "a\udfff", "é", "日本", "😀", "é\x00"]
LIST_HOLDINGS: list[Any] = [[], [{"S": "a"}], "a", None, {}]
MAP_HOLDINGS: list[Any] = [{}, {"a": {"S": "b"}}, [], "a", None]
ODD_VALUES: list[Any] = [
    *({"S": text} for text in ODD_TEXTS),
    *({"N": text} for text in NUMBER_TEXTS),
    *({"B": text} for text in ["aGk=", "", "aGk", "***", "é", "aGk=\x00"]),
    *({"BOOL": value} for value in [True, False, 1, 0, "true", None]),
    *({"NULL": value} for value in [True, False, 1, None]),
    *({"SS": members} for members in [[], ["a", "a"], ["a", "é", "a"], ["a", 1], "ab", None]),
    *({"SS": [text]} for text in ODD_TEXTS),
    *({"NS": members} for members in [[], ["1", "1.0"], ["1", "x"], [1], "1"]),
    *({"BS": members} for members in [[], ["aGk=", "aGk="], ["***"]]),
    *({"L": members} for members in LIST_HOLDINGS),
    *({"M": members} for members in MAP_HOLDINGS),
    *({"M": {name: {"S": "v"}}} for name in ODD_TEXTS),
    {"S": "a", "N": "1"},
    {},
    {"Q": "?"},
    {"s": "a"},
    {1: "a"},
    "plain",
    None,
    ["S", "a"],
]


@pytest.mark.parametrize("value", ODD_VALUES, ids=repr)
@pytest.mark.parametrize("where", ["attribute", "in a list", "in a map", "deep", "in a set"])
def test_an_odd_value_reads_as_the_checked_deserializer_reads_it(value: Any, where: str) -> None:
    nested = {
        "attribute": value,
        "in a list": {"L": [{"N": "1"}, value]},
        "in a map": {"M": {"first": {"BOOL": True}, "odd": value}},
        "deep": {"M": {"a": {"L": [{"L": [{"M": {"b": value}}]}]}}},
        "in a set": {"SS": ["x", value.get("S") if isinstance(value, dict) else value]},
    }[where]
    image = {"id": {"S": "i-1"}, "odd": nested, "last": {"S": "z"}}

    assert outcome(deserialize_image, image) == outcome(checked_image, image)


@pytest.mark.parametrize("name", [*ODD_TEXTS, 1, None])
def test_an_odd_attribute_name_reads_as_the_checked_deserializer_reads_it(name: Any) -> None:
    image = {"id": {"S": "i-1"}, name: {"S": "v"}}

    assert outcome(deserialize_image, image) == outcome(checked_image, image)


@given(IMAGES)
@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
def test_an_image_reads_as_the_checked_deserializer_reads_it(image: object) -> None:
    expected_kind, expected = outcome(checked_image, image)
    kind, actual = outcome(deserialize_image, image)

    assert kind == expected_kind
    if kind == "item":
        assert actual == expected


SIZED_VALUES = [
    {"S": "x"},
    {"S": "é"},
    {"N": "123456789"},
    {"N": "-000.00012300"},
    {"N": "1E+30"},
    {"BOOL": True},
    {"SS": ["ab", "ab", "é"]},
    {"L": [{"S": "ab"}, {"NULL": True}]},
    {"M": {"k": {"S": "日本"}, "n": {"N": "1.5"}}},
]


@pytest.mark.parametrize("over", [-1, 0, 1, 2])
@pytest.mark.parametrize("value", SIZED_VALUES, ids=lambda value: next(iter(value)))
def test_an_image_is_refused_exactly_when_its_size_is_over_the_limit(
    value: dict[str, Any], over: int
) -> None:
    value_size = item_size({"": CHECKED.deserialize(value)})
    image = {f"a{n:05}": value for n in range((MAX_ITEM_BYTES - 1000) // (6 + value_size))}
    padding = MAX_ITEM_BYTES + over - item_size(checked_image(image, "NewImage")) - len("pad")
    image["pad"] = {"S": "p" * padding}
    size = MAX_ITEM_BYTES + over

    kind, read = outcome(deserialize_image, image)

    assert (kind, read) == outcome(checked_image, image)
    assert kind == ("refused" if over > 0 else "item")
    if over > 0:
        assert read == (
            f"NewImage is {size} bytes, more than the {MAX_ITEM_BYTES} a DynamoDB item can "
            "hold; check what produced this record"
        )


@pytest.mark.parametrize("depth", [1, 31, 32, 33, 40, 300, 400, 900])
@pytest.mark.parametrize("container", ["L", "M"])
def test_nested_values_read_alike_at_any_depth(depth: int, container: str) -> None:
    value: dict[str, Any] = {"S": "bottom"}
    for _ in range(depth):
        value = {"L": [value, {"N": "2"}]} if container == "L" else {"M": {"k": value}}
    image = {"deep": value, "flat": {"S": "x"}}

    assert outcome(deserialize_image, image) == outcome(checked_image, image)


def test_a_bad_value_nested_deeper_than_the_one_pass_reads_is_refused_with_its_reason() -> None:
    value: dict[str, Any] = {"N": "abc"}
    for _ in range(40):
        value = {"L": [value]}

    with pytest.raises(RecordError) as refused:
        deserialize_image({"deep": value}, "NewImage")

    assert str(refused.value) == "NewImage attribute 'deep': N 'abc' is not a number"
