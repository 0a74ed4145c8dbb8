"""Pure rendering of search documents from the projection's state."""

from __future__ import annotations

from typing import Any

from projections.state import ImageRow, UserRow, UserStats, WebAnalytics


def render_user_document(row: UserRow | None, stats: UserStats) -> dict[str, Any] | None:
    """The user document, or None when the users item does not exist."""
    if row is None:
        return None
    return {
        "user_id": row.user_id,
        "email": row.email,
        "name": row.name,
        "plan": row.plan,
        "country": row.country,
        "created_at": row.created_at,
        "marketing_opt_in": row.marketing_opt_in,
        "tags": row.tags,
        "bio": row.bio,
        "image_count": stats.image_count,
        "likes_received": stats.likes_received,
        "likes_given": stats.likes_given,
        "last_upload_at": stats.last_upload_at,
        "lifetime_value_cents": stats.lifetime_value_cents,
        "payment_count": stats.payment_count,
        "engagement": stats.likes_given + stats.likes_received + stats.image_count,
        "analytics": _analytics(stats.analytics),
    }


def _analytics(analytics: WebAnalytics | None) -> dict[str, Any] | None:
    if analytics is None:
        return None
    return {
        "sessions": analytics.sessions,
        "pageviews": analytics.pageviews,
        "first_visit_on": analytics.first_visit_on,
        "last_visit_on": analytics.last_visit_on,
        "first_source": analytics.first_source,
        "first_medium": analytics.first_medium,
    }


def render_image_document(
    row: ImageRow | None, like_count: int, owner: UserRow | None
) -> dict[str, Any] | None:
    """The image document, or None when the images item does not exist."""
    if row is None:
        return None
    return {
        "image_id": row.image_id,
        "owner_id": row.owner_id,
        "title": row.title,
        "description": row.description,
        "tags": row.tags,
        "image_url": row.image_url,
        "created_at": row.created_at,
        "status": row.status,
        "size_bytes": row.size_bytes,
        "like_count": like_count,
        "owner": None
        if owner is None
        else {
            "user_id": owner.user_id,
            "name": owner.name,
            "email": owner.email,
            "plan": owner.plan,
            "country": owner.country,
        },
    }
