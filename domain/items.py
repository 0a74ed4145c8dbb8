"""The source items of the reference domain, validated.

A stream record's NewImage is checked here against the reference domain's rules; a
violation raises :class:`~domain.errors.InvalidItem` with a reason a person can act on.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictStr,
    ValidationError,
)

from domain.errors import InvalidItem
from domain.kinds import ImportedKind, SourceKind, TableKind

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


class _Item(BaseModel):
    # Each model's validator is built when it first validates, not at import: a Lambda's
    # cold start builds only the models of the tables its stream carries.
    model_config = ConfigDict(
        frozen=True, extra="ignore", populate_by_name=True, strict=False, defer_build=True
    )


class UserItem(_Item):
    user_id: Id = Field(alias="userId")
    email: StrictStr
    name: StrictStr
    plan: Literal["free", "pro", "team"]
    country: Annotated[StrictStr, Field(pattern=r"^[A-Z]{2}$")]
    created_at: IsoTimestamp = Field(alias="createdAt")
    marketing_opt_in: StrictBool = Field(alias="marketingOptIn")
    tags: StringSet = None
    bio: StrictStr | None = None


class ImageItem(_Item):
    image_id: Id = Field(alias="imageId")
    owner_id: Id = Field(alias="userId")
    title: StrictStr
    description: StrictStr | None = None
    tags: StringSet = None
    image_url: StrictStr = Field(alias="imageUrl")
    created_at: IsoTimestamp = Field(alias="createdAt")
    status: Literal["active", "hidden"]
    size_bytes: WholeNumber = Field(alias="sizeBytes")


class LikeItem(_Item):
    image_id: Id = Field(alias="imageId")
    user_id: Id = Field(alias="userId")
    created_at: IsoTimestamp = Field(alias="createdAt")


class PaymentItem(_Item):
    user_id: Id = Field(alias="userId")
    payment_id: Id = Field(alias="paymentId")
    amount_cents: WholeNumber = Field(alias="amountCents")
    paid_at: IsoTimestamp = Field(alias="paidAt")
    status: Literal["paid", "refunded"]


class WebTrafficItem(_Item):
    """One row of a web-analytics export: a user's traffic on one day from one source."""

    user_id: Id = Field(alias="userId")
    visited_on: IsoDate = Field(alias="date")
    source: Id
    medium: StrictStr | None = None
    sessions: Annotated[WholeNumber, Field(ge=0)]
    pageviews: Annotated[WholeNumber, Field(ge=0)]


SourceItem = UserItem | ImageItem | LikeItem | PaymentItem | WebTrafficItem

_ITEM_MODELS: dict[SourceKind, type[_Item]] = {
    TableKind.USERS: UserItem,
    TableKind.IMAGES: ImageItem,
    TableKind.LIKES: LikeItem,
    TableKind.PAYMENTS: PaymentItem,
    ImportedKind.ANALYTICS: WebTrafficItem,
}


def parse_item(kind: SourceKind, attributes: Mapping[str, Any]) -> Any:
    """Validate a deserialized item of ``kind``; raise InvalidItem naming every problem."""
    try:
        return _ITEM_MODELS[kind].model_validate(attributes)
    except ValidationError as error:
        raise InvalidItem(f"{kind.value} item: {_describe(error)}") from None


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
