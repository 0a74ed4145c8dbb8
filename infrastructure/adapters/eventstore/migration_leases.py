"""At most one migration per kind at a time: leases in the event-store database.

A migration takes a lease on each kind it changes, in one transaction (all or none), and
renews it while it works. A second migration of the same kind is refused with who holds
it and until when. A job that dies stops renewing: its lease expires and the next
migration takes over (and resumes the work, which the rebuild keeps). On the same host a
holder whose process is gone counts as expired at once.

>>> leases = MigrationLeases(app.event_store)
>>> with leases.holding([DocumentKind.USERS], seconds=300) as lease:
...     lease.renew()
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from infrastructure.adapters.eventstore.dialects import Cursor, dialect_for
from infrastructure.adapters.eventstore.store import EventStore
from infrastructure.settings import ConfigError
from projections.documents import DocumentKind

LEASE_TABLE = (
    "CREATE TABLE IF NOT EXISTS streamfold_migration_leases ("
    " kind TEXT PRIMARY KEY, holder TEXT NOT NULL, acquired_at TEXT NOT NULL,"
    " expires_at TEXT NOT NULL)"
)
_NEVER = datetime(1970, 1, 1, tzinfo=UTC)

Clock = Callable[[], datetime]


class MigrationRunning(ConfigError):
    """Another migration holds the lease of a kind."""


class LeaseLost(RuntimeError):
    """The lease expired and another migration took it: this one must stop."""


@dataclass(frozen=True)
class LeaseRecord:
    kind: str
    holder: str
    acquired_at: datetime
    expires_at: datetime


def new_holder() -> str:
    """``host:pid:token``: who holds a lease, and enough to tell whether it still runs."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _gone(holder: str) -> bool:
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class MigrationLeases:
    """The lease table of one event store."""

    def __init__(self, store: EventStore, clock: Clock | None = None) -> None:
        self._store = store
        self._dialect = dialect_for(store)
        self._clock = clock or (lambda: datetime.now(UTC))
        with self._dialect.transaction() as cursor:
            self._dialect.create_tables(cursor, [LEASE_TABLE])

    def acquire(self, kinds: Sequence[DocumentKind], holder: str, seconds: float) -> None:
        """Take the lease of every kind, or none; raises MigrationRunning."""
        now = self._clock()
        names = sorted(kind.value for kind in kinds)
        with self._dialect.transaction() as cursor:
            for name in names:  # a write first: SQLite takes its write lock here
                cursor.execute(
                    self._dialect.sql(
                        "INSERT INTO streamfold_migration_leases"
                        " (kind, holder, acquired_at, expires_at) VALUES (?, '', ?, ?)"
                        " ON CONFLICT (kind) DO NOTHING"
                    ),
                    (name, _text(_NEVER), _text(_NEVER)),
                )
            for record in self._locked(cursor, names):
                if record.holder in ("", holder) or record.expires_at <= now:
                    continue
                if _gone(record.holder):
                    continue
                raise MigrationRunning(
                    f"a migration of {record.kind} is already running ({record.holder}, "
                    f"since {_shown(record.acquired_at)}, lease until "
                    f"{_shown(record.expires_at)}); wait for it to finish: a job that "
                    "died releases its lease when the lease expires"
                )
            self._hold(cursor, names, holder, now, seconds)

    def renew(self, kinds: Sequence[DocumentKind], holder: str, seconds: float) -> None:
        """Extend the leases; raises LeaseLost if another migration took one over."""
        names = sorted(kind.value for kind in kinds)
        with self._dialect.transaction() as cursor:
            self._write_lock(cursor, names)
            for record in self._locked(cursor, names):
                if record.holder != holder:
                    raise LeaseLost(
                        f"the migration lease of {record.kind} was taken over by "
                        f"{record.holder or 'nobody'}; this migration stops"
                    )
            self._hold(cursor, names, holder, self._clock(), seconds, renewing=True)

    def release(self, kinds: Sequence[DocumentKind], holder: str) -> None:
        with self._dialect.transaction() as cursor:
            cursor.execute(
                self._dialect.sql(
                    "DELETE FROM streamfold_migration_leases WHERE holder = ? AND kind {any}"
                ),
                (holder, self._dialect.values(sorted(kind.value for kind in kinds))),
            )

    def held(self) -> list[LeaseRecord]:
        """Every lease that has not expired."""
        now = self._clock()
        with self._dialect.transaction() as cursor:
            cursor.execute(
                "SELECT kind, holder, acquired_at, expires_at FROM streamfold_migration_leases"
                " ORDER BY kind"
            )
            records = [_record(row) for row in cursor.fetchall()]
        return [r for r in records if r.holder and r.expires_at > now]

    @contextmanager
    def holding(
        self, kinds: Sequence[DocumentKind], seconds: float, holder: str | None = None
    ) -> Iterator[Lease]:
        """The leases of ``kinds`` for the duration of the block, released at its end."""
        lease = Lease(self, list(kinds), holder or new_holder(), seconds)
        self.acquire(lease.kinds, lease.holder, seconds)
        try:
            yield lease
        finally:
            self.release(lease.kinds, lease.holder)

    def _write_lock(self, cursor: Cursor, names: list[str]) -> None:
        # SQLite refuses at once (no waiting) a transaction that read before another
        # connection's commit and then writes: writing first makes it wait its turn.
        cursor.execute(
            self._dialect.sql(
                "UPDATE streamfold_migration_leases SET kind = kind WHERE kind {any}"
            ),
            (self._dialect.values(names),),
        )

    def _locked(self, cursor: Cursor, names: list[str]) -> list[LeaseRecord]:
        lock = " FOR UPDATE" if self._store.is_postgres else ""
        cursor.execute(
            self._dialect.sql(
                "SELECT kind, holder, acquired_at, expires_at FROM streamfold_migration_leases"
                f" WHERE kind {{any}} ORDER BY kind{lock}"
            ),
            (self._dialect.values(names),),
        )
        return [_record(row) for row in cursor.fetchall()]

    def _hold(
        self,
        cursor: Cursor,
        names: list[str],
        holder: str,
        now: datetime,
        seconds: float,
        renewing: bool = False,
    ) -> None:
        expires = _text(now + timedelta(seconds=seconds))
        if renewing:
            cursor.execute(
                self._dialect.sql(
                    "UPDATE streamfold_migration_leases SET expires_at = ? WHERE kind {any}"
                ),
                (expires, self._dialect.values(names)),
            )
            return
        cursor.execute(
            self._dialect.sql(
                "UPDATE streamfold_migration_leases SET holder = ?, acquired_at = ?,"
                " expires_at = ? WHERE kind {any}"
            ),
            (holder, _text(now), expires, self._dialect.values(names)),
        )


@dataclass
class Lease:
    """Leases held by one migration; `renew` keeps them from expiring while it works."""

    leases: MigrationLeases
    kinds: list[DocumentKind]
    holder: str
    seconds: float

    def renew(self) -> None:
        self.leases.renew(self.kinds, self.holder, self.seconds)


def _text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def _shown(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _record(row: Any) -> LeaseRecord:
    return LeaseRecord(
        kind=row["kind"],
        holder=row["holder"],
        acquired_at=datetime.fromisoformat(row["acquired_at"]),
        expires_at=datetime.fromisoformat(row["expires_at"]),
    )
