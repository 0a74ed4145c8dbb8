"""The source tables of the reference domain: each item's attributes, declared once.

A stream record's NewImage is checked here against the reference domain's rules; a
violation raises :class:`~domain.errors.InvalidItem` with a reason a person can act on.
The declarations here are where a table's attributes are written out: an attribute added
here reaches the aggregate's events, the projection's state and the exported events.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from typing import Annotated, Any, Literal, get_args, get_origin, get_type_hints

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    TypeAdapter,
    ValidationError,
    with_config,
)
from pydantic.alias_generators import to_camel
from pydantic.fields import FieldInfo

from domain.errors import InvalidItem
from domain.kinds import ImportedKind, SourceKind, TableKind
from domain.values import quick_init

_LARGEST_WHOLE_NUMBER = 2**63 - 1


def _whole_number(value: object) -> int:
    # DynamoDB numbers arrive as Decimal; a string or a bool is a type error, not a number.
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise ValueError(f"must be a number (N), got {type(value).__name__}")
    if isinstance(value, Decimal) and value != value.to_integral_value():
        raise ValueError(f"must be a whole number, got {value}")
    # DynamoDB allows 38 digits; the event store and the search backends keep 64 bits.
    if not -_LARGEST_WHOLE_NUMBER <= value <= _LARGEST_WHOLE_NUMBER:
        raise ValueError(f"must be a whole number of at most 64 bits, got {value}")
    return int(value)


def _string_set(value: object) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, set | frozenset):
        raise ValueError(f"must be a string set (SS), got {type(value).__name__}")
    if not all(isinstance(tag, str) for tag in value):
        raise ValueError("must be a string set (SS), found a value that is not a string")
    return sorted(value)


def _iso_timestamp(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO-8601 string, got {type(value).__name__}")
    try:
        datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"must be an ISO-8601 timestamp, got {value!r}") from None
    return value


def _iso_date(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be an ISO-8601 date, got {type(value).__name__}")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"must be an ISO-8601 date (YYYY-MM-DD), got {value!r}") from None
    if len(value) != len("2024-01-31"):
        raise ValueError(f"must be an ISO-8601 date (YYYY-MM-DD), got {value!r}")
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]
StringSet = Annotated[list[str] | None, BeforeValidator(_string_set)]
IsoTimestamp = Annotated[str, BeforeValidator(_iso_timestamp)]
IsoDate = Annotated[str, BeforeValidator(_iso_date)]
Id = Annotated[StrictStr, Field(min_length=1)]


OPTIONAL = Field(default=None)  # an attribute the item may lack: None then


# A source table's item is a frozen dataclass validated by pydantic. Its fields are the
# table's attributes, declared once: the
# aggregate's events, the projection's state rows and the exported event columns take
# their fields from it. Each item's validator is built when it first validates, not at
# import: a Lambda's cold start builds only the validators of the tables its stream carries.
# An attribute's name in the table is its field's name in camel case unless ``alias`` says.
SOURCE_TABLE = ConfigDict(
    alias_generator=to_camel,
    extra="ignore",
    populate_by_name=True,
    strict=False,
    defer_build=True,
)


@with_config(SOURCE_TABLE)
@quick_init
@dataclass(frozen=True, slots=True)
class UserItem:
    user_id: Id
    email: StrictStr
    name: StrictStr
    plan: Literal["free", "pro", "team"]
    country: Annotated[StrictStr, Field(pattern=r"^[A-Z]{2}$")]
    created_at: IsoTimestamp
    marketing_opt_in: StrictBool
    tags: Annotated[StringSet, OPTIONAL]
    bio: Annotated[StrictStr | None, OPTIONAL]


@with_config(SOURCE_TABLE)
@quick_init
@dataclass(frozen=True, slots=True)
class ImageItem:
    image_id: Id
    owner_id: Annotated[Id, Field(alias="userId")]
    title: StrictStr
    description: Annotated[StrictStr | None, OPTIONAL]
    tags: Annotated[StringSet, OPTIONAL]
    image_url: StrictStr
    created_at: IsoTimestamp
    status: Literal["active", "hidden"]
    size_bytes: WholeNumber


@with_config(SOURCE_TABLE)
@quick_init
@dataclass(frozen=True, slots=True)
class LikeItem:
    image_id: Id
    user_id: Id
    created_at: IsoTimestamp


@with_config(SOURCE_TABLE)
@quick_init
@dataclass(frozen=True, slots=True)
class PaymentItem:
    user_id: Id
    payment_id: Id
    amount_cents: WholeNumber
    paid_at: IsoTimestamp
    status: Literal["paid", "refunded"]


@with_config(SOURCE_TABLE)
@quick_init
@dataclass(frozen=True, slots=True)
class WebTrafficItem:
    """One row of a web-analytics export: a user's traffic on one day from one source."""

    user_id: Id
    visited_on: Annotated[IsoDate, Field(alias="date")]
    source: Id
    medium: Annotated[StrictStr | None, OPTIONAL]
    sessions: Annotated[WholeNumber, Field(ge=0)]
    pageviews: Annotated[WholeNumber, Field(ge=0)]


SourceItem = UserItem | ImageItem | LikeItem | PaymentItem | WebTrafficItem

ITEM_CLASSES: dict[SourceKind, type] = {
    TableKind.USERS: UserItem,
    TableKind.IMAGES: ImageItem,
    TableKind.LIKES: LikeItem,
    TableKind.PAYMENTS: PaymentItem,
    ImportedKind.ANALYTICS: WebTrafficItem,
}


@cache
def _validator(item_class: type[Any]) -> TypeAdapter[Any]:
    return TypeAdapter(item_class)


@cache
def _validate(kind: SourceKind) -> Callable[[Any], Any]:
    """The item's compiled validator itself: `TypeAdapter.validate_python` only passes its
    defaults on to it, at a cost of its own on every item."""
    adapter = _validator(ITEM_CLASSES[kind])
    adapter.rebuild()  # built now, not on its first validation (``defer_build``)
    validate: Callable[[Any], Any] = adapter.validator.validate_python
    return validate


def parse_item(kind: SourceKind, attributes: Mapping[str, Any]) -> Any:
    """Validate a deserialized item of ``kind``; raise InvalidItem naming every problem."""
    try:
        return _validate(kind)(attributes)
    except ValidationError as error:
        raise InvalidItem(f"{kind.value} item: {_describe(error)}") from None


def item_parser(kind: SourceKind) -> Callable[[Mapping[str, Any]], Any]:
    """`parse_item` of ``kind``, with the kind's validator looked up (and built) once."""
    validate = _validate(kind)

    def parse(attributes: Mapping[str, Any]) -> Any:
        try:
            return validate(attributes)
        except ValidationError as error:
            raise InvalidItem(f"{kind.value} item: {_describe(error)}") from None

    return parse


def attribute_values(item: object) -> dict[str, Any]:
    """An item's attributes by field name, as its events take them."""
    item_class: type = type(item)
    names = field_names(item_class)
    return {name: getattr(item, name) for name in names}


@cache
def field_names(item_class: type) -> tuple[str, ...]:
    """The names of an item's fields, in their declared order."""
    return tuple(f.name for f in fields(item_class))


@cache
def attribute_order(item_class: type) -> tuple[str, ...]:
    """The names of the item's attributes, in the order `attribute_types` gives them."""
    return tuple(_attribute_types(item_class))


def attribute_types(item_class: type) -> dict[str, Any]:
    """Each attribute's plain Python type (an enumeration is ``str``), for event fields."""
    return dict(_attribute_types(item_class))  # a class's own copy: it becomes annotations


@cache
def _attribute_types(item_class: type) -> dict[str, Any]:
    return {name: _plain(hint) for name, hint in get_type_hints(item_class).items()}


def _plain(hint: Any) -> Any:
    if get_origin(hint) is Literal:
        return type(get_args(hint)[0])
    return hint


def optional_attributes(item_class: type) -> frozenset[str]:
    """The attributes an item may lack (None then)."""
    hints = _attribute_types(item_class)
    return frozenset(name for name, hint in hints.items() if type(None) in get_args(hint))


@cache
def attribute_names(item_class: type) -> dict[str, str]:
    """The table's attribute name -> the item's field name, e.g. ``{"imageId": "image_id"}``."""
    hints = get_type_hints(item_class, include_extras=True)
    return {_alias(hints[f.name]) or to_camel(f.name): f.name for f in fields(item_class)}


def _alias(hint: Any) -> str | None:
    for meta in getattr(hint, "__metadata__", ()):
        if isinstance(meta, FieldInfo) and meta.alias is not None:
            return meta.alias
    return None


def _describe(error: ValidationError) -> str:
    problems = []
    for detail in error.errors(include_url=False):
        field = ".".join(str(part) for part in detail["loc"]) or "item"
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "missing":
            problems.append(f"{field} is missing")
        else:
            problems.append(f"{field} {message[0].lower()}{message[1:]}")
    return "; ".join(problems)
