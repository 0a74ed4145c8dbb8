"""A projection session over memory, for replaying the few aggregates that fed one document.

The production projector folds and renders through it exactly as it does through the
event-store tables; only the storage differs, so a document replayed here is the one the
projection would have rendered from the same events.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from projections.documents import DocumentChange, DocumentKind, fingerprint
from projections.ports import PositionedEvent, ProjectionSession
from projections.state import (
    ImageRow,
    LikeRow,
    PaymentRow,
    Row,
    StateTable,
    UserRow,
    UserStats,
    WebTrafficRow,
)


@dataclass(frozen=True, slots=True)
class ReplayState:
    """What a focused replay holds after some events: enough to go on from there.

    The state rows of every aggregate replayed so far, and the focus document's last
    rendered body (None if absent) with its fingerprint (None if never rendered).
    """

    rows: Mapping[StateTable, Mapping[str, Row]]
    body: dict[str, Any] | None
    fingerprint: str | None


class MemoryProjectionSession(ProjectionSession):
    """State rows by table and aggregate id, with the lookups the projector makes.

    With a ``focus``, only that document is rendered; every other one the projector asks
    for renders as absent, which it skips: a replay for one document need not pay for the
    others its events touch (the liker of a like, the owner of an image).
    """

    def __init__(self, focus: tuple[DocumentKind, str] | None = None) -> None:
        self._focus = focus
        self.rows: dict[StateTable, dict[str, Any]] = defaultdict(dict)
        self.bodies: dict[tuple[DocumentKind, str], dict[str, Any] | None] = {}
        self._fingerprints: dict[tuple[DocumentKind, str], str] = {}
        self._images_by_owner: dict[str, set[str]] = defaultdict(set)
        self._likes_by_image: dict[str, set[str]] = defaultdict(set)
        self._likes_by_user: dict[str, set[str]] = defaultdict(set)
        self._by_user: dict[StateTable, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        self._image_keys: dict[str, str] = {}
        self._user_keys: dict[str, str] = {}

    def export(self) -> ReplayState:
        """The state to go on from; only a focused session's is complete."""
        assert self._focus is not None, "only a focused replay is checkpointed"
        rows = {table: dict(table_rows) for table, table_rows in self.rows.items() if table_rows}
        return ReplayState(rows, self.bodies.get(self._focus), self._fingerprints.get(self._focus))

    @classmethod
    def restore(
        cls, focus: tuple[DocumentKind, str], state: ReplayState
    ) -> MemoryProjectionSession:
        """A focused session holding ``state``, as if it had replayed the events behind it."""
        session = cls(focus)
        for table, table_rows in state.rows.items():
            session.rows[table] = dict(table_rows)
            session._index_all(table, table_rows)
        if state.fingerprint is not None:
            session.bodies[focus] = state.body
            session._fingerprints[focus] = state.fingerprint
        return session

    def clone(self) -> MemoryProjectionSession:
        """A session holding the same state, sharing nothing that either one changes."""
        twin = MemoryProjectionSession(self._focus)
        for table, table_rows in self.rows.items():
            twin.rows[table] = dict(table_rows)  # rows themselves are immutable
        twin.bodies, twin._fingerprints = dict(self.bodies), dict(self._fingerprints)
        for mine, theirs in (
            (self._images_by_owner, twin._images_by_owner),
            (self._likes_by_image, twin._likes_by_image),
            (self._likes_by_user, twin._likes_by_user),
        ):
            theirs.update((k, set(v)) for k, v in mine.items())
        for table, by_user in self._by_user.items():
            twin._by_user[table].update((k, set(v)) for k, v in by_user.items())
        twin._image_keys, twin._user_keys = dict(self._image_keys), dict(self._user_keys)
        return twin

    def position(self) -> int:
        return 0

    def events_after(self, position: int, limit: int) -> list[PositionedEvent]:
        return []

    def load_rows(self, table: StateTable, keys: Collection[str]) -> dict[str, Row]:
        stored = self.rows[table]
        return {key: stored[key] for key in keys if key in stored}

    def save_rows(self, table: StateTable, rows: dict[str, Row | None]) -> None:
        for key, row in rows.items():
            previous = self.rows[table].pop(key, None)
            if previous is not None:
                self._unindex(key, previous)
            if row is not None:
                self.rows[table][key] = row
                self._index(key, row)

    def _index(self, key: str, row: Row) -> None:
        if isinstance(row, UserRow):
            self._user_keys[row.user_id] = key
        elif isinstance(row, ImageRow):
            self._image_keys[row.image_id] = key
            self._images_by_owner[row.owner_id].add(row.image_id)
        elif isinstance(row, LikeRow):
            self._likes_by_image[row.image_id].add(key)
            self._likes_by_user[row.user_id].add(key)
        elif isinstance(row, PaymentRow | WebTrafficRow):
            self._by_user[_table_of(row)][row.user_id].add(key)

    def _index_all(self, table: StateTable, rows: Mapping[str, Any]) -> None:
        """`_index` of every row of one table, without asking each row its type."""
        if table is StateTable.LIKES:
            by_image, by_user = self._likes_by_image, self._likes_by_user
            for key, like in rows.items():
                by_image[like.image_id].add(key)
                by_user[like.user_id].add(key)
        else:
            for key, row in rows.items():
                self._index(key, row)

    def _unindex(self, key: str, row: Row) -> None:
        if isinstance(row, UserRow):
            self._user_keys.pop(row.user_id, None)
        elif isinstance(row, ImageRow):
            self._image_keys.pop(row.image_id, None)
            self._images_by_owner[row.owner_id].discard(row.image_id)
        elif isinstance(row, LikeRow):
            self._likes_by_image[row.image_id].discard(key)
            self._likes_by_user[row.user_id].discard(key)
        elif isinstance(row, PaymentRow | WebTrafficRow):
            self._by_user[_table_of(row)][row.user_id].discard(key)

    # -- lookups the projector and the explanations make ----------------------------------

    def user(self, user_id: str) -> UserRow | None:
        key = self._user_keys.get(user_id)
        return None if key is None else self.rows[StateTable.USERS][key]

    def image(self, image_id: str) -> ImageRow | None:
        key = self._image_keys.get(image_id)
        return None if key is None else self.rows[StateTable.IMAGES][key]

    def images_of(self, user_id: str) -> list[ImageRow]:
        return [self.image(i) for i in sorted(self._images_by_owner.get(user_id, ()))]  # type: ignore[misc]

    def likes_of_image(self, image_id: str) -> list[LikeRow]:
        likes = self.rows[StateTable.LIKES]
        return sorted(
            (likes[k] for k in self._likes_by_image.get(image_id, ())), key=lambda r: r.user_id
        )

    def likes_by(self, user_id: str) -> list[LikeRow]:
        likes = self.rows[StateTable.LIKES]
        return sorted(
            (likes[k] for k in self._likes_by_user.get(user_id, ())), key=lambda r: r.image_id
        )

    def payments_of(self, user_id: str) -> list[PaymentRow]:
        payments = self.rows[StateTable.PAYMENTS]
        keys = self._by_user[StateTable.PAYMENTS].get(user_id, ())
        return sorted((payments[k] for k in keys), key=lambda r: r.payment_id)

    def images_owned_by(self, user_ids: Collection[str]) -> set[str]:
        return {i for u in user_ids for i in self._images_by_owner.get(u, ())}

    def owners_of(self, image_ids: Collection[str]) -> dict[str, str]:
        images = {i: self.image(i) for i in image_ids}
        return {i: row.owner_id for i, row in images.items() if row is not None}

    def _rendered(self, kind: DocumentKind, doc_id: str) -> bool:
        return self._focus is None or self._focus == (kind, doc_id)

    def user_views(self, user_ids: Collection[str]) -> dict[str, tuple[UserRow | None, UserStats]]:
        return {
            u: (self.user(u), self._stats(u))
            if self._rendered(DocumentKind.USERS, u)
            else (None, UserStats())
            for u in user_ids
        }

    def _stats(self, user_id: str) -> UserStats:
        images = self.images_of(user_id)
        traffic = self.rows[StateTable.ANALYTICS]
        return UserStats.of(
            images,
            likes_received=sum(len(self._likes_by_image.get(r.image_id, ())) for r in images),
            likes_given=len(self._likes_by_user.get(user_id, ())),
            payments=self.payments_of(user_id),
            traffic=[traffic[k] for k in self._by_user[StateTable.ANALYTICS].get(user_id, ())],
        )

    def image_views(
        self, image_ids: Collection[str]
    ) -> dict[str, tuple[ImageRow | None, int, UserRow | None]]:
        views: dict[str, tuple[ImageRow | None, int, UserRow | None]] = {}
        for image_id in image_ids:
            if not self._rendered(DocumentKind.IMAGES, image_id):
                views[image_id] = (None, 0, None)
                continue
            row = self.image(image_id)
            owner = None if row is None else self.user(row.owner_id)
            views[image_id] = (row, len(self._likes_by_image.get(image_id, ())), owner)
        return views

    def fingerprints(self, kind: DocumentKind, doc_ids: Collection[str]) -> dict[str, str]:
        found = ((d, self._fingerprints.get((kind, d))) for d in doc_ids)
        return {d: f for d, f in found if f is not None}

    def save_documents(self, changes: Sequence[DocumentChange]) -> None:
        for change in changes:
            self.bodies[(change.kind, change.doc_id)] = change.body
            self._fingerprints[(change.kind, change.doc_id)] = fingerprint(change.body)

    def advance(self, position: int) -> None:
        return None


def _table_of(row: PaymentRow | WebTrafficRow) -> StateTable:
    return StateTable.PAYMENTS if isinstance(row, PaymentRow) else StateTable.ANALYTICS
