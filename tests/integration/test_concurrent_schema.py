"""Several processes creating streamfold's tables in one new SQLite event store at once.

A rebuild's workers, a CLI beside a running poller, two demo runs: each opens the stores
and creates the tables it needs. SQLite used to let one of them through and fail the
others with "database is locked" (a read of the schema could not be upgraded to a write).
"""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

from infrastructure.adapters.eventstore.dead_letters import DeadLetterStore
from infrastructure.adapters.eventstore.projection_store import SqlProjectionStore
from infrastructure.adapters.eventstore.shard_checkpoints import ShardCheckpoints
from infrastructure.adapters.eventstore.store import EventStore
from infrastructure.settings import SQLiteStore

ROUNDS = 10
OPENERS = 4
# Forked processes start at once, with everything imported: separate connections in one
# process take turns at the interpreter and rarely collide.
_PROCESSES = multiprocessing.get_context("fork")


def _open_every_store(path: Path, start: Any, failures: Any) -> None:
    store = EventStore(SQLiteStore(path))
    try:
        start.wait()
        DeadLetterStore(store)
        ShardCheckpoints(store)
        SqlProjectionStore(store)
    except Exception as error:  # every failure is the finding
        failures.put(f"{type(error).__name__}: {error}")
    finally:
        store.close()


def test_openers_of_a_new_store_all_get_their_tables(tmp_path: Path) -> None:
    failures = _PROCESSES.Queue()
    for round_ in range(ROUNDS):
        path = tmp_path / f"events-{round_}.db"
        EventStore(SQLiteStore(path)).close()  # the library's own tables, as a first start
        start = _PROCESSES.Barrier(OPENERS)
        openers = [
            _PROCESSES.Process(target=_open_every_store, args=(path, start, failures))
            for _ in range(OPENERS)
        ]
        for opener in openers:
            opener.start()
        for opener in openers:
            opener.join(timeout=60)
        assert [opener.exitcode for opener in openers] == [0] * OPENERS
    found = []
    while not failures.empty():
        found.append(failures.get())
    assert found == []
