"""Pure rendering of search documents from the projection's state.

A document field named like a field of the state it is rendered from is copied from it
as it is: a source table's attribute declared on the item and on the document reaches
the document with no rule here. Only what is computed is written out below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from pydantic import BaseModel

from projections.declarations import top_level_fields
from projections.documents import ImageDocument, OwnerSummary, UserDocument, WebAnalyticsSummary
from projections.state import ImageRow, UserRow, UserStats, WebAnalytics

Copy = Callable[[Any], dict[str, Any]]


def copying(model: type[BaseModel], source: type[Any]) -> Copy:
    """The fields a document model shares with a state class, read from one of its values.

    A nested document is never copied: it is rendered from its own state.

    >>> copying(OwnerSummary, UserRow)(user)
    {'user_id': 'u1', 'name': 'Ada', 'email': 'ada@example.com', 'plan': 'pro', ...}
    """
    kept = {f.name for f in fields(source)}
    names = tuple(f.name for f in top_level_fields(model) if f.name in kept and f.nested is None)
    # Compiled once into a dict display, as fast as the one a person would write: the
    # rebuild renders a document per event. The names are the models' field identifiers.
    display = ", ".join(f"{name!r}: state.{name}" for name in names)
    copy: Copy = eval(f"lambda state: {{{display}}}")  # noqa: S307
    return copy


_USER = copying(UserDocument, UserRow)
_USER_STATS = copying(UserDocument, UserStats)
_ANALYTICS = copying(WebAnalyticsSummary, WebAnalytics)
_IMAGE = copying(ImageDocument, ImageRow)
_OWNER = copying(OwnerSummary, UserRow)


def render_user_document(row: UserRow | None, stats: UserStats) -> dict[str, Any] | None:
    """The user document, or None when the users item does not exist."""
    if row is None:
        return None
    return {
        **_USER(row),
        **_USER_STATS(stats),
        "engagement": stats.likes_given + stats.likes_received + stats.image_count,
        "analytics": None if stats.analytics is None else _ANALYTICS(stats.analytics),
    }


def render_image_document(
    row: ImageRow | None, like_count: int, owner: UserRow | None
) -> dict[str, Any] | None:
    """The image document, or None when the images item does not exist."""
    if row is None:
        return None
    return {
        **_IMAGE(row),
        "like_count": like_count,
        "owner": None if owner is None else _OWNER(owner),
    }
