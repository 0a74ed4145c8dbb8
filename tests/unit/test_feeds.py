"""Which aggregates feed which documents: owners, likes brought along, likes given."""

from __future__ import annotations

from projections.documents import DocumentKind
from projections.feeds import Transition, collect_feeds, owner_aggregate
from projections.state import ImageRow, LikeRow, StateTable

USERS, IMAGES = DocumentKind.USERS, DocumentKind.IMAGES


def image(owner: str) -> ImageRow:
    return ImageRow("i-1", owner, "Fox", None, None, "https://img/1", "2024-01-01", "active", 1)


def test_an_image_feeds_its_old_and_new_owner_and_is_fed_by_both() -> None:
    collector = collect_feeds([Transition(StateTable.IMAGES, "agg-i", image("u-1"), image("u-2"))])
    feeds = collector.complete(owners_now={}, likes_now={"i-1": {"agg-like"}})

    assert {(USERS, "u-1", "agg-i"), (USERS, "u-2", "agg-i")} <= feeds
    assert {
        (IMAGES, "i-1", owner_aggregate("u-1")),
        (IMAGES, "i-1", owner_aggregate("u-2")),
    } <= feeds
    # the likes already on the image now count toward its new owner
    assert (USERS, "u-2", "agg-like") in feeds


def test_a_like_feeds_the_image_its_giver_and_every_owner_the_image_had() -> None:
    transitions = [
        Transition(StateTable.LIKES, "agg-like", None, LikeRow("i-1", "u-9")),
        Transition(StateTable.IMAGES, "agg-i", image("u-1"), image("u-2")),
    ]
    feeds = collect_feeds(transitions).complete(owners_now={"i-1": "u-2"}, likes_now={})

    like_feeds = {(kind, doc) for kind, doc, agg in feeds if agg == "agg-like"}
    assert like_feeds == {(IMAGES, "i-1"), (USERS, "u-9"), (USERS, "u-1"), (USERS, "u-2")}
