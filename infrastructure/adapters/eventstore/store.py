"""The event store: an eventsourcing application on SQLite or PostgreSQL."""

from __future__ import annotations

import sys
import threading
from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import (
    IntegrityError,
    InterfaceError,
    OperationalError,
    PersistenceError,
    StoredEvent,
    Transcoder,
)

from domain.aggregate import SourceAggregate
from domain.errors import ConcurrentChange, TransientFailure
from domain.identity import aggregate_id_of
from domain.intake import ItemLedger, Pending, PositionMove
from domain.positions import ItemPosition
from infrastructure.adapters.eventstore.recent_events import RecentEvents
from infrastructure.adapters.eventstore.transcoder import EventCodec, OrjsonTranscoder
from infrastructure.settings import EventStoreTarget, PostgresStore, SQLiteStore
from projections.ports import PositionedEvent

# Named, not imported: the stream handler on PostgreSQL never loads the SQLite recorder,
# and a process on SQLite never loads the PostgreSQL one (nor psycopg, about 0.07 s).
_SQLITE_FACTORY = "infrastructure.adapters.eventstore.sqlite_factory:TunedSQLiteFactory"
_POSTGRES_RECORDER = "infrastructure.adapters.eventstore.postgres_recorder"

if TYPE_CHECKING:  # each loaded by eventsourcing only when the store is of its kind
    from typing_extensions import TypeIs

    from infrastructure.adapters.eventstore.postgres_recorder import PostgresSourceRecorder
    from infrastructure.adapters.eventstore.sqlite_recorder import SQLiteSourceRecorder

_QUERY_CHUNK = 5000
_COLLECT_EVENTS = BaseAggregate.collect_events


class EventStoreUnavailable(TransientFailure):
    """The event-store database cannot be reached or is overloaded."""


class SourceEventLog(Application[UUID]):
    """The domain events of every source item, in one global order."""

    name = "streamfold"

    def construct_transcoder(self) -> Transcoder:
        transcoder = OrjsonTranscoder()
        self.register_transcodings(transcoder)
        return transcoder


def application_environment(target: EventStoreTarget) -> dict[str, str]:
    if isinstance(target, SQLiteStore):
        target.path.parent.mkdir(parents=True, exist_ok=True)
        return {
            "PERSISTENCE_MODULE": _SQLITE_FACTORY,
            "SQLITE_DBNAME": str(target.path),
            "SQLITE_LOCK_TIMEOUT": "60",
            "APPLICATION_RECORDER_TOPIC": (
                "infrastructure.adapters.eventstore.sqlite_recorder:SQLiteSourceRecorder"
            ),
        }
    return {
        "PERSISTENCE_MODULE": (
            "infrastructure.adapters.eventstore.postgres_deadline:DeadlineBoundPostgresFactory"
        ),
        "POSTGRES_DBNAME": target.dbname,
        "POSTGRES_HOST": target.host,
        "POSTGRES_PORT": str(target.port),
        "POSTGRES_USER": target.user,
        "POSTGRES_PASSWORD": target.password,
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": "2",
        "POSTGRES_MAX_OVERFLOW": "4",
        "POSTGRES_LOCK_TIMEOUT": "30",
        # Pooled connections outlive a database restart or a network cut, but they are not
        # checked before use (a round trip per transaction): the first exchange of a
        # transaction finding its connection broken runs again on a fresh one instead
        # (`postgres_pipeline.opened`), so the first batch after an outage succeeds.
        "APPLICATION_RECORDER_TOPIC": f"{_POSTGRES_RECORDER}:PostgresSourceRecorder",
    }


_SCHEMA_LOCK_KEY = 0x5F_5C4E  # the same key as the PostgreSQL dialect's DDL lock


@contextmanager
def schema_lock(target: EventStoreTarget) -> Iterator[None]:
    """Serialize schema creation across processes.

    PostgreSQL's ``CREATE TABLE IF NOT EXISTS`` is not safe against a concurrent twin: two
    cold Lambda containers can both fail on the catalog's unique index. SQLite serializes
    DDL by its write lock already.
    """
    if not isinstance(target, PostgresStore):
        yield
        return
    import psycopg

    try:
        connection = psycopg.connect(
            host=target.host,
            port=target.port,
            user=target.user,
            password=target.password,
            dbname=target.dbname,
            connect_timeout=5,
            autocommit=True,
        )
    except psycopg.Error as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise EventStoreUnavailable(
            f"cannot reach the event store {target.describe()}: {message}"
        ) from None
    with connection:
        connection.execute("SELECT pg_advisory_lock(%s)", (_SCHEMA_LOCK_KEY,))
        try:
            yield
        finally:
            connection.execute("SELECT pg_advisory_unlock(%s)", (_SCHEMA_LOCK_KEY,))


class EventStore:
    """Opens the event store named by a target and gives access to its parts."""

    def __init__(self, target: EventStoreTarget) -> None:
        self.target = target
        try:
            with schema_lock(target):
                self.event_log = SourceEventLog(env=application_environment(target))
        except (InterfaceError, OperationalError) as error:
            raise EventStoreUnavailable(self._unreachable(error)) from None
        self.recorder = cast(
            "SQLiteSourceRecorder | PostgresSourceRecorder", self.event_log.recorder
        )
        self.recent = RecentEvents()
        # The library's mapper in bulk, for the events the intake writes and reads back.
        self.codec = EventCodec(self.event_log.mapper)

    @property
    def is_postgres(self) -> bool:
        return isinstance(self.target, PostgresStore)

    def describe(self) -> str:
        if isinstance(self.target, PostgresStore):
            return self.target.describe()
        return f"sqlite:///{self.target.path}"

    def _unreachable(self, error: Exception) -> str:
        return f"cannot reach the event store {self.describe()}: {str(error).splitlines()[0]}"

    @contextmanager
    def reachable(self) -> Iterator[None]:
        """Turns the driver's connection-level errors into `EventStoreUnavailable`.

        A database that is down, stalled or out of connections is a transient failure:
        the caller retries (a Lambda batch reports its records for retry). Errors that
        retrying cannot fix (integrity, programming) pass through as they are.
        """
        try:
            yield
        except (InterfaceError, OperationalError) as error:
            raise EventStoreUnavailable(self._unreachable(error)) from None

    def hold_commits(self) -> None:
        """Let this thread's writes from now on commit together, at `commit_held`.

        On SQLite a command's group of batches so commits once
        (`sqlite_factory.TunedSQLiteDatastore`); PostgreSQL commits each batch as before.
        """
        datastore = self._holding_datastore()
        if datastore is not None:
            with self.reachable():
                datastore.hold_commits(self.recorder.events_table_name)

    def commit_held(self) -> None:
        """Commit what this thread wrote since `hold_commits` (nothing if it holds none)."""
        datastore = self._holding_datastore()
        if datastore is not None:
            with self.reachable():
                datastore.commit_held()

    def _holding_datastore(self) -> Any:
        """The datastore, if it can hold commits (SQLite's); else None."""
        datastore = self.event_log.factory.datastore  # type: ignore[attr-defined]
        return datastore if isinstance(datastore, _held_commits()) else None

    def head(self) -> int:
        with self.reachable():
            return self.recorder.max_notification_id() or 0

    def events_after(self, position: int, limit: int) -> list[PositionedEvent]:
        """At most ``limit`` events after ``position``, in global order, as domain events.

        On SQLite the rows are read as plain tuples and decoded in bulk (`EventCodec`):
        the library's notifications and mapper cost a quarter more for the events a
        command's second process reads back to fold (docs/performance.md).
        """
        recorder = self.recorder
        if _on_postgres(recorder):
            notifications = recorder.select_notifications(start=position + 1, limit=limit)
            mapper = self.event_log.mapper
            return [PositionedEvent(n.id, mapper.to_domain_event(n)) for n in notifications]
        decode = self.codec.domain_event
        return [
            PositionedEvent(row[0], decode(UUID(row[1]), row[2], row[3], row[4]))
            for row in recorder.select_event_rows_after(position, limit)
        ]

    def close(self) -> None:
        self.event_log.close()


class EventSourcedItemLedger(ItemLedger):
    """The intake's port onto the event store."""

    def __init__(self, store: EventStore) -> None:
        self._store = store
        self._codec = store.codec
        # The events read along with the last positions, per thread (see `positions`).
        self._read_along = threading.local()

    def positions(self, item_keys: Collection[str]) -> dict[str, ItemPosition]:
        """The items' positions; on PostgreSQL their aggregates' events come along.

        The intake asks for the aggregates of the same items next (an item's aggregate id
        is derived from its key, `domain.identity`): both reads go out in one round trip,
        and `load` is answered from what came back.
        """
        keys = list(item_keys)
        recorder = self._store.recorder
        with _transient(self._store):
            if not _on_postgres(recorder):
                found: dict[str, ItemPosition] = {}
                for start in range(0, len(keys), _QUERY_CHUNK):
                    found.update(recorder.select_positions(keys[start : start + _QUERY_CHUNK]))
                return found
            ids = [aggregate_id_of(key) for key in keys]
            found, events = recorder.select_positions_and_events(keys, ids, _QUERY_CHUNK)
        self._read_along.events = (frozenset(ids), events)
        return found

    def load(self, ids: Collection[UUID]) -> dict[UUID, SourceAggregate]:
        by_id: dict[UUID, list[Any]] = {}
        decode = self._codec.domain_event
        for originator_id, version, topic, state in self._events_of(ids):
            events = by_id.get(originator_id)
            if events is None:
                events = by_id[originator_id] = []
            events.append(decode(originator_id, version, topic, state))
        aggregates: dict[UUID, SourceAggregate] = {}
        for aggregate_id, events in by_id.items():
            aggregate = None
            for event in events:
                aggregate = event.mutate(aggregate)
            aggregates[aggregate_id] = cast(SourceAggregate, aggregate)
        return aggregates

    def _events_of(self, ids: Collection[UUID]) -> list[tuple[UUID, int, str, bytes]]:
        """The aggregates' stored events (id, version, topic, state), in order of aggregate
        and version: those read along with the positions if they cover every one of
        ``ids``, else read now."""
        read_along = getattr(self._read_along, "events", None)
        self._read_along.events = None
        if read_along is not None and read_along[0].issuperset(ids):
            wanted = ids if isinstance(ids, set | frozenset) else set(ids)
            found: list[tuple[UUID, int, str, bytes]] = []
            for e in read_along[1]:
                originator_id = UUID(str(e.originator_id))
                if originator_id in wanted:
                    found.append((originator_id, e.originator_version, e.topic, e.state))
            return found
        recorder = self._store.recorder
        if _on_postgres(recorder):
            id_list = list(ids)
            stored: list[StoredEvent] = []
            with _transient(self._store):
                for start in range(0, len(id_list), _QUERY_CHUNK):
                    stored += recorder.select_events_of(id_list[start : start + _QUERY_CHUNK])
            return [
                (UUID(str(e.originator_id)), e.originator_version, e.topic, e.state) for e in stored
            ]
        # Rows name their aggregate in hex: each takes the UUID it was asked by.
        by_hex = {i.hex: i for i in ids}
        hex_ids = list(by_hex)
        rows: list[Any] = []
        with _transient(self._store):
            for start in range(0, len(hex_ids), _QUERY_CHUNK):
                rows += recorder.select_event_rows_of(hex_ids[start : start + _QUERY_CHUNK])
        return [(by_hex[row[0]], row[1], row[2], row[3]) for row in rows]

    def record(self, aggregates: Sequence[Pending], moves: Sequence[PositionMove]) -> None:
        if not aggregates and not moves:
            return
        with _transient(self._store):
            # What the event store's put() does, without its Recording and Notification
            # objects (save() also checks every object against runtime protocols): the
            # library's mapping to stored events, then its recorder's insert.
            events: list[Any] = []
            for aggregate in aggregates:
                if not isinstance(aggregate, BaseAggregate):
                    events.append(aggregate)  # a new item's creation event alone
                elif type(aggregate).collect_events is _COLLECT_EVENTS:
                    # The library's collect_events, which pops the events one by one.
                    pending = aggregate._pending_events
                    events += pending
                    pending.clear()
                else:
                    events += aggregate.collect_events()
            recorder = self._store.recorder
            try:
                if _on_postgres(recorder):
                    stored = self._codec.stored(events)
                    ids = recorder.insert_events(stored, position_moves=moves)
                else:  # the same rows, bound as the recorder binds stored events
                    ids = recorder.insert_event_rows(self._codec.rows(events), position_moves=moves)
            except IntegrityError as conflict:
                raise ConcurrentChange(str(conflict)) from None
            except OperationalError as error:
                if _is_deadlock(error):
                    raise ConcurrentChange(str(error)) from None
                raise
        if ids:
            if len(ids) != len(events):
                raise AssertionError("the recorder returned an id for each event or none")
            self._store.recent.add(zip(ids, events, strict=True))


def _held_commits() -> tuple[type, ...]:
    """The datastore that holds commits, if its module is loaded (on PostgreSQL it never
    is): a datastore of none of these commits each transaction."""
    module = sys.modules.get(_SQLITE_FACTORY.split(":")[0])
    return (module.TunedSQLiteDatastore,) if module is not None else ()


def _on_postgres(recorder: object) -> TypeIs[PostgresSourceRecorder]:
    """Whether ``recorder`` is PostgreSQL's. Where its module was never loaded (a store on
    SQLite) no recorder can be one, and psycopg stays unloaded."""
    module = sys.modules.get(_POSTGRES_RECORDER)
    return module is not None and isinstance(recorder, module.PostgresSourceRecorder)


def _is_deadlock(error: Exception) -> bool:
    errors = sys.modules.get("psycopg.errors")  # loaded wherever the store is PostgreSQL
    cause = error.__cause__
    deadlock = errors is not None and isinstance(cause, errors.DeadlockDetected)
    return deadlock or "deadlock detected" in str(error)


class _transient:
    """Turns connection-level database errors into EventStoreUnavailable."""

    def __init__(self, store: EventStore) -> None:
        self._store = store

    def __enter__(self) -> None:
        return None

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, _: Any
    ) -> None:
        if isinstance(exc, InterfaceError | OperationalError) or (
            isinstance(exc, PersistenceError) and not isinstance(exc, IntegrityError)
        ):
            raise EventStoreUnavailable(self._store._unreachable(exc)) from None
