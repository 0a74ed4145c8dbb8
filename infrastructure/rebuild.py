"""Rebuild without downtime: a new generation fills new indices, then takes over at once.

1. Register a new projection generation and create a new physical index per kind.
2. Fold every event from the start into the generation's own tables, writing its documents
   straight into the new indices, while the live generation goes on serving queries and
   live handlers go on writing through the aliases.
3. Catch up until the generation is close to the head of the event store.
4. Activate: holding the live projection's lock, fold the last events, flush the last
   documents, swap each alias and make the generation live, all before the lock is
   released, so no live update falls between the two generations.

The previous generation and its indices stay. A rollback activates them again the same way,
catching them up first. A rebuild that dies resumes from its generation's own tracking
position, because that position commits with the generation's state.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from infrastructure.composition import Streamfold
from infrastructure.eventstore.generations import Generation
from infrastructure.eventstore.projection_store import SqlProjectionStore
from infrastructure.settings import ConfigError
from projections.documents import DocumentKind
from projections.projector import DocumentProjector
from projections.sync import SearchSync

Progress = Callable[[int, int], None]  # (position reached, head)


@dataclass
class RebuildReport:
    generation: int
    kinds: list[str]
    events: int = 0
    documents_written: int = 0
    seconds: float = 0.0
    indices: dict[str, str] = field(default_factory=dict)
    previous_indices: dict[str, str] = field(default_factory=dict)
    resumed: bool = False


class Rebuild:
    """Rebuilds the search indices of some kinds from the event store.

    >>> report = Rebuild(app).run([DocumentKind.USERS, DocumentKind.IMAGES])
    >>> report.indices
    {'users': 'streamfold-users-v1-g2', 'images': 'streamfold-images-v1-g2'}
    """

    def __init__(
        self,
        app: Streamfold,
        batch_size: int = 10_000,
        progress: Progress | None = None,
        catch_up_margin: int | None = None,
    ) -> None:
        self._app = app
        self._batch_size = batch_size
        self._progress = progress or (lambda position, head: None)
        self._margin = batch_size if catch_up_margin is None else catch_up_margin

    def run(self, kinds: list[DocumentKind]) -> RebuildReport:
        started = time.perf_counter()
        generation, resumed = self._generation(kinds)
        report = RebuildReport(generation.number, generation.kinds, resumed=resumed)
        report.indices = generation.indices
        builder = SqlProjectionStore(self._app.event_store, generation=generation.number)
        into = {DocumentKind(kind): name for kind, name in generation.indices.items()}
        projector = DocumentProjector(builder, batch_size=self._batch_size)
        sync = SearchSync(builder, self._app.index, into=into)
        while True:
            head = self._app.event_store.head()
            position = self._fold(projector, sync, head, report)
            if self._app.event_store.head() - position <= self._margin:
                break
        report.previous_indices = activate(self._app, generation, self._batch_size)
        report.seconds = time.perf_counter() - started
        return report

    def _generation(self, kinds: list[DocumentKind]) -> tuple[Generation, bool]:
        registry = self._app.projection_store.registry
        building = registry.building()
        if building is not None:
            if set(building.kinds) != {kind.value for kind in kinds}:
                raise ConfigError(
                    f"a rebuild of {', '.join(building.kinds)} (generation {building.number}) "
                    "is unfinished; run `streamfold rebuild` for the same kinds to resume it"
                )
            return building, True
        index = self._app.index
        number = _next_number(self._app)
        names = {kind.value: f"{index.default_physical_name(kind)}-g{number}" for kind in kinds}
        for kind in kinds:
            index.create_physical_index(kind, names[kind.value])
        return registry.start([kind.value for kind in kinds], names), False

    def _fold(
        self, projector: DocumentProjector, sync: SearchSync, head: int, report: RebuildReport
    ) -> int:
        position = projector.catch_up(until=0).position  # where a resumed build stands
        self._progress(position, head)
        while position < head:
            step = projector.catch_up(until=min(position + self._batch_size, head))
            report.events += step.events
            position = step.position
            self._progress(position, head)
            if step.events == 0:
                break
        # Flushed once per pass: the generation's outbox keeps only each document's latest
        # rendering, so a document changed in many batches is written to the index once.
        report.documents_written += sync.flush().written
        return position


def _next_number(app: Streamfold) -> int:
    registry = app.projection_store.registry
    live = registry.live()
    numbers = [1, live.number if live else 1]
    if live and live.previous_generation:
        numbers.append(live.previous_generation)
    return max(numbers) + 1


def activate(app: Streamfold, target: Generation, batch_size: int = 10_000) -> dict[str, str]:
    """Make ``target`` the live generation; returns the indices its aliases left."""
    store = app.projection_store
    into = {DocumentKind(kind): name for kind, name in target.indices.items()}
    projector = DocumentProjector(store, batch_size=batch_size)
    swapped: dict[str, str] = {}
    with store.locked_live() as cursor:
        current = store.registry.live_number(cursor)
        session = store.session_on(cursor, target.number)
        while events := session.events_after(session.position(), batch_size):
            projector.project(session, events)
            session.advance(events[-1].position)
        while pending := store.pending_on(cursor, target.number, 2000):
            app.index.write([c for c in pending if c.kind in into], into)
            store.mark_synced_on(cursor, target.number, pending)
        try:
            for kind, name in into.items():
                swapped[kind.value] = app.index.swap_alias(kind, name) or ""
            store.registry.make_live(cursor, target, current, swapped)
        except BaseException:
            for kind_name, previous in swapped.items():
                if previous:
                    app.index.swap_alias(DocumentKind(kind_name), previous)
            raise
    return swapped


def rollback(app: Streamfold, batch_size: int = 10_000) -> RebuildReport:
    """Make the generation before the live one live again, caught up first."""
    started = time.perf_counter()
    live = app.projection_store.registry.live()
    if live is None or live.previous_generation is None or not live.previous_indices:
        raise ConfigError("nothing to roll back to: no rebuild has been made live yet")
    target = Generation(
        number=live.previous_generation,
        state="retired",
        kinds=list(live.previous_indices),
        indices=dict(live.previous_indices),
    )
    previous = activate(app, target, batch_size)
    report = RebuildReport(target.number, target.kinds, indices=target.indices)
    report.previous_indices = previous
    report.seconds = time.perf_counter() - started
    return report
