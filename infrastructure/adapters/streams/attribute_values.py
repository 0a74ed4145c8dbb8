"""DynamoDB JSON, as Lambda delivers it, to Python values.

boto3's ``TypeDeserializer`` expects what botocore hands it after parsing a response:
binary already decoded and every value already of the promised type. A stream event is
plain JSON instead, so binary arrives as base64 text and nothing has been checked; a
descriptor such as ``{"N": "abc"}`` would silently become ``Decimal('NaN')`` and
``{"SS": "abc"}`` the set ``{'a', 'b', 'c'}``. The subclass below decodes base64 and
refuses every value that does not match its descriptor.
"""

from __future__ import annotations

import binascii
from base64 import b64decode
from collections.abc import Callable
from decimal import Decimal, DecimalException
from typing import Any

from boto3.dynamodb.types import DYNAMODB_CONTEXT, Binary, TypeDeserializer

from infrastructure.adapters.streams.item_size import MAX_ITEM_BYTES, item_size
from infrastructure.adapters.streams.records import RecordError, shown

_DESCRIPTORS = frozenset(("S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"))
# DynamoDB accepts U+0000 in strings; PostgreSQL text cannot hold it, so such a record is
# refused here, the same on every backend, instead of failing its whole batch later.
_NUL = "the event store cannot keep it; remove it from the item"


class InvalidAttributeValue(ValueError):
    """A value that does not match its type descriptor."""


def _is_unicode(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _text(value: object, descriptor: str) -> str:
    if type(value) is not str:
        raise InvalidAttributeValue(f"{descriptor} must hold a string, got {shown(value)}")
    if not _is_unicode(value):
        raise InvalidAttributeValue(
            f"{descriptor} holds text that is not valid Unicode: {shown(value)}"
        )
    if "\x00" in value:
        raise InvalidAttributeValue(f"{descriptor} holds a NUL character: {shown(value)}; {_NUL}")
    return value


def _attribute_name(name: object) -> str:
    if type(name) is not str or not _is_unicode(name):
        raise InvalidAttributeValue(f"attribute name {shown(name)} is not valid Unicode text")
    if "\x00" in name:
        raise InvalidAttributeValue(f"attribute name {shown(name)} holds a NUL character; {_NUL}")
    return name


def _array(value: object, descriptor: str) -> list[Any]:
    if type(value) is not list:
        raise InvalidAttributeValue(f"{descriptor} must hold a list, got {shown(value)}")
    return value


class LambdaJsonDeserializer(TypeDeserializer):
    """boto3's deserializer for the JSON of stream events: checked, base64-aware.

    >>> LambdaJsonDeserializer().deserialize({"M": {"n": {"N": "1.5"}, "b": {"B": "aGk="}}})
    {'n': Decimal('1.5'), 'b': Binary(b'hi')}
    """

    def __init__(self) -> None:
        # boto3 looks each hook up by name for every value; a table built once is faster.
        self._hooks: dict[str, Callable[[Any], Any]] = {
            descriptor: getattr(self, f"_deserialize_{descriptor.lower()}")
            for descriptor in _DESCRIPTORS
        }

    def deserialize(self, value: Any) -> Any:
        if type(value) is dict and len(value) == 1:
            for descriptor, inner in value.items():
                hook = self._hooks.get(descriptor)
                if hook is not None:
                    return hook(inner)
                raise InvalidAttributeValue(f"unknown type descriptor {shown(descriptor)}")
        raise InvalidAttributeValue(
            f"expected one type descriptor such as {{'S': ...}}, got {shown(value)}"
        )

    def _deserialize_null(self, value: Any) -> None:
        if value is not True:
            raise InvalidAttributeValue(f"NULL must hold true, got {shown(value)}")

    def _deserialize_bool(self, value: Any) -> bool:
        if type(value) is not bool:
            raise InvalidAttributeValue(f"BOOL must hold true or false, got {shown(value)}")
        return value

    def _deserialize_n(self, value: Any) -> Decimal:
        try:
            number = DYNAMODB_CONTEXT.create_decimal(_text(value, "N"))
        except DecimalException:
            raise InvalidAttributeValue(
                f"N {shown(value)} is outside DynamoDB's number range or 38-digit precision"
            ) from None
        if not number.is_finite():
            raise InvalidAttributeValue(f"N {shown(value)} is not a number")
        return number

    def _deserialize_s(self, value: Any) -> str:
        return _text(value, "S")

    def _deserialize_b(self, value: Any) -> Binary:
        try:
            return Binary(b64decode(_text(value, "B"), validate=True))
        except (binascii.Error, ValueError):
            raise InvalidAttributeValue(f"B {shown(value)} is not base64") from None

    def _deserialize_ns(self, value: Any) -> set[Decimal]:
        return set(map(self._deserialize_n, _array(value, "NS")))

    def _deserialize_ss(self, value: Any) -> set[str]:
        return set(map(self._deserialize_s, _array(value, "SS")))

    def _deserialize_bs(self, value: Any) -> set[Binary]:
        return set(map(self._deserialize_b, _array(value, "BS")))

    def _deserialize_l(self, value: Any) -> list[Any]:
        return [self.deserialize(v) for v in _array(value, "L")]

    def _deserialize_m(self, value: Any) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise InvalidAttributeValue(f"M must hold an object, got {shown(value)}")
        return {_attribute_name(k): self.deserialize(v) for k, v in value.items()}


_DESERIALIZER = LambdaJsonDeserializer()
# Maps and lists nested deeper than this take the checked path.
_MAX_PLAIN_DEPTH = 32


def deserialize_image(image: object, label: str) -> dict[str, Any]:
    """A NewImage (or other image) as a dict of Python values; RecordError if malformed.

    >>> deserialize_image({"userId": {"S": "u-1"}, "age": {"N": "42"}}, "NewImage")
    {'userId': 'u-1', 'age': Decimal('42')}
    """
    if not isinstance(image, dict):
        raise RecordError(f"{label} must be an object of attributes, got {shown(image)}")
    item: dict[str, Any] = {}
    size = 0
    checked: dict[str, Any] = {}  # the values the checked path read, sized at the end
    for name, value in image.items():
        sized = None
        if type(name) is str and name.isascii() and "\x00" not in name:
            # Most attributes are ASCII strings: taken here without a call.
            text = value.get("S") if type(value) is dict and len(value) == 1 else None
            if type(text) is str and text.isascii() and "\x00" not in text:
                item[name] = text
                size += len(name) + len(text)
                continue
            try:
                sized = _sized(value, 0)
            except RecursionError:
                sized = None
        if sized is not None:
            item[name] = sized[0]
            size += len(name) + sized[1]
            continue
        # Anything unusual takes the checked path, which refuses it with its reason.
        try:
            item[_attribute_name(name)] = checked[name] = _DESERIALIZER.deserialize(value)
        except InvalidAttributeValue as error:
            raise RecordError(f"{label} attribute {shown(name)}: {error}") from None
        except RecursionError:
            raise RecordError(f"{label} attribute {shown(name)} is nested too deeply") from None
    if checked:
        size += item_size(checked)
    if size > MAX_ITEM_BYTES:
        raise RecordError(
            f"{label} is {size} bytes, more than the {MAX_ITEM_BYTES} a DynamoDB item can "
            "hold; check what produced this record"
        )
    return item


def _sized(value: object, depth: int) -> tuple[Any, int] | None:
    """``value`` deserialized, with the bytes `item_size` counts for it, in one pass; None
    for anything but a plainly valid S, N, BOOL, NULL, SS, L or M nested at most
    ``_MAX_PLAIN_DEPTH`` levels below ``depth`` (the checked deserializer then decides,
    and refuses it with its reason, including the values it finds nested too deeply)."""
    if type(value) is not dict or len(value) != 1:
        return None
    [(descriptor, inner)] = value.items()
    if type(descriptor) is not str:
        return None
    if type(inner) is str:
        if "\x00" in inner:
            return None
        if descriptor == "S":
            if inner.isascii():
                return inner, len(inner)
            utf8 = _utf8_size(inner)
            return None if utf8 is None else (inner, utf8)
        if descriptor == "N" and inner.isascii():
            try:
                number = _create_decimal(inner)
            except DecimalException:
                return None
            if not number.is_finite():
                return None
            return number, len(number.as_tuple().digits) // 2 + 1
        return None
    if descriptor == "BOOL":
        return (inner, 1) if type(inner) is bool else None
    if descriptor == "NULL":
        return (None, 1) if inner is True else None
    if type(inner) is list:
        if descriptor == "SS":
            for member in inner:
                if type(member) is not str:
                    return None
            strings = set(inner)
            joined = "".join(strings)
            if "\x00" in joined:
                return None
            if joined.isascii():
                return strings, len(joined)
            utf8 = _utf8_size(joined)
            return None if utf8 is None else (strings, utf8)
        if descriptor == "L" and depth < _MAX_PLAIN_DEPTH:
            values = []
            size = 3
            for member in inner:
                sized = _sized(member, depth + 1)
                if sized is None:
                    return None
                values.append(sized[0])
                size += 1 + sized[1]
            return values, size
        return None
    if descriptor == "M" and type(inner) is dict and depth < _MAX_PLAIN_DEPTH:
        attributes = {}
        size = 3
        for name, member in inner.items():
            if type(name) is not str or not name.isascii() or "\x00" in name:
                return None
            sized = _sized(member, depth + 1)
            if sized is None:
                return None
            attributes[name] = sized[0]
            size += 1 + len(name) + sized[1]
        return attributes, size
    return None


def _utf8_size(text: str) -> int | None:
    try:
        return len(text.encode("utf-8"))
    except UnicodeEncodeError:
        return None


_create_decimal = DYNAMODB_CONTEXT.create_decimal
