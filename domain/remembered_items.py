"""The items a process recorded, remembered so that its next batches need not read them back."""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from itertools import islice
from uuid import UUID

from domain.aggregate import SourceAggregate
from domain.identity import aggregate_id_of
from domain.intake import ItemLedger, PositionMove
from domain.positions import ItemPosition

# Items remembered per thread: a few hundred bytes to a few kilobytes each. A command's
# working set (the benchmark's 53,077 records touch 40,387 items) fits; a longer one
# forgets its oldest items first, and reads them from the store when they come back.
CAPACITY = 100_000


# What is remembered of an item: its position, and its aggregate (None: it has no events).
_Remembered = tuple[ItemPosition, SourceAggregate | None]


@dataclass
class _Memory:
    """One thread's remembered items, by item key, in the order first written."""

    items: dict[str, _Remembered] = field(default_factory=dict)
    keys: dict[UUID, str] = field(default_factory=dict)  # an aggregate id's item key
    # The aggregates the last `load` gave out: the intake changes them in place.
    handed_out: dict[UUID, SourceAggregate] = field(default_factory=dict)
    # The positions the last `positions` read from the store.
    read: dict[str, ItemPosition] = field(default_factory=dict)

    def forget(self, key: str) -> None:
        if self.items.pop(key, None) is not None:
            self.keys.pop(aggregate_id_of(key), None)

    def forget_changed(self) -> None:
        """Forget the remembered aggregates given out and changed without being recorded
        (a change refused half way, an attempt that failed before its write)."""
        for aggregate_id, aggregate in self.handed_out.items():
            if aggregate.pending_events:
                key = self.keys.get(aggregate_id)
                if key is not None:
                    self.forget(key)
        self.handed_out = {}

    def clear(self) -> None:
        self.items.clear()
        self.keys.clear()
        self.handed_out = {}
        self.read = {}


class RememberingLedger(ItemLedger):
    """An `ItemLedger` that remembers each item as this thread last recorded it.

    A command records batch after batch, and the same items come back: their positions and
    aggregates are what this thread wrote, unless another writer wrote them since. So they
    are answered from memory, and only the other items are read from the ledger it wraps.

    Remembering is optimistic, and never decides anything the store would not:

    - a change that a remembered position shows to be at or behind it is a duplicate or a
      stale retry whatever happened since, since an item's position only moves forward;
    - any other change is written against the remembered state: if another writer moved
      the item since, the wrapped ledger refuses the write (the event's version is taken,
      or the position is not the one expected) with `ConcurrentChange`. Everything
      remembered is then forgotten, and the intake's next attempt reads the store.

    An aggregate given out is changed in place by the intake: one still holding events
    that were not recorded (a change refused half way, an attempt that failed) is
    forgotten. Each thread remembers its own items, at most ``capacity`` of them.

    >>> intake = ChangeIntake(RememberingLedger(EventSourcedItemLedger(store)), reader)
    """

    def __init__(self, ledger: ItemLedger, capacity: int = CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("the memory holds at least one item")
        self._ledger = ledger
        self._capacity = capacity
        self._local = threading.local()

    def _memory(self) -> _Memory:
        memory: _Memory | None = getattr(self._local, "memory", None)
        if memory is None:
            memory = self._local.memory = _Memory()
        return memory

    def positions(self, item_keys: Collection[str]) -> dict[str, ItemPosition]:
        memory = self._memory()
        memory.forget_changed()  # a new attempt begins
        memory.read = {}
        items = memory.items
        found: dict[str, ItemPosition] = {}
        missing: list[str] = []
        for key in item_keys:
            remembered = items.get(key)
            if remembered is None:
                missing.append(key)
            else:
                found[key] = remembered[0]
        if missing:
            memory.read = self._ledger.positions(missing)
            found.update(memory.read)
        return found

    def load(self, ids: Collection[UUID]) -> dict[UUID, SourceAggregate]:
        memory = self._memory()
        items, keys = memory.items, memory.keys
        found: dict[UUID, SourceAggregate] = {}
        missing: list[UUID] = []
        for aggregate_id in ids:
            key = keys.get(aggregate_id)
            if key is None:
                missing.append(aggregate_id)
                continue
            aggregate = items[key][1]
            if aggregate is not None:
                found[aggregate_id] = aggregate
        if missing:
            found.update(self._ledger.load(missing))
        memory.handed_out = dict(found)
        return found

    def record(self, aggregates: Sequence[SourceAggregate], moves: Sequence[PositionMove]) -> None:
        memory = self._memory()
        try:
            self._ledger.record(aggregates, moves)
        except BaseException:
            # Refused (another writer was first) or failed: nothing remembered is trusted.
            memory.clear()
            raise
        current = memory.handed_out
        for aggregate in aggregates:
            current[aggregate.id] = aggregate
        items, keys = memory.items, memory.keys
        # The items read from the store this attempt, then those it moved: a remembered
        # state read before another writer's write is as safe as one written here.
        read, memory.read = memory.read, {}
        for key, position in (*read.items(), *((m.item_key, m.position) for m in moves)):
            aggregate_id = aggregate_id_of(key)
            state = current.get(aggregate_id)
            if state is not None and state.pending_events:
                memory.forget(key)  # changed, not recorded: forget_changed would miss it
                continue
            items[key] = (position, state)
            keys[aggregate_id] = key
        memory.forget_changed()
        overflow = len(memory.items) - self._capacity
        if overflow > 0:
            # The items first written longest ago go, a quarter of the memory at a time.
            for key in list(islice(memory.items, overflow + self._capacity // 4)):
                memory.forget(key)
