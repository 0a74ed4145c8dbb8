"""The composition root: the only place that picks adapters."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from domain.intake import ChangeIntake
from infrastructure.dynamodb_items import DynamoDBItemReader
from infrastructure.eventstore.dead_letters import DeadLetterStore
from infrastructure.eventstore.projection_store import SqlProjectionStore
from infrastructure.eventstore.store import EventSourcedItemLedger, EventStore
from infrastructure.ingestion import StreamIngestion
from infrastructure.settings import EmbeddedSearch, SearchTarget, Settings
from projections.ports import SearchIndex
from projections.projector import DocumentProjector
from projections.sync import SearchSync

if TYPE_CHECKING:
    from projections.search import SearchService


def open_search_index(
    target: SearchTarget, index_prefix: str, *, retry_budget: float | None = None
) -> SearchIndex:
    """The backend ``target`` names; ``retry_budget`` bounds OpenSearch's retries per call."""
    # Imported here so that a Lambda using OpenSearch never loads the embedded engine.
    if isinstance(target, EmbeddedSearch):
        from infrastructure.embedded import EmbeddedSearchIndex

        return EmbeddedSearchIndex(target.directory, index_prefix=index_prefix)
    from infrastructure.opensearch import OpenSearchIndex

    if retry_budget is None:
        return OpenSearchIndex(target, index_prefix=index_prefix)
    return OpenSearchIndex(target, index_prefix=index_prefix, retry_budget=retry_budget)


@dataclass
class Streamfold:
    """Everything wired for one configuration; a Lambda container builds it once.

    >>> app = Streamfold.from_settings(Settings.from_environment())
    >>> app.ingestion.handle(lambda_event).batch_item_failures()
    """

    settings: Settings
    event_store: EventStore
    projection_store: SqlProjectionStore
    dead_letters: DeadLetterStore
    index: SearchIndex
    intake: ChangeIntake
    projector: DocumentProjector
    sync: SearchSync
    ingestion: StreamIngestion

    @cached_property
    def search(self) -> SearchService:
        """The query API; built on first use, so a stream handler never loads the query model."""
        from projections.search import SearchService

        return SearchService(self.index)

    @classmethod
    def from_settings(cls, settings: Settings, index: SearchIndex | None = None) -> Streamfold:
        """Wire the adapters ``settings`` pick; ``index`` replaces the search backend's."""
        event_store = EventStore(settings.event_store)
        projection_store = SqlProjectionStore(event_store)
        dead_letters = DeadLetterStore(event_store)
        if index is None:
            index = open_search_index(settings.search, settings.index_prefix)
        intake = ChangeIntake(EventSourcedItemLedger(event_store), DynamoDBItemReader())
        projector = DocumentProjector(projection_store)
        sync = SearchSync(projection_store, index)
        ingestion = StreamIngestion(intake, projector, sync, dead_letters, settings.kind_of_table)
        return cls(
            settings=settings,
            event_store=event_store,
            projection_store=projection_store,
            dead_letters=dead_letters,
            index=index,
            intake=intake,
            projector=projector,
            sync=sync,
            ingestion=ingestion,
        )

    def close(self) -> None:
        self.index.close()
        self.event_store.close()

    def __enter__(self) -> Streamfold:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
