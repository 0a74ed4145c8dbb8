"""The reference fold follows the brief's document rules on small, hand-written tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.kinds import TableKind
from tests.support.reference import expected_documents, latest_timestamp


def user(user_id: str, **attributes: Any) -> dict[str, Any]:
    return {
        "userId": user_id,
        "email": f"{user_id}@mail.example",
        "name": f"User {user_id}",
        "plan": "free",
        "country": "GB",
        "createdAt": "2024-01-01T00:00:00Z",
        "marketingOptIn": False,
        **attributes,
    }


def image(image_id: str, owner: str, **attributes: Any) -> dict[str, Any]:
    return {
        "imageId": image_id,
        "userId": owner,
        "title": f"Image {image_id}",
        "imageUrl": f"https://cdn.images.example/{image_id}.jpg",
        "createdAt": "2024-02-01T00:00:00Z",
        "status": "active",
        "sizeBytes": Decimal(1000),
        **attributes,
    }


def like(image_id: str, liker: str) -> dict[str, Any]:
    return {"imageId": image_id, "userId": liker, "createdAt": "2024-03-01T00:00:00Z"}


def payment(owner: str, payment_id: str, cents: int, status: str = "paid") -> dict[str, Any]:
    return {
        "userId": owner,
        "paymentId": payment_id,
        "amountCents": Decimal(cents),
        "paidAt": "2024-03-01T00:00:00Z",
        "status": status,
    }


def test_a_user_document_copies_the_item_and_counts_nothing_alone() -> None:
    docs = expected_documents({"users": [user("u1", tags={"vip", "beta"}, bio="Hi")]})

    assert docs == {
        "users": {
            "u1": {
                "user_id": "u1",
                "email": "u1@mail.example",
                "name": "User u1",
                "plan": "free",
                "country": "GB",
                "created_at": "2024-01-01T00:00:00Z",
                "marketing_opt_in": False,
                "tags": ["beta", "vip"],
                "bio": "Hi",
                "image_count": 0,
                "likes_received": 0,
                "likes_given": 0,
                "last_upload_at": None,
                "lifetime_value_cents": 0,
                "payment_count": 0,
                "engagement": 0,
                "analytics": None,
            }
        },
        "images": {},
    }


def test_an_image_document_with_its_owner_and_integer_size() -> None:
    docs = expected_documents(
        {
            "users": [user("u1", plan="pro")],
            "images": [image("i1", "u1", tags={"sea", "boats"}, description="Harbor")],
        }
    )

    assert docs["images"]["i1"] == {
        "image_id": "i1",
        "owner_id": "u1",
        "title": "Image i1",
        "description": "Harbor",
        "tags": ["boats", "sea"],
        "image_url": "https://cdn.images.example/i1.jpg",
        "created_at": "2024-02-01T00:00:00Z",
        "status": "active",
        "size_bytes": 1000,
        "like_count": 0,
        "owner": {
            "user_id": "u1",
            "name": "User u1",
            "email": "u1@mail.example",
            "plan": "pro",
            "country": "GB",
        },
    }
    assert type(docs["images"]["i1"]["size_bytes"]) is int


def test_missing_optional_attributes_become_null() -> None:
    docs = expected_documents({"users": [user("u1")], "images": [image("i1", "u1")]})

    assert docs["users"]["u1"]["tags"] is None
    assert docs["users"]["u1"]["bio"] is None
    assert docs["images"]["i1"]["tags"] is None
    assert docs["images"]["i1"]["description"] is None


def test_the_owner_is_null_while_the_user_does_not_exist() -> None:
    docs = expected_documents({"images": [image("i1", "u-gone")]})

    assert docs["images"]["i1"]["owner"] is None
    assert docs["images"]["i1"]["owner_id"] == "u-gone"
    assert docs["users"] == {}


def test_likes_of_a_missing_image_count_as_given_but_not_as_received() -> None:
    tables: dict[str, list[dict[str, Any]]] = {
        "users": [user("owner"), user("fan")],
        "likes": [like("i-later", "fan"), like("i-later", "owner")],
    }

    before = expected_documents(tables)

    assert before["users"]["owner"]["likes_received"] == 0
    assert before["users"]["fan"]["likes_given"] == 1
    assert before["images"] == {}

    after = expected_documents({**tables, "images": [image("i-later", "owner")]})

    assert after["images"]["i-later"]["like_count"] == 2
    assert after["users"]["owner"]["likes_received"] == 2
    assert after["users"]["owner"]["likes_given"] == 1


def test_likes_from_users_that_are_gone_still_count() -> None:
    docs = expected_documents(
        {
            "users": [user("owner")],
            "images": [image("i1", "owner")],
            "likes": [like("i1", "u-gone")],
        }
    )

    assert docs["images"]["i1"]["like_count"] == 1
    assert docs["users"]["owner"]["likes_received"] == 1


def test_an_owner_change_moves_the_counts_to_the_new_owner() -> None:
    tables = {
        "users": [user("a"), user("b")],
        "likes": [like("i1", "a"), like("i1", "b")],
    }

    with_a = expected_documents({**tables, "images": [image("i1", "a")]})
    with_b = expected_documents({**tables, "images": [image("i1", "b")]})

    assert (with_a["users"]["a"]["image_count"], with_a["users"]["b"]["image_count"]) == (1, 0)
    assert (with_b["users"]["a"]["image_count"], with_b["users"]["b"]["image_count"]) == (0, 1)
    assert with_a["users"]["a"]["likes_received"] == 2
    assert with_b["users"]["a"]["likes_received"] == 0
    assert with_b["users"]["b"]["likes_received"] == 2
    assert with_b["users"]["a"]["last_upload_at"] is None


def test_hidden_images_count_like_active_ones() -> None:
    docs = expected_documents(
        {"users": [user("u1")], "images": [image("i1", "u1", status="hidden")]}
    )

    assert docs["users"]["u1"]["image_count"] == 1
    assert docs["images"]["i1"]["status"] == "hidden"


def test_refunded_payments_are_excluded() -> None:
    docs = expected_documents(
        {
            "users": [user("u1"), user("u2")],
            "payments": [
                payment("u1", "p1", 1200),
                payment("u1", "p2", 4900, status="refunded"),
                payment("u1", "p3", 499),
                payment("u2", "p1", 100, status="refunded"),
                payment("u-gone", "p1", 999),
            ],
        }
    )

    assert docs["users"]["u1"]["lifetime_value_cents"] == 1699
    assert docs["users"]["u1"]["payment_count"] == 2
    assert docs["users"]["u2"]["lifetime_value_cents"] == 0
    assert docs["users"]["u2"]["payment_count"] == 0
    assert type(docs["users"]["u1"]["lifetime_value_cents"]) is int


def test_last_upload_at_is_the_text_of_the_latest_instant() -> None:
    docs = expected_documents(
        {
            "users": [user("u1")],
            "images": [
                image("i1", "u1", createdAt="2024-05-01T10:00:00Z"),
                image("i2", "u1", createdAt="2024-05-01T12:30:00+02:00"),
                image("i3", "u1", createdAt="2024-04-30T23:59:59"),
            ],
        }
    )

    assert docs["users"]["u1"]["last_upload_at"] == "2024-05-01T12:30:00+02:00"


def test_last_upload_at_breaks_a_tie_of_instants_by_the_greatest_text() -> None:
    same_instant = ["2024-05-01T10:00:00", "2024-05-01T12:00:00+02:00", "2024-05-01T10:00:00Z"]

    assert latest_timestamp(same_instant) == "2024-05-01T12:00:00+02:00"
    assert latest_timestamp(reversed(same_instant)) == "2024-05-01T12:00:00+02:00"
    assert latest_timestamp(["2024-05-01T10:00:00.5Z", "2024-05-01T10:00:00Z"]) == (
        "2024-05-01T10:00:00.5Z"
    )
    assert latest_timestamp([]) is None


def test_naive_timestamps_are_utc() -> None:
    assert latest_timestamp(["2024-05-01T10:00:01", "2024-05-01T11:00:00+01:00"]) == (
        "2024-05-01T10:00:01"
    )


def test_tables_may_be_keyed_by_table_kind_and_given_as_iterators() -> None:
    docs = expected_documents(
        {
            TableKind.USERS: iter([user("u1")]),
            TableKind.IMAGES: (item for item in [image("i1", "u1")]),
            TableKind.LIKES: iter([like("i1", "u1")]),
        }
    )

    assert docs["users"]["u1"]["likes_received"] == 1
    assert docs["users"]["u1"]["likes_given"] == 1
    assert docs["images"]["i1"]["like_count"] == 1
