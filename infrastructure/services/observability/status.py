"""Where the pipeline stands: each projection generation against the event store's head,
its lag, the dead letters, the physical index behind each alias, and the poller's shards."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from infrastructure.adapters.eventstore.dead_letters import DeadLetterStore
from infrastructure.adapters.eventstore.generations import GenerationRegistry
from infrastructure.adapters.eventstore.projection_store import PROJECTION_NAME, SqlProjectionStore
from infrastructure.adapters.eventstore.shard_checkpoints import ShardCheckpoints
from infrastructure.adapters.eventstore.store import EventStore
from infrastructure.adapters.index_definitions.backends import (
    MigrationBackend,
    VersionStatus,
    version_status,
)
from projections.documents import VERSION_STEP, DocumentKind
from projections.ports import ProjectionInspection, SearchIndex


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
    # Changed by folded events and left to render (a command's groups between renders).
    unrendered_documents: int = 0


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
    projection_store: SqlProjectionStore,
    index: SearchIndex,
    dead_letters: DeadLetterStore,
    backend: MigrationBackend,
    shard_checkpoints: ShardCheckpoints,
) -> PipelineStatus:
    """Read the status of the event store, the index and the dead letters.

    >>> status = streamfold.status()  # read_status with the ports the composition root wires
    >>> [(p.name, p.state, p.behind, p.lag_seconds) for p in status.projections]
    [('documents', 'live', 0, 0.0)]
    """
    now = datetime.now(UTC)
    head = event_store.head()
    aliases = _aliases(index)
    letters = dead_letters.count()
    projections = [
        _projection(event_store, projection_store, generation, head, letters, now)
        for generation in _generations(projection_store.registry, aliases)
    ]
    checkpoints = _checkpoints(shard_checkpoints, now)
    return PipelineStatus(head, projections, aliases, checkpoints, version_status(backend))


@dataclass(frozen=True)
class _Generation:
    number: int
    state: str
    indices: dict[str, str]


def _generations(registry: GenerationRegistry, aliases: list[AliasStatus]) -> list[_Generation]:
    found = registry.every()
    if not found:  # never rebuilt: generation 1 is live and writes through the aliases
        indices = {a.kind: a.index for a in aliases if a.index is not None}
        return [_Generation(1, "live", indices)]
    return [_Generation(g.number, g.state, dict(g.indices)) for g in found]


def _projection(
    event_store: EventStore,
    inspection: ProjectionInspection,
    generation: _Generation,
    head: int,
    letters: int,
    now: datetime,
) -> ProjectionStatus:
    progress = inspection.progress(generation.number)
    position = progress.position
    candidates = [position + 1] if head > position else []
    if progress.oldest_pending_version is not None:
        candidates.append(progress.oldest_pending_version // VERSION_STEP)
    if progress.oldest_unrendered_position is not None:
        candidates.append(progress.oldest_unrendered_position)
    return ProjectionStatus(
        name=PROJECTION_NAME
        if generation.number == 1
        else f"{PROJECTION_NAME}-g{generation.number}",
        state=generation.state,
        position=position,
        head=head,
        behind=max(head - position, 0),
        pending_documents=progress.pending_documents,
        lag_seconds=_age(event_store, min(candidates, default=None), now),
        dead_letters=letters,
        indices=generation.indices,
        unrendered_documents=progress.unrendered_documents,
    )


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
