"""Rebuild without downtime: a new generation fills new indices, then takes over at once.

1. Register a new projection generation (or join the one being built) and create a new
   physical index per kind. A rebuild is cut into slices of aggregate ids: one, or N when
   N workers share it (``--partition K/N``); each slice folds up to the same position,
   the head when the rebuild started.
2. Fold: each worker folds its slice's aggregates into the generation's state tables,
   each aggregate from its first event to its last, in buckets that commit with the
   slice's progress. Live handlers meanwhile go on projecting the live generation and
   writing through the aliases; queries keep reading the old indices.
3. Render: once every slice is folded, each worker renders its slice's documents once,
   writes them straight into the new indices and stores them in the generation's outbox.
4. Catch up and activate: the worker that finds every slice rendered projects the events
   recorded since, event by event, until close to the head; then, holding the live
   projection's lock, folds the last events, flushes the last documents, swaps each alias
   and makes the generation live, all before the lock is released, so no live update falls
   between the two generations.

The previous generation and its indices stay. A rollback activates them again the same way,
catching them up first. A worker that dies resumes with its slice's first uncommitted
bucket (or its rendering); any worker, or ``finish``, completes an activation that a dead
worker left undone.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from infrastructure.adapters.eventstore.dead_letters import DeadLetterStore
from infrastructure.adapters.eventstore.generation_tables import GenerationTables
from infrastructure.adapters.eventstore.generations import (
    Generation,
    GenerationRegistry,
    SliceProgress,
)
from infrastructure.adapters.eventstore.projection_store import SqlProjectionStore
from infrastructure.adapters.eventstore.store import EventStore
from infrastructure.heap import frozen_while_running
from infrastructure.services.rebuilding.allocator import map_large_blocks_apart
from infrastructure.services.rebuilding.fold import SliceFold
from infrastructure.services.rebuilding.render import SliceRender
from infrastructure.services.rebuilding.slices import Partition, buckets_for, slice_range
from infrastructure.settings import ConfigError
from projections.documents import DocumentKind
from projections.ports import SearchIndex
from projections.projector import DocumentProjector
from projections.sync import SearchSync

Progress = Callable[[int, int], None]  # (done, total) of the current stage; total 0: unknown
Stage = Callable[[str], None]  # folding, waiting for slices 1 and 2 to fold, rendering, ...
Peers = Callable[[], None]  # called while waiting for other slices; raises to stop waiting
PhysicalNames = Callable[[DocumentKind, int], str]  # (kind, generation) -> new index name


@dataclass
class RebuildReport:
    generation: int
    kinds: list[str]
    events: int = 0
    documents_written: int = 0
    documents_dead_lettered: int = 0  # refused by the search backend for good
    seconds: float = 0.0
    indices: dict[str, str] = field(default_factory=dict)
    previous_indices: dict[str, str] = field(default_factory=dict)
    resumed: bool = False
    caught_up: int = 0  # of ``events``: recorded during the rebuild, projected one by one
    partition: str = "0/1"
    activated: bool = False
    waiting_for: list[int] = field(default_factory=list)  # slices not done when it stopped
    waiting_to: str = ""  # what they have not done yet: "fold" or "render"


class Rebuild:
    """Rebuilds the search indices of some kinds from the event store.

    >>> rebuild = Rebuild(event_store, projection_store, index, dead_letters)
    >>> report = rebuild.run([DocumentKind.USERS, DocumentKind.IMAGES])
    >>> report.indices
    {'users': 'streamfold-users-v1-g2', 'images': 'streamfold-images-v1-g2'}

    Three workers sharing a rebuild, each in a process of its own; the last one to finish
    its slice activates the new generation:

    >>> Rebuild(..., partition=Partition(1, 3)).run(list(DocumentKind)).activated
    False
    """

    def __init__(
        self,
        event_store: EventStore,
        projection_store: SqlProjectionStore,
        index: SearchIndex,
        dead_letters: DeadLetterStore,
        batch_size: int = 10_000,
        progress: Progress | None = None,
        catch_up_margin: int | None = None,
        *,
        partition: Partition | None = None,
        wait_seconds: float | None = None,
        stage: Stage | None = None,
        bucket_events: int | None = None,
        poll_seconds: float = 1.0,
        physical_names: PhysicalNames | None = None,
        peers: Peers | None = None,
    ) -> None:
        self._event_store = event_store
        self._projection_store = projection_store
        self._index = index
        self._dead_letters = dead_letters
        # A migration names the new indices after the version they hold.
        self._physical_names = physical_names or (
            lambda kind, number: f"{index.default_physical_name(kind)}-g{number}"
        )
        self._batch_size = batch_size
        self._progress = progress or (lambda done, total: None)
        self._margin = batch_size if catch_up_margin is None else catch_up_margin
        self._partition = partition or Partition()
        self._wait_seconds = wait_seconds  # None: wait for the other slices as long as it takes
        self._stage = stage or (lambda name: None)
        # A bucket of the fold holds about this many events: the unit of a commit, of
        # resumption, and of the fold's memory, which does not grow with the event store.
        self._bucket_events = bucket_events or batch_size
        self._poll_seconds = poll_seconds
        # Workers started together check on each other while one waits for another.
        self._peers = peers or (lambda: None)

    def run(self, kinds: list[DocumentKind]) -> RebuildReport:
        with frozen_while_running():  # the collector's passes cost 9 % of a rebuild otherwise
            return self._run(kinds)

    def _run(self, kinds: list[DocumentKind]) -> RebuildReport:
        started = time.perf_counter()
        # Before the fold: what it allocates would otherwise fix the heap's shape for the
        # rendering's large buffers (see `allocator`).
        map_large_blocks_apart()
        generation, existed = self._generation(kinds)
        report = RebuildReport(generation.number, generation.kinds, partition=str(self._partition))
        report.indices = generation.indices
        for kind_name, name in generation.indices.items():
            self._index.create_physical_index(DocumentKind(kind_name), name)
        slices = self._registry.slices(generation.number)
        if slices or self._partition.count > 1:
            mine = self._slice_of(generation, slices)
            report.resumed = existed and (mine.started or self._partition.count == 1)
            if not self._build_slice(generation, mine, report):
                report.seconds = time.perf_counter() - started
                return report
        else:  # a generation begun before rebuilds were sliced goes on event by event
            report.resumed = existed
        self._finish(generation, report)
        report.seconds = time.perf_counter() - started
        return report

    def finish(self) -> RebuildReport:
        """Activate the generation being built once every slice is rendered (``--activate``)."""
        started = time.perf_counter()
        generation = self._registry.building()
        if generation is None:
            raise ConfigError("no rebuild is in progress; nothing to activate")
        report = RebuildReport(generation.number, generation.kinds, resumed=True)
        report.indices = generation.indices
        slices = self._registry.slices(generation.number)
        report.partition = f"all/{len(slices) or 1}"
        pending = [s.slice for s in slices if not s.rendered]
        if pending:
            report.waiting_for, report.waiting_to = pending, "render"
        else:
            if slices:
                GenerationTables(
                    self._event_store, self._registry, generation.number
                ).start_tracking(slices[0].target)
            self._finish(generation, report)
        report.seconds = time.perf_counter() - started
        return report

    @property
    def _registry(self) -> GenerationRegistry:
        return self._projection_store.registry

    def _generation(self, kinds: list[DocumentKind]) -> tuple[Generation, bool]:
        head = self._event_store.head()
        count = self._partition.count
        generation, existed = self._registry.start_or_join(
            [kind.value for kind in kinds],
            count,
            target=head,
            buckets=buckets_for(head, count, self._bucket_events),
            index_names=lambda number: {
                kind.value: self._physical_names(kind, number) for kind in kinds
            },
        )
        if existed and set(generation.kinds) != {kind.value for kind in kinds}:
            raise ConfigError(
                f"a rebuild of {', '.join(generation.kinds)} (generation {generation.number}) "
                "is unfinished; run `streamfold rebuild` for the same kinds to resume it"
            )
        # Also when joining: the worker that registered the generation may have died before.
        GenerationTables(self._event_store, self._registry, generation.number).create()
        return generation, existed

    def _slice_of(self, generation: Generation, slices: list[SliceProgress]) -> SliceProgress:
        if len(slices) != self._partition.count:
            raise ConfigError(
                f"the rebuild of generation {generation.number} is cut into {len(slices)} "
                f"slice(s); run its workers with --partition K/{len(slices)}"
                if len(slices) > 1
                else f"the rebuild of generation {generation.number} is not partitioned; "
                "run `streamfold rebuild` without --partition to resume it"
            )
        return slices[self._partition.index]

    def _build_slice(
        self, generation: Generation, mine: SliceProgress, report: RebuildReport
    ) -> bool:
        """Fold and render this worker's slice; True when every slice is rendered."""
        tables = GenerationTables(self._event_store, self._registry, generation.number)
        if not mine.folded:
            self._stage(f"folding slice {self._partition}")
            total = max(mine.target // self._partition.count, 1)
            done = mine.events_folded
            fold = SliceFold(
                self._event_store,
                tables,
                mine,
                progress=lambda events: self._progress(min(done + events, total), total),
                kinds=[DocumentKind(kind) for kind in generation.kinds],
            )
            report.events += fold.run()
        if not self._await(generation, report, "fold"):
            return False
        tables.create_indexes()
        mine = self._registry.slices(generation.number)[self._partition.index]
        if not mine.rendered:
            self._stage(f"rendering slice {self._partition}")
            store = self._generation_store(generation)
            into = _into(generation)
            render = SliceRender(
                DocumentProjector(store, self._batch_size),
                tables,
                SearchSync(store, self._index, self._dead_letters, into=into),
                into,
                progress=self._progress,
            )
            written = render.run(slice_range(self._partition), mine.target)
            report.documents_written += written
            report.documents_dead_lettered += render.dead_lettered
            last = self._registry.record_render(generation.number, self._partition.index, written)
            if not last:  # the worker whose slice is the last one rendered activates
                report.waiting_for, report.waiting_to = self._unrendered(generation), "render"
                return False
        elif pending := self._unrendered(generation):
            report.waiting_for, report.waiting_to = pending, "render"
            return False
        tables.start_tracking(mine.target)
        return True

    def _unrendered(self, generation: Generation) -> list[int]:
        return [s.slice for s in self._registry.slices(generation.number) if not s.rendered]

    def _await(self, generation: Generation, report: RebuildReport, step: str) -> bool:
        """Wait until every slice has folded; False if ``wait_seconds`` ran out first."""
        deadline = None if self._wait_seconds is None else time.monotonic() + self._wait_seconds
        shown = ""
        while True:
            slices = self._registry.slices(generation.number)
            pending = [s.slice for s in slices if not s.folded]
            if not pending:
                return True
            if deadline is not None and time.monotonic() >= deadline:
                report.waiting_for, report.waiting_to = pending, step
                return False
            self._peers()
            waiting = f"waiting for slice(s) {', '.join(map(str, pending))} to {step}"
            if waiting != shown:
                self._stage(shown := waiting)
            time.sleep(self._poll_seconds)

    def _generation_store(self, generation: Generation) -> SqlProjectionStore:
        return SqlProjectionStore(self._event_store, generation=generation.number)

    def _finish(self, generation: Generation, report: RebuildReport) -> None:
        """Project the events recorded since the slices' target, then activate."""
        self._stage("catching up")
        builder = self._generation_store(generation)
        projector = DocumentProjector(builder, batch_size=self._batch_size)
        sync = SearchSync(builder, self._index, self._dead_letters, into=_into(generation))
        while True:
            current = self._registry.get(generation.number)
            if current is None or current.state != "building":
                return  # another worker activated it meanwhile: the live handlers fold it now
            head = self._event_store.head()
            position = self._catch_up(projector, sync, head, report)
            if self._event_store.head() - position <= self._margin:
                break
        self._stage("activating")
        previous = self._activate(generation, require="building")
        report.activated = previous is not None
        report.previous_indices = previous or {}

    def _catch_up(
        self, projector: DocumentProjector, sync: SearchSync, head: int, report: RebuildReport
    ) -> int:
        start = projector.catch_up(until=0).position  # where the generation stands
        total = max(head - start, 0)
        self._progress(0, total)
        step = projector.catch_up(
            until=head, progress=lambda position: self._progress(position - start, total)
        )
        report.events += step.events
        report.caught_up += step.events
        # Flushed once per pass: the generation's outbox keeps only each document's latest
        # rendering, so a document changed in many batches is written to the index once.
        flushed = sync.flush()
        report.documents_written += flushed.written
        report.documents_dead_lettered += len(flushed.dead_lettered)
        return step.position

    def activate(self, target: Generation) -> dict[str, str]:
        """Make ``target`` the live generation; returns the indices its aliases left."""
        swapped = self._activate(target, require=None)
        assert swapped is not None  # only a required state can make activation step aside
        return swapped

    def _activate(self, target: Generation, require: str | None) -> dict[str, str] | None:
        """Activation, or None if ``target`` is no longer in the ``require``-d state.

        Two workers that both see every slice rendered may both try: the live lock lets
        one through, and the other finds the generation live already.
        """
        store = self._projection_store
        into = _into(target)
        projector = DocumentProjector(store, batch_size=self._batch_size)
        swapped: dict[str, str] = {}
        with store.locked_live() as cursor:
            if require is not None and store.registry.state_on(cursor, target.number) != require:
                return None
            # Every kind: the documents of events folded here are rendered by no other
            # generation; kinds not rebuilt go through their aliases.
            letters = self._dead_letters.within(cursor)
            sync = SearchSync(store, self._index, letters, into=into)
            current = store.registry.live_number(cursor)
            projector.fold_all(store.session_on(cursor, target.number))
            while pending := store.pending_on(cursor, target.number, 2000):
                sync.write(pending)
                store.mark_synced_on(cursor, target.number, pending)
            try:
                for kind, name in into.items():
                    swapped[kind.value] = self._index.swap_alias(kind, name) or ""
                store.registry.make_live(cursor, target, current, swapped)
            except BaseException:
                for kind_name, previous in swapped.items():
                    if previous:
                        self._index.swap_alias(DocumentKind(kind_name), previous)
                raise
        return swapped

    def rollback(self) -> RebuildReport:
        """Make the generation before the live one live again, caught up first."""
        started = time.perf_counter()
        live = self._registry.live()
        if live is None or live.previous_generation is None or not live.previous_indices:
            raise ConfigError("nothing to roll back to: no rebuild has been made live yet")
        target = Generation(
            number=live.previous_generation,
            state="retired",
            kinds=list(live.previous_indices),
            indices=dict(live.previous_indices),
        )
        previous = self.activate(target)
        report = RebuildReport(target.number, target.kinds, indices=target.indices)
        report.previous_indices = previous
        report.activated = True
        report.seconds = time.perf_counter() - started
        return report


def _into(generation: Generation) -> dict[DocumentKind, str]:
    return {DocumentKind(kind): name for kind, name in generation.indices.items()}
