"""Checkpoints of the embedded store's write-ahead logs, in a thread of their own.

In WAL mode SQLite appends each commit's pages to the file's log (``events.db-wal``) and
copies them into the database file at a checkpoint. By default the commit that takes the
log past its mark (``wal_autocheckpoint``) runs that checkpoint before it returns: the
command whose commit it is waits while tens of megabytes are copied and the file synced
(53 ms of a two-second `bench pipeline` run on disk, docs/performance.md). A
`WalCheckpointer` runs them beside the commits instead: a commit that leaves a log past the
mark wakes its thread, which checkpoints that file (``PASSIVE``: what no reader still
needs is copied, no lock is waited for) while the committing thread goes on; SQLite copies
with the interpreter released. See docs/adr/0037-checkpoints-beside-the-commits.md.

How far a log is past its mark is read from its file's size: the connections truncate a
log to the mark when it starts again from its beginning (``journal_size_limit``, after a
checkpoint copied all of it), so a file larger than the mark holds more than the mark of
frames written since. The connections keep SQLite's own checkpoint as a backstop at
`BACKSTOP_MARKS` times the mark, for a log the thread does not keep up with.

>>> checkpointer = WalCheckpointer({"main": "events.db"}, mark_bytes=40_000_000)
>>> checkpointer.after_commit()   # after each commit: wakes the thread if a log is past it
>>> checkpointer.close()
"""

from __future__ import annotations

import logging
import sqlite3
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

logger = logging.getLogger(__name__)

# SQLite's own checkpoint, which the committing connection runs, at this many times the
# checkpointer's mark: only a log the thread has not kept up with reaches it.
BACKSTOP_MARKS = 4

# Bytes of a log frame besides its page, and of the log's header (SQLite's WAL format).
FRAME_HEADER_BYTES = 24
LOG_HEADER_BYTES = 32


def log_bytes(pages: int, page_size: int) -> int:
    """The size of a log holding ``pages`` frames of ``page_size`` bytes."""
    return LOG_HEADER_BYTES + pages * (page_size + FRAME_HEADER_BYTES)


class WalCheckpointer:
    """Checkpoints the logs of a database and its attached files past ``mark_bytes``.

    ``files`` maps each schema of a connection to its database file: ``main``, the one it
    opens, and those it attaches. The thread starts with the first log past the mark,
    opens a connection of its own, and stops at `close`.
    """

    def __init__(self, files: Mapping[str, str], mark_bytes: int) -> None:
        self._files = dict(files)
        self._logs = {schema: Path(f"{path}-wal") for schema, path in files.items()}
        self.mark_bytes = mark_bytes
        self._wake = threading.Event()
        self._done = threading.Condition()
        self._checkpoints = 0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    @property
    def checkpoints(self) -> int:
        """Checkpoints this thread has run (what tests count)."""
        return self._checkpoints

    @property
    def started(self) -> bool:
        """Whether a log has been past the mark, so that the thread runs (or ran)."""
        return self._thread is not None

    def after_commit(self) -> None:
        """Wake the thread if a log is past the mark; returns at once."""
        if self._stopping or not self._past_mark():
            return
        if self._thread is None:
            with self._start:
                if self._thread is None and not self._stopping:
                    self._thread = threading.Thread(
                        target=self._run, name="streamfold-wal-checkpoints", daemon=True
                    )
                    self._thread.start()
        self._wake.set()

    def wait_for(self, checkpoints: int, timeout: float) -> bool:
        """Whether this many checkpoints were run within ``timeout`` seconds."""
        with self._done:
            return self._done.wait_for(lambda: self._checkpoints >= checkpoints, timeout)

    def close(self) -> None:
        """Stop the thread, after the checkpoint under way if any."""
        with self._start:
            self._stopping = True
            thread = self._thread
        self._wake.set()
        # An interpreter that is exiting (a store closed by the collector then) runs no
        # more threads: waiting for this one would never end.
        if thread is not None and not sys.is_finalizing():
            thread.join()

    def _past_mark(self, schema: str | None = None) -> bool:
        logs = self._logs.values() if schema is None else (self._logs[schema],)
        for log in logs:
            try:
                if log.stat().st_size > self.mark_bytes:
                    return True
            except OSError:  # no log yet (or the file is gone): nothing to copy
                continue
        return False

    def _run(self) -> None:
        connection = sqlite3.connect(self._files["main"], isolation_level=None)
        try:
            for schema, path in self._files.items():
                if schema != "main":
                    connection.execute(f"ATTACH DATABASE ? AS {schema}", (path,))
            while True:
                self._wake.wait()
                self._wake.clear()
                if self._stopping:
                    return
                for schema in self._logs:
                    if self._past_mark(schema):
                        self._checkpoint(connection, schema)
        except sqlite3.Error as error:  # the files are gone or unreadable: the backstop stays
            logger.warning("write-ahead log checkpoints stopped: %s", error)
        finally:
            connection.close()

    def _checkpoint(self, connection: sqlite3.Connection, schema: str) -> None:
        try:
            connection.execute(f"PRAGMA {schema}.wal_checkpoint(PASSIVE)").fetchall()
        except sqlite3.OperationalError as error:
            # Busy or interrupted: the next commit past the mark tries again, and the
            # connections' own checkpoint remains behind it.
            logger.debug("a write-ahead log checkpoint of %s failed: %s", schema, error)
            return
        with self._done:
            self._checkpoints += 1
            self._done.notify_all()
