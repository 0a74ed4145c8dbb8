"""Change detection for files that other processes replace atomically.

Tantivy rewrites ``meta.json`` on every commit and the alias file is rewritten on every swap,
both by rename. Comparing the (small) content is exact and costs microseconds, far less
than reloading an index on every query.

>>> meta = WatchedFile(Path("/data/index/streamfold-users-v1/meta.json"))
>>> meta.changed()  # True the first time, then only after another commit
True
"""

from __future__ import annotations

from pathlib import Path


class WatchedFile:
    """Remembers the content it last saw and reports when the file differs from it."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._seen: bytes | None = None
        self._read_once = False

    @property
    def content(self) -> bytes | None:
        """The content as of the last `changed` call (None: the file does not exist)."""
        return self._seen

    def changed(self) -> bool:
        """Whether the file differs from the last call's view (always True on the first)."""
        try:
            current: bytes | None = self._path.read_bytes()
        except FileNotFoundError:
            current = None
        if self._read_once and current == self._seen:
            return False
        self._seen, self._read_once = current, True
        return True

    def forget(self) -> None:
        """Make the next `changed` call report a change, e.g. after a failed reload."""
        self._read_once = False
