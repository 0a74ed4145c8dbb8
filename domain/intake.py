"""Turning a batch of source changes into recorded domain events, exactly once."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any
from uuid import UUID

from domain.aggregate import SourceAggregate
from domain.changes import ChangeType, SourceChange
from domain.errors import ConcurrentChange, InvalidItem, ItemUnreadable
from domain.identity import aggregate_id_of
from domain.kinds import TableKind
from domain.mappers import MAPPERS
from domain.positions import ItemPosition, Precedence
from domain.source_items import SourceItemReader
from domain.values import quick_init

# What the intake hands the ledger per touched item: its aggregate, or the event that
# creates it when that is all the batch did to a new item (`SourceAggregate.creation`).
Pending = SourceAggregate | SourceAggregate.Event


@quick_init
@dataclass(frozen=True, slots=True)
class PositionMove:
    """Advance one item's stream position, provided nobody else moved it first."""

    item_key: str
    expected: ItemPosition | None
    position: ItemPosition


class ItemLedger(ABC):
    """The event store as the intake sees it (a port)."""

    @abstractmethod
    def positions(self, item_keys: Collection[str]) -> dict[str, ItemPosition]:
        """The recorded position of each known item."""

    @abstractmethod
    def load(self, ids: Collection[UUID]) -> dict[UUID, SourceAggregate]:
        """The current state of each aggregate that has events."""

    @abstractmethod
    def record(self, aggregates: Sequence[Pending], moves: Sequence[PositionMove]) -> None:
        """Store the aggregates' pending events and the position moves atomically.

        An aggregate created by its first event alone may come as that event instead
        (`SourceAggregate.creation`): it is stored as the aggregate's only pending event,
        in its place among the others.

        Raises ConcurrentChange if an aggregate or a position moved since it was read.
        """


@dataclass
class IntakeReport:
    events_recorded: int = 0
    changes_applied: int = 0
    duplicates: list[SourceChange] = field(default_factory=list)
    rejected: list[tuple[SourceChange, str]] = field(default_factory=list)
    settled: list[SourceChange] = field(default_factory=list)  # applied as read from the table
    attempts: int = 0


class ChangeIntake:
    """Records the domain events of a batch of changes in one atomic write.

    A change its item's recorded position shows to be a duplicate or a stale retry
    yields nothing. A change whose order against that position cannot be told (another
    stream, the same Kinesis timestamp) is settled by reading the item from its table:
    the events then lead from the aggregate's state to the item as it is. Every other
    change is folded into its aggregate. Each item's position advances even when the
    change meant nothing to the domain, so that an older record arriving later can never
    undo it.

    >>> report = ChangeIntake(ledger, reader).record(changes)
    """

    def __init__(
        self, ledger: ItemLedger, reader: SourceItemReader | None = None, max_attempts: int = 8
    ) -> None:
        self._ledger = ledger
        self._reader = reader
        self._max_attempts = max_attempts

    def record(self, changes: Sequence[SourceChange]) -> IntakeReport:
        for attempt in range(1, self._max_attempts + 1):
            # The first attempt loads only the aggregates of items with a position (or
            # removed); any later one, or an only one, loads every item's.
            first = attempt == 1 and attempt < self._max_attempts
            report, aggregates, moves = self._decide(changes, load_all=not first)
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
        self, changes: Sequence[SourceChange], load_all: bool = True
    ) -> tuple[IntakeReport, list[Pending], list[PositionMove]]:
        report = IntakeReport()
        # Each change's item key and aggregate id, derived once for the whole attempt.
        item_keys = [change.item_key for change in changes]
        ids = {key: aggregate_id_of(key) for key in item_keys}
        recorded = self._ledger.positions(ids.keys())
        if load_all:
            wanted = list(ids.values())  # one id per key, each once
        else:
            # Every writer records an item's position in the transaction of its first
            # event, so an item without a position has no aggregate, and most items of a
            # batch are new: only the others are read. Were an aggregate without a
            # position found all the same, the creation decided for it would conflict with
            # its first event, and the next attempt, loading every aggregate, would decide
            # again. A removed item is read whatever its position: deciding nothing for it
            # could not conflict.
            removed = {change.item_key for change in changes if change.item is None}
            wanted = [
                aggregate_id
                for key, aggregate_id in ids.items()
                if key in recorded or key in removed
            ]
        loaded = self._ledger.load(wanted)
        # The aggregates by item key: a string keeps its hash, a UUID computes it each time.
        if loaded:
            aggregates = {key: loaded.get(aggregate_id) for key, aggregate_id in ids.items()}
        else:
            aggregates = dict.fromkeys(ids)
        latest: dict[str, ItemPosition] = dict(recorded)
        touched: dict[str, Pending] = {}
        # The creation events of items new in this batch, their aggregates not built: most
        # are touched once. A later change of the same item builds the aggregate.
        created: dict[str, SourceAggregate.Event] = {}
        created_by = SourceAggregate.created_by
        # Read again on every attempt: a concurrent writer may have applied newer changes.
        reads = _Reads(self._reader)
        newer, duplicate, stale = Precedence.NEWER, Precedence.DUPLICATE, Precedence.STALE
        applied_count = 0
        for change, key in zip(changes, item_keys, strict=True):
            current = latest.get(key)
            if current is None:
                verdict = newer
            else:
                verdict = current.precedence(change.position)
                if verdict is duplicate or verdict is stale:
                    report.duplicates.append(change)
                    continue
            mapper = MAPPERS[change.kind]
            try:
                applied = change if verdict is newer else reads.settle(change)
                aggregate = aggregates[key]
                if aggregate is None and key in created:
                    # A later change of an item created in this batch: its aggregate now.
                    aggregate = aggregates[key] = created_by(created.pop(key))
                    touched[key] = aggregate
                if aggregate is None and applied.item is not None:
                    creation = mapper.creation(applied, ids[key])
                else:
                    creation = None
                    aggregate = mapper.apply(applied, aggregate, ids[key])
            except (InvalidItem, ItemUnreadable) as refused:
                report.rejected.append((change, refused.reason))
                continue
            if verdict is newer:
                latest[key] = ItemPosition((change.position,))
            else:
                latest[key] = current.settled(change.position)  # type: ignore[union-attr]
                report.settled.append(change)
            applied_count += 1
            if creation is not None:
                created[key] = creation
                touched[key] = creation
            elif aggregate is not None:
                aggregates[key] = aggregate
                touched[key] = aggregate
        report.changes_applied = applied_count
        report.events_recorded = len(created) + sum(
            len(entry.pending_events)
            for entry in touched.values()
            if isinstance(entry, SourceAggregate)
        )
        moves = []
        for key, position in latest.items():
            before = recorded.get(key)
            if before is None:
                moves.append(PositionMove(key, None, position))
            elif before is not position and before != position:  # the same: not moved
                moves.append(PositionMove(key, before, position))
        return report, list(touched.values()), moves


class _Reads:
    """The items read from their tables during one attempt, each read at most once."""

    def __init__(self, reader: SourceItemReader | None) -> None:
        self._reader = reader
        self._items: dict[str, Mapping[str, Any] | None] = {}

    def settle(self, change: SourceChange) -> SourceChange:
        """``change`` as the item's table tells it now: its current item, or a REMOVE."""
        if change.item_key not in self._items:
            self._items[change.item_key] = self._read(change)
        item = self._items[change.item_key]
        return replace(
            change,
            change_type=ChangeType.MODIFY if item is not None else ChangeType.REMOVE,
            item=item,
            expired=change.expired and item is None,
        )

    def _read(self, change: SourceChange) -> Mapping[str, Any] | None:
        origin = change.position.origin
        if origin is None or not isinstance(change.kind, TableKind):
            raise ItemUnreadable(
                "the order of this change against the recorded one cannot be told and it "
                "names no source table to read the item from"
            )
        if self._reader is None:
            raise ItemUnreadable(
                f"the order of this change against the recorded one cannot be told from "
                f"the stream, and no reader of table {origin.table!r} is configured; "
                "replay it where the table can be read (streamfold dlq replay)"
            )
        return self._reader.read(change.kind, change.key, origin.table)
