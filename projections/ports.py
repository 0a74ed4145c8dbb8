"""The ports the read side works through; adapters live in ``infrastructure``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from domain.errors import TransientFailure
from domain.kinds import TableKind
from domain.values import quick_init
from projections.documents import DocumentChange, DocumentKind
from projections.state import ImageRow, Row, StateTable, UserRow, UserStats

if TYPE_CHECKING:  # the query model is loaded by those who search, not by every writer
    from projections.query import SearchPage, SearchRequest


class SearchUnavailable(TransientFailure):
    """The search backend cannot take or answer requests right now."""


@quick_init
@dataclass(frozen=True, slots=True)
class PositionedEvent:
    position: int
    event: Any


@dataclass(frozen=True, slots=True)
class Neighbours:
    """What the documents of a batch's changes fan out to, in the state."""

    owners_of: dict[str, str]  # liked image -> its owner
    images_owned: set[str]  # every image of the users whose owner block changed
    likes_on: dict[str, set[str]]  # image -> the like aggregates (hex) on it


class ProjectionSession(ABC):
    """One locked transaction of the document projection."""

    # Whether this session indexes which aggregates fed which documents (see feeds.py);
    # a replay in memory does not need to.
    keeps_feeds = False
    # The projection generation whose tables this session works on.
    generation = 1

    def neighbours(
        self,
        liked_images: Collection[str],
        owners: Collection[str],
        fed_images: Collection[str] = (),
    ) -> Neighbours:
        """`owners_of` the liked images, `images_owned_by` the owners and `likes_on` the
        fed images, read together (a store may answer them in one round trip)."""
        return Neighbours(
            self.owners_of(liked_images),
            self.images_owned_by(owners),
            self.likes_on(fed_images) if fed_images else {},
        )

    def views(
        self, user_ids: Collection[str], image_ids: Collection[str]
    ) -> tuple[
        dict[str, tuple[UserRow | None, UserStats]],
        dict[str, tuple[ImageRow | None, int, UserRow | None]],
    ]:
        """`user_views` and `image_views`, read together, with the documents' fingerprints."""
        return self.user_views(user_ids), self.image_views(image_ids)

    def likes_on(self, image_ids: Collection[str]) -> dict[str, set[str]]:
        """The like aggregates (hex) on each of these images, in the state."""
        raise NotImplementedError

    def save_feeds(self, feeds: Collection[tuple[DocumentKind, str, str]]) -> None:
        """Keep (document kind, document id, aggregate id) rows; existing ones stay."""
        raise NotImplementedError

    @abstractmethod
    def position(self) -> int:
        """The global position of the last event this projection has folded (0 if none)."""

    @abstractmethod
    def events_after(self, position: int, limit: int) -> list[PositionedEvent]: ...

    @abstractmethod
    def load_rows(self, table: StateTable, keys: Collection[str]) -> dict[str, Row]:
        """State rows by aggregate id (hex); absent keys have no row."""

    @abstractmethod
    def save_rows(self, table: StateTable, rows: dict[str, Row | None]) -> None:
        """Upsert rows; a key mapped to None is deleted."""

    @abstractmethod
    def images_owned_by(self, user_ids: Collection[str]) -> set[str]: ...

    @abstractmethod
    def owners_of(self, image_ids: Collection[str]) -> dict[str, str]: ...

    @abstractmethod
    def user_views(self, user_ids: Collection[str]) -> dict[str, tuple[UserRow | None, UserStats]]:
        """Each user's row (None if absent) and the counts over its images, likes, payments."""

    @abstractmethod
    def image_views(
        self, image_ids: Collection[str]
    ) -> dict[str, tuple[ImageRow | None, int, UserRow | None]]:
        """Each image's row, its like count, and its owner's row."""

    @abstractmethod
    def fingerprints(self, kind: DocumentKind, doc_ids: Collection[str]) -> dict[str, str]:
        """The fingerprint of the last rendered body of each document ever rendered."""

    @abstractmethod
    def save_documents(self, changes: Sequence[DocumentChange]) -> None:
        """Store rendered documents; they stay pending until marked synced."""

    @abstractmethod
    def advance(self, position: int) -> None:
        """Move the projection's tracking position, in this same transaction."""

    def unrendered(self) -> tuple[set[str], set[str]]:
        """The users and images earlier folds changed and left to render
        (`mark_unrendered`); a session that always renders what it folds has none."""
        return set(), set()

    def mark_unrendered(self, users: Collection[str], images: Collection[str], since: int) -> None:
        """Keep these documents to render in a later transaction (they are searchable as
        they were until then); ``since``: the position of the first event that changed
        them (a document already kept keeps its earlier one)."""
        raise NotImplementedError("this session renders what it folds")

    def clear_unrendered(self, kinds: Collection[DocumentKind] | None = None) -> None:
        """The documents left to render (of ``kinds`` only, if given) are rendered, in this
        same transaction.

        A session that always renders what it folds has none to let go of.
        """
        return None


class ProjectionStore(ABC):
    """Projection state, rendered documents and tracking, all in the event-store database."""

    @abstractmethod
    def session(self) -> AbstractContextManager[ProjectionSession]:
        """A transaction holding the projection's lock; commits on success."""

    @abstractmethod
    def head(self) -> int:
        """The global position of the newest recorded event (0 if none)."""

    def recorded(self) -> tuple[int, int] | None:
        """The lowest and highest global positions this process recorded since it was last
        asked; None if it recorded none (or cannot tell), and then `head` is the target."""
        return None

    def folded_elsewhere(self, position: int) -> None:
        """Events up to ``position`` are folded by another process: keep none of them.

        A store that keeps no recorded events in memory has nothing to let go of.
        """
        return None

    @abstractmethod
    def pending_documents(self, limit: int) -> list[DocumentChange]:
        """Rendered documents not yet confirmed by the search backend, oldest first."""

    @abstractmethod
    def mark_synced(self, changes: Sequence[DocumentChange], generation: int | None = None) -> None:
        """Record that the backend holds these versions (or newer ones).

        ``generation``: the one whose session rendered them (default: the live one).
        """


@dataclass(frozen=True, slots=True)
class ProjectionProgress:
    """How far one generation of the projection got."""

    position: int  # the last event folded
    pending_documents: int  # rendered but not yet confirmed by the search backend
    oldest_pending_version: int | None
    unrendered_documents: int = 0  # changed by folded events, left to render
    oldest_unrendered_position: int | None = None  # the first event that changed one


class ProjectionInspection(ABC):
    """What the projection holds, read by the tools that report on it and repair it."""

    @abstractmethod
    def progress(self, generation: int) -> ProjectionProgress:
        """The tracking position and the pending documents of a generation."""

    @abstractmethod
    def live_document_ids(self, kind: DocumentKind, after: str, limit: int) -> list[str]:
        """Ids of the kind's rendered documents that have a body, in id order after ``after``."""

    @abstractmethod
    def images_of_owner(self, owner_id: str) -> list[str]:
        """The images the state says ``owner_id`` owns, sorted."""

    @abstractmethod
    def documents_of_table(self, table: TableKind) -> dict[DocumentKind, set[str]]:
        """The documents whose content comes from a table's items, as the state has them."""

    @abstractmethod
    def state_keys(self, table: TableKind) -> set[tuple[str, ...]]:
        """The keys of the items of a table the state holds."""


@dataclass(frozen=True, slots=True)
class DocumentFailure:
    change: DocumentChange
    reason: str


@dataclass
class WriteOutcome:
    written: int = 0
    # A newer version was already there: success, not an error.
    stale_writes_rejected: int = 0
    failed: list[DocumentFailure] = field(default_factory=list)  # permanent failures


class DeadLetters(ABC):
    """Where what failed for good is kept with its reason, for `streamfold dlq` (a port)."""

    @abstractmethod
    def put_documents(self, failures: Sequence[DocumentFailure]) -> None:
        """Keep documents the search backend refused for good, each with its reason."""


@dataclass(frozen=True, slots=True)
class IndexedDocument:
    kind: DocumentKind
    doc_id: str
    version: int
    body: dict[str, Any] | None  # None: a tombstone


class SearchIndex(ABC):
    """A search backend holding user and image documents behind stable names."""

    @abstractmethod
    def write(
        self,
        changes: Sequence[DocumentChange],
        into: Mapping[DocumentKind, str] | None = None,
    ) -> WriteOutcome:
        """Apply the changes, keeping the higher version of each document.

        Writes go through each kind's alias, or into the named physical index of a kind in
        ``into`` (a rebuild fills a new index that way). On return the written documents
        are durable and searchable. Raises SearchUnavailable when the backend cannot take
        the writes right now.
        """

    @abstractmethod
    def get(self, kind: DocumentKind, doc_id: str) -> IndexedDocument | None: ...

    @abstractmethod
    def search(self, kind: DocumentKind, request: SearchRequest) -> SearchPage: ...

    @abstractmethod
    def count(self, kind: DocumentKind, request: SearchRequest) -> int: ...

    @abstractmethod
    def alias_name(self, kind: DocumentKind) -> str:
        """The stable name queries read, e.g. ``streamfold-users``."""

    @abstractmethod
    def default_physical_name(self, kind: DocumentKind) -> str:
        """The physical index created on first use, e.g. ``streamfold-users-v1``."""

    @abstractmethod
    def alias_target(self, kind: DocumentKind) -> str | None:
        """The physical index the kind's alias points to (None before first use)."""

    @abstractmethod
    def create_physical_index(self, kind: DocumentKind, name: str) -> Any:
        """Create an empty physical index for the kind (idempotent)."""

    @abstractmethod
    def swap_alias(self, kind: DocumentKind, physical_name: str) -> str | None:
        """Point the kind's alias at a physical index atomically; returns the previous one."""

    def prepare(self) -> None:  # noqa: B027 - backends that create indices lazily may skip it
        """Create the indices and aliases if they are missing (idempotent)."""

    def set_deadline(self, deadline: float | None) -> None:  # noqa: B027 - optional
        """Bound retries of transient failures by a ``time.monotonic()`` deadline."""

    def make_searchable(self) -> None:  # noqa: B027 - backends searchable on return skip it
        """Make every write so far searchable now, whatever the refresh policy."""

    def close(self) -> None:  # noqa: B027 - optional for adapters without resources
        """Release connections and file handles."""
