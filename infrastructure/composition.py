"""The composition root: the only place that picks adapters."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, Literal

from domain.intake import ChangeIntake
from infrastructure.adapters.dynamodb_items import DynamoDBItemReader
from infrastructure.adapters.eventstore.dead_letters import DeadLetterStore
from infrastructure.adapters.eventstore.projection_store import SqlProjectionStore
from infrastructure.adapters.eventstore.store import EventSourcedItemLedger, EventStore
from infrastructure.services.background_settle import ProcessSettler, can_start_processes
from infrastructure.services.ingestion import StreamIngestion
from infrastructure.services.write_pipeline import GroupSettler, WritePipeline
from infrastructure.settings import EmbeddedSearch, SearchTarget, Settings
from projections.ports import SearchIndex
from projections.projector import DocumentProjector
from projections.sync import SearchSync

if TYPE_CHECKING:
    from infrastructure.adapters.eventstore.shard_checkpoints import ShardCheckpoints
    from infrastructure.adapters.index_definitions.backends import MigrationBackend
    from infrastructure.services.migrations.migrate import Migration
    from infrastructure.services.observability.status import PipelineStatus
    from infrastructure.services.rebuild import Rebuild
    from infrastructure.services.rebuilding.first_build import FirstBuild
    from infrastructure.services.resync import Resync
    from infrastructure.services.verify import Verification
    from projections.history.service import DocumentHistory
    from projections.search import SearchService


def open_search_index(
    target: SearchTarget, index_prefix: str, *, retry_budget: float | None = None
) -> SearchIndex:
    """The backend ``target`` names; ``retry_budget`` bounds OpenSearch's retries per call."""
    # Imported here so that a Lambda using OpenSearch never loads the embedded engine.
    if isinstance(target, EmbeddedSearch):
        from infrastructure.adapters.embedded import EmbeddedSearchIndex

        return EmbeddedSearchIndex(target.directory, index_prefix=index_prefix)
    from infrastructure.adapters.opensearch import OpenSearchIndex

    if retry_budget is None:
        return OpenSearchIndex(target, index_prefix=index_prefix)
    return OpenSearchIndex(target, index_prefix=index_prefix, retry_budget=retry_budget)


@dataclass
class Streamfold:
    """Everything wired for one configuration; a Lambda container builds it once.

    >>> streamfold = Streamfold.from_settings(Settings.from_environment())
    >>> streamfold.ingestion.handle(lambda_event).failed
    []
    """

    settings: Settings
    event_store: EventStore
    projection_store: SqlProjectionStore
    dead_letters: DeadLetterStore
    index: SearchIndex
    intake: ChangeIntake
    projector: DocumentProjector
    sync: SearchSync
    pipeline: WritePipeline
    ingestion: StreamIngestion
    # The command's second process (ADR 0029), if it may have one: the pipeline's settler.
    second_process: ProcessSettler | None = None

    @cached_property
    def search(self) -> SearchService:
        """The query API; built on first use, so a stream handler never loads the query model."""
        from projections.search import SearchService

        return SearchService(self.index)

    @cached_property
    def history(self) -> DocumentHistory:
        """Documents' changes, past states and derivations, replayed from the event store."""
        from infrastructure.adapters.eventstore.document_feeds import SqlDocumentFeeds
        from projections.history.service import DocumentHistory

        return DocumentHistory(SqlDocumentFeeds(self.event_store))

    # The services below are built on demand (and imported then), so that a stream handler
    # never loads them; each receives exactly the ports it uses.

    def rebuild(self, **options: Any) -> Rebuild:
        """A rebuild of this configuration's indices; ``options`` as `Rebuild` takes them."""
        from infrastructure.services.rebuild import Rebuild

        return Rebuild(
            self.event_store, self.projection_store, self.index, self.dead_letters, **options
        )

    def first_build(self, **options: Any) -> FirstBuild:
        """A bootstrap's build of a fresh store's documents, with the second process's
        help; ``options`` as `FirstBuild` takes them."""
        from infrastructure.services.rebuilding.first_build import FirstBuild

        return FirstBuild(self.rebuild, self.projection_store, self.second_process, **options)

    def verification(self) -> Verification:
        from infrastructure.services.verify import Verification

        return Verification(self.projection_store, self.index, self.sync)

    def resync(self) -> Resync:
        from infrastructure.services.resync import Resync

        return Resync(
            self.event_store, self.projection_store, self.index, self.pipeline, self.settings.tables
        )

    def migration_backend(self) -> MigrationBackend:
        from infrastructure.adapters.index_definitions.backends import backend_for

        return backend_for(self.index, self.settings.search)

    def migration(self, **options: Any) -> Migration:
        """A migration of the live indices; ``options`` as `Migration` takes them."""
        from infrastructure.adapters.eventstore.migration_leases import MigrationLeases
        from infrastructure.services.migrations.migrate import Migration

        leases = MigrationLeases(self.event_store)
        backend = self.migration_backend()
        return Migration(
            self.projection_store, backend, leases, self.resync(), self.rebuild, **options
        )

    def shard_checkpoints(self) -> ShardCheckpoints:
        """Where the stream poller has got to in each shard."""
        from infrastructure.adapters.eventstore.shard_checkpoints import ShardCheckpoints

        return ShardCheckpoints(self.event_store)

    def status(self) -> PipelineStatus:
        from infrastructure.services.observability.status import read_status

        return read_status(
            self.event_store,
            self.projection_store,
            self.index,
            self.dead_letters,
            self.migration_backend(),
            self.shard_checkpoints(),
        )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        index: SearchIndex | None = None,
        *,
        settler: GroupSettler | Literal["background"] | None = "background",
    ) -> Streamfold:
        """Wire the adapters ``settings`` pick; ``index`` replaces the search backend's.

        ``settler`` settles a command's full groups while it records the next: by default
        a second process wired from the same settings (started by the first such settle;
        none when ``index`` is given, which that process could not share); None settles
        every group in this process.
        """
        second_process = None
        if settler == "background":
            settler = None
            if index is None and can_start_processes():
                settler = second_process = ProcessSettler(partial(_settling, settings))
        event_store = EventStore(settings.event_store)
        projection_store = SqlProjectionStore(event_store)
        dead_letters = DeadLetterStore(event_store)
        if index is None:
            index = open_search_index(settings.search, settings.index_prefix)
        intake = ChangeIntake(EventSourcedItemLedger(event_store), DynamoDBItemReader())
        projector = DocumentProjector(projection_store)
        sync = SearchSync(projection_store, index, dead_letters)
        pipeline = WritePipeline(intake, projector, sync, dead_letters, settler, event_store)
        ingestion = StreamIngestion(pipeline, settings.kind_of_table)
        return cls(
            settings=settings,
            event_store=event_store,
            projection_store=projection_store,
            dead_letters=dead_letters,
            index=index,
            intake=intake,
            projector=projector,
            sync=sync,
            pipeline=pipeline,
            ingestion=ingestion,
            second_process=second_process,
        )

    def close(self) -> None:
        self.pipeline.close()
        self.index.close()
        self.event_store.close()

    def __enter__(self) -> Streamfold:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _settling(settings: Settings) -> Streamfold:
    """The background settler's process: the command's configuration, settling itself."""
    return Streamfold.from_settings(settings, settler=None)
