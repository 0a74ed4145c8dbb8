"""The document projection's state, outbox and tracking, in the event-store database."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import orjson

from domain.kinds import TableKind
from infrastructure.adapters.eventstore.dialects import (
    Batch,
    Cursor,
    Dialect,
    ImmediateBatch,
    Statement,
    dialect_for,
)
from infrastructure.adapters.eventstore.generations import GenerationRegistry, for_generation
from infrastructure.adapters.eventstore.schema import (
    DOCUMENT_FEED_TABLES,
    PROJECTION_TABLES,
    UNRENDERED_TABLES,
)
from infrastructure.adapters.eventstore.state_tables import STATE_TABLES, add_declared_columns
from infrastructure.adapters.eventstore.store import EventStore
from projections.documents import DocumentChange, DocumentKind, fingerprint
from projections.folds import keyed_events
from projections.ports import (
    Neighbours,
    PositionedEvent,
    ProjectionInspection,
    ProjectionProgress,
    ProjectionSession,
    ProjectionStore,
)
from projections.state import (
    ImageRow,
    Row,
    StateTable,
    UserRow,
    UserStats,
    WebAnalytics,
)

PROJECTION_NAME = "documents"


_KIND_AND_ID = attrgetter("kind", "doc_id")


def _in_lock_order(changes: Sequence[DocumentChange]) -> list[DocumentChange]:
    # Writers of the same document rows take their locks in one order: no deadlocks.
    # A kind sorts as its value.
    return sorted(changes, key=_KIND_AND_ID)


def _newest_in_lock_order(changes: Sequence[DocumentChange]) -> list[DocumentChange]:
    """Each document once, at its highest version, in lock order."""
    newest: dict[tuple[str, str], DocumentChange] = {}
    for change in changes:
        key = (change.kind.value, change.doc_id)
        if key not in newest or newest[key].version < change.version:
            newest[key] = change
    return [newest[key] for key in sorted(newest)]


def _dump(body: dict[str, Any] | None) -> str | None:
    return None if body is None else orjson.dumps(body).decode()


def _load(text: str | None) -> Any:
    return None if text is None else orjson.loads(text)


_user_row: Callable[[Any], UserRow] = STATE_TABLES[StateTable.USERS].row
_image_row: Callable[[Any], ImageRow] = STATE_TABLES[StateTable.IMAGES].row


# What a user document is rendered from, each read for a set of user ids ({any}).
_USER_VIEW_READS = (
    "SELECT * FROM streamfold_user_state WHERE user_id {any}",
    "SELECT i.owner_id, MAX(i.created_at) AS latest, MAX(c.n) AS n "
    "FROM streamfold_image_state i JOIN ("
    " SELECT owner_id, MAX(uploaded_instant) AS newest, COUNT(*) AS n"
    " FROM streamfold_image_state WHERE owner_id {any} GROUP BY owner_id"
    ") c ON c.owner_id = i.owner_id AND c.newest = i.uploaded_instant "
    "GROUP BY i.owner_id",
    "SELECT i.owner_id AS id, COUNT(*) AS n FROM streamfold_like_state l "
    "JOIN streamfold_image_state i ON i.image_id = l.image_id "
    "WHERE i.owner_id {any} GROUP BY i.owner_id",
    "SELECT user_id AS id, COUNT(*) AS n FROM streamfold_like_state "
    "WHERE user_id {any} GROUP BY user_id",
    "SELECT user_id, SUM(amount_cents) AS total, COUNT(*) AS n "
    "FROM streamfold_payment_state WHERE status = 'paid' AND user_id {any} "
    "GROUP BY user_id",
    "SELECT user_id, SUM(sessions) AS sessions, SUM(pageviews) AS pageviews,"
    " MIN(visited_on) AS first_on, MAX(visited_on) AS last_on"
    " FROM streamfold_analytics_state WHERE user_id {any} GROUP BY user_id",
    # The first row of each user: no other row of that user is earlier by (day, source).
    "SELECT a.user_id, a.source, a.medium FROM streamfold_analytics_state a"
    " WHERE a.user_id {any} AND NOT EXISTS ("
    " SELECT 1 FROM streamfold_analytics_state b WHERE b.user_id = a.user_id"
    " AND (b.visited_on < a.visited_on"
    " OR (b.visited_on = a.visited_on AND b.source < a.source)))",
)

# What an image document is rendered from, each read for a set of image ids ({any}).
_IMAGE_VIEW_READS = (
    "SELECT * FROM streamfold_image_state WHERE image_id {any}",
    "SELECT image_id AS id, COUNT(*) AS n FROM streamfold_like_state "
    "WHERE image_id {any} GROUP BY image_id",
    "SELECT * FROM streamfold_user_state WHERE user_id IN ("
    " SELECT owner_id FROM streamfold_image_state WHERE image_id {any})",
)


_FINGERPRINTS = (
    "SELECT doc_id, fingerprint FROM streamfold_documents WHERE kind = '{}' AND doc_id {{any}}"
)
_USERS_FINGERPRINTS = _FINGERPRINTS.format(DocumentKind.USERS.value)
_IMAGES_FINGERPRINTS = _FINGERPRINTS.format(DocumentKind.IMAGES.value)

_DOCUMENT_COLUMNS = (
    ("kind", "TEXT"),
    ("doc_id", "TEXT"),
    ("version", "BIGINT"),
    ("body", "TEXT"),
    ("fingerprint", "TEXT"),
)


def _counted(records: list[Any]) -> dict[str, int]:
    return {r["id"]: int(r["n"]) for r in records}


def _web_analytics(totals: list[Any], first_rows: list[Any]) -> dict[str, WebAnalytics]:
    first = {r["user_id"]: (r["source"], r["medium"]) for r in first_rows}
    return {
        r["user_id"]: WebAnalytics(
            sessions=int(r["sessions"]),
            pageviews=int(r["pageviews"]),
            first_visit_on=r["first_on"],
            last_visit_on=r["last_on"],
            first_source=first[r["user_id"]][0],
            first_medium=first[r["user_id"]][1],
        )
        for r in totals
    }


@dataclass
class _Opening:
    """What a session read in its first round trip, beside taking the lock."""

    position: int
    rows: dict[StateTable, tuple[frozenset[str], dict[str, Row]]]  # keys asked, rows found
    unrendered: list[Any] | None  # rows of the documents left to render (None: read again)


class SqlProjectionSession(ProjectionSession):
    """A projection transaction; its statements go through a `Batch`.

    On PostgreSQL the writes (state rows, feeds, documents, the tracking position) wait
    for the next read or the commit and go out with it, and independent reads go out
    together: a batch of events costs four round trips (open, fan-out, views, commit).
    """

    keeps_feeds = True

    def __init__(
        self,
        store: EventStore,
        dialect: Dialect,
        batch: Batch,
        generation: int = 1,
        opening: _Opening | None = None,
    ) -> None:
        self._store = store
        self._dialect = dialect
        self._batch = batch
        self.generation = generation
        self._opening = opening
        self._position = None if opening is None else opening.position
        # Fingerprints read along with the views of the same documents, until a save.
        self._prefetched: dict[DocumentKind, tuple[frozenset[str], dict[str, str]]] = {}

    def _sql(self, statement: str) -> str:
        return self._dialect.sql(for_generation(statement, self.generation))

    def _query(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        (rows,) = self._read_together([(statement, params)])
        return rows

    def _read_together(
        self, statements: Sequence[tuple[str, Sequence[Any]]], one_message: bool = False
    ) -> list[list[Any]]:
        return self._batch.read(
            [(self._sql(statement), params) for statement, params in statements], one_message
        )

    def position(self) -> int:
        if self._position is None:
            self._position = _position_of(self._query(_TRACKING_POSITION, (PROJECTION_NAME,)))
        return self._position

    def events_after(self, position: int, limit: int) -> list[PositionedEvent]:
        recent = self._store.recent.after(position, limit)
        if recent:
            return recent
        return self._store.events_after(position, limit)

    def load_rows(self, table: StateTable, keys: Collection[str]) -> dict[str, Row]:
        if not keys:
            return {}
        if self._opening is not None and table in self._opening.rows:
            asked, found = self._opening.rows[table]
            if asked.issuperset(keys):
                return {key: found[key] for key in keys if key in found}
        records = self._query(_state_rows_statement(table), (self._dialect.values(keys),))
        return _rows_by_key(table, records)

    def save_rows(self, table: StateTable, rows: dict[str, Row | None]) -> None:
        if self._opening is not None:
            self._opening.rows.pop(table, None)  # no longer the state
        layout = STATE_TABLES[table]
        name, columns = layout.name, layout.columns
        ordered = sorted(rows)
        deletes = [key for key in ordered if rows[key] is None]
        keyed = layout.keyed
        upserts = [keyed(key, row) for key in ordered if (row := rows[key]) is not None]
        if deletes:
            self._batch.write(
                self._sql(f"DELETE FROM {name} WHERE aggregate_id {{any}}"),
                (self._dialect.values(deletes),),
            )
        if upserts:
            assignments = ", ".join(f"{c} = excluded.{c}" for c in columns)
            self._dialect.upsert(
                self._batch,
                self._sql,
                name,
                [("aggregate_id", "TEXT"), *((c.name, c.sql_type) for c in layout.fields)],
                f"ON CONFLICT (aggregate_id) DO UPDATE SET {assignments}",
                upserts,
            )

    def neighbours(
        self,
        liked_images: Collection[str],
        owners: Collection[str],
        fed_images: Collection[str] = (),
    ) -> Neighbours:
        # The three reads in one round trip, with the state rows saved before them.
        reads: list[tuple[str, Sequence[Any]]] = []
        for ids, statement in (
            (liked_images, _OWNERS_OF),
            (owners, _IMAGES_OWNED_BY),
            (fed_images, _LIKES_ON),
        ):
            if ids:
                reads.append((statement, (self._dialect.values(ids),)))
        results = iter(self._read_together(reads))
        of = next(results) if liked_images else []
        owned = next(results) if owners else []
        likes: dict[str, set[str]] = {}
        for record in next(results) if fed_images else []:
            likes.setdefault(record["image_id"], set()).add(record["aggregate_id"])
        return Neighbours(
            owners_of={r["image_id"]: r["owner_id"] for r in of},
            images_owned={r["image_id"] for r in owned},
            likes_on=likes,
        )

    def images_owned_by(self, user_ids: Collection[str]) -> set[str]:
        return self.neighbours((), user_ids).images_owned

    def owners_of(self, image_ids: Collection[str]) -> dict[str, str]:
        return self.neighbours(image_ids, ()).owners_of

    def likes_on(self, image_ids: Collection[str]) -> dict[str, set[str]]:
        return self.neighbours((), (), image_ids).likes_on

    def save_feeds(self, feeds: Collection[tuple[DocumentKind, str, str]]) -> None:
        if not feeds:
            return
        # Sorted: concurrent writers of the same rows take their locks in one order. A kind
        # sorts as its value; the drivers are given the values themselves (plain strings
        # bind faster than an enumeration's members).
        rows = [
            (_KIND_VALUES[kind], doc_id, aggregate) for kind, doc_id, aggregate in sorted(feeds)
        ]
        self._dialect.upsert(
            self._batch,
            self._dialect.sql,
            "streamfold_document_feeds",
            _FEED_COLUMNS,
            "ON CONFLICT DO NOTHING",
            rows,
        )

    def views(
        self, user_ids: Collection[str], image_ids: Collection[str]
    ) -> tuple[
        dict[str, tuple[UserRow | None, UserStats]],
        dict[str, tuple[ImageRow | None, int, UserRow | None]],
    ]:
        # Every read of both kinds of documents, and their fingerprints, in one round trip.
        users = (self._dialect.values(user_ids),)
        images = (self._dialect.values(image_ids),)
        reads = []
        if user_ids:
            reads += [(statement, users) for statement in (*_USER_VIEW_READS, _USERS_FINGERPRINTS)]
        if image_ids:
            reads += [
                (statement, images) for statement in (*_IMAGE_VIEW_READS, _IMAGES_FINGERPRINTS)
            ]
        results = self._read_together(reads, one_message=True)
        user_reads = len(_USER_VIEW_READS) + 1 if user_ids else 0
        return (
            self._user_views(user_ids, results[:user_reads]),
            self._image_views(image_ids, results[user_reads:]),
        )

    def user_views(self, user_ids: Collection[str]) -> dict[str, tuple[UserRow | None, UserStats]]:
        return self.views(user_ids, ())[0]

    def image_views(
        self, image_ids: Collection[str]
    ) -> dict[str, tuple[ImageRow | None, int, UserRow | None]]:
        return self.views((), image_ids)[1]

    def _user_views(
        self, user_ids: Collection[str], results: list[list[Any]]
    ) -> dict[str, tuple[UserRow | None, UserStats]]:
        if not user_ids:
            return {}
        records, uploads, received, given, paid, totals, first, stored = results
        self._prefetch(DocumentKind.USERS, user_ids, stored)
        rows = {record["user_id"]: _user_row(record) for record in records}
        upload_of = {r["owner_id"]: (int(r["n"]), r["latest"]) for r in uploads}
        received_by, given_by = _counted(received), _counted(given)
        paid_by = {r["user_id"]: (int(r["total"]), int(r["n"])) for r in paid}
        analytics = _web_analytics(totals, first)
        views = {}
        for user_id in user_ids:
            image_count, last_upload = upload_of.get(user_id, (0, None))
            total, payments = paid_by.get(user_id, (0, 0))
            stats = UserStats(
                image_count=image_count,
                likes_received=received_by.get(user_id, 0),
                likes_given=given_by.get(user_id, 0),
                last_upload_at=last_upload,
                lifetime_value_cents=total,
                payment_count=payments,
                analytics=analytics.get(user_id),
            )
            views[user_id] = (rows.get(user_id), stats)
        return views

    def _image_views(
        self, image_ids: Collection[str], results: list[list[Any]]
    ) -> dict[str, tuple[ImageRow | None, int, UserRow | None]]:
        if not image_ids:
            return {}
        records, likes, owner_records, stored = results
        self._prefetch(DocumentKind.IMAGES, image_ids, stored)
        rows = {r["image_id"]: _image_row(r) for r in records}
        like_counts = _counted(likes)
        owners = {r["user_id"]: _user_row(r) for r in owner_records}
        views: dict[str, tuple[ImageRow | None, int, UserRow | None]] = {}
        for image_id in image_ids:
            row = rows.get(image_id)
            owner = owners.get(row.owner_id) if row is not None else None
            views[image_id] = (row, like_counts.get(image_id, 0), owner)
        return views

    def _prefetch(self, kind: DocumentKind, doc_ids: Collection[str], records: list[Any]) -> None:
        fingerprints = {r["doc_id"]: r["fingerprint"] for r in records}
        self._prefetched[kind] = (frozenset(doc_ids), fingerprints)

    def fingerprints(self, kind: DocumentKind, doc_ids: Collection[str]) -> dict[str, str]:
        if not doc_ids:
            return {}
        prefetched_ids, prefetched = self._prefetched.get(kind, (frozenset(), {}))
        if prefetched_ids.issuperset(doc_ids):
            return {doc_id: prefetched[doc_id] for doc_id in doc_ids if doc_id in prefetched}
        records = self._query(
            "SELECT doc_id, fingerprint FROM streamfold_documents WHERE kind = ? AND doc_id {any}",
            (kind.value, self._dialect.values(doc_ids)),
        )
        return {r["doc_id"]: r["fingerprint"] for r in records}

    def rendered_versions(self, kind: DocumentKind, doc_ids: Collection[str]) -> dict[str, int]:
        """The version each named document was last rendered with (absent: never)."""
        if not doc_ids:
            return {}
        records = self._query(
            "SELECT doc_id, version FROM streamfold_documents WHERE kind = ? AND doc_id {any}",
            (kind.value, self._dialect.values(doc_ids)),
        )
        return {r["doc_id"]: int(r["version"]) for r in records}

    def save_documents(self, changes: Sequence[DocumentChange]) -> None:
        if not changes:
            return
        self._prefetched.clear()
        self._dialect.upsert(
            self._batch,
            self._sql,
            "streamfold_documents",
            _DOCUMENT_COLUMNS,
            "ON CONFLICT (kind, doc_id) DO UPDATE SET"
            " version = excluded.version, body = excluded.body,"
            " fingerprint = excluded.fingerprint",
            [
                (_KIND_VALUES[c.kind], c.doc_id, c.version, _dump(c.body), fingerprint(c.body))
                for c in _in_lock_order(changes)
            ],
        )

    def unrendered(self) -> tuple[set[str], set[str]]:
        known = None if self._opening is None else self._opening.unrendered
        records = known if known is not None else self._query(_UNRENDERED)
        users: set[str] = set()
        images: set[str] = set()
        for record in records:
            (users if record["kind"] == _USERS else images).add(record["doc_id"])
        return users, images

    def mark_unrendered(self, users: Collection[str], images: Collection[str], since: int) -> None:
        rows = [(_USERS, doc_id, since) for doc_id in users]
        rows += [(_IMAGES, doc_id, since) for doc_id in images]
        if not rows:
            return
        if self._opening is not None:
            self._opening.unrendered = None  # no longer what the table holds
        self._dialect.upsert(
            self._batch,
            self._sql,
            "streamfold_unrendered",
            _UNRENDERED_COLUMNS,
            "ON CONFLICT DO NOTHING",
            sorted(rows),  # lock order
        )

    def clear_unrendered(self, kinds: Collection[DocumentKind] | None = None) -> None:
        if kinds is None or set(kinds) >= _ALL_KINDS:
            self._batch.write(self._sql("DELETE FROM streamfold_unrendered"), ())
            if self._opening is not None:
                self._opening.unrendered = []
            return
        for kind in sorted(_KIND_VALUES[k] for k in kinds):
            self._batch.write(
                self._sql("DELETE FROM streamfold_unrendered WHERE kind = ?"), (kind,)
            )
        known = None if self._opening is None else self._opening.unrendered
        if known is not None and self._opening is not None:
            cleared = {_KIND_VALUES[k] for k in kinds}
            self._opening.unrendered = [r for r in known if r["kind"] not in cleared]

    def advance(self, position: int) -> None:
        self._batch.write(
            self._sql(
                "INSERT INTO streamfold_tracking (projection, position) VALUES (?, ?) "
                "ON CONFLICT (projection) DO UPDATE SET position = excluded.position"
            ),
            (PROJECTION_NAME, position),
        )
        self._position = position


_TRACKING_POSITION = "SELECT position FROM streamfold_tracking WHERE projection = ?"
_UNRENDERED = "SELECT kind, doc_id FROM streamfold_unrendered"
_UNRENDERED_COLUMNS = (("kind", "TEXT"), ("doc_id", "TEXT"), ("since", "BIGINT"))
_USERS, _IMAGES = DocumentKind.USERS.value, DocumentKind.IMAGES.value
_ALL_KINDS = frozenset(DocumentKind)
_OWNERS_OF = "SELECT image_id, owner_id FROM streamfold_image_state WHERE image_id {any}"
_IMAGES_OWNED_BY = "SELECT image_id FROM streamfold_image_state WHERE owner_id {any}"
_LIKES_ON = "SELECT aggregate_id, image_id FROM streamfold_like_state WHERE image_id {any}"
_KIND_VALUES = {kind: kind.value for kind in DocumentKind}
_FEED_COLUMNS = (("kind", "TEXT"), ("doc_id", "TEXT"), ("aggregate_id", "TEXT"))
# State rows read when a session opens: for at most this many events held in memory.
_OPENING_EVENTS = 10_000


def _state_rows_statement(table: StateTable) -> str:
    return f"SELECT * FROM {STATE_TABLES[table].name} WHERE aggregate_id {{any}}"


def _rows_by_key(table: StateTable, records: list[Any]) -> dict[str, Row]:
    layout = STATE_TABLES[table]
    return {record["aggregate_id"]: layout.row(record) for record in records}


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _position_of(records: list[Any]) -> int:
    return int(records[0]["position"]) if records else 0


class SqlProjectionStore(ProjectionStore, ProjectionInspection):
    """The projection store on the event store's own database (SQLite or PostgreSQL).

    Without ``generation`` it follows the live generation (what the handlers use); with
    one, it works on that generation alone, under a lock of its own (what a rebuild uses).
    """

    def __init__(self, store: EventStore, generation: int | None = None) -> None:
        self._store = store
        self._dialect = dialect_for(store)
        self._fixed = generation
        with self._store.reachable():
            self.registry = GenerationRegistry(self._dialect)
            with self._dialect.transaction() as cursor:
                self._dialect.begin_writing(cursor)  # before reading which tables to create
                # The generation a session expects to be live, checked as it opens.
                self._expected = generation or self.registry.live_number(cursor)
                self.create_tables(cursor, self._expected)
                self._dialect.create_tables(cursor, DOCUMENT_FEED_TABLES)
        self._folded = 0  # the position the last session of this store ended at

    def create_tables(self, cursor: Cursor, generation: int) -> None:
        statements = [
            for_generation(s, generation) for s in (*PROJECTION_TABLES, *UNRENDERED_TABLES)
        ]
        self._dialect.create_tables(cursor, statements)
        add_declared_columns(self._dialect, cursor, generation)

    def generation(self, cursor: Cursor) -> int:
        return self._fixed if self._fixed is not None else self.registry.live_number(cursor)

    @contextmanager
    def session(self) -> Iterator[ProjectionSession]:
        """The lock, the live generation, the tracking position, the documents left to
        render and the state rows of the events held in memory, read in the
        transaction's first round trip.

        The generation and the position are read after the lock is held (separate
        statements of one transaction). The tracking position and the state rows are read
        from the generation expected to be live; a session finding another one live reads
        its position then, and its state rows as they are asked for.
        """
        expected = self._expected
        lock = "documents" if self._fixed is None else f"generation-{self._fixed}"
        opening: list[Statement] = []
        if self._fixed is None:
            opening.append(self.registry.live_statement())
        reads = [(_TRACKING_POSITION, (PROJECTION_NAME,)), (_UNRENDERED, ())]
        # Only PostgreSQL saves a round trip by reading them now; SQLite reads them (the
        # same statement, in the same transaction) as the projector asks for them.
        asked = self._keys_in_memory() if self._store.is_postgres else {}
        tables = list(asked)
        reads += [(_state_rows_statement(t), (self._dialect.values(asked[t]),)) for t in tables]
        opening += [(self._dialect.sql(for_generation(s, expected)), p) for s, p in reads]
        with self._dialect.locked_transaction(lock, opening) as (batch, results):
            generation = expected
            if self._fixed is None:
                generation = self.registry.live_of(results[0])
            read = results[len(opening) - len(reads) :]
            if generation != expected:
                self._expected = generation
                session = SqlProjectionSession(self._store, self._dialect, batch, generation)
            else:
                rows = {
                    table: (frozenset(asked[table]), _rows_by_key(table, records))
                    for table, records in zip(tables, read[2:], strict=True)
                }
                opened = _Opening(_position_of(read[0]), rows, read[1])
                session = SqlProjectionSession(
                    self._store, self._dialect, batch, generation, opened
                )
            yield session
        self._folded = max(self._folded, session.position())

    def _keys_in_memory(self) -> dict[StateTable, set[str]]:
        """The state rows the events held in memory past this store's last session fold."""
        keys: dict[StateTable, set[str]] = {}
        for table, key, _ in keyed_events(self._store.recent.peek(self._folded, _OPENING_EVENTS)):
            keys.setdefault(table, set()).add(key)
        return keys

    @contextmanager
    def locked_live(self) -> Iterator[Cursor]:
        """A transaction holding the live projection's lock, for switching generations."""
        with self._store.reachable(), self._dialect.transaction() as cursor:
            self._dialect.lock_projection(cursor)
            yield cursor

    def session_on(self, cursor: Cursor, generation: int) -> SqlProjectionSession:
        """A session in a transaction (and a lock) the caller holds, statement by statement."""
        batch = ImmediateBatch(self._dialect, cursor)
        return SqlProjectionSession(self._store, self._dialect, batch, generation)

    def head(self) -> int:
        return self._store.head()

    def recorded(self) -> tuple[int, int] | None:
        return self._store.recent.take_recorded()

    def folded_elsewhere(self, position: int) -> None:
        self._store.recent.after(position, 0)  # lets go of those at or before it

    def pending_documents(self, limit: int) -> list[DocumentChange]:
        with self._store.reachable(), self._dialect.transaction() as cursor:
            return self.pending_on(cursor, self.generation(cursor), limit)

    def pending_on(self, cursor: Cursor, generation: int, limit: int) -> list[DocumentChange]:
        cursor.execute(
            self._dialect.sql(
                for_generation(
                    "SELECT kind, doc_id, version, body FROM streamfold_documents "
                    "WHERE version > synced_version ORDER BY version LIMIT ?",
                    generation,
                )
            ),
            (limit,),
        )
        return [
            DocumentChange(
                DocumentKind(r["kind"]), r["doc_id"], int(r["version"]), _load(r["body"])
            )
            for r in cursor.fetchall()
        ]

    def mark_synced(self, changes: Sequence[DocumentChange], generation: int | None = None) -> None:
        if not changes:
            return
        if generation is not None and self._store.is_postgres:
            # BEGIN, the rows locked in lock order, one set-wise UPDATE and COMMIT: one
            # round trip.
            self._dialect.commit_together(self._marks(generation, changes))
            return
        with self._store.reachable(), self._dialect.transaction() as cursor:
            self._dialect.begin_writing(cursor)
            if generation is None:
                generation = self.generation(cursor)
            self.mark_synced_on(cursor, generation, changes)

    def mark_synced_on(
        self, cursor: Cursor, generation: int, changes: Sequence[DocumentChange]
    ) -> None:
        if self._store.is_postgres:
            for statement, params in self._marks(generation, changes):
                cursor.execute(statement, params)
            return
        cursor.executemany(
            self._dialect.sql(
                for_generation(
                    "UPDATE streamfold_documents SET synced_version = ? "
                    "WHERE kind = ? AND doc_id = ? AND synced_version < ?",
                    generation,
                )
            ),
            [
                (c.version, c.kind.value, c.doc_id, c.version)
                for c in _newest_in_lock_order(changes)
            ],
        )

    def _marks(self, generation: int, changes: Sequence[DocumentChange]) -> list[Statement]:
        """PostgreSQL's marks: the rows locked in lock order first (no deadlock with another
        writer of them), then one UPDATE for all of them."""
        ordered = _newest_in_lock_order(changes)
        kinds = [c.kind.value for c in ordered]
        ids = [c.doc_id for c in ordered]
        # Counted: a row per document answered while the UPDATE is still on its way
        # would make the server speak first (another round trip).
        lock = (
            "SELECT count(*) FROM (SELECT 1 FROM streamfold_documents d"
            " JOIN unnest(?::text[], ?::text[]) WITH ORDINALITY AS m(kind, doc_id, rank)"
            " ON d.kind = m.kind AND d.doc_id = m.doc_id ORDER BY m.rank FOR UPDATE OF d)"
            " AS locked"
        )
        update = (
            "UPDATE streamfold_documents AS d SET synced_version = m.version"
            " FROM unnest(?::text[], ?::text[], ?::bigint[]) AS m(kind, doc_id, version)"
            " WHERE d.kind = m.kind AND d.doc_id = m.doc_id AND d.synced_version < m.version"
        )
        return [
            (self._dialect.sql(for_generation(lock, generation)), (kinds, ids)),
            (
                self._dialect.sql(for_generation(update, generation)),
                (kinds, ids, [c.version for c in ordered]),
            ),
        ]

    def documents_page(self, kind: DocumentKind, after_id: str, limit: int) -> list[DocumentChange]:
        """Rendered documents of a kind (tombstones included) in id order, for verify."""
        with self._store.reachable(), self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql(
                    for_generation(
                        "SELECT doc_id, version, body FROM streamfold_documents"
                        " WHERE kind = ? AND doc_id > ? ORDER BY doc_id LIMIT ?",
                        self.generation(cursor),
                    )
                ),
                (kind.value, after_id, limit),
            )
            records = cursor.fetchall()
        return [
            DocumentChange(kind, r["doc_id"], int(r["version"]), _load(r["body"])) for r in records
        ]

    # -- inspection: what the tools that report on the projection and repair it read ------

    def tracking_position(self, generation: int) -> int:
        """The last event the generation folded (0: none), without counting its outbox."""
        with self._store.reachable(), self._dialect.transaction() as cursor:
            return self._tracked(cursor, generation)

    def _tracked(self, cursor: Cursor, generation: int) -> int:
        cursor.execute(
            self._dialect.sql(
                for_generation(
                    "SELECT position FROM streamfold_tracking WHERE projection = ?", generation
                )
            ),
            (PROJECTION_NAME,),
        )
        tracked = cursor.fetchone()
        return 0 if tracked is None else int(tracked["position"])

    def progress(self, generation: int) -> ProjectionProgress:
        with self._store.reachable(), self._dialect.transaction() as cursor:
            position = self._tracked(cursor, generation)
            cursor.execute(
                for_generation(
                    "SELECT COUNT(*) AS n, MIN(version) AS oldest FROM streamfold_documents"
                    " WHERE version > synced_version",
                    generation,
                )
            )
            pending = cursor.fetchone()
            unrendered: Any = {"n": 0, "oldest": None}
            # A generation retired before the table existed has none, and nothing left.
            table = for_generation("streamfold_unrendered", generation)
            if self._dialect.column_names(cursor, table):
                cursor.execute(
                    self._dialect.sql(f"SELECT COUNT(*) AS n, MIN(since) AS oldest FROM {table}")
                )
                unrendered = cursor.fetchone()
        return ProjectionProgress(
            position=position,
            pending_documents=int(pending["n"]),
            oldest_pending_version=None if pending["oldest"] is None else int(pending["oldest"]),
            unrendered_documents=int(unrendered["n"]),
            oldest_unrendered_position=_int_or_none(unrendered["oldest"]),
        )

    def live_document_ids(self, kind: DocumentKind, after: str, limit: int) -> list[str]:
        rows = self._followed_query(
            "SELECT doc_id FROM streamfold_documents WHERE kind = ? AND doc_id > ?"
            " AND body IS NOT NULL ORDER BY doc_id LIMIT ?",
            (kind.value, after, limit),
        )
        return [row["doc_id"] for row in rows]

    def images_of_owner(self, owner_id: str) -> list[str]:
        rows = self._followed_query(
            "SELECT image_id FROM streamfold_image_state WHERE owner_id = ?", (owner_id,)
        )
        return sorted(row["image_id"] for row in rows)

    def documents_of_table(self, table: TableKind) -> dict[DocumentKind, set[str]]:
        users: set[str] = set()
        images: set[str] = set()
        if table is TableKind.USERS:
            users = self._distinct("user_id", "streamfold_user_state")
            images = self._distinct("image_id", "streamfold_image_state")  # the owner blocks
        elif table is TableKind.IMAGES:
            images = self._distinct("image_id", "streamfold_image_state")
            users = self._distinct("owner_id", "streamfold_image_state")
        elif table is TableKind.LIKES:
            rows = self._followed_query(
                "SELECT l.image_id, l.user_id, i.owner_id FROM streamfold_like_state l"
                " LEFT JOIN streamfold_image_state i ON i.image_id = l.image_id",
            )
            images = {r["image_id"] for r in rows}
            users = {r["user_id"] for r in rows} | {r["owner_id"] for r in rows if r["owner_id"]}
        else:
            users = self._distinct("user_id", "streamfold_payment_state")
        return {DocumentKind.USERS: users, DocumentKind.IMAGES: images}

    def state_keys(self, table: TableKind) -> set[tuple[str, ...]]:
        name, keys = _STATE_KEYS[table]
        rows = self._followed_query(f"SELECT {', '.join(keys)} FROM {name}")
        return {tuple(row[key] for key in keys) for row in rows}

    def _distinct(self, column: str, table: str) -> set[str]:
        rows = self._followed_query(f"SELECT DISTINCT {column} FROM {table}")
        return {row[column] for row in rows}

    def _followed_query(self, statement: str, params: Sequence[Any] = ()) -> list[Any]:
        """A read of the generation this store follows (the live one unless fixed)."""
        with self._store.reachable(), self._dialect.transaction() as cursor:
            generation = self.generation(cursor)
            cursor.execute(self._dialect.sql(for_generation(statement, generation)), params)
            return list(cursor.fetchall())


# The state table of each source table and the columns of its items' keys.
_STATE_KEYS = {
    TableKind.USERS: ("streamfold_user_state", ("user_id",)),
    TableKind.IMAGES: ("streamfold_image_state", ("image_id",)),
    TableKind.LIKES: ("streamfold_like_state", ("image_id", "user_id")),
    TableKind.PAYMENTS: ("streamfold_payment_state", ("user_id", "payment_id")),
}
