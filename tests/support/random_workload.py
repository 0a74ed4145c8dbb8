"""Random writes to the four reference tables through boto3, built to provoke edge cases.

Small key spaces make every kind of collision likely: overwrites, re-creates of deleted
keys, likes of images that do not exist yet or any more, images owned by users that
are gone, refunds and reinstatements, attributes added and removed, and timestamps that
name one instant in several spellings.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeSerializer

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

USER_IDS = tuple(f"u{n}" for n in range(8))
IMAGE_IDS = tuple(f"i{n}" for n in range(12))
PAYMENT_IDS = tuple(f"p{n}" for n in range(4))
# Equal instants in different spellings, and instants one second apart: the latest
# upload must be chosen by instant, ties broken by the greatest text.
TIMESTAMPS = (
    "2024-03-05T10:15:00Z",
    "2024-03-05T11:15:00+01:00",
    "2024-03-05T10:15:00",
    "2024-03-05T10:15:00+00:00",
    "2024-03-05T10:15:01Z",
    "2024-03-05T05:15:01-05:00",
    "2024-02-29T23:59:59Z",
    "2024-03-06T00:00:00.250000Z",
)
_SERIALIZER = TypeSerializer()


def apply_random_workload(
    client: DynamoDBClient, table_names: Mapping[str, str], seed: int, operations: int
) -> Counter[str]:
    """Run ``operations`` random writes; returns how many of each operation ran.

    ``table_names`` maps each kind (``users``, ``images``, ``likes``, ``payments``) to its
    real table name.

    Example: ``apply_random_workload(endpoint.dynamodb(), names, seed=3, operations=200)``
    returns something like ``Counter({"put_like": 31, "update_image": 27, ...})``.
    """
    writer = _RandomWriter(client, table_names, random.Random(seed))
    steps: list[tuple[Callable[[], None], int]] = [
        (writer.put_user, 6),
        (writer.update_user, 6),
        (writer.delete_user, 2),
        (writer.put_image, 6),
        (writer.update_image, 8),
        (writer.delete_image, 2),
        (writer.put_like, 10),
        (writer.delete_like, 3),
        (writer.put_payment, 4),
        (writer.update_payment, 4),
        (writer.delete_payment, 1),
    ]
    actions = [action for action, _ in steps]
    weights = [weight for _, weight in steps]
    done: Counter[str] = Counter()
    for action in writer.rng.choices(actions, weights=weights, k=operations):
        action()
        done[action.__name__] += 1
    return done


class _RandomWriter:
    def __init__(
        self, client: DynamoDBClient, table_names: Mapping[str, str], rng: random.Random
    ) -> None:
        self.client = client
        self.tables = table_names
        self.rng = rng

    # -- users ----------------------------------------------------------------------------

    def put_user(self) -> None:
        user_id = self.rng.choice(USER_IDS)
        item: dict[str, Any] = {
            "userId": user_id,
            "email": f"{user_id}.{self.rng.randint(1, 99)}@mail.example",
            "name": self.rng.choice(["Ada Lovelace", "Grace Hopper", "Zoë Müller", "Li Wei"]),
            "plan": self.rng.choice(["free", "pro", "team"]),
            "country": self.rng.choice(["GB", "US", "DE", "JP"]),
            "createdAt": self.rng.choice(TIMESTAMPS),
            "marketingOptIn": self.rng.random() < 0.5,
        }
        if self.rng.random() < 0.5:
            item["tags"] = self._tags(["vip", "beta", "churn-risk", "agency"])
        if self.rng.random() < 0.5:
            item["bio"] = self.rng.choice(["Photographer.", "Designer in Lisbon.", ""])
        self._put("users", item)

    def update_user(self) -> None:
        choices: list[tuple[str, Any]] = [
            ("plan", self.rng.choice(["free", "pro", "team"])),
            ("name", self.rng.choice(["Ada King", "Grace Murray", "Zoë Schmidt"])),
            ("email", f"renamed{self.rng.randint(1, 9)}@mail.example"),
            ("country", self.rng.choice(["FR", "BR", "IN"])),
            ("marketingOptIn", self.rng.random() < 0.5),
            ("tags", self._tags(["vip", "beta", "newsletter"])),
            ("bio", "Updated bio."),
            ("tags", None),
            ("bio", None),
            ("lastLoginAt", self.rng.choice(TIMESTAMPS)),
        ]
        key = {"userId": self.rng.choice(USER_IDS)}
        # UpdateItem on a missing key would create a user without its required attributes.
        if self._exists("users", key):
            self._update("users", key, self._pick(choices))

    def delete_user(self) -> None:
        self._delete("users", {"userId": self.rng.choice(USER_IDS)})

    # -- images ---------------------------------------------------------------------------

    def put_image(self) -> None:
        image_id = self.rng.choice(IMAGE_IDS)
        item: dict[str, Any] = {
            "imageId": image_id,
            "userId": self.rng.choice(USER_IDS),
            "title": self.rng.choice(["Mountains at dawn", "City skyline at night", "Fox"]),
            "imageUrl": f"https://cdn.images.example/{image_id}.jpg",
            "createdAt": self.rng.choice(TIMESTAMPS),
            "status": self.rng.choice(["active", "active", "hidden"]),
            "sizeBytes": self.rng.randint(1, 5_000_000),
        }
        if self.rng.random() < 0.6:
            item["description"] = "Shot on film at first light."
        if self.rng.random() < 0.6:
            item["tags"] = self._tags(["mountains", "night", "city", "wildlife"])
        self._put("images", item)

    def update_image(self) -> None:
        choices: list[tuple[str, Any]] = [
            ("userId", self.rng.choice(USER_IDS)),
            ("userId", self.rng.choice(USER_IDS)),
            ("title", self.rng.choice(["Retitled", "Northern lights over a lake"])),
            ("status", self.rng.choice(["active", "hidden"])),
            ("createdAt", self.rng.choice(TIMESTAMPS)),
            ("sizeBytes", self.rng.randint(1, 5_000_000)),
            ("description", "Edited description."),
            ("description", None),
            ("tags", self._tags(["sea", "storm", "featured"])),
            ("tags", None),
        ]
        key = {"imageId": self.rng.choice(IMAGE_IDS)}
        if self._exists("images", key):
            self._update("images", key, self._pick(choices))

    def delete_image(self) -> None:
        self._delete("images", {"imageId": self.rng.choice(IMAGE_IDS)})

    # -- likes and payments ---------------------------------------------------------------

    def put_like(self) -> None:
        like = {
            "imageId": self.rng.choice(IMAGE_IDS),
            "userId": self.rng.choice(USER_IDS),
            "createdAt": self.rng.choice(TIMESTAMPS),
        }
        self._put("likes", like)

    def delete_like(self) -> None:
        key = {"imageId": self.rng.choice(IMAGE_IDS), "userId": self.rng.choice(USER_IDS)}
        self._delete("likes", key)

    def put_payment(self) -> None:
        payment = {
            "userId": self.rng.choice(USER_IDS),
            "paymentId": self.rng.choice(PAYMENT_IDS),
            "amountCents": self.rng.choice([499, 1200, 4900, 12000]),
            "paidAt": self.rng.choice(TIMESTAMPS),
            "status": self.rng.choice(["paid", "paid", "refunded"]),
        }
        self._put("payments", payment)

    def update_payment(self) -> None:
        """A refund, a reinstatement or a corrected amount of an existing payment."""
        key = {"userId": self.rng.choice(USER_IDS), "paymentId": self.rng.choice(PAYMENT_IDS)}
        if not self._exists("payments", key):
            return
        choices: list[tuple[str, Any]] = [
            ("status", "refunded"),
            ("status", "refunded"),
            ("status", "paid"),
            ("amountCents", self.rng.choice([100, 2500, 9900])),
        ]
        self._update("payments", key, self._pick(choices))

    def delete_payment(self) -> None:
        key = {"userId": self.rng.choice(USER_IDS), "paymentId": self.rng.choice(PAYMENT_IDS)}
        self._delete("payments", key)

    # -- boto3 calls ----------------------------------------------------------------------

    def _put(self, kind: str, item: Mapping[str, Any]) -> None:
        self.client.put_item(TableName=self.tables[kind], Item=_serialized(item))

    def _update(self, kind: str, key: Mapping[str, Any], changes: Mapping[str, Any]) -> None:
        sets = [name for name, value in changes.items() if value is not None]
        removes = [name for name, value in changes.items() if value is None]
        names = {f"#a{n}": name for n, name in enumerate(changes)}
        alias = {name: placeholder for placeholder, name in names.items()}
        clauses = []
        if sets:
            clauses.append(
                "SET " + ", ".join(f"{alias[name]} = :{alias[name][1:]}" for name in sets)
            )
        if removes:
            clauses.append("REMOVE " + ", ".join(alias[name] for name in removes))
        arguments: dict[str, Any] = {
            "TableName": self.tables[kind],
            "Key": _serialized(key),
            "UpdateExpression": " ".join(clauses),
            "ExpressionAttributeNames": names,
        }
        if sets:
            arguments["ExpressionAttributeValues"] = {
                f":{alias[name][1:]}": _SERIALIZER.serialize(changes[name]) for name in sets
            }
        self.client.update_item(**arguments)

    def _delete(self, kind: str, key: Mapping[str, Any]) -> None:
        self.client.delete_item(TableName=self.tables[kind], Key=_serialized(key))

    def _exists(self, kind: str, key: Mapping[str, Any]) -> bool:
        found = self.client.get_item(TableName=self.tables[kind], Key=_serialized(key))
        return "Item" in found

    def _pick(self, choices: list[tuple[str, Any]]) -> dict[str, Any]:
        picked = self.rng.sample(choices, self.rng.randint(1, 2))
        return dict(picked)

    def _tags(self, vocabulary: list[str]) -> set[str]:
        return set(self.rng.sample(vocabulary, self.rng.randint(1, len(vocabulary))))


def _serialized(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: _SERIALIZER.serialize(value) for name, value in item.items()}
