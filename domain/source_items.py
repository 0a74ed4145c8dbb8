"""Reading a source item as it is now, from its table (a port of the intake)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from domain.kinds import TableKind


class SourceItemReader(ABC):
    """Strongly consistent reads of source items.

    The intake asks only when the stream cannot tell the order of a change (see
    ``domain.positions``): the item as the table holds it then is the truth every
    earlier change leads to.

    >>> reader.read(TableKind.USERS, ("u-1",), "prod-users")
    {'userId': 'u-1', 'name': 'Ada', ...}
    """

    @abstractmethod
    def read(self, kind: TableKind, key: tuple[str, ...], table: str) -> Mapping[str, Any] | None:
        """The item of ``key`` in ``table`` now, or None if the table does not hold it.

        Raises ItemUnreadable when the table cannot be read and retrying will not help
        (no permission, no such table); a failure that may pass (throttling, the service
        unreachable) raises the adapter's transient failure instead.
        """
