"""`streamfold migrate --plan`: the wanted version of each kind against the live one.

For each kind the plan says which fields the live index lacks, has too many of, or holds
with another type or analyzer, which projection revisions its documents have not seen,
and what it takes to get there:

- **up to date**: nothing to do;
- **in place**: the live index can take the change (new fields OpenSearch can add, or
  only the documents changed): add the fields, re-render the kind's documents from the
  projection's state, record the new version;
- **new index**: anything an index cannot take in place (a field removed, a type or an
  analyzer changed, settings changed, new fields on the embedded backend, a revision that
  must fold the events again): a blue/green rebuild into a new physical index.

A type change OpenSearch would refuse is found here, before anything is written.

>>> plan = plan_migration([DocumentKind.USERS], backend, projection_store)
>>> plan.kinds[0].verdict, plan.kinds[0].change.added
(<Verdict.IN_PLACE: 'in place'>, {'engagement': FieldSpec(type='integer', ...)})
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from infrastructure.adapters.index_definitions.backends import IndexVersion, MigrationBackend
from infrastructure.adapters.index_definitions.definitions import DefinitionChange, compare
from projections.documents import DocumentKind
from projections.versions import Revision, revisions_after

if TYPE_CHECKING:
    from infrastructure.adapters.eventstore.projection_store import SqlProjectionStore


class Verdict(StrEnum):
    UP_TO_DATE = "up to date"
    IN_PLACE = "in place"
    NEW_INDEX = "new index"


@dataclass
class KindPlan:
    kind: DocumentKind
    backend: str
    live_index: str | None
    live: IndexVersion | None
    wanted: IndexVersion
    revisions: tuple[Revision, ...]
    change: DefinitionChange
    verdict: Verdict
    reasons: list[str] = field(default_factory=list)
    documents: int = 0  # live documents of the kind: what a re-render rewrites
    events: int = 0  # what a rebuild folds: every event recorded
    unfinished_generation: int | None = None  # a blue/green migration that stopped

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "backend": self.backend,
            "live_index": self.live_index,
            "live_version": None if self.live is None else self.live.label,
            "wanted_version": self.wanted.label,
            "projection": {
                "live": None if self.live is None else self.live.projection,
                "wanted": self.wanted.projection,
                "revisions": [
                    {"version": r.version, "summary": r.summary, "refold": r.refold}
                    for r in self.revisions
                ],
            },
            "fields": self.change.as_json(),
            "verdict": self.verdict.value,
            "reasons": self.reasons,
            "documents": self.documents,
            "events": self.events,
            "unfinished_generation": self.unfinished_generation,
        }


@dataclass
class MigrationPlan:
    kinds: list[KindPlan]

    @property
    def needed(self) -> bool:
        return any(plan.verdict is not Verdict.UP_TO_DATE for plan in self.kinds)

    def of(self, verdict: Verdict) -> list[KindPlan]:
        return [plan for plan in self.kinds if plan.verdict is verdict]

    def as_json(self) -> dict[str, Any]:
        return {"needed": self.needed, "kinds": [plan.as_json() for plan in self.kinds]}


def plan_migration(
    kinds: list[DocumentKind], backend: MigrationBackend, projection_store: SqlProjectionStore
) -> MigrationPlan:
    """Compare the live version of each kind with the code's."""
    building = projection_store.registry.building()
    head = projection_store.head()
    plans = []
    for kind in kinds:
        plan = plan_kind(backend, kind)
        plan.events = head
        if plan.live is not None:
            plan.documents = _documents(backend, kind)
        if building is not None and kind.value in building.kinds:
            plan.unfinished_generation = building.number
        plans.append(plan)
    return MigrationPlan(plans)


def plan_kind(backend: MigrationBackend, kind: DocumentKind) -> KindPlan:
    """The plan of one kind, without the counts."""
    wanted_definition = backend.wanted(kind)
    wanted = backend.wanted_version(kind)
    live = backend.live(kind)
    if live is None:
        return KindPlan(
            kind, backend.name, None, None, wanted, (), DefinitionChange(), Verdict.UP_TO_DATE,
            ["no index yet: the first write creates it at the wanted version"],
        )  # fmt: skip
    change = compare(live.definition, wanted_definition)
    revisions = revisions_after(kind, live.projection)
    verdict, reasons = judge(
        change,
        live.projection,
        wanted.projection,
        revisions,
        backend=backend.name,
        adds_fields_in_place=backend.adds_fields_in_place,
    )
    return KindPlan(
        kind, backend.name, live.name, live.version, wanted, revisions, change, verdict, reasons
    )


def judge(
    change: DefinitionChange,
    live_projection: int,
    wanted_projection: int,
    revisions: tuple[Revision, ...],
    *,
    backend: str,
    adds_fields_in_place: bool,
) -> tuple[Verdict, list[str]]:
    """The verdict for a change, and why.

    >>> judge(compare(live, wanted), 2, 3, revisions_after(USERS, 2),
    ...       backend="opensearch", adds_fields_in_place=True)[0]
    <Verdict.IN_PLACE: 'in place'>
    """
    reasons: list[str] = []
    if change.removed:
        reasons.append(
            f"fields removed ({', '.join(change.removed)}): an index cannot drop a field"
        )
    if change.retyped:
        reasons.append(
            "types changed ("
            + "; ".join(c.describe() for c in change.retyped)
            + f"): {backend} cannot change a field's type in place"
        )
    if change.reconfigured:
        reasons.append(
            "field options changed ("
            + "; ".join(c.describe() for c in change.reconfigured)
            + "): analyzers and parameters are fixed once a field exists"
        )
    if change.settings:
        reasons.append(
            "index settings changed (" + "; ".join(s.describe() for s in change.settings) + ")"
        )
    if change.added and not adds_fields_in_place:
        reasons.append(
            f"fields added ({', '.join(change.added)}): {backend} indexes have a fixed "
            "set of fields"
        )
    refolds = [r for r in revisions if r.refold]
    if refolds:
        reasons.append(
            "revision "
            + ", ".join(str(r.version) for r in refolds)
            + " needs the events folded again"
        )
    if live_projection > wanted_projection:
        reasons.append(
            f"the live index is at projection version {live_projection}, newer than the "
            f"code's {wanted_projection}"
        )
    if reasons:
        return Verdict.NEW_INDEX, reasons
    if change.none and live_projection == wanted_projection:
        return Verdict.UP_TO_DATE, []
    if change.added:
        reasons.append(f"new fields ({', '.join(change.added)}) can be added to the live index")
    if live_projection != wanted_projection:
        reasons.append(
            f"documents at projection version {live_projection} are re-rendered at "
            f"{wanted_projection} from the projection's state"
        )
    elif change.added:
        reasons.append("every document is re-rendered so that the new fields are indexed")
    return Verdict.IN_PLACE, reasons


def _documents(backend: MigrationBackend, kind: DocumentKind) -> int:
    from projections.query import SearchRequest

    return backend.index.count(kind, SearchRequest())
