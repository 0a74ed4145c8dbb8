"""The document projection: folds recorded events into state and renders documents."""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any

from projections.documents import VERSION_STEP, DocumentChange, DocumentKind, fingerprint
from projections.feeds import FeedCollector
from projections.folds import FOLDS, keyed_events
from projections.ports import PositionedEvent, ProjectionSession, ProjectionStore
from projections.render import render_image_document, render_user_document
from projections.state import ImageRow, LikeRow, Row, StateTable, UserRow

Progress = Callable[[int], None]  # the position folded so far


# Rendered documents a catch-up keeps for the search sync; past this many, the sync reads
# them back from the outbox instead (a long catch-up would otherwise hold them all).
KEEP_RENDERED = 100_000

Rendered = dict[int, dict[tuple[DocumentKind, str], DocumentChange]]


@dataclass
class ProjectionReport:
    events: int = 0
    batches: int = 0
    documents_rendered: int = 0
    position: int = 0
    # The documents the catch-up committed, by generation, each at its newest version
    # (None once more than KEEP_RENDERED: read them back from the outbox).
    rendered: Rendered | None = field(default_factory=dict)
    # Whether this catch-up itself folded every event this process recorded since the
    # last one: then `rendered` holds every document those events changed.
    complete: bool = False

    def keep(self, generation: int, documents: Sequence[DocumentChange]) -> None:
        if self.rendered is None:
            return
        kept = self.rendered.setdefault(generation, {})
        for document in documents:
            kept[(document.kind, document.doc_id)] = document
        if sum(len(each) for each in self.rendered.values()) > KEEP_RENDERED:
            self.rendered = None


@dataclass
class _Dirty:
    users: set[str] = field(default_factory=set)
    images: set[str] = field(default_factory=set)
    fan_out_users: set[str] = field(default_factory=set)  # owner block of their images changed
    liked_images: set[str] = field(default_factory=set)  # their owners' likes_received changed


class DocumentProjector:
    """Folds events in global order, one locked transaction per batch.

    The state, the rendered documents and the tracking position commit together, so a
    crash anywhere leaves either the whole batch or none of it.

    >>> DocumentProjector(store).catch_up()   # project everything recorded so far
    """

    def __init__(self, store: ProjectionStore, batch_size: int = 10_000) -> None:
        self._store = store
        # Events per transaction: a whole Lambda batch's (at most 10,000 records) at once,
        # so that a document touched all over the batch is rendered and written once.
        self._batch_size = batch_size

    def catch_up(
        self,
        until: int | None = None,
        progress: Progress | None = None,
        batch_size: int | None = None,
        recorded: tuple[int, int] | None = None,
        render: bool = True,
    ) -> ProjectionReport:
        """Project until the tracking position reaches ``until``.

        By default that is the newest event this process recorded since the last
        catch-up (the positions its inserts returned), or, if it recorded none, the head
        now. One locked transaction per batch, so that live handlers take turns with it;
        ``progress`` hears the position after each batch. ``batch_size`` overrides the
        events per transaction (a command's group folds in one). ``recorded``: the lowest
        and highest positions a process recorded since its last catch-up (its store's
        `recorded`), when that process hands its catch-up to another (`take_recorded`).

        Without ``render`` the events are folded and the documents they change are left
        to render (`ProjectionSession.mark_unrendered`): a command's second process folds
        its groups so and renders at most every few seconds, so that a document changed
        in every group is rendered and indexed once per render, not once per group. Any
        catch-up that renders (every other one) renders what was left too.
        """
        handed_over = until is None and recorded is not None
        if until is not None:
            recorded = None
        elif recorded is None:
            recorded = self._store.recorded()
        if until is not None:
            target = until
        elif recorded is not None:
            target = recorded[1]
        else:
            target = self._store.head()
        report = ProjectionReport()
        started: int | None = None
        while True:
            with self._store.session() as session:
                report.position = session.position()
                started = report.position if started is None else started
                limit = batch_size or self._batch_size
                if handed_over:
                    # Exactly what was handed over: the next hand-over starts right after
                    # it, so that catch-up too folds every event it is handed (`complete`).
                    limit = min(limit, target - report.position)
                events = self._next_batch(session, report.position, target, limit)
                if not events:
                    if render:
                        self._render_left(session, report)
                    break
                self._fold(session, events, report, render)
            if progress is not None:
                progress(report.position)
            if report.position >= target:
                # Another session would only read the position to find nothing to do.
                break
        report.complete = (
            recorded is not None
            and started is not None
            and started < recorded[0]
            and report.position >= recorded[1]
            and report.rendered is not None
        )
        return report

    def take_recorded(self) -> tuple[int, int] | None:
        """What this process recorded since the last catch-up (see `catch_up`), for a
        catch-up made elsewhere; the next catch-up here starts counting anew, and the
        events handed over are let go of (the other process reads them back)."""
        recorded = self._store.recorded()
        if recorded is not None:
            self._store.folded_elsewhere(recorded[1])
        return recorded

    def fold_all(self, session: ProjectionSession, batch_size: int | None = None) -> int:
        """Fold every recorded event into a session the caller holds; returns its position.

        Activation and resync hold the live lock for the whole of their work, so they
        fold inside it instead of a transaction per batch.
        """
        report = ProjectionReport(position=session.position())
        limit = batch_size or self._batch_size
        while events := session.events_after(report.position, limit):
            self._fold(session, events, report)
        self._render_left(session, report)
        return report.position

    def _next_batch(
        self, session: ProjectionSession, position: int, target: int, limit: int
    ) -> list[PositionedEvent]:
        if position >= target:
            return []
        return session.events_after(position, limit)

    def _fold(
        self,
        session: ProjectionSession,
        events: Sequence[PositionedEvent],
        report: ProjectionReport,
        render: bool = True,
    ) -> None:
        documents = self.project(session, events, render)
        report.documents_rendered += len(documents)
        report.keep(session.generation, documents)
        report.position = events[-1].position
        session.advance(report.position)
        report.events += len(events)
        report.batches += 1

    def render_left(self, kinds: Collection[DocumentKind] | None = None) -> ProjectionReport:
        """Render, in a transaction of its own, what earlier folds left to render (of
        ``kinds`` only, if given), folding nothing.

        A command's end folds its last events leaving their documents to render, then
        renders one kind here while its second process renders the other (`SettleGroups`):
        the two transactions take turns, their index writes do not.
        """
        report = ProjectionReport()
        with self._store.session() as session:
            report.position = session.position()
            self._render_left(session, report, kinds)
        return report

    def _render_left(
        self,
        session: ProjectionSession,
        report: ProjectionReport,
        kinds: Collection[DocumentKind] | None = None,
    ) -> None:
        """Render what earlier folds left to render (of ``kinds`` only, if given), with
        nothing new to fold."""
        users, images = session.unrendered()
        if kinds is not None:
            users = users if DocumentKind.USERS in kinds else set()
            images = images if DocumentKind.IMAGES in kinds else set()
        if not users and not images:
            return
        documents = self._render(
            session, _Dirty(users=users, images=images), version=report.position * VERSION_STEP
        )
        session.save_documents(documents)
        session.clear_unrendered(kinds)
        report.documents_rendered += len(documents)
        report.keep(session.generation, documents)

    def project(
        self, session: ProjectionSession, events: Sequence[PositionedEvent], render: bool = True
    ) -> list[DocumentChange]:
        """Fold the events into the state and render the documents they changed (with
        those earlier folds left to render); without ``render``, leave those to render
        too and return none."""
        folded = keyed_events(events)
        rows = self._load_rows(session, folded)
        # The rows each event changed, by table in the order the tables were first seen.
        changed: dict[StateTable, dict[str, Row | None]] = {table: {} for table in rows}
        dirty = _Dirty()
        # Which aggregates fed which documents, indexed in the batch's own transaction.
        feeds = FeedCollector() if session.keeps_feeds else None
        # Per table: its rows so far, the rows changed, its fold and its dirty marks.
        handling = {
            table: (rows[table], changed[table], FOLDS[table], _MARKS[table]) for table in rows
        }
        for table, key, event in folded:
            table_rows, table_changed, fold, mark = handling[table]
            before = table_rows.get(key)
            table_rows[key] = table_changed[key] = after = fold(before, event)
            mark(dirty, before, after)
            if feeds is not None:
                feeds.change(table, key, before, after)
        for table, table_rows in changed.items():
            session.save_rows(table, table_rows)
        near = session.neighbours(
            dirty.liked_images, dirty.fan_out_users, feeds.new_owners.keys() if feeds else ()
        )
        dirty.images |= near.images_owned
        dirty.users |= set(near.owners_of.values())
        if feeds is not None:
            # ``owners_of`` maps the batch's liked images to their owners in the state now.
            session.save_feeds(feeds.complete(near.owners_of, near.likes_on))
        if not render:
            session.mark_unrendered(dirty.users, dirty.images, since=events[0].position)
            return []
        left_users, left_images = session.unrendered()
        if left_users or left_images:
            dirty.users |= left_users
            dirty.images |= left_images
        documents = self._render(session, dirty, version=events[-1].position * VERSION_STEP)
        session.save_documents(documents)
        if left_users or left_images:
            session.clear_unrendered()
        return documents

    @staticmethod
    def _load_rows(
        session: ProjectionSession, folded: Sequence[tuple[StateTable, str, Any]]
    ) -> dict[StateTable, dict[str, Any]]:
        keys: dict[StateTable, set[str]] = {}
        for table, key, _ in folded:
            if table in keys:
                keys[table].add(key)
            else:
                keys[table] = {key}
        return {table: dict(session.load_rows(table, each)) for table, each in keys.items()}

    def render(
        self,
        session: ProjectionSession,
        users: Collection[str],
        images: Collection[str],
        version: int,
    ) -> list[DocumentChange]:
        """Render these documents from the session's state; unchanged ones are left out.

        A rebuild renders every document once this way, after folding every event.
        """
        return self._render(session, _Dirty(users=set(users), images=set(images)), version)

    @staticmethod
    def bodies(
        session: ProjectionSession, kind: DocumentKind, doc_ids: Collection[str]
    ) -> dict[str, dict[str, Any] | None]:
        """The documents as the session's state renders them now, changed or not.

        A resync or an in-place migration rewrites them whatever was rendered before.
        """
        if kind is DocumentKind.USERS:
            users = session.user_views(doc_ids)
            return {uid: render_user_document(*users[uid]) for uid in doc_ids}
        images = session.image_views(doc_ids)
        return {iid: render_image_document(*images[iid]) for iid in doc_ids}

    def _render(
        self, session: ProjectionSession, dirty: _Dirty, version: int
    ) -> list[DocumentChange]:
        rendered: list[DocumentChange] = []
        users, images = session.views(dirty.users, dirty.images)
        bodies = {uid: render_user_document(*users[uid]) for uid in dirty.users}
        rendered += _changes(session, DocumentKind.USERS, bodies, version)
        bodies = {iid: render_image_document(*images[iid]) for iid in dirty.images}
        rendered += _changes(session, DocumentKind.IMAGES, bodies, version)
        return rendered


def _changes(
    session: ProjectionSession,
    kind: DocumentKind,
    bodies: dict[str, dict[str, Any] | None],
    version: int,
) -> list[DocumentChange]:
    """Only documents whose body differs from the last rendered one need writing."""
    stored = session.fingerprints(kind, bodies.keys())
    changes = []
    for doc_id, body in bodies.items():
        previous = stored.get(doc_id)
        if previous is None and body is None:
            continue  # never written, nothing to delete
        if previous is not None and previous == fingerprint(body):
            continue
        changes.append(DocumentChange(kind, doc_id, version, body))
    return changes


_OWNER_FIELDS = ("name", "email", "plan", "country")
_OWNER_BLOCK = attrgetter(*_OWNER_FIELDS)


def _mark_user(dirty: _Dirty, before: UserRow | None, after: UserRow | None) -> None:
    row = after if after is not None else before
    if row is None:
        return
    dirty.users.add(row.user_id)
    if _owner_block(before) != _owner_block(after):
        dirty.fan_out_users.add(row.user_id)


def _mark_image(dirty: _Dirty, before: ImageRow | None, after: ImageRow | None) -> None:
    for image in (before, after):
        if image is not None:
            dirty.images.add(image.image_id)
            dirty.users.add(image.owner_id)


def _mark_like(dirty: _Dirty, before: LikeRow | None, after: LikeRow | None) -> None:
    row = after if after is not None else before
    if row is None:
        return
    dirty.images.add(row.image_id)
    dirty.users.add(row.user_id)
    dirty.liked_images.add(row.image_id)


def _mark_user_of(dirty: _Dirty, before: Any, after: Any) -> None:
    # A payment's or a web-traffic row's user; rendered once the user exists, if not yet.
    row = after if after is not None else before
    if row is not None:
        dirty.users.add(row.user_id)


# Which documents an event's effect on a row of each state table makes dirty.
_MARKS: dict[StateTable, Callable[[_Dirty, Any, Any], None]] = {
    StateTable.USERS: _mark_user,
    StateTable.IMAGES: _mark_image,
    StateTable.LIKES: _mark_like,
    StateTable.PAYMENTS: _mark_user_of,
    StateTable.ANALYTICS: _mark_user_of,
}


def _owner_block(row: UserRow | None) -> tuple[str, ...] | None:
    return None if row is None else _OWNER_BLOCK(row)
