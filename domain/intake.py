"""Turning a batch of source changes into recorded domain events, exactly once."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from uuid import UUID

from domain.aggregate import SourceAggregate
from domain.changes import SourceChange, StreamPosition
from domain.errors import ConcurrentChange, InvalidItem
from domain.mappers import MAPPERS


@dataclass(frozen=True, slots=True)
class PositionMove:
    """Advance one item's stream position, provided nobody else moved it first."""

    item_key: str
    expected: StreamPosition | None
    position: StreamPosition


class ItemLedger(ABC):
    """The event store as the intake sees it (a port)."""

    @abstractmethod
    def positions(self, item_keys: Collection[str]) -> dict[str, StreamPosition]:
        """The stream position of the last applied change of each known item."""

    @abstractmethod
    def load(self, ids: Collection[UUID]) -> dict[UUID, SourceAggregate]:
        """The current state of each aggregate that has events."""

    @abstractmethod
    def record(self, aggregates: Sequence[SourceAggregate], moves: Sequence[PositionMove]) -> None:
        """Store the aggregates' pending events and the position moves atomically.

        Raises ConcurrentChange if an aggregate or a position moved since it was read.
        """


@dataclass
class IntakeReport:
    events_recorded: int = 0
    changes_applied: int = 0
    duplicates: list[SourceChange] = field(default_factory=list)
    rejected: list[tuple[SourceChange, str]] = field(default_factory=list)
    attempts: int = 0


class ChangeIntake:
    """Records the domain events of a batch of changes in one atomic write.

    A change at or behind its item's recorded stream position is a duplicate or a stale
    retry: it yields nothing. Every other change is folded into its aggregate, and each
    item's position advances even when the change meant nothing to the domain, so that
    an older record arriving later can never undo it.

    >>> report = ChangeIntake(ledger).record(changes)
    """

    def __init__(self, ledger: ItemLedger, max_attempts: int = 8) -> None:
        self._ledger = ledger
        self._max_attempts = max_attempts

    def record(self, changes: Sequence[SourceChange]) -> IntakeReport:
        for attempt in range(1, self._max_attempts + 1):
            report, aggregates, moves = self._decide(changes)
            report.attempts = attempt
            try:
                self._ledger.record(aggregates, moves)
            except ConcurrentChange:
                if attempt == self._max_attempts:
                    raise
                continue
            return report
        raise AssertionError("unreachable")

    def _decide(
        self, changes: Sequence[SourceChange]
    ) -> tuple[IntakeReport, list[SourceAggregate], list[PositionMove]]:
        report = IntakeReport()
        keys = {change.item_key for change in changes}
        recorded = self._ledger.positions(keys)
        ids = {MAPPERS[c.kind].aggregate_id(c.key) for c in changes}
        aggregates = self._ledger.load(ids)
        latest: dict[str, StreamPosition] = dict(recorded)
        touched: dict[UUID, SourceAggregate] = {}
        for change in changes:
            current_position = latest.get(change.item_key)
            if current_position is not None and change.position <= current_position:
                report.duplicates.append(change)
                continue
            mapper = MAPPERS[change.kind]
            aggregate_id = mapper.aggregate_id(change.key)
            try:
                aggregate = mapper.apply(change, aggregates.get(aggregate_id))
            except InvalidItem as invalid:
                report.rejected.append((change, invalid.reason))
                continue
            latest[change.item_key] = change.position
            report.changes_applied += 1
            if aggregate is not None:
                aggregates[aggregate_id] = aggregate
                touched[aggregate_id] = aggregate
        report.events_recorded = sum(len(a.pending_events) for a in touched.values())
        moves = [
            PositionMove(key, recorded.get(key), position)
            for key, position in latest.items()
            if recorded.get(key) != position
        ]
        return report, list(touched.values()), moves
