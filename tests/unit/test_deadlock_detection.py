"""A deadlock PostgreSQL reports is a concurrent change to retry; other errors are not."""

from __future__ import annotations

import psycopg.errors
from eventsourcing.persistence import OperationalError

from infrastructure.adapters.eventstore.store import _is_deadlock


def raised_from(cause: Exception) -> OperationalError:
    error = OperationalError(str(cause))
    error.__cause__ = cause
    return error


def test_the_driver_s_deadlock_is_one() -> None:
    assert _is_deadlock(raised_from(psycopg.errors.DeadlockDetected("deadlock detected")))


def test_a_deadlock_named_only_in_the_message_is_one() -> None:
    assert _is_deadlock(OperationalError("ERROR: deadlock detected\\nDETAIL: ..."))


def test_other_operational_errors_are_not() -> None:
    assert not _is_deadlock(raised_from(psycopg.errors.LockNotAvailable("lock timeout")))
    assert not _is_deadlock(OperationalError("database is locked"))
