"""The document projection folds events into exactly the documents the brief defines."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, cast

from domain.changes import ChangeType, SourceChange, StreamPosition
from domain.kinds import TableKind
from domain.mappers import MAPPERS
from projections.documents import DocumentKind
from projections.ports import DeadLetters, DocumentFailure, SearchIndex
from projections.projector import DocumentProjector
from projections.sync import SearchSync
from tests.unit.fakes import FakeProjectionStore


class World:
    """Source tables as the stream tells them, folded by a projector over a fake store."""

    def __init__(self) -> None:
        self.aggregates: dict[Any, Any] = {}
        self.store = FakeProjectionStore()
        self.projector = DocumentProjector(self.store, batch_size=3)

    def put(self, kind: TableKind, key: tuple[str, ...], item: dict[str, Any] | None) -> None:
        mapper = MAPPERS[kind]
        aggregate_id = mapper.aggregate_id(key)
        change_type = ChangeType.REMOVE if item is None else ChangeType.MODIFY
        change = SourceChange(kind, key, change_type, item, StreamPosition.of(1), "r")
        aggregate = mapper.apply(change, self.aggregates.get(aggregate_id))
        if aggregate is not None:
            self.aggregates[aggregate_id] = aggregate
            self.store.events += aggregate.collect_events()

    def user(self, user_id: str, **attrs: Any) -> None:
        item = {
            "userId": user_id,
            "email": f"{user_id}@example.com",
            "name": f"Name {user_id}",
            "plan": "free",
            "country": "DE",
            "createdAt": "2024-01-01T00:00:00Z",
            "marketingOptIn": False,
            **attrs,
        }
        self.put(TableKind.USERS, (user_id,), item)

    def image(self, image_id: str, owner: str, **attrs: Any) -> None:
        item = {
            "imageId": image_id,
            "userId": owner,
            "title": f"Title {image_id}",
            "imageUrl": f"https://img/{image_id}",
            "createdAt": "2024-02-01T00:00:00Z",
            "status": "active",
            "sizeBytes": Decimal(10),
            **attrs,
        }
        self.put(TableKind.IMAGES, (image_id,), item)

    def like(self, image_id: str, user_id: str, *, removed: bool = False) -> None:
        item = {"imageId": image_id, "userId": user_id, "createdAt": "2024-03-01T00:00:00Z"}
        self.put(TableKind.LIKES, (image_id, user_id), None if removed else item)

    def payment(self, user_id: str, payment_id: str, cents: int, status: str = "paid") -> None:
        item = {
            "userId": user_id,
            "paymentId": payment_id,
            "amountCents": Decimal(cents),
            "paidAt": "2024-03-01T00:00:00Z",
            "status": status,
        }
        self.put(TableKind.PAYMENTS, (user_id, payment_id), item)

    def documents(self, kind: DocumentKind) -> dict[str, Any]:
        self.projector.catch_up()
        return {
            doc_id: change.body
            for (k, doc_id), change in self.store.documents.items()
            if k is kind and change.body is not None
        }


def test_user_counts_cover_images_likes_given_and_received_and_paid_payments() -> None:
    world = World()
    world.user("u1")
    world.user("u2")
    world.image("i1", "u1", createdAt="2024-05-01T00:00:00Z")
    world.image("i2", "u1", createdAt="2024-04-01T00:00:00+02:00")
    world.like("i1", "u2")
    world.like("i2", "u2")
    world.payment("u1", "p1", 500)
    world.payment("u1", "p2", 700, status="refunded")
    users = world.documents(DocumentKind.USERS)
    assert users["u1"]["image_count"] == 2
    assert users["u1"]["likes_received"] == 2
    assert users["u2"]["likes_given"] == 2
    assert users["u1"]["last_upload_at"] == "2024-05-01T00:00:00Z"
    assert (users["u1"]["lifetime_value_cents"], users["u1"]["payment_count"]) == (500, 1)


def test_a_rename_reaches_every_image_of_the_user() -> None:
    world = World()
    world.user("u1")
    for n in range(5):
        world.image(f"i{n}", "u1")
    world.documents(DocumentKind.IMAGES)
    world.user("u1", name="Grace Hopper")
    images = world.documents(DocumentKind.IMAGES)
    assert {doc["owner"]["name"] for doc in images.values()} == {"Grace Hopper"}


def test_an_owner_change_moves_counts_from_one_user_to_the_other() -> None:
    world = World()
    world.user("u1")
    world.user("u2")
    world.image("i1", "u1")
    world.like("i1", "u2")
    world.documents(DocumentKind.USERS)
    world.image("i1", "u2")
    users = world.documents(DocumentKind.USERS)
    assert (users["u1"]["image_count"], users["u1"]["likes_received"]) == (0, 0)
    assert (users["u2"]["image_count"], users["u2"]["likes_received"]) == (1, 1)
    assert world.documents(DocumentKind.IMAGES)["i1"]["owner"]["user_id"] == "u2"


def test_likes_of_an_image_count_only_while_the_image_exists() -> None:
    world = World()
    world.user("u1")
    world.like("i1", "u1")  # the like arrives before its image
    assert world.documents(DocumentKind.USERS)["u1"]["likes_received"] == 0
    world.image("i1", "u1")
    assert world.documents(DocumentKind.IMAGES)["i1"]["like_count"] == 1
    assert world.documents(DocumentKind.USERS)["u1"]["likes_received"] == 1
    world.put(TableKind.IMAGES, ("i1",), None)
    assert world.documents(DocumentKind.USERS)["u1"]["likes_received"] == 0


def test_a_deleted_owner_leaves_its_images_with_no_owner_block() -> None:
    world = World()
    world.user("u1")
    world.image("i1", "u1")
    world.put(TableKind.USERS, ("u1",), None)
    assert world.documents(DocumentKind.IMAGES)["i1"]["owner"] is None
    assert "u1" not in world.documents(DocumentKind.USERS)


def test_a_deleted_document_is_written_as_a_delete_once() -> None:
    world = World()
    world.user("u1")
    world.documents(DocumentKind.USERS)
    world.put(TableKind.USERS, ("u1",), None)
    world.projector.catch_up()
    assert world.store.documents[(DocumentKind.USERS, "u1")].body is None


def test_unchanged_documents_are_not_written_again() -> None:
    world = World()
    world.user("u1")
    world.image("i1", "u1")
    world.projector.catch_up()
    SearchSync(world.store, cast(SearchIndex, _NullIndex()), _NoDeadLetters()).flush()
    world.image("i1", "u1", status="hidden")  # the user document does not change
    world.projector.catch_up()
    pending = world.store.pending_documents(100)
    assert [(d.kind, d.doc_id) for d in pending] == [(DocumentKind.IMAGES, "i1")]


def test_document_versions_grow_with_the_global_position() -> None:
    world = World()
    world.user("u1")
    world.projector.catch_up()
    first = world.store.documents[(DocumentKind.USERS, "u1")].version
    world.user("u1", plan="pro")
    world.projector.catch_up()
    assert world.store.documents[(DocumentKind.USERS, "u1")].version > first


class _NullIndex:
    def write(self, changes: Any, into: Any = None) -> Any:
        from projections.ports import WriteOutcome

        return WriteOutcome(written=len(changes))


class _NoDeadLetters(DeadLetters):
    def put_documents(self, failures: Sequence[DocumentFailure]) -> None:
        assert not failures, failures
