"""Filters: exact conditions on allowlisted fields, combined with AND, OR and NOT.

Filters never change relevance; they only decide which documents match. In JSON each filter
names its ``type``; in Python the operators ``&``, ``|`` and ``~`` combine them.

>>> active = Term(field="status", value="active")
>>> liked = Range(field="like_count", gte=10)
>>> (active & ~liked).model_dump(exclude_defaults=True)["type"]
'and'
>>> Filter.validate_python({"type": "exists", "field": "description"})
Exists(type='exists', field='description')
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

Scalar = str | int | bool
Bound = int | float | str  # numbers, or ISO-8601 dates for date fields

MAX_TERMS = 1_000
MAX_CLAUSES = 100


class _Filter(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def __and__(self, other: FilterType) -> And:
        return And(filters=[self, other])  # type: ignore[list-item]

    def __or__(self, other: FilterType) -> Or:
        return Or(filters=[self, other])  # type: ignore[list-item]

    def __invert__(self) -> Not:
        return Not(filter=self)  # type: ignore[arg-type]


class Term(_Filter):
    """The field holds exactly this value (one of its values, for a list)."""

    type: Literal["term"] = "term"
    field: str
    value: Scalar


class Terms(_Filter):
    """The field holds any of these values."""

    type: Literal["terms"] = "terms"
    field: str
    values: list[Scalar] = Field(min_length=1, max_length=MAX_TERMS)


class Range(_Filter):
    """The field's value lies within the bounds (numbers, or dates for date fields)."""

    type: Literal["range"] = "range"
    field: str
    gt: Bound | None = None
    gte: Bound | None = None
    lt: Bound | None = None
    lte: Bound | None = None


class Exists(_Filter):
    """The field has a value (not null, not an empty list)."""

    type: Literal["exists"] = "exists"
    field: str


class And(_Filter):
    """Every filter matches."""

    type: Literal["and"] = "and"
    filters: list[FilterType] = Field(min_length=1, max_length=MAX_CLAUSES)


class Or(_Filter):
    """At least one filter matches."""

    type: Literal["or"] = "or"
    filters: list[FilterType] = Field(min_length=1, max_length=MAX_CLAUSES)


class Not(_Filter):
    """The filter does not match."""

    type: Literal["not"] = "not"
    filter: FilterType


FilterType = Annotated[Term | Terms | Range | Exists | And | Or | Not, Field(discriminator="type")]
Leaf = Term | Terms | Range | Exists

for _model in (And, Or, Not):
    _model.model_rebuild()

Filter: TypeAdapter[FilterType] = TypeAdapter(FilterType)


def every(filters: list[FilterType]) -> FilterType | None:
    """The conjunction of the filters (None for none, the filter itself for one)."""
    if not filters:
        return None
    return filters[0] if len(filters) == 1 else And(filters=filters)
