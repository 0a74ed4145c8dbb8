"""The declared versions of each document kind: what every revision of the rendering changed.

A revision is declared whenever the documents of a kind change shape or meaning: a field
added, removed or computed differently. A field names the revision that added it on its
declaration (``Indexed(since=...)`` in `projections.documents`); the revisions are
gathered from there. Its number is the kind's projection version; each
physical index records the version its documents were rendered at, so that `streamfold
migrate --plan` can tell a live index that is behind the code. ``refold`` marks a revision
whose documents need state the projection did not keep before: the events must be folded
again (a new generation), re-rendering the kept state is not enough.

>>> projection_version(DocumentKind.IMAGES)
1
>>> [r.version for r in revisions_after(DocumentKind.USERS, 1)]
[2]
>>> "analytics" in document_fields(DocumentKind.USERS)
True
"""

from __future__ import annotations

from dataclasses import replace

from projections.declarations import Revision, top_level_fields
from projections.documents import DOCUMENT_MODELS, DocumentKind

__all__ = ["REVISIONS", "Revision", "document_fields", "projection_version", "revisions_after"]


FIRST: dict[DocumentKind, str] = {
    DocumentKind.USERS: "the reference user document",
    DocumentKind.IMAGES: "the reference image document",
}


def _revisions(kind: DocumentKind) -> tuple[Revision, ...]:
    # Each field names the revision that added it; a field naming none came with the first.
    added: dict[Revision | None, list[str]] = {None: []}
    for field in top_level_fields(DOCUMENT_MODELS[kind]):
        added.setdefault(field.indexed.since, []).append(field.name)
    first = Revision(1, FIRST[kind], added=tuple(added.pop(None)))
    later = (replace(r, added=tuple(names)) for r, names in added.items() if r is not None)
    return first, *sorted(later, key=lambda r: r.version)


REVISIONS: dict[DocumentKind, tuple[Revision, ...]] = {kind: _revisions(kind) for kind in FIRST}


def projection_version(kind: DocumentKind) -> int:
    """The version the code renders documents of the kind at."""
    return REVISIONS[kind][-1].version


def revisions_after(kind: DocumentKind, version: int) -> tuple[Revision, ...]:
    """The revisions a kind's documents at ``version`` have not seen, oldest first."""
    return tuple(r for r in REVISIONS[kind] if r.version > version)


def document_fields(kind: DocumentKind, version: int | None = None) -> frozenset[str]:
    """The top-level fields of a kind's documents at a version (default: the current one)."""
    fields: set[str] = set()
    for revision in REVISIONS[kind]:
        if version is not None and revision.version > version:
            break
        fields |= set(revision.added)
        fields -= set(revision.removed)
    return frozenset(fields)
