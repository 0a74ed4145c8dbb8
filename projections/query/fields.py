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

from projections.documents import DocumentKind


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


def _keyword(path: str, boost: float | None = None, **options: bool) -> QueryField:
    return QueryField(path, FieldType.KEYWORD, boost, **options)


def _text(path: str, boost: float) -> QueryField:
    return QueryField(path, FieldType.TEXT, boost)


def _integer(path: str) -> QueryField:
    return QueryField(path, FieldType.INTEGER, sortable=True)


def _date(path: str) -> QueryField:
    return QueryField(path, FieldType.DATE, sortable=True)


# Names and titles weigh most, then emails, owners and tags, then prose and enumerations:
# a name or title match ranks above a description match.
USER_FIELDS = (
    _keyword("name", 3.0, prefix=True, sortable=True),
    _keyword("email", 2.0, sortable=True),
    _keyword("tags", 2.0, multi_valued=True),
    _text("bio", 1.0),
    _keyword("country", 1.0, sortable=True),
    _keyword("plan", 1.0, sortable=True),
    _keyword("user_id", sortable=True),
    QueryField("marketing_opt_in", FieldType.BOOLEAN, sortable=True),
    _date("created_at"),
    _date("last_upload_at"),
    _integer("image_count"),
    _integer("likes_received"),
    _integer("likes_given"),
    _integer("lifetime_value_cents"),
    _integer("payment_count"),
    _integer("engagement"),
    QueryField("analytics", FieldType.OBJECT),
    _integer("analytics.sessions"),
    _integer("analytics.pageviews"),
    _date("analytics.first_visit_on"),
    _date("analytics.last_visit_on"),
    _keyword("analytics.first_source", sortable=True),
    _keyword("analytics.first_medium", sortable=True),
)

IMAGE_FIELDS = (
    _keyword("title", 3.0, prefix=True, sortable=True),
    _keyword("tags", 2.0, multi_valued=True),
    _keyword("owner.name", 2.0, prefix=True, sortable=True),
    _keyword("owner.email", 2.0, sortable=True),
    _text("description", 1.0),
    _keyword("status", 1.0, sortable=True),
    _keyword("image_id", sortable=True),
    _keyword("owner_id", sortable=True),
    _date("created_at"),
    _integer("size_bytes"),
    _integer("like_count"),
    QueryField("owner", FieldType.OBJECT),
    _keyword("owner.user_id", sortable=True),
    _keyword("owner.plan", sortable=True),
    _keyword("owner.country", sortable=True),
)


@cache
def query_fields(kind: DocumentKind) -> KindFields:
    """The (cached) allowlist of one kind."""
    if kind is DocumentKind.USERS:
        return KindFields(kind, "user_id", USER_FIELDS)
    return KindFields(kind, "image_id", IMAGE_FIELDS)
