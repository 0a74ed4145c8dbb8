"""What each kind's tantivy index holds: bookkeeping fields plus fields derived from the body.

Every index has the same bookkeeping fields: ``id``, ``version`` (the guard against stale
writes), ``deleted`` (tombstones), ``body`` (the document as JSON, stored only),
``present`` and ``absent`` (the paths of the queryable fields that have a value, or not:
``exists`` filters, and missing sort values, which are few, found without scanning the
many present ones) and ``id_order0..3`` (the id in byte order, see below). The body fields follow
the query allowlist (`projections.query.fields`): a searched field is analyzed full text,
a keyword is also kept whole (filters, facets, sorting), numbers, dates (as epoch
milliseconds, OpenSearch's precision) and booleans are fast fields.

Tantivy's range queries do not take strings, yet a ``search_after`` cursor must find the
documents after a name or an id. So every sortable keyword (and the id) is also indexed as
four unsigned integers holding its first 32 UTF-8 bytes, big-endian: comparing them in
order compares the strings byte by byte, as OpenSearch sorts keywords.

>>> schema = kind_schema(DocumentKind.IMAGES)
>>> schema.field("owner.name", FieldRole.TEXT).name
'owner_name'
>>> [f.name for f in schema.order_fields("title")]
['title_order0', 'title_order1', 'title_order2', 'title_order3']
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from enum import Enum
from functools import cache, cached_property
from pathlib import Path
from typing import Any

import tantivy

from projections.documents import DocumentKind
from projections.query import FieldType, QueryError, QueryField, QueryProblem, query_fields

# Bump when the fields change: a new physical index is built behind the alias. Version 2:
# the query allowlist's fields, dates in milliseconds, presence and byte-order fields.
# Version 3: the user document's web analytics. Version 4: its engagement. Version 5: text
# analyzed by `projections.query.analysis` (folding, CJK bigrams). (Existing installations
# move to a new version with `streamfold migrate`.)
SCHEMA_VERSION = 5

ID = "id"
VERSION = "version"
DELETED = "deleted"
BODY = "body"
PRESENT = "present"
ABSENT = "absent"
ORDER_PARTS = 4
ORDER_PART_BYTES = 8
ID_ORDER = tuple(f"{ID}_order{part}" for part in range(ORDER_PARTS))

# Text fields receive the words `projections.query.analysis` made (folded, CJK bigrams),
# separated by spaces: tantivy has no Unicode normalization or bigram filter of its own.
TEXT_TOKENIZER = "whitespace"


class FieldRole(Enum):
    TEXT = "text"  # analyzed, scored full text
    KEYWORD = "keyword"  # the exact value, for filters, facets and sorting
    INTEGER = "integer"
    DATE = "date"  # epoch milliseconds
    BOOLEAN = "boolean"
    ORDER = "order"  # one 8-byte part of a keyword, for ranges in byte order


@dataclass(frozen=True)
class IndexedField:
    """A body value and the tantivy field it is indexed into."""

    path: tuple[str, ...]
    role: FieldRole
    part: int = 0  # which 8 bytes, for an ORDER field

    @cached_property
    def source(self) -> str:
        """The dotted path in the body, e.g. ``owner.name``."""
        return ".".join(self.path)

    @cached_property
    def name(self) -> str:
        """The tantivy field, e.g. ``owner_name``, ``owner_plan_keyword``, ``title_order0``."""
        base = "_".join(self.path)
        if self.role is FieldRole.KEYWORD:
            return f"{base}_keyword"
        if self.role is FieldRole.ORDER:
            return f"{base}_order{self.part}"
        return base

    def value_in(self, body: dict[str, Any]) -> Any:
        """The value at this field's path in a body (None where the path is missing)."""
        value: Any = body
        for key in self.path:
            if not isinstance(value, dict):
                return None
            value = value.get(key)
        return value


_ROLES = {
    FieldType.KEYWORD: FieldRole.KEYWORD,
    FieldType.INTEGER: FieldRole.INTEGER,
    FieldType.DATE: FieldRole.DATE,
    FieldType.BOOLEAN: FieldRole.BOOLEAN,
}


def indexed_fields(field: QueryField) -> tuple[IndexedField, ...]:
    """The tantivy fields one allowlisted field is indexed into."""
    path = tuple(field.path.split("."))
    fields: list[IndexedField] = []
    if field.searched:
        fields.append(IndexedField(path, FieldRole.TEXT))
    if field.type in _ROLES:
        fields.append(IndexedField(path, _ROLES[field.type]))
    if field.type is FieldType.KEYWORD and field.sortable:
        fields += [IndexedField(path, FieldRole.ORDER, part) for part in range(ORDER_PARTS)]
    return tuple(fields)


@dataclass(frozen=True)
class KindSchema:
    """The tantivy schema of one document kind and the body fields it indexes."""

    kind: DocumentKind
    fields: tuple[IndexedField, ...]
    queryable: tuple[QueryField, ...]
    tantivy_schema: tantivy.Schema

    @property
    def text_fields(self) -> tuple[IndexedField, ...]:
        return tuple(f for f in self.fields if f.role is FieldRole.TEXT)

    def field(self, source: str, role: FieldRole) -> IndexedField | None:
        """The field indexing the body value at ``source`` in the given role, if any."""
        return next((f for f in self.fields if f.source == source and f.role is role), None)

    def exact(self, source: str) -> IndexedField:
        """The field holding the whole value (keyword, number, date or boolean)."""
        found = next(
            (f for f in self.fields if f.source == source and f.role in _EXACT_ROLES), None
        )
        if found is None:
            if any(field.path == source for field in self.queryable):
                # Allowed today, yet the live index was created by an earlier version.
                raise QueryError(
                    [
                        QueryProblem(
                            "",
                            f"{source} is not indexed yet: the live {self.kind.value} index "
                            "was created by an earlier version; `streamfold migrate` builds "
                            "one that has it",
                        )
                    ]
                )
            raise KeyError(f"{self.kind.value} has no exact field {source!r}")
        return found

    def order_fields(self, source: str) -> tuple[IndexedField, ...]:
        return tuple(f for f in self.fields if f.source == source and f.role is FieldRole.ORDER)


_EXACT_ROLES = (FieldRole.KEYWORD, FieldRole.INTEGER, FieldRole.DATE, FieldRole.BOOLEAN)


@cache
def kind_schema(kind: DocumentKind) -> KindSchema:
    """The (cached) schema of one document kind."""
    queryable = query_fields(kind).fields
    fields = tuple(indexed for field in queryable for indexed in indexed_fields(field))
    return KindSchema(kind, fields, queryable, _build(fields))


def schema_fields(kind: DocumentKind) -> tuple[dict[str, Any], ...]:
    """The kind's tantivy fields as an index records them in its ``meta.json``."""
    return _described(kind)


@cache
def _described(kind: DocumentKind) -> tuple[dict[str, Any], ...]:
    # Tantivy describes a schema only in the meta.json of an index: create an empty one.
    with tempfile.TemporaryDirectory(prefix="streamfold-schema-") as directory:
        tantivy.Index(kind_schema(kind).tantivy_schema, path=directory)
        return stored_fields(Path(directory))


def stored_fields(path: Path) -> tuple[dict[str, Any], ...]:
    """The tantivy fields of the index at ``path``, from its ``meta.json``."""
    meta = json.loads((path / "meta.json").read_text())
    return tuple(meta["schema"])


def stored_kind_schema(kind: DocumentKind, path: Path) -> KindSchema:
    """The schema of an existing index: the current one, or the one it was created with.

    An index created by an earlier version of the code keeps its own fields (tantivy
    cannot change them), and must stay readable and writable until a migration has
    replaced it: it is opened with its stored schema, indexing the body fields it has.
    Values of fields it lacks are simply not indexed there.
    """
    wanted = kind_schema(kind)
    stored = stored_fields(path)
    if stored == schema_fields(kind):
        return wanted
    kept = {field["name"]: field["type"] for field in stored}
    fields = tuple(f for f in wanted.fields if kept.get(f.name) == _TANTIVY_TYPES[f.role])
    opened = tantivy.Index.open(str(path))
    return KindSchema(kind, fields, wanted.queryable, opened.schema)


_TANTIVY_TYPES = {
    FieldRole.TEXT: "text",
    FieldRole.KEYWORD: "text",
    FieldRole.INTEGER: "i64",
    FieldRole.DATE: "i64",
    FieldRole.BOOLEAN: "bool",
    FieldRole.ORDER: "u64",
}


def _build(fields: tuple[IndexedField, ...]) -> tantivy.Schema:
    builder = tantivy.SchemaBuilder()
    builder.add_text_field(ID, stored=True, fast=True, tokenizer_name="raw", index_option="basic")
    builder.add_unsigned_field(VERSION, stored=True, indexed=True, fast=True)
    builder.add_boolean_field(DELETED, stored=True, indexed=True, fast=True)
    builder.add_bytes_field(BODY, stored=True)
    builder.add_text_field(PRESENT, tokenizer_name="raw", index_option="basic")
    builder.add_text_field(ABSENT, tokenizer_name="raw", index_option="basic")
    for name in ID_ORDER:
        builder.add_unsigned_field(name, fast=True)
    for field in fields:
        _add(builder, field)
    return builder.build()


def _add(builder: tantivy.SchemaBuilder, field: IndexedField) -> None:
    if field.role is FieldRole.TEXT:
        builder.add_text_field(field.name, tokenizer_name=TEXT_TOKENIZER, index_option="position")
    elif field.role is FieldRole.KEYWORD:
        builder.add_text_field(field.name, fast=True, tokenizer_name="raw", index_option="basic")
    elif field.role in (FieldRole.INTEGER, FieldRole.DATE):
        builder.add_integer_field(field.name, indexed=True, fast=True)
    elif field.role is FieldRole.ORDER:
        builder.add_unsigned_field(field.name, fast=True)
    else:
        builder.add_boolean_field(field.name, indexed=True, fast=True)
