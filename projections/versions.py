"""The declared versions of each document kind: what every revision of the rendering changed.

A revision is declared whenever the documents of a kind change shape or meaning: a field
added, removed or computed differently. Its number is the kind's projection version; each
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

from dataclasses import dataclass

from projections.documents import DocumentKind


@dataclass(frozen=True)
class Revision:
    version: int
    summary: str  # what changed, as `migrate --plan` shows it
    added: tuple[str, ...] = ()  # top-level document fields
    removed: tuple[str, ...] = ()
    refold: bool = False


REVISIONS: dict[DocumentKind, tuple[Revision, ...]] = {
    DocumentKind.USERS: (
        Revision(
            1,
            "the reference user document",
            added=(
                "user_id", "email", "name", "plan", "country", "created_at",
                "marketing_opt_in", "tags", "bio", "image_count", "likes_received",
                "likes_given", "last_upload_at", "lifetime_value_cents", "payment_count",
            ),
        ),
        Revision(2, "analytics: web traffic totals from imported rows", added=("analytics",)),
        Revision(
            3, "engagement: likes given + likes received + uploads", added=("engagement",)
        ),
    ),
    DocumentKind.IMAGES: (
        Revision(
            1,
            "the reference image document",
            added=(
                "image_id", "owner_id", "title", "description", "tags", "image_url",
                "created_at", "status", "size_bytes", "like_count", "owner",
            ),
        ),
    ),
}  # fmt: skip


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
