"""Which aggregates feed which documents: the index the history of a document reads.

A document is fed by every aggregate whose events can change it: its own item, the
items it counts (an image's likes, a user's images, the likes on them, likes given,
payments, web traffic) and, for an image, its owner. The relation only grows: an
aggregate that fed a document once stays in its history after it stops feeding it.
Over-including is harmless (a replay keeps only the events that changed the document);
missing one would hide a change, so every owner an image had in a batch is counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from domain.identity import aggregate_id
from domain.kinds import TableKind
from projections.documents import DocumentKind
from projections.state import StateTable

Feed = tuple[DocumentKind, str, str]  # (document kind, document id, aggregate id hex)


@dataclass(frozen=True, slots=True)
class Transition:
    """One event's effect on a state row: the row before and after it."""

    table: StateTable
    aggregate: str
    before: Any
    after: Any


def _sets() -> defaultdict[str, set[str]]:
    return defaultdict(set)


@dataclass
class FeedCollector:
    """The feeds of one batch of transitions, and what must be read to finish them."""

    feeds: set[Feed] = field(default_factory=set)
    owners_seen: dict[str, set[str]] = field(default_factory=_sets)  # image -> owners
    liked: dict[str, set[str]] = field(default_factory=_sets)  # image -> like aggregates
    new_owners: dict[str, set[str]] = field(default_factory=_sets)  # image -> owners gained

    def add(self, transition: Transition) -> None:
        self.change(transition.table, transition.aggregate, transition.before, transition.after)

    def change(self, table: StateTable, aggregate: str, before: Any, after: Any) -> None:
        """One event's effect on a state row of ``table``: the row before and after it."""
        # A document's own item feeds it always: `own_aggregate` names it, no row needed.
        feeds = self.feeds
        if table is StateTable.IMAGES:
            for row in (before, after):
                if row is not None:
                    feeds.add((DocumentKind.USERS, row.owner_id, aggregate))
                    feeds.add((DocumentKind.IMAGES, row.image_id, owner_aggregate(row.owner_id)))
                    self.owners_seen[row.image_id].add(row.owner_id)
            if after is not None and (before is None or before.owner_id != after.owner_id):
                self.new_owners[after.image_id].add(after.owner_id)
        elif table is StateTable.LIKES:
            for row in (before, after):
                if row is not None:
                    feeds.add((DocumentKind.IMAGES, row.image_id, aggregate))
                    feeds.add((DocumentKind.USERS, row.user_id, aggregate))
                    self.liked[row.image_id].add(aggregate)
        elif table is not StateTable.USERS:  # payments and web traffic
            for row in (before, after):
                if row is not None:
                    feeds.add((DocumentKind.USERS, row.user_id, aggregate))

    def complete(
        self, owners_now: Mapping[str, str], likes_now: Mapping[str, Collection[str]]
    ) -> set[Feed]:
        """Add the likes' owners and the likes an image brings to its new owner.

        ``owners_now`` maps the liked images to their owners in the state; ``likes_now``
        maps each image that gained an owner to the like aggregates on it in the state.
        """
        for image_id, liked in self.liked.items():
            owners = self.owners_seen.get(image_id, set()) | _one(owners_now.get(image_id))
            self.feeds.update((DocumentKind.USERS, o, like) for o in owners for like in liked)
        for image_id, gained in self.new_owners.items():
            likes = likes_now.get(image_id, ())
            self.feeds.update((DocumentKind.USERS, o, like) for o in gained for like in likes)
        return self.feeds


@lru_cache(maxsize=65_536)
def owner_aggregate(user_id: str) -> str:
    return aggregate_id(TableKind.USERS, (user_id,)).hex


def own_aggregate(kind: DocumentKind, doc_id: str) -> str:
    """The aggregate of the document's own item (the users or images item of that id)."""
    table = TableKind.USERS if kind is DocumentKind.USERS else TableKind.IMAGES
    return aggregate_id(table, (doc_id,)).hex


def _one(value: str | None) -> set[str]:
    return set() if value is None else {value}


def collect_feeds(transitions: Iterable[Transition]) -> FeedCollector:
    collector = FeedCollector()
    for transition in transitions:
        collector.add(transition)
    return collector
