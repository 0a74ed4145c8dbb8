"""How a document field is declared: its type on the model, how it is indexed beside it.

A document model's field carries one `Indexed` in its ``Annotated`` metadata, and that is
the only place the field is written out: both search backends' mappings, the query
allowlist, the export's columns, the projection versions and the fields `verify --source
dynamodb` compares are derived from the models (see docs/fields.md).

>>> class Pet(BaseModel):
...     name: Annotated[str, Indexed(Shape.WORDS, boost=2.0, sortable=True)]
>>> [(f.path, f.indexed.boost) for f in declared_fields(Pet)]
[('name', 2.0)]
"""

from __future__ import annotations

import types
import typing
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from typing import Any

from pydantic import BaseModel


class Shape(StrEnum):
    """What a value is to the search backends."""

    WORDS = "words"  # analyzed text, the whole value kept too: names, titles, emails, prose
    TERMS = "terms"  # the whole value, its words searchable too: enumerations, tags, codes
    ID = "id"  # the whole value only
    URL = "url"  # a long whole value, kept but never queried
    DATE = "date"
    INTEGER = "integer"
    LONG = "long"
    BOOLEAN = "boolean"
    OBJECT = "object"  # a nested document, declared by its own model


@dataclass(frozen=True)
class Revision:
    """A revision of a kind's documents: its number is the kind's projection version."""

    version: int
    summary: str  # what changed, as `migrate --plan` shows it
    added: tuple[str, ...] = ()  # top-level document fields
    removed: tuple[str, ...] = ()
    refold: bool = False  # the documents need state the projection did not keep before


@dataclass(frozen=True)
class Indexed:
    """How one document field is indexed and what a query may do with it.

    ``boost`` set: the search text matches the field with this weight; ``prefix``: its
    last word also matches as a prefix. ``exact`` (words only): the whole value can be
    filtered, faceted and sorted on; prose cannot. ``since``: the revision that added the
    field (None: the kind's first). ``from_tables``: the source tables alone determine
    the value, so `verify --source dynamodb` compares it.
    """

    shape: Shape
    boost: float | None = None
    prefix: bool = False
    sortable: bool = False
    exact: bool = True
    since: Revision | None = None
    from_tables: bool = True


@dataclass(frozen=True)
class DeclaredField:
    """A declared field of a document model, nested ones by their dotted path."""

    path: str
    annotation: Any
    indexed: Indexed

    @property
    def name(self) -> str:
        return self.path.rpartition(".")[2]

    @property
    def top_level(self) -> bool:
        return "." not in self.path

    @property
    def multi_valued(self) -> bool:
        return typing.get_origin(without_none(self.annotation)) is list

    @property
    def nested(self) -> type[BaseModel] | None:
        """The model of a nested document, for an object field."""
        inner = without_none(self.annotation)
        return inner if isinstance(inner, type) and issubclass(inner, BaseModel) else None


@cache
def declared_fields(model: type[BaseModel], prefix: str = "") -> tuple[DeclaredField, ...]:
    """Every declared field of a model in declaration order, each object before its fields."""
    found: list[DeclaredField] = []
    for name, info in model.model_fields.items():
        declared = DeclaredField(prefix + name, info.annotation, _indexed(model, name, info))
        found.append(declared)
        if declared.nested is not None:
            found += declared_fields(declared.nested, f"{declared.path}.")
    return tuple(found)


def top_level_fields(model: type[BaseModel]) -> tuple[DeclaredField, ...]:
    return tuple(f for f in declared_fields(model) if f.top_level)


def _indexed(model: type[BaseModel], name: str, info: Any) -> Indexed:
    found = [item for item in info.metadata if isinstance(item, Indexed)]
    if len(found) != 1:
        raise TypeError(f"{model.__name__}.{name} must declare how it is indexed (Indexed)")
    return found[0]


def without_none(annotation: Any) -> Any:
    """``X`` for ``X | None``; any other annotation as it is."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        kept = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(kept) == 1:
            return kept[0]
    return annotation
