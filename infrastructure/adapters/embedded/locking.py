"""An exclusive lock over a whole index directory, shared by every process that writes to it.

``flock`` belongs to an open file description, so each acquisition opens the lock file anew:
two holders in one process exclude each other just as two processes do, and the kernel
releases the lock if its holder dies.

>>> with directory_lock(Path("/data/index")):
...     ...  # read versions, write, commit
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "write.lock"


@contextmanager
def directory_lock(directory: Path) -> Iterator[None]:
    """Hold the directory's exclusive write lock for the duration of the block."""
    descriptor = os.open(directory / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)
