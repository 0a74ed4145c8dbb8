"""Where the pipeline stands: each projection generation against the event store's head,
its lag, the dead letters, the physical index behind each alias, and the poller's shards."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from infrastructure.adapters.eventstore.dead_letters import DeadLetterStore
from infrastructure.adapters.eventstore.dialects import Dialect, dialect_for
from infrastructure.adapters.eventstore.generations import GenerationRegistry, for_generation
from infrastructure.adapters.eventstore.projection_store import PROJECTION_NAME
from infrastructure.adapters.eventstore.shard_checkpoints import ShardCheckpoints
from infrastructure.adapters.eventstore.store import EventStore
from infrastructure.adapters.index_definitions.backends import (
    MigrationBackend,
    VersionStatus,
    version_status,
)
from projections.documents import VERSION_STEP, DocumentKind
from projections.ports import SearchIndex


@runtime_checkable
class AliasedIndex(Protocol):
    def alias_name(self, kind: DocumentKind) -> str: ...
    def alias_target(self, kind: DocumentKind) -> str | None: ...


@dataclass(frozen=True)
class AliasStatus:
    kind: str
    alias: str
    index: str | None  # None before the first write


@dataclass(frozen=True)
class ProjectionStatus:
    name: str  # "documents" for the first generation, "documents-g<N>" after a rebuild
    state: str  # live | building | retired
    position: int
    head: int
    behind: int  # events recorded but not folded yet
    pending_documents: int  # rendered but not yet confirmed by the search backend
    lag_seconds: float  # age of the oldest event whose effects are not searchable yet
    dead_letters: int
    indices: dict[str, str]  # kind -> physical index this projection writes


@dataclass(frozen=True)
class ShardStatus:
    stream_arn: str
    shard_id: str
    sequence_number: str | None
    updated_at: datetime
    age_seconds: float  # since the poller last saved progress in this shard


@dataclass(frozen=True)
class PipelineStatus:
    head: int
    projections: list[ProjectionStatus]
    aliases: list[AliasStatus]
    checkpoints: list[ShardStatus]
    # The live and the wanted version of each kind (see `streamfold migrate --plan`).
    versions: list[VersionStatus] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "head": self.head,
            "projections": [vars(p) for p in self.projections],
            "aliases": [vars(a) for a in self.aliases],
            "checkpoints": [
                {**vars(c), "updated_at": c.updated_at.isoformat()} for c in self.checkpoints
            ],
            "versions": [{**vars(v), "current": v.current} for v in self.versions],
        }


def read_status(
    event_store: EventStore,
    index: SearchIndex,
    dead_letters: DeadLetterStore,
    backend: MigrationBackend,
    shard_checkpoints: ShardCheckpoints,
) -> PipelineStatus:
    """Read the status of the event store, the index and the dead letters.

    >>> status = read_status(event_store, index, dead_letters, backend, checkpoints)
    >>> [(p.name, p.state, p.behind, p.lag_seconds) for p in status.projections]
    [('documents', 'live', 0, 0.0)]
    """
    now = datetime.now(UTC)
    dialect = dialect_for(event_store)
    head = event_store.head()
    aliases = _aliases(index)
    letters = dead_letters.count()
    projections = [
        _projection(event_store, dialect, generation, head, letters, now)
        for generation in _generations(dialect, aliases)
    ]
    checkpoints = _checkpoints(shard_checkpoints, now)
    return PipelineStatus(head, projections, aliases, checkpoints, version_status(backend))


@dataclass(frozen=True)
class _Generation:
    number: int
    state: str
    indices: dict[str, str]


def _generations(dialect: Dialect, aliases: list[AliasStatus]) -> list[_Generation]:
    registry = GenerationRegistry(dialect)
    with dialect.transaction() as cursor:
        cursor.execute("SELECT generation FROM streamfold_generations ORDER BY generation")
        numbers = [int(row["generation"]) for row in cursor.fetchall()]
    found = [g for g in (registry.get(n) for n in numbers) if g is not None]
    if not found:  # never rebuilt: generation 1 is live and writes through the aliases
        indices = {a.kind: a.index for a in aliases if a.index is not None}
        return [_Generation(1, "live", indices)]
    return [_Generation(g.number, g.state, dict(g.indices)) for g in found]


def _projection(
    event_store: EventStore,
    dialect: Dialect,
    generation: _Generation,
    head: int,
    letters: int,
    now: datetime,
) -> ProjectionStatus:
    position, pending, oldest_version = _progress(dialect, generation.number)
    candidates = [position + 1] if head > position else []
    if oldest_version is not None:
        candidates.append(oldest_version // VERSION_STEP)
    return ProjectionStatus(
        name=PROJECTION_NAME
        if generation.number == 1
        else f"{PROJECTION_NAME}-g{generation.number}",
        state=generation.state,
        position=position,
        head=head,
        behind=max(head - position, 0),
        pending_documents=pending,
        lag_seconds=_age(event_store, min(candidates, default=None), now),
        dead_letters=letters,
        indices=generation.indices,
    )


def _progress(dialect: Dialect, generation: int) -> tuple[int, int, int | None]:
    """Tracking position, pending documents, and the oldest pending document's version."""
    with dialect.transaction() as cursor:
        cursor.execute(
            dialect.sql(
                for_generation(
                    "SELECT position FROM streamfold_tracking WHERE projection = ?", generation
                )
            ),
            (PROJECTION_NAME,),
        )
        tracked = cursor.fetchone()
        cursor.execute(
            for_generation(
                "SELECT COUNT(*) AS n, MIN(version) AS oldest FROM streamfold_documents"
                " WHERE version > synced_version",
                generation,
            )
        )
        pending = cursor.fetchone()
    position = 0 if tracked is None else int(tracked["position"])
    oldest = None if pending["oldest"] is None else int(pending["oldest"])
    return position, int(pending["n"]), oldest


def _age(event_store: EventStore, position: int | None, now: datetime) -> float:
    # Document versions derive from the position of the event that rendered them, so one
    # event's timestamp dates both an unfolded event and an unsynced document.
    if position is None:
        return 0.0
    found = event_store.recorder.select_notifications(start=position, limit=1)
    if not found:
        return 0.0
    event: Any = event_store.event_log.mapper.to_domain_event(found[0])
    return max((now - event.timestamp).total_seconds(), 0.0)


def _aliases(index: Any) -> list[AliasStatus]:
    if not isinstance(index, AliasedIndex):
        return []
    return [
        AliasStatus(kind.value, index.alias_name(kind), index.alias_target(kind))
        for kind in DocumentKind
    ]


def _checkpoints(shard_checkpoints: ShardCheckpoints, now: datetime) -> list[ShardStatus]:
    return [
        ShardStatus(
            stream_arn=c.stream_arn,
            shard_id=c.shard_id,
            sequence_number=c.sequence_number,
            updated_at=c.updated_at,
            age_seconds=max((now - c.updated_at).total_seconds(), 0.0),
        )
        for c in shard_checkpoints.all()
        if not c.finished
    ]
