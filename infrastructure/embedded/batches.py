"""Collapsing a batch of changes to the newest change of each document.

>>> newest, superseded = newest_per_document([user_v3, user_v5, image_v2])
>>> [c.version for c in newest], superseded
([5, 2], 1)
"""

from __future__ import annotations

from collections.abc import Sequence

from projections.documents import DocumentChange, DocumentKind


def newest_per_document(changes: Sequence[DocumentChange]) -> tuple[list[DocumentChange], int]:
    """The highest version of each (kind, id), in first-seen order, and how many lost."""
    newest: dict[tuple[DocumentKind, str], DocumentChange] = {}
    for change in changes:
        key = (change.kind, change.doc_id)
        kept = newest.get(key)
        if kept is None or change.version > kept.version:
            newest[key] = change
    return list(newest.values()), len(changes) - len(newest)
