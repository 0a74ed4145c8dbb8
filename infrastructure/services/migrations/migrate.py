"""`streamfold migrate`: apply the plan while live ingestion goes on, and roll it back.

Under a lease on each kind it changes (see `adapters.eventstore.migration_leases`), a migration:

1. writes the index templates of the code, so that new indices get today's mappings;
2. for kinds whose live index can take the change **in place**: adds the new fields,
   re-renders every document of the kind from the projection's state with fresh versions
   (see `infrastructure.services.resync`), then records the new version on the index;
3. for kinds that need a **new index**: first adds to the live index the new fields it can
   take (OpenSearch), so that live writes of the new shape keep landing there, then runs
   the blue/green rebuild (ADR 0007) into physical indices named after the version they
   hold, with catch-up and the atomic alias swap. The leases are renewed on every batch.

A migration killed part-way resumes: in place, the version is recorded last, so the plan
still says "in place" and the re-render runs again (rewrites are idempotent); blue/green,
the rebuild's generation keeps its own tracking position. `rollback` makes the previous
generation live again, caught up, which swaps the aliases back to the previous index; the
documents it still holds from before the code changed are then re-rendered, so that it
agrees with the live projection (its own fields and analyzers are what was rolled back to).

>>> report = streamfold.migration().run([DocumentKind.USERS, DocumentKind.IMAGES])
>>> [(o.kind, o.method, o.from_version, o.to_version) for o in report.outcomes]
[('users', 'new index', 'v2-1f3e5a7c', 'v3-9b2d4e6f'), ('images', 'none', ...)]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from infrastructure.adapters.eventstore.migration_leases import Lease, MigrationLeases
from infrastructure.adapters.eventstore.projection_store import SqlProjectionStore
from infrastructure.adapters.index_definitions.backends import MigrationBackend
from infrastructure.adapters.index_definitions.definitions import compare
from infrastructure.services.migrations.plan import KindPlan, MigrationPlan, Verdict, plan_migration
from infrastructure.services.rebuild import Rebuild
from infrastructure.services.resync import Resync
from infrastructure.settings import ConfigError
from projections.documents import DocumentKind

RebuildFactory = Callable[..., Rebuild]  # options as `Rebuild` takes them
Progress = Callable[[int, int], None]  # (done, total) of the current step; total 0: unknown
Stage = Callable[[str], None]  # adding fields, re-rendering, folding, catching up, ...
DEFAULT_LEASE_SECONDS = 300.0


@dataclass
class KindOutcome:
    kind: str
    method: str  # none | in place | new index | rolled back
    from_version: str | None
    to_version: str | None
    from_index: str | None
    to_index: str | None
    fields_added_in_place: int = 0
    documents_rewritten: int = 0


@dataclass
class MigrationReport:
    outcomes: list[KindOutcome] = field(default_factory=list)
    generation: int | None = None  # the generation a blue/green migration made live
    events: int = 0  # folded by the rebuild
    documents_written: int = 0
    seconds: float = 0.0
    resumed: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "kinds": [vars(outcome) for outcome in self.outcomes],
            "generation": self.generation,
            "events": self.events,
            "documents_written": self.documents_written,
            "seconds": round(self.seconds, 2),
            "resumed": self.resumed,
        }


class Migration:
    """Brings the live indices of some kinds to the code's versions.

    >>> streamfold.migration(lease_seconds=600).run([DocumentKind.USERS]).outcomes[0].method
    'in place'
    """

    def __init__(
        self,
        projection_store: SqlProjectionStore,
        backend: MigrationBackend,
        leases: MigrationLeases,
        resync: Resync,
        rebuild: RebuildFactory,
        *,
        batch_size: int = 10_000,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
        progress: Progress | None = None,
        holder: str | None = None,
        stage: Stage | None = None,
    ) -> None:
        self._projection_store = projection_store
        self._resync = resync
        self._rebuild = rebuild
        self._batch_size = batch_size
        self._lease_seconds = lease_seconds
        self._progress = progress or (lambda done, total: None)
        self._stage = stage or (lambda name: None)
        self._holder = holder
        self._leases = leases
        self._backend = backend

    def plan(self, kinds: list[DocumentKind]) -> MigrationPlan:
        return plan_migration(kinds, self._backend, self._projection_store)

    def run(self, kinds: list[DocumentKind], *, new_index: bool = False) -> MigrationReport:
        """Apply the plan of ``kinds``; ``new_index`` takes the blue/green way even where
        the change could be made in place."""
        started = time.perf_counter()
        report = MigrationReport()
        with self._leases.holding(kinds, self._lease_seconds, self._holder) as lease:
            self._backend.index.prepare()  # today's templates before any new index
            plan = self.plan(kinds)
            in_place = [] if new_index else plan.of(Verdict.IN_PLACE)
            blue_green = plan.of(Verdict.NEW_INDEX) + (
                plan.of(Verdict.IN_PLACE) if new_index else []
            )
            self._check_unfinished(blue_green)
            for kind_plan in plan.of(Verdict.UP_TO_DATE):
                report.outcomes.append(_unchanged(kind_plan))
            for kind_plan in in_place:
                report.outcomes.append(self._in_place(kind_plan, lease))
            if blue_green:
                self._blue_green(blue_green, lease, report)
        order = [kind.value for kind in kinds]
        report.outcomes.sort(key=lambda outcome: order.index(outcome.kind))
        report.seconds = time.perf_counter() - started
        return report

    def rollback(self) -> MigrationReport:
        """Make the generation before the live one live again: the previous versions."""
        started = time.perf_counter()
        registry = self._projection_store.registry
        live = registry.live()
        if live is None or not live.previous_indices:
            raise ConfigError(
                "nothing to roll back to: no migration has made a new index live yet "
                "(a change applied in place cannot be rolled back; migrate again instead)"
            )
        kinds = [DocumentKind(kind) for kind in live.previous_indices]
        with self._leases.holding(kinds, self._lease_seconds, self._holder) as lease:
            before = {kind: self._backend.live(kind) for kind in kinds}
            rebuilt = self._rebuild(batch_size=self._batch_size).rollback()
            report = MigrationReport(generation=rebuilt.generation)
            for kind in kinds:
                old = before[kind]
                rewritten = self._rerender_behind(kind, lease)
                now = self._backend.live(kind)
                report.outcomes.append(
                    KindOutcome(
                        kind.value,
                        "rolled back",
                        None if old is None else old.version.label,
                        None if now is None else now.version.label,
                        None if old is None else old.name,
                        None if now is None else now.name,
                        documents_rewritten=rewritten,
                    )
                )
        report.seconds = time.perf_counter() - started
        return report

    def _rerender_behind(self, kind: DocumentKind, lease: Lease) -> int:
        """After a rollback: documents the previous index holds from before the code
        changed are rendered again as the live projection renders them now, so that the
        index agrees with the projection (and `verify`) whatever its own fields."""
        live = self._backend.live(kind)
        wanted = self._backend.wanted_version(kind)
        if live is None or live.projection == wanted.projection:
            return 0
        self._backend.add_fields(kind, live, compare(live.definition, self._backend.wanted(kind)))
        rewritten = self._resync.kind(kind, heartbeat=lease.renew)
        self._backend.record_version(kind, live, wanted.projection)
        return rewritten

    def _in_place(self, plan: KindPlan, lease: Lease) -> KindOutcome:
        live = self._backend.live(plan.kind)
        assert live is not None  # a plan in place has a live index
        self._stage(f"adding fields to {live.name}")
        added = self._backend.add_fields(plan.kind, live, plan.change)
        self._stage(f"re-rendering {plan.kind.value}")

        def heartbeat() -> None:
            lease.renew()
            self._stage(f"re-rendering {plan.kind.value}")

        rewritten = self._resync.kind(plan.kind, heartbeat=heartbeat)
        # Last: a migration that dies before this line is planned in place again.
        self._backend.record_version(plan.kind, live, plan.wanted.projection)
        now = self._backend.physical(plan.kind, live.name)
        return KindOutcome(
            plan.kind.value,
            "in place",
            live.version.label,
            now.version.label,
            live.name,
            live.name,
            fields_added_in_place=added,
            documents_rewritten=rewritten,
        )

    def _blue_green(self, plans: list[KindPlan], lease: Lease, report: MigrationReport) -> None:
        kinds = [plan.kind for plan in plans]
        added: dict[DocumentKind, int] = {}
        for plan in plans:
            live = self._backend.live(plan.kind)
            if live is not None:
                added[plan.kind] = self._backend.add_fields(plan.kind, live, plan.change)
        renewed = [time.monotonic()]

        def progress(position: int, head: int) -> None:
            if time.monotonic() - renewed[0] > self._lease_seconds / 5:
                lease.renew()
                renewed[0] = time.monotonic()
            self._progress(position, head)

        rebuild = self._rebuild(
            batch_size=self._batch_size,
            progress=progress,
            stage=self._stage,
            physical_names=self._backend.versioned_name,
        )
        lease.renew()
        rebuilt = rebuild.run(kinds)
        report.generation = rebuilt.generation
        report.events = rebuilt.events
        report.documents_written = rebuilt.documents_written
        report.resumed = rebuilt.resumed
        for plan in plans:
            now = self._backend.live(plan.kind)
            report.outcomes.append(
                KindOutcome(
                    plan.kind.value,
                    "new index",
                    None if plan.live is None else plan.live.label,
                    None if now is None else now.version.label,
                    plan.live_index,
                    None if now is None else now.name,
                    fields_added_in_place=added.get(plan.kind, 0),
                )
            )

    def _check_unfinished(self, blue_green: list[KindPlan]) -> None:
        building = self._projection_store.registry.building()
        wanted = {plan.kind.value for plan in blue_green}
        if wanted and building is not None and set(building.kinds) != wanted:
            raise ConfigError(
                f"a migration of {', '.join(building.kinds)} (generation {building.number}) "
                f"is unfinished; run `streamfold migrate {_kinds_argument(building.kinds)}` "
                "to resume it first"
            )


def _kinds_argument(kinds: list[str]) -> str:
    return kinds[0] if len(kinds) == 1 else "all"


def _unchanged(plan: KindPlan) -> KindOutcome:
    label = None if plan.live is None else plan.live.label
    return KindOutcome(plan.kind.value, "none", label, label, plan.live_index, plan.live_index)
