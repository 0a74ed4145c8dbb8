"""A set that picks a random member in constant time."""

from __future__ import annotations

import random
from collections.abc import Hashable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T", bound=Hashable)


class Pool(Generic[T]):
    """Members in a list plus an index, so add, discard and random picks are O(1).

    >>> pool = Pool[str]()
    >>> pool.add("a"); pool.add("b"); pool.discard("a")
    >>> pool.pick(random.Random(1)), len(pool), "a" in pool
    ('b', 1, False)
    """

    def __init__(self) -> None:
        self._members: list[T] = []
        self._positions: dict[T, int] = {}

    def __len__(self) -> int:
        return len(self._members)

    def __contains__(self, member: object) -> bool:
        return member in self._positions

    def __iter__(self) -> Iterator[T]:
        return iter(list(self._members))

    def add(self, member: T) -> None:
        if member not in self._positions:
            self._positions[member] = len(self._members)
            self._members.append(member)

    def discard(self, member: T) -> None:
        position = self._positions.pop(member, None)
        if position is None:
            return
        last = self._members.pop()
        if position < len(self._members):
            self._members[position] = last
            self._positions[last] = position

    def pick(self, rng: random.Random) -> T:
        """A uniformly random member; raises IndexError when empty."""
        return self._members[int(rng.random() * len(self._members))]

    def pick_popular(self, rng: random.Random) -> T:
        """A random member, skewed towards the oldest ones, as attention is in real life."""
        return self._members[int(rng.random() ** 2 * len(self._members))]
