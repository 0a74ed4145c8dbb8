"""What each kind's OpenSearch index holds: settings, strict mappings, and where each field is.

The mappings are explicit and ``dynamic: strict``: a body with a field that is not declared
here is refused (a permanent failure of that one document) instead of silently adding a
field to the mapping. Values of the wrong shape for a date or number are kept in
``_source`` but left out of the index (``ignore_malformed``), so one odd attribute cannot
hide a whole document.

Text is analyzed by ``words`` like the embedded backend (`projections.query.analysis`):
every character that is not a letter, digit or combining mark separates words, so
``ada@example.com`` is found by ``example`` and emoji match nothing; accents and Arabic
short vowels are dropped (``asciifolding`` for letters written with their accent, a
character filter for accents written apart), ``ß`` becomes ``ss``, case and width are
folded, and Chinese and Japanese become pairs of characters (``cjk_bigram``; Korean
words, written with spaces, stay whole). No ICU plugin is needed. Names, titles, emails and
descriptions are text with a ``keyword`` sub-field (sort, facets); ids and enumerations are
keywords with a ``text`` sub-field (full-text search). The properties are derived from the
document models' declarations (`projections.documents`). Which fields the CRM may query, and
how much each weighs, is the query allowlist's (`projections.query.fields`); `KindMapping`
says where each of them lives.

Deletes are soft: a tombstone is a document holding only ``tombstone: true`` and
``tombstoned_at``, at the version of the delete (see docs/adr/0006-opensearch-deletes.md).

>>> mapping = kind_mapping(DocumentKind.USERS)
>>> mapping.id_field, [field.indexed for field in mapping.searched][:2]
('user_id', ['name', 'email'])
>>> index_body(DocumentKind.USERS)["mappings"]["dynamic"]
'strict'
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import BaseModel

from projections.declarations import DeclaredField, Shape, top_level_fields
from projections.documents import DOCUMENT_MODELS, ID_FIELDS, DocumentKind
from projections.query.fields import query_fields
from projections.query.limits import MAX_OFFSET, MAX_PAGE_SIZE
from projections.versions import projection_version

# Bump when the mappings change: a rebuild fills a new physical index. Version 2: text in
# every language (folding, CJK pairs).
SCHEMA_VERSION = 2

TOMBSTONE = "tombstone"
TOMBSTONED_AT = "tombstoned_at"

WORDS_ANALYZER = "words"
# Deep pages must stay answerable: from + size may reach the largest offset plus a page.
MAX_RESULT_WINDOW = MAX_OFFSET + MAX_PAGE_SIZE
KEYWORD_LIMIT = 256  # longer values are not kept in the keyword sub-field
URL_LIMIT = 2048

ANALYSIS: dict[str, Any] = {
    "char_filter": {
        # The accents `projections.query.analysis` drops when they are written apart
        # (asciifolding only knows letters written with their accent).
        "drop_accents": {
            "type": "pattern_replace",
            "pattern": "[\\x{0300}-\\x{036f}\\x{064b}-\\x{065f}\\x{0670}]",
            "replacement": "",
        },
        # Letters, digits and the marks of words; an emoji's variation selector or a
        # keycap's enclosing mark is part of no word.
        "non_word_to_space": {
            "type": "pattern_replace",
            "pattern": "[^\\p{L}\\p{N}\\p{Mn}\\p{Mc}]|[\\x{fe00}-\\x{fe0f}]",
            "replacement": " ",
        },
    },
    "filter": {
        "cjk_pairs": {"type": "cjk_bigram", "ignored_scripts": ["hangul"]},
    },
    "analyzer": {
        WORDS_ANALYZER: {
            "type": "custom",
            "char_filter": ["drop_accents", "non_word_to_space"],
            "tokenizer": "standard",
            "filter": ["cjk_width", "lowercase", "asciifolding", "cjk_pairs"],
        }
    },
}

DATE_FORMAT = "strict_date_optional_time||epoch_millis"


def _text() -> dict[str, Any]:
    return {
        "type": "text",
        "analyzer": WORDS_ANALYZER,
        "fields": {"keyword": {"type": "keyword", "ignore_above": KEYWORD_LIMIT}},
    }


def _keyword() -> dict[str, Any]:
    return {
        "type": "keyword",
        "fields": {"text": {"type": "text", "analyzer": WORDS_ANALYZER}},
    }


def _id() -> dict[str, Any]:
    return {"type": "keyword"}


def _date() -> dict[str, Any]:
    return {"type": "date", "format": DATE_FORMAT, "ignore_malformed": True}


def _number(kind: str) -> dict[str, Any]:
    return {"type": kind, "ignore_malformed": True}


TOMBSTONE_PROPERTIES: dict[str, Any] = {
    TOMBSTONE: {"type": "boolean"},
    TOMBSTONED_AT: {"type": "date", "format": DATE_FORMAT},
}

_LEAVES = {
    Shape.WORDS: _text,
    Shape.TERMS: _keyword,
    Shape.ID: _id,
    Shape.URL: lambda: {"type": "keyword", "ignore_above": URL_LIMIT},
    Shape.DATE: _date,
    Shape.INTEGER: lambda: _number("integer"),
    Shape.LONG: lambda: _number("long"),
    Shape.BOOLEAN: lambda: {"type": "boolean"},
}


def properties_of(model: type[BaseModel]) -> dict[str, Any]:
    """The mapping properties of a document model, from its fields' declarations."""
    return {field.name: _property(field) for field in top_level_fields(model)}


def _property(field: DeclaredField) -> dict[str, Any]:
    if field.nested is None:
        return _LEAVES[field.indexed.shape]()
    return {"type": "object", "dynamic": "strict", "properties": properties_of(field.nested)}


@dataclass(frozen=True, slots=True)
class MappedField:
    """Where an allowlisted field lives in the mapping."""

    source: str  # the dotted path in the body (how highlights and facets are keyed)
    searched: str | None  # the analyzed field the search text matches, e.g. ``tags.text``
    exact: str | None  # the field holding the whole value, e.g. ``name.keyword``


@dataclass(frozen=True, slots=True)
class SearchedField:
    """A field the CRM's search text is matched against by default."""

    source: str
    indexed: str
    boost: float = 1.0
    prefix: bool = False

    @property
    def weighted(self) -> str:
        """The field as ``multi_match`` takes it, e.g. ``name^3``."""
        return self.indexed if self.boost == 1.0 else f"{self.indexed}^{self.boost:g}"


@dataclass(frozen=True)
class KindMapping:
    """The mapping of one kind and where each allowlisted field lives in it."""

    kind: DocumentKind
    id_field: str  # the body field holding the document id: the stable sort key
    properties: dict[str, Any]
    fields: dict[str, MappedField]

    @property
    def searched(self) -> tuple[SearchedField, ...]:
        """The fields the search text matches by default, with their boosts."""
        return tuple(
            SearchedField(f.path, self.searched_name(f.path), f.boost, f.prefix)
            for f in query_fields(self.kind).searched
            if f.boost is not None
        )

    def searched_name(self, source: str) -> str:
        found = self.fields[source].searched
        if found is None:
            raise KeyError(f"{self.kind.value} does not search {source!r}")
        return found

    def exact_name(self, source: str) -> str:
        found = self.fields[source].exact
        if found is None:
            raise KeyError(f"{self.kind.value} has no exact field for {source!r}")
        return found

    def source_of(self, indexed: str) -> str:
        """The body path of a queried field (how highlights are keyed)."""
        return next((f.source for f in self.fields.values() if f.searched == indexed), indexed)


def _mapped(properties: dict[str, Any], path: str) -> MappedField:
    # Text is searched as is and kept whole in ``.keyword``; keywords are kept whole and
    # searched through ``.text``; ids, numbers, dates and booleans are only kept whole.
    node: dict[str, Any] = {"properties": properties}
    for key in path.split("."):
        node = node["properties"][key]
    sub_fields = node.get("fields", {})
    if node["type"] == "text":
        return MappedField(path, path, f"{path}.keyword" if "keyword" in sub_fields else None)
    if node["type"] == "object":
        return MappedField(path, None, None)
    return MappedField(path, f"{path}.text" if "text" in sub_fields else None, path)


def _kind_mapping(kind: DocumentKind, id_field: str, properties: dict[str, Any]) -> KindMapping:
    fields = {f.path: _mapped(properties, f.path) for f in query_fields(kind).fields}
    return KindMapping(kind, id_field, properties, fields)


@cache
def kind_mapping(kind: DocumentKind) -> KindMapping:
    """The (cached) mapping of one document kind."""
    return _kind_mapping(kind, ID_FIELDS[kind], properties_of(DOCUMENT_MODELS[kind]))


def index_body(kind: DocumentKind) -> dict[str, Any]:
    """Settings and mappings of a physical index of the kind."""
    return {
        "settings": {"index": {"max_result_window": MAX_RESULT_WINDOW}, "analysis": ANALYSIS},
        "mappings": {
            "dynamic": "strict",
            "_meta": {
                "kind": kind.value,
                "schema_version": SCHEMA_VERSION,
                # What `streamfold migrate` compares with the code's version.
                "projection_version": projection_version(kind),
            },
            "properties": {**kind_mapping(kind).properties, **TOMBSTONE_PROPERTIES},
        },
    }


def index_template(kind: DocumentKind, pattern: str) -> dict[str, Any]:
    """A composable index template giving every physical index of the kind its mapping."""
    return {
        "index_patterns": [pattern],
        # Above the default 0 so that a catch-all template cannot take these indices.
        "priority": 200,
        "template": index_body(kind),
        "_meta": {"managed_by": "streamfold", "schema_version": SCHEMA_VERSION},
    }


def live_documents() -> dict[str, Any]:
    """A filter matching every document that is not a tombstone."""
    return {"bool": {"must_not": [{"term": {TOMBSTONE: True}}]}}


def tombstone_body(deleted_at: str) -> dict[str, Any]:
    """The body stored for a deleted document."""
    return {TOMBSTONE: True, TOMBSTONED_AT: deleted_at}


def is_tombstone(source: dict[str, Any]) -> bool:
    return source.get(TOMBSTONE) is True
