"""Disk and engine failures reported as the port's `SearchUnavailable`, in one line.

>>> with unavailable_on_failure(Path("/mnt/ro/index"), "write"):
...     Path("/mnt/ro/index").mkdir()
Traceback (most recent call last):
SearchUnavailable: embedded search index at /mnt/ro/index: cannot write: [Errno 30] ...
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from projections.ports import SearchUnavailable


@contextmanager
def unavailable_on_failure(directory: Path, action: str) -> Iterator[None]:
    """Turn I/O errors, and the engine's errors (tantivy raises ValueError), into outages."""
    try:
        yield
    except SearchUnavailable:
        raise
    except (OSError, ValueError) as error:
        from projections.query import QueryError  # loaded already by whoever queried

        if isinstance(error, QueryError):
            raise  # a request to correct (a field the live index lacks), not an outage
        reason = " ".join(str(error).split()) or type(error).__name__
        raise SearchUnavailable(
            f"embedded search index at {directory}: cannot {action}: {reason}"
        ) from error
