"""The things a photo-sharing CRM's users do, each as writes to the simulated tables."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

from devtools.demo import people, photos
from devtools.demo.clock import iso_naive, iso_utc, iso_with_offset
from devtools.demo.pool import Pool
from devtools.demo.tables import SimulatedTables

LikeKey = tuple[str, str]
PaymentKey = tuple[str, str]

_PRICES = {"free": (499, 999, 1999), "pro": (1200, 1200, 12000), "team": (4900, 9800, 14700)}
_CLIENT_OFFSETS = (-420, -300, -180, 60, 120, 330, 540, 600)


def _opaque_id(prefix: str, number: int, multiplier: int) -> str:
    # An odd multiplier is a bijection modulo 2**32: ids look random yet never collide.
    return f"{prefix}_{(number * multiplier) & 0xFFFFFFFF:08x}"


class CrmActions:
    """Every action picks its targets at random from what currently exists.

    An action returns False when nothing fits (no image to like yet, say) and then
    writes nothing. Items the app forgets to clean up stay behind, as in real tables:
    likes of deleted images, images of deleted users, payments of deleted users.

    >>> tables = SimulatedTables()
    >>> actions = CrmActions(tables, random.Random(1))
    >>> actions.register(), actions.upload(), actions.like()
    (True, True, True)
    >>> [record["eventName"] for record in tables.records]
    ['INSERT', 'INSERT', 'INSERT']
    """

    def __init__(self, tables: SimulatedTables, rng: random.Random) -> None:
        self._tables = tables
        self._rng = rng
        self._users = Pool[str]()
        self._plans: dict[str, str] = {}
        self._deleted_users: list[str] = []
        self._images = Pool[str]()
        self._hidden = Pool[str]()
        self._deleted_images: list[str] = []
        self._likes = Pool[LikeKey]()
        self._like_counts: defaultdict[str, int] = defaultdict(int)
        self._paid = Pool[PaymentKey]()
        self._counters: defaultdict[str, int] = defaultdict(int)

    # -- creation ------------------------------------------------------------------------

    def register(self) -> bool:
        user_id = self._new_id("usr", 0x9E3779B1)
        return self._register(user_id)

    def reregister(self) -> bool:
        """A deleted account signs up again under its old id."""
        if not self._deleted_users:
            return False
        user_id = self._deleted_users.pop(int(self._rng.random() * len(self._deleted_users)))
        return self._register(user_id)

    def upload(self) -> bool:
        if not self._users:
            return False
        image_id = self._new_id("img", 0x85EBCA6B)
        return self._upload(image_id, self._users.pick(self._rng))

    def restore_image(self) -> bool:
        """Support restores a deleted image under its old id; its old likes count again."""
        if not self._deleted_images or not self._users:
            return False
        index = int(self._rng.random() * len(self._deleted_images))
        return self._upload(self._deleted_images.pop(index), self._users.pick(self._rng))

    def like(self) -> bool:
        if not self._images or not self._users:
            return False
        return self._like(self._images.pick_popular(self._rng), self._users.pick(self._rng))

    def like_deleted_image(self) -> bool:
        """A like from a stale client for an image that is already gone."""
        if not self._deleted_images or not self._users:
            return False
        return self._like(self._rng.choice(self._deleted_images), self._users.pick(self._rng))

    def pay(self) -> bool:
        if not self._users:
            return False
        user_id = self._users.pick(self._rng)
        payment_id = self._new_id("pay", 0xC2B2AE35)
        self._tables.put(
            "payments",
            {
                "userId": user_id,
                "paymentId": payment_id,
                "amountCents": self._rng.choice(_PRICES[self._plans[user_id]]),
                "paidAt": self._now(),
                "status": "paid",
            },
        )
        self._paid.add((user_id, payment_id))
        return True

    # -- changes of users ------------------------------------------------------------------

    def log_in(self) -> bool:
        """Touches an attribute no document uses: nothing downstream should change."""
        return self._update_user({"lastLoginAt": self._now()})

    def change_plan(self) -> bool:
        if not self._users:
            return False
        user_id = self._users.pick(self._rng)
        plan = people.other_plan(self._rng, self._plans[user_id])
        self._plans[user_id] = plan
        self._tables.update("users", {"userId": user_id}, {"plan": plan})
        return True

    def rename(self) -> bool:
        user = self._some_user()
        if user is None:
            return False
        name = people.married_name(self._rng, user["name"])
        return self._update_user({"name": name}, user["userId"])

    def change_email(self) -> bool:
        user = self._some_user()
        if user is None:
            return False
        email = people.email_address(self._rng, user["name"])
        return self._update_user({"email": email}, user["userId"])

    def edit_profile(self) -> bool:
        roll = self._rng.random()
        if roll < 0.35:
            changes: dict[str, Any] = {"bio": people.bio(self._rng)}
        elif roll < 0.5:
            changes = {"bio": None}
        elif roll < 0.85:
            changes = {"tags": people.user_tags(self._rng)}
        else:
            changes = {"tags": None}
        return self._update_user(changes)

    def toggle_marketing(self) -> bool:
        user = self._some_user()
        if user is None:
            return False
        return self._update_user({"marketingOptIn": not user["marketingOptIn"]}, user["userId"])

    def delete_user(self) -> bool:
        if not self._users:
            return False
        user_id = self._users.pick(self._rng)
        self._users.discard(user_id)
        self._deleted_users.append(user_id)
        self._tables.delete("users", {"userId": user_id})
        return True

    # -- changes of images -------------------------------------------------------------------

    def retitle(self) -> bool:
        """A full PutItem overwrite from an editor that saves the whole item."""
        image = self._some_image()
        if image is None:
            return False
        image["title"] = photos.retitled(self._rng, image["title"])
        self._tables.put("images", image)
        return True

    def edit_image(self) -> bool:
        image = self._some_image()
        if image is None:
            return False
        changes = photos.edited(self._rng, image)
        self._tables.update("images", {"imageId": image["imageId"]}, changes)
        return True

    def transfer_image(self) -> bool:
        """An image moves to another account, now and then to one that no longer exists."""
        if not self._images or not self._users:
            return False
        image_id = self._images.pick(self._rng)
        if self._deleted_users and self._rng.random() < 0.1:
            owner = self._rng.choice(self._deleted_users)
        else:
            owner = self._users.pick(self._rng)
        self._tables.update("images", {"imageId": image_id}, {"userId": owner})
        return True

    def hide_or_show(self) -> bool:
        if self._hidden and self._rng.random() < 0.3:
            image_id = self._hidden.pick(self._rng)
            self._hidden.discard(image_id)
            status = "active"
        elif self._images:
            image_id = self._images.pick(self._rng)
            self._hidden.add(image_id)
            status = "hidden"
        else:
            return False
        self._tables.update("images", {"imageId": image_id}, {"status": status})
        return True

    def delete_image(self) -> bool:
        """Deletes the most liked of a few candidates: deletions of liked images matter."""
        if not self._images:
            return False
        candidates = [self._images.pick(self._rng) for _ in range(3)]
        image_id = max(candidates, key=lambda candidate: self._like_counts[candidate])
        self._delete_image(image_id, ttl=False)
        return True

    # -- changes of likes and payments -------------------------------------------------------

    def unlike(self) -> bool:
        if not self._likes:
            return False
        image_id, user_id = key = self._likes.pick(self._rng)
        self._likes.discard(key)
        self._like_counts[image_id] -= 1
        self._tables.delete("likes", {"imageId": image_id, "userId": user_id})
        return True

    def refund(self) -> bool:
        if not self._paid:
            return False
        user_id, payment_id = key = self._paid.pick(self._rng)
        self._paid.discard(key)
        self._tables.update(
            "payments", {"userId": user_id, "paymentId": payment_id}, {"status": "refunded"}
        )
        return True

    def expire(self) -> bool:
        """DynamoDB's TTL removes a hidden image past retention, or else a like."""
        if self._hidden:
            image_id = self._hidden.pick(self._rng)
            self._delete_image(image_id, ttl=True)
            return True
        if not self._likes:
            return False
        image_id, user_id = key = self._likes.pick(self._rng)
        self._likes.discard(key)
        self._like_counts[image_id] -= 1
        self._tables.delete("likes", {"imageId": image_id, "userId": user_id}, ttl=True)
        return True

    # -- shared steps ------------------------------------------------------------------------

    def _register(self, user_id: str) -> bool:
        item = people.new_user(self._rng, user_id, self._now())
        self._tables.put("users", item)
        self._users.add(user_id)
        self._plans[user_id] = item["plan"]
        return True

    def _upload(self, image_id: str, owner_id: str) -> bool:
        item = photos.new_image(self._rng, image_id, owner_id, self._client_time())
        self._tables.put("images", item)
        self._images.add(image_id)
        return True

    def _like(self, image_id: str, user_id: str) -> bool:
        record = self._tables.put(
            "likes", {"imageId": image_id, "userId": user_id, "createdAt": self._now()}
        )
        key = (image_id, user_id)
        if record is not None and record["eventName"] == "INSERT":
            self._likes.add(key)
            self._like_counts[image_id] += 1
        return True

    def _delete_image(self, image_id: str, ttl: bool) -> None:
        self._images.discard(image_id)
        self._hidden.discard(image_id)
        self._deleted_images.append(image_id)
        self._tables.delete("images", {"imageId": image_id}, ttl=ttl)

    def _update_user(self, changes: dict[str, Any], user_id: str | None = None) -> bool:
        if user_id is None:
            if not self._users:
                return False
            user_id = self._users.pick(self._rng)
        self._tables.update("users", {"userId": user_id}, changes)
        return True

    def _some_user(self) -> dict[str, Any] | None:
        if not self._users:
            return None
        return self._tables.get("users", {"userId": self._users.pick(self._rng)})

    def _some_image(self) -> dict[str, Any] | None:
        if not self._images:
            return None
        return self._tables.get("images", {"imageId": self._images.pick(self._rng)})

    def _new_id(self, prefix: str, multiplier: int) -> str:
        self._counters[prefix] += 1
        return _opaque_id(prefix, self._counters[prefix], multiplier)

    def _now(self) -> str:
        return iso_utc(self._tables.clock.now)

    def _client_time(self) -> str:
        # Some upload clients send local time with an offset, a few a naive UTC time:
        # documents must compare those as instants.
        roll = self._rng.random()
        now = self._tables.clock.now
        if roll < 0.03:
            return iso_with_offset(now, self._rng.choice(_CLIENT_OFFSETS))
        if roll < 0.04:
            return iso_naive(now)
        return iso_utc(now)
