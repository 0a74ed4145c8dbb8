"""What each kind's tantivy index holds: bookkeeping fields plus fields derived from the body.

Every index has the same bookkeeping fields: ``id``, ``version`` (the guard against stale
writes), ``deleted`` (tombstones) and ``body`` (the document as JSON, stored only). The body
fields are declared once per kind as `IndexedField` values: where a value sits in the body
and how it is indexed (full text, exact keyword, integer, date or boolean).

>>> schema = kind_schema(DocumentKind.IMAGES)
>>> schema.field("owner.name", FieldRole.TEXT).name
'owner_name'
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import cache, cached_property
from typing import Any

import tantivy

from projections.documents import DocumentKind

SCHEMA_VERSION = 1  # bump when the fields change: a new physical index is built behind the alias

ID = "id"
VERSION = "version"
DELETED = "deleted"
BODY = "body"

# The "default" tokenizer splits on non-alphanumerics, drops tokens over 40 bytes and
# lowercases; `queries.TEXT_ANALYZER` mirrors it for query terms and highlighting.
TEXT_TOKENIZER = "default"


class FieldRole(Enum):
    TEXT = "text"  # analyzed, scored full text
    KEYWORD = "keyword"  # the exact value, for filters, facets and sorting
    INTEGER = "integer"
    DATE = "date"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class IndexedField:
    """A body value and the tantivy field it is indexed into."""

    path: tuple[str, ...]
    role: FieldRole

    @cached_property
    def source(self) -> str:
        """The dotted path in the body, e.g. ``owner.name``."""
        return ".".join(self.path)

    @cached_property
    def name(self) -> str:
        """The tantivy field, e.g. ``owner_name``, or ``owner_plan_keyword`` for a keyword."""
        base = "_".join(self.path)
        return f"{base}_keyword" if self.role is FieldRole.KEYWORD else base

    def value_in(self, body: dict[str, Any]) -> Any:
        """The value at this field's path in a body (None where the path is missing)."""
        value: Any = body
        for key in self.path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value


def _fields(role: FieldRole, *sources: str) -> tuple[IndexedField, ...]:
    return tuple(IndexedField(tuple(source.split(".")), role) for source in sources)


USER_FIELDS = (
    *_fields(FieldRole.TEXT, "name", "email", "bio", "tags", "country", "plan"),
    *_fields(FieldRole.KEYWORD, "email", "plan", "country", "tags"),
    *_fields(FieldRole.BOOLEAN, "marketing_opt_in"),
    *_fields(FieldRole.DATE, "created_at", "last_upload_at"),
    *_fields(
        FieldRole.INTEGER,
        "image_count",
        "likes_received",
        "likes_given",
        "lifetime_value_cents",
        "payment_count",
    ),
)

IMAGE_FIELDS = (
    *_fields(FieldRole.TEXT, "title", "description", "tags", "owner.name", "owner.email", "status"),
    *_fields(FieldRole.KEYWORD, "status", "tags", "owner_id", "owner.plan", "owner.country"),
    *_fields(FieldRole.DATE, "created_at"),
    *_fields(FieldRole.INTEGER, "size_bytes", "like_count"),
)


@dataclass(frozen=True)
class KindSchema:
    """The tantivy schema of one document kind and the body fields it indexes."""

    kind: DocumentKind
    fields: tuple[IndexedField, ...]
    tantivy_schema: tantivy.Schema

    @property
    def text_fields(self) -> tuple[IndexedField, ...]:
        return tuple(f for f in self.fields if f.role is FieldRole.TEXT)

    def field(self, source: str, role: FieldRole) -> IndexedField | None:
        """The field indexing the body value at ``source`` in the given role, if any."""
        return next((f for f in self.fields if f.source == source and f.role is role), None)


@cache
def kind_schema(kind: DocumentKind) -> KindSchema:
    """The (cached) schema of one document kind."""
    fields = USER_FIELDS if kind is DocumentKind.USERS else IMAGE_FIELDS
    return KindSchema(kind, fields, _build(fields))


def _build(fields: tuple[IndexedField, ...]) -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(ID, stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field(VERSION, stored=True, indexed=True, fast=True)
    builder.add_boolean_field(DELETED, stored=True, indexed=True, fast=True)
    builder.add_bytes_field(BODY, stored=True)
    for field in fields:
        _add(builder, field)
    return builder.build()


def _add(builder: tantivy.SchemaBuilder, field: IndexedField) -> None:
    if field.role is FieldRole.TEXT:
        builder.add_text_field(field.name, tokenizer_name=TEXT_TOKENIZER, index_option="position")
    elif field.role is FieldRole.KEYWORD:
        builder.add_text_field(field.name, fast=True, tokenizer_name="raw", index_option="basic")
    elif field.role is FieldRole.INTEGER:
        builder.add_integer_field(field.name, indexed=True, fast=True)
    elif field.role is FieldRole.DATE:
        builder.add_date_field(field.name, indexed=True, fast=True)
    else:
        builder.add_boolean_field(field.name, indexed=True, fast=True)
