"""Errors the domain raises for input it cannot accept."""

from __future__ import annotations


class InvalidItem(ValueError):
    """A source item that breaks the reference domain's rules (a permanent failure)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConcurrentChange(RuntimeError):
    """Another writer changed an item or aggregate between our read and our write."""


class ItemUnreadable(RuntimeError):
    """A source item that cannot be read from its table, and retrying will not help.

    Raised where a change's order cannot be told from its stream and the table that
    would tell (no permission, no such table) cannot be asked: a permanent failure.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class TransientFailure(RuntimeError):
    """A component is unreachable or overloaded; the same work may succeed later."""
