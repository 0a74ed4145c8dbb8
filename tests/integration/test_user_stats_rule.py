"""The projection store's SQL counts a user as `UserStats.of` does, the rule history replays
and the unit fake use: random states, both databases."""

from __future__ import annotations

import random
from typing import Any

import pytest

from infrastructure.adapters.eventstore.projection_store import SqlProjectionStore
from infrastructure.adapters.eventstore.store import EventStore
from infrastructure.settings import PostgresStore, SQLiteStore
from projections.state import (
    ImageRow,
    LikeRow,
    PaymentRow,
    StateTable,
    UserStats,
    WebTrafficRow,
)
from tests.support.random_workload import TIMESTAMPS

USERS = [f"u{n}" for n in range(6)]
IMAGES = [f"i{n}" for n in range(14)]


def _state(rng: random.Random) -> dict[StateTable, dict[str, Any]]:
    images = {
        f"img-{image_id}": ImageRow(
            image_id,
            rng.choice(USERS),
            "t",
            None,
            None,
            "https://x.example/i.jpg",
            rng.choice(TIMESTAMPS),
            "active",
            1,
        )
        for image_id in rng.sample(IMAGES, rng.randint(0, len(IMAGES)))
    }
    likes = {
        f"like-{image_id}-{user_id}": LikeRow(image_id, user_id)  # also on missing images
        for image_id in IMAGES
        for user_id in USERS
        if rng.random() < 0.3
    }
    payments = {
        f"pay-{n}": PaymentRow(
            rng.choice(USERS), f"p{n}", rng.randint(1, 9_999), rng.choice(["paid", "refunded"])
        )
        for n in range(rng.randint(0, 12))
    }
    traffic = {
        f"web-{user_id}-{day}-{source}": WebTrafficRow(
            user_id,
            f"2024-03-0{day}",
            source,
            rng.choice([None, "cpc"]),
            rng.randint(1, 9),
            rng.randint(1, 30),
        )
        for user_id in USERS
        for day in range(1, 4)
        for source in ("google", "direct")
        if rng.random() < 0.25
    }
    return {
        StateTable.IMAGES: images,
        StateTable.LIKES: likes,
        StateTable.PAYMENTS: payments,
        StateTable.ANALYTICS: traffic,
    }


def _by_rule(state: dict[StateTable, dict[str, Any]], user_id: str) -> UserStats:
    images = [r for r in state[StateTable.IMAGES].values() if r.owner_id == user_id]
    owned = {r.image_id for r in images}
    likes = list(state[StateTable.LIKES].values())
    return UserStats.of(
        images,
        likes_received=sum(1 for like in likes if like.image_id in owned),
        likes_given=sum(1 for like in likes if like.user_id == user_id),
        payments=[p for p in state[StateTable.PAYMENTS].values() if p.user_id == user_id],
        traffic=[t for t in state[StateTable.ANALYTICS].values() if t.user_id == user_id],
    )


@pytest.mark.parametrize("seed", range(12))
def test_the_sql_user_views_count_as_the_shared_rule_does(
    seed: int, event_store_target: SQLiteStore | PostgresStore
) -> None:
    rng = random.Random(seed)
    state = _state(rng)
    store = EventStore(event_store_target)
    try:
        with SqlProjectionStore(store).session() as session:
            for table, rows in state.items():
                session.save_rows(table, dict(rows))
            views = session.user_views(USERS)
    finally:
        store.close()
    assert {u: stats for u, (_, stats) in views.items()} == {u: _by_rule(state, u) for u in USERS}
