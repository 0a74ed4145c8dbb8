"""The fields the CRM may query, per document kind: the allowlist every request is checked on.

Each field says what its values are (`FieldType`) and what a request may do with it: match
the search text (with a default boost), match the last word as a prefix (search as you
type), filter, sort, facet. Both search backends index these fields; a field missing here
cannot be queried, whatever the documents hold.

>>> images = query_fields(DocumentKind.IMAGES)
>>> images.get("title").boost, images.get("title").prefix
(3.0, True)
>>> [field.path for field in images.searched][:3]
['title', 'tags', 'owner.name']
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from pydantic import BaseModel

from projections.declarations import DeclaredField, Shape, declared_fields
from projections.documents import DOCUMENT_MODELS, ID_FIELDS, DocumentKind


class FieldType(StrEnum):
    KEYWORD = "keyword"  # an exact string (ids, enumerations, names as a whole)
    TEXT = "text"  # prose: full text only, never filtered by value
    INTEGER = "integer"
    DATE = "date"  # an ISO-8601 instant
    BOOLEAN = "boolean"
    OBJECT = "object"  # a nested document: only whether it exists


@dataclass(frozen=True, slots=True)
class QueryField:
    """One queryable field of a kind's documents."""

    path: str  # the dotted path in the document, e.g. ``owner.plan``
    type: FieldType
    boost: float | None = None  # matched by the search text with this weight; None: not
    prefix: bool = False  # the last word of the text also matches as a prefix
    sortable: bool = False
    multi_valued: bool = False

    @property
    def searched(self) -> bool:
        return self.boost is not None

    @property
    def filterable(self) -> bool:
        return self.type not in (FieldType.TEXT, FieldType.OBJECT)


@dataclass(frozen=True)
class KindFields:
    """The allowlisted fields of one kind, with the document id field."""

    kind: DocumentKind
    id_field: str
    fields: tuple[QueryField, ...]

    def get(self, path: str) -> QueryField | None:
        return next((field for field in self.fields if field.path == path), None)

    @property
    def searched(self) -> tuple[QueryField, ...]:
        """The fields the search text is matched against by default, heaviest first."""
        return tuple(f for f in self.fields if f.searched)


_TYPES = {
    Shape.TERMS: FieldType.KEYWORD,
    Shape.ID: FieldType.KEYWORD,
    Shape.DATE: FieldType.DATE,
    Shape.INTEGER: FieldType.INTEGER,
    Shape.LONG: FieldType.INTEGER,
    Shape.BOOLEAN: FieldType.BOOLEAN,
    Shape.OBJECT: FieldType.OBJECT,
}


def query_field(declared: DeclaredField) -> QueryField | None:
    """The allowlist entry of a declared document field (None: never queried)."""
    indexed = declared.indexed
    if indexed.shape is Shape.URL:
        return None
    if indexed.shape is Shape.WORDS:
        type_ = FieldType.KEYWORD if indexed.exact else FieldType.TEXT
    else:
        type_ = _TYPES[indexed.shape]
    return QueryField(
        declared.path,
        type_,
        indexed.boost,
        indexed.prefix,
        indexed.sortable,
        declared.multi_valued,
    )


def allowlist(model: type[BaseModel]) -> tuple[QueryField, ...]:
    """A model's queryable fields: searched ones heaviest first, then the document's order."""
    fields = [f for f in map(query_field, declared_fields(model)) if f is not None]
    searched = sorted((f for f in fields if f.searched), key=lambda f: -(f.boost or 0.0))
    return (*searched, *(f for f in fields if not f.searched))


@cache
def query_fields(kind: DocumentKind) -> KindFields:
    """The (cached) allowlist of one kind."""
    return KindFields(kind, ID_FIELDS[kind], allowlist(DOCUMENT_MODELS[kind]))
