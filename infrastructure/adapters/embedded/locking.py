"""The index directory's locks, shared by every process that uses the directory.

Two kinds of lock, each a ``flock`` on a file of the directory:

- the **directory lock** (``write.lock``): exclusive while the catalog changes (an index
  created, an alias moved), shared while documents are written, so that writers never see
  the catalog half changed and a change waits for the writes under way;
- an **index lock** per physical index (``<name>.lock``), exclusive while one writer checks
  versions, writes and commits in that index. Writers of different indexes (the users' and
  the images', a command's two processes at its end) work at the same time.

A writer takes the directory lock shared, then one index lock; nothing takes two index locks
or the directory lock while holding an index lock, so no two holders can wait for each
other.

``flock`` belongs to an open file description, so each acquisition opens the lock file anew:
two holders in one process exclude each other just as two processes do, and the kernel
releases the lock if its holder dies.

>>> with directory_lock(Path("/data/index"), shared=True):
...     with index_lock(Path("/data/index"), "streamfold-users-v1"):
...         ...  # read versions, write, commit
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "write.lock"
INDEX_LOCK_SUFFIX = ".lock"


@contextmanager
def directory_lock(directory: Path, *, shared: bool = False) -> Iterator[None]:
    """Hold the directory's lock for the duration of the block: exclusive (a change of the
    catalog) or ``shared`` (writes, each also under its index's lock)."""
    with _flocked(directory / LOCK_FILE, fcntl.LOCK_SH if shared else fcntl.LOCK_EX):
        yield


@contextmanager
def index_lock(directory: Path, name: str) -> Iterator[None]:
    """Hold the exclusive write lock of the physical index ``name`` of ``directory`` (its
    file sits beside the index, outside the directory tantivy manages)."""
    with _flocked(directory / f"{name}{INDEX_LOCK_SUFFIX}", fcntl.LOCK_EX):
        yield


@contextmanager
def _flocked(path: Path, operation: int) -> Iterator[None]:
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, operation)
        yield
    finally:
        os.close(descriptor)
